/**
 * The server's configuration, playing the Corefile's role: defaults as kubeadm's Corefile sets
 * them, then a YAML/JSON file, then command-line flags. Every value is checked and a bad one is
 * reported with where it came from.
 */
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { createRequire } from 'node:module';
import type * as Yaml from 'yaml';
import { parseGoDuration } from '../kube/duration.js';
import type { Upstream } from './forward.js';

// Loaded only for a config file: the yaml package costs about 6 MB.
const requireLazily = createRequire(import.meta.url);
const parseYaml = (text: string): unknown => (requireLazily('yaml') as typeof Yaml).parse(text);

export interface DnsConfig {
  listen: { host: string; port: number };
  zone: string;
  ttl: number;
  pods: 'insecure' | 'disabled';
  upstreams: Upstream[];
  upstreamTimeoutMs: number;
  cacheSize: number;
  opsHost: string;
  healthPort: number;
  readyPort: number;
  metricsPort: number;
  workers: number;
  /** How long a SIGTERM keeps the server answering before it exits (the health plugin's lameduck). */
  lameduckMs: number;
  objects?: string;
  kubeconfig?: string;
}

/** Everything a file or flags may set; strings are parsed like the flags. */
export interface ConfigInput {
  listen?: string;
  zone?: string;
  ttl?: number | string;
  pods?: string;
  upstreams?: string[];
  upstreamTimeoutMs?: number | string;
  cacheSize?: number | string;
  opsHost?: string;
  healthPort?: number | string;
  readyPort?: number | string;
  metricsPort?: number | string;
  workers?: number | string;
  lameduck?: string;
  objects?: string;
  kubeconfig?: string;
}

/** CoreDNS's cache capacity: 256 shards × 39 entries. */
export const DEFAULT_CACHE_SIZE = 9984;

function int(v: number | string, what: string, min: number, max: number): number {
  const n = typeof v === 'number' ? v : /^-?\d+$/.test(v.trim()) ? Number(v) : NaN;
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new Error(`${what} must be an integer from ${min} to ${max}, got ${JSON.stringify(v)}`);
  }
  return n;
}

/**
 * kubeadm's Corefile sets `health { lameduck 5s }`: after SIGTERM the server keeps answering while
 * kube-proxy on every node takes the terminating pod out of the kube-dns Service.
 */
function lameduck(v: string): number {
  const ms = parseGoDuration(String(v));
  if (ms === undefined || ms > 600_000) {
    throw new Error(
      `lameduck must be a duration from 0 to 10m such as 5s or 500ms, got ${JSON.stringify(v)}`,
    );
  }
  return ms;
}

/** Parses `IP`, `IP:port` or `[IPv6]:port`. */
export function parseHostPort(s: string, defaultPort: number, what: string): { host: string; port: number } {
  const text = s.trim();
  let host = text;
  let port = String(defaultPort);
  const bracket = /^\[([^\]]+)\](?::(\d+))?$/.exec(text);
  if (bracket) {
    host = bracket[1] as string;
    port = bracket[2] ?? port;
  } else if (!net.isIPv6(text) && text.includes(':')) {
    const i = text.lastIndexOf(':');
    host = text.slice(0, i);
    port = text.slice(i + 1);
  }
  if (!net.isIP(host)) throw new Error(`${what}: "${s}" is not an IP address (IP, IP:port or [IPv6]:port)`);
  return { host, port: int(port, `${what}: port of "${s}"`, 0, 65535) };
}

/** The nameservers of a resolv.conf, as the forward plugin reads /etc/resolv.conf. */
export function parseResolvConf(text: string): Upstream[] {
  const out: Upstream[] = [];
  for (const line of text.split('\n')) {
    const m = /^\s*nameserver\s+(\S+)/.exec(line);
    if (!m) continue;
    const host = (m[1] as string).replace(/%.*$/, '');
    if (net.isIP(host)) out.push({ host, port: 53 });
  }
  return out;
}

