import { logLine } from '../kube/log-line.js';

/** The DNS server's structured log: one JSON line per event on stderr, from any thread. */
export type Log = (level: 'info' | 'warn' | 'error', msg: string, fields?: Record<string, unknown>) => void;

export const jsonLog: Log = (level, msg, fields) => {
  process.stderr.write(logLine('dns', msg, fields, level));
};
