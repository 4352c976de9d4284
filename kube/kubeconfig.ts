import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { parse } from 'yaml';

/** What a client needs from a kubeconfig: where the server is, how to trust it, who we are. */
export interface Connection {
  readonly server: string;
  /** PEM of the CA that signed the server's certificate; undefined means the system's CAs. */
  readonly ca?: string;
  readonly insecureSkipTlsVerify: boolean;
  readonly token?: string;
  readonly clientCert?: string;
  readonly clientKey?: string;
}

export class KubeconfigError extends Error {
  readonly code = 'KUBECONFIG_INVALID';
  constructor(where: string, message: string) {
    super(`kubeconfig ${where}: ${message}`);
    this.name = 'KubeconfigError';
  }
}

type Named<T> = { name?: unknown } & T;
const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

function pick(list: unknown, name: string, kind: string, where: string): Record<string, unknown> {
  if (!Array.isArray(list)) throw new KubeconfigError(where, `has no ${kind}s list`);
  const entry = (list as Named<Record<string, unknown>>[]).find((e) => isRecord(e) && e.name === name);
  const inner = entry?.[kind];
  if (!isRecord(inner)) throw new KubeconfigError(where, `${kind} "${name}" is not defined`);
  return inner;
}

const decode = (b64: unknown): string | undefined =>
  typeof b64 === 'string' ? Buffer.from(b64, 'base64').toString('utf8') : undefined;

/**
 * Resolves the current context of a kubeconfig document into a Connection. `readFile` resolves
 * file references (certificate-authority, token-file, …) relative to the kubeconfig's folder.
 */
export function parseKubeconfig(
  text: string,
  where: string,
  readFile: (path: string) => string = (p) => readFileSync(p, 'utf8'),
  contextName?: string,
): Connection {
  let doc: unknown;
  try {
    doc = parse(text);
  } catch (error) {
    throw new KubeconfigError(where, `is not valid YAML: ${(error as Error).message}`);
  }
  if (!isRecord(doc)) throw new KubeconfigError(where, 'is not a mapping');
  const current = contextName ?? doc['current-context'];
  if (typeof current !== 'string' || current === '')
    throw new KubeconfigError(where, 'has no current-context');
  const context = pick(doc.contexts, current, 'context', where);
  const cluster = pick(doc.clusters, String(context.cluster), 'cluster', where);
  const user = context.user === undefined ? {} : pick(doc.users, String(context.user), 'user', where);
  const file = (p: unknown) =>
    typeof p === 'string' ? readFile(isAbsolute(p) ? p : resolve(dirname(where), p)) : undefined;
  if (typeof cluster.server !== 'string')
    throw new KubeconfigError(where, `cluster "${context.cluster}" has no server`);
  return {
    server: cluster.server.replace(/\/+$/, ''),
    ca: decode(cluster['certificate-authority-data']) ?? file(cluster['certificate-authority']),
    insecureSkipTlsVerify: cluster['insecure-skip-tls-verify'] === true,
    token: (typeof user.token === 'string' ? user.token : file(user.tokenFile ?? user['token-file']))?.trim(),
    clientCert: decode(user['client-certificate-data']) ?? file(user['client-certificate']),
    clientKey: decode(user['client-key-data']) ?? file(user['client-key']),
  };
}

export function loadKubeconfig(path: string, contextName?: string): Connection {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new KubeconfigError(path, `cannot be read: ${(error as Error).message}`);
  }
  return parseKubeconfig(text, path, undefined, contextName);
}