const KEYS = new Set<keyof ConfigInput>([
  'listen',
  'zone',
  'ttl',
  'pods',
  'upstreams',
  'upstreamTimeoutMs',
  'cacheSize',
  'opsHost',
  'healthPort',
  'readyPort',
  'metricsPort',
  'workers',
  'lameduck',
  'objects',
  'kubeconfig',
]);

/** Reads a YAML or JSON config file; unknown keys are errors, so typos do not pass silently. */
export function loadConfigFile(path: string): ConfigInput {
  let value: unknown;
  try {
    value = parseYaml(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new Error(`config ${path}: ${(e as Error).message}`);
  }
  if (value === null || value === undefined) return {};
  if (typeof value !== 'object' || Array.isArray(value)) throw new Error(`config ${path}: must be a mapping`);
  for (const k of Object.keys(value)) {
    if (!KEYS.has(k as keyof ConfigInput)) {
      throw new Error(`config ${path}: unknown key "${k}" (known: ${[...KEYS].join(', ')})`);
    }
  }
  const input = value as ConfigInput;
  if (input.upstreams !== undefined && !Array.isArray(input.upstreams)) {
    throw new Error(`config ${path}: upstreams must be a list of IP[:port]`);
  }
  return input;
}

/** Merges defaults, file and flags (later wins) into a checked configuration. */
export function resolveConfig(layers: ConfigInput[], readResolvConf: () => string): DnsConfig {
  const merged: ConfigInput = {};
  for (const layer of layers) {
    for (const [k, v] of Object.entries(layer)) {
      if (v !== undefined) (merged as Record<string, unknown>)[k] = v;
    }
  }
  const zone = (merged.zone ?? 'cluster.local').toLowerCase().replace(/\.$/, '');
  if (!/^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)*[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/.test(zone)) {
    throw new Error(`zone: "${merged.zone}" is not a valid domain name`);
  }
  if (merged.objects && merged.kubeconfig) {
    throw new Error('objects and kubeconfig are exclusive: serve a snapshot or watch the API, not both');
  }
  const pods = merged.pods ?? 'insecure';
  if (pods !== 'insecure' && pods !== 'disabled') {
    throw new Error(`pods: must be "insecure" or "disabled", got ${JSON.stringify(pods)}`);
  }
  const listen = parseHostPort(merged.listen ?? '0.0.0.0:53', 53, 'listen');
  const upstreams =
    merged.upstreams && merged.upstreams.length > 0
      ? merged.upstreams.map((u, i) => parseHostPort(String(u), 53, `upstream ${i + 1}`))
      : parseResolvConf(readResolvConf());
  for (const u of upstreams) {
    const local = listen.host === u.host || (listen.host === '0.0.0.0' && u.host.startsWith('127.'));
    if (local && listen.port === u.port) {
      // CoreDNS's loop plugin would find this at runtime; catching it here is cheaper.
      throw new Error(`upstream ${u.host}:${u.port} is this server's own listen address: a forwarding loop`);
    }
  }
  return {
    listen,
    zone,
    ttl: int(merged.ttl ?? 30, 'ttl', 0, 3600),
    pods,
    upstreams,
    upstreamTimeoutMs: int(merged.upstreamTimeoutMs ?? 2000, 'upstreamTimeoutMs', 1, 60_000),
    cacheSize: int(merged.cacheSize ?? DEFAULT_CACHE_SIZE, 'cacheSize', 0, 10_000_000),
    opsHost: merged.opsHost ?? '0.0.0.0',
    healthPort: int(merged.healthPort ?? 8080, 'healthPort', 0, 65535),
    readyPort: int(merged.readyPort ?? 8181, 'readyPort', 0, 65535),
    metricsPort: int(merged.metricsPort ?? 9153, 'metricsPort', 0, 65535),
    workers: int(merged.workers ?? 1, 'workers', 1, 64),
    lameduckMs: lameduck(merged.lameduck ?? '5s'),
    objects: merged.objects,
    kubeconfig: merged.kubeconfig,
  };
}
