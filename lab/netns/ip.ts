/**
 * The thin effectful edge of the netns provider: runs `ip` (and a shell inside a namespace) with
 * what lab/plan.ts rendered. Few processes on purpose: one `ip -batch` for the host namespace and
 * one process per lab namespace.
 */
import { existsSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { LabError } from '../errors.js';
import { renderNamespaceScript, type NamespaceConfig } from '../plan.js';
import { failureDetail, runCommand, type RunResult } from '../run.js';

const NETNS_DIR = '/run/netns';

/** Throws a LabError when `result` is not a success. */
function check(result: RunResult, what: string, hint: string): void {
  if (result.canceled) throw new LabError('INTERRUPTED', `${what}: interrupted`);
  if (result.exitCode === 0) return;
  throw new LabError('STEP_FAILED', `${what} failed:\n    ${failureDetail(result)}`, hint);
}

/** Runs `ip -batch -` in the host namespace; `force` continues past failing lines (for clean-up). */
export async function ipBatch(
  lines: readonly string[],
  options: { signal?: AbortSignal; force?: boolean; what: string; hint: string },
): Promise<void> {
  if (lines.length === 0) return;
  const args = options.force ? ['-force', '-batch', '-'] : ['-batch', '-'];
  const result = await runCommand('ip', args, { input: `${lines.join('\n')}\n`, signal: options.signal });
  if (!options.force) check(result, options.what, options.hint);
}

/**
 * Applies one namespace's sysctls and ip batch with a single process: `ip netns exec … sh` when
 * there are sysctls (they must be written from inside), else the lighter `ip -n … -batch`.
 */
export async function configureNamespace(config: NamespaceConfig, signal: AbortSignal): Promise<void> {
  const args =
    config.sysctls.length > 0
      ? ['netns', 'exec', config.netns, 'sh', '-c', renderNamespaceScript(config)]
      : ['-n', config.netns, '-batch', '-'];
  const result = await runCommand('ip', args, { input: `${config.ipBatch.join('\n')}\n`, signal });
  check(
    result,
    `configuring namespace ${config.netns}`,
    'check that this kernel allows the sysctls and links shown (run as root)',
  );
}

export async function listNetns(): Promise<string[]> {
  try {
    return (await readdir(NETNS_DIR)).sort();
  } catch {
    return [];
  }
}

export function netnsExists(netns: string): boolean {
  return existsSync(`${NETNS_DIR}/${netns}`);
}

/** Pids of processes whose network namespace is `netns`. */
export async function netnsPids(netns: string): Promise<number[]> {
  const result = await runCommand('ip', ['netns', 'pids', netns]);
  if (result.exitCode !== 0) return [];
  return result.stdout
    .split('\n')
    .filter((line) => /^\d+$/.test(line))
    .map(Number);
}

/** Loads br_netfilter when it is not there yet; false when it cannot be loaded. */
export async function ensureBrNetfilter(): Promise<boolean> {
  const present = () => existsSync('/proc/sys/net/bridge/bridge-nf-call-iptables');
  if (present()) return true;
  await runCommand('modprobe', ['br_netfilter']);
  return present();
}

interface IpAddrJson {
  ifname?: string;
  addr_info?: Array<{ family?: string; local?: string; prefixlen?: number }>;
}

/** IPv4 addresses (CIDR form) by interface, in `netns` or the host namespace. */
export async function ipv4Addresses(netns?: string, dev?: string): Promise<Map<string, string[]>> {
  const args = [...(netns ? ['-n', netns] : []), '-j', '-4', 'addr', 'show', ...(dev ? ['dev', dev] : [])];
  const result = await runCommand('ip', args);
  const byIf = new Map<string, string[]>();
  if (result.exitCode !== 0 || result.stdout.trim() === '') return byIf;
  for (const link of JSON.parse(result.stdout) as IpAddrJson[]) {
    const addrs = (link.addr_info ?? [])
      .filter((a) => a.family === 'inet' && a.local)
      .map((a) => `${a.local}/${a.prefixlen ?? 32}`);
    byIf.set(link.ifname ?? '?', addrs);
  }
  return byIf;
}

export async function linkExists(ifname: string): Promise<boolean> {
  const result = await runCommand('ip', ['link', 'show', 'dev', ifname]);
  return result.exitCode === 0;
}

export async function deleteLink(ifname: string): Promise<void> {
  check(await runCommand('ip', ['link', 'del', 'dev', ifname]), `deleting link ${ifname}`, 'run as root');
}
