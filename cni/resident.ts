import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdirSync, unlinkSync } from 'node:fs';
import { dirname } from 'node:path';
import { createServer, type Server, type Socket } from 'node:net';
import { CniCode, CniError } from './errors.js';
import { invoke, type Reply } from './plugin.js';
import { LATEST_VERSION } from './version.js';

/**
 * The resident plugin: the same `invoke()` the executable runs, behind a unix socket, so a call
 * costs a tiny client instead of a Node start-up. Wire format, chosen so a client needs no
 * library: the request is the caller's `CNI_*` variables as `KEY=VALUE\0` each, an empty entry
 * (`\0`), then the stdin bytes until the client shuts down its write side; the reply is the exit
 * code, `\n`, then the plugin's stdout.
 */

export interface Request {
  env: Record<string, string>;
  stdin: string;
}

/** Largest request accepted: configs with a prevResult are a few KB. */
const MAX_REQUEST = 1 << 20;

export function parseRequest(buf: Buffer): Request {
  const env: Record<string, string> = {};
  let at = 0;
  for (;;) {
    const end = buf.indexOf(0, at);
    if (end < 0) throw new CniError(CniCode.IoFailure, 'resident request: the environment is not terminated');
    if (end === at) break;
    const entry = buf.toString('utf8', at, end);
    const eq = entry.indexOf('=');
    if (eq <= 0 || !entry.startsWith('CNI_')) {
      throw new CniError(CniCode.IoFailure, `resident request: "${entry}" is not a CNI_ variable`);
    }
    env[entry.slice(0, eq)] = entry.slice(eq + 1);
    at = end + 1;
  }
  return { env, stdin: buf.toString('utf8', at + 1) };
}

export function formatReply(reply: Reply): string {
  return `${reply.exitCode}\n${reply.stdout === '' ? '' : reply.stdout + '\n'}`;
}

function errorReply(err: unknown): Reply {
  const e = err instanceof CniError ? err : new CniError(CniCode.Internal, (err as Error).message);
  return { stdout: JSON.stringify(e.toWire(LATEST_VERSION)), exitCode: 1 };
}

function serveOne(socket: Socket): void {
  const chunks: Buffer[] = [];
  let size = 0;
  socket.on('error', () => socket.destroy());
  socket.on('data', (chunk: Buffer) => {
    size += chunk.length;
    if (size > MAX_REQUEST) {
      socket.end(
        formatReply(errorReply(new CniError(CniCode.IoFailure, 'resident request: larger than 1 MiB'))),
      );
      return;
    }
    chunks.push(chunk);
  });
  socket.on('end', () => {
    if (size > MAX_REQUEST) return;
    let reply: Promise<Reply>;
    try {
      const { env, stdin } = parseRequest(Buffer.concat(chunks));
      reply = invoke(env, stdin);
    } catch (err) {
      reply = Promise.resolve(errorReply(err));
    }
    void reply.then((r) => socket.end(formatReply(r)));
  });
}

/** Listens on `path` (root only: whoever connects runs the plugin as root), replacing a stale socket. */
export async function serveResident(path: string): Promise<Server> {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  try {
    unlinkSync(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const server = createServer({ allowHalfOpen: true }, serveOne);
  const umask = process.umask(0o177);
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(path, () => resolve());
    });
  } finally {
    process.umask(umask);
  }
  chmodSync(path, 0o600);
  return server;
}

/**
 * Starts `klab cni serve` through `launch` (the argv that runs klab, e.g. `ip netns exec NODE
 * node klab.js`) and resolves once it listens. It exits when its stdin closes.
 */
export async function spawnResident(launch: readonly string[], socket: string): Promise<ChildProcess> {
  const [cmd, ...args] = [...launch, 'cni', 'serve', '--socket', socket, '--exit-with-stdin'];
  const child = spawn(cmd as string, args, { stdio: ['pipe', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('listening')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`klab cni serve exited (${code}) before listening`)));
  });
  return child;
}
