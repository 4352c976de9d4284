import { CniCode, CniError } from './errors.js';
import { run } from './exec.js';
import { formatCidr, formatIp, network } from './ipv4.js';
import type { Lease } from './ipam.js';
import { chainComment, chainName } from './names.js';

/** The comment as iptables-save prints it (inner quotes backslash-escaped). */
function quoted(comment: string): string {
  return `"${comment.replace(/"/g, '\\"')}"`;
}

function commentArg(net: string, containerId: string): string {
  return `-m comment --comment ${quoted(chainComment(net, containerId))}`;
}

/**
 * iptables-restore --noflush input for one pod's masquerade chain, the reference plugin's
 * rules: traffic from the pod to its own subnet (and to `nonMasquerade`, e.g. the cluster's pod
 * CIDR, so pod-to-pod traffic across nodes keeps its source) is left alone; all else but
 * multicast is masqueraded.
 */
export function masqAddRules(
  net: string,
  containerId: string,
  leases: Lease[],
  nonMasquerade: string[] = [],
): string {
  const chain = chainName(net, containerId);
  const c = commentArg(net, containerId);
  const lines = ['*nat', `:${chain} - [0:0]`];
  const local = leases.map((l) => formatCidr({ ip: network(l.range.subnet), prefix: l.range.subnet.prefix }));
  for (const dst of new Set([...local, ...nonMasquerade])) lines.push(`-A ${chain} -d ${dst} ${c} -j ACCEPT`);
  lines.push(`-A ${chain} ! -d 224.0.0.0/4 ${c} -j MASQUERADE`);
  for (const l of leases) lines.push(`-A POSTROUTING -s ${formatIp(l.ip)}/32 ${c} -j ${chain}`);
  lines.push('COMMIT', '');
  return lines.join('\n');
}

export interface MasqChain {
  chain: string;
  network: string | undefined;
  containerId: string | undefined;
  /** POSTROUTING rules jumping to it, as iptables-save prints them. */
  jumps: string[];
  /** Its own rules. */
  rules: string[];
}

const COMMENT = /--comment "name: \\"(.*?)\\" id: \\"(.*?)\\""/;

/** The CNI-* chains of an `iptables-save -t nat` dump, with their owners from the comments. */
export function parseMasqChains(save: string): MasqChain[] {
  const chains = new Map<string, MasqChain>();
  const lines = save.split('\n');
  for (const line of lines) {
    const m = /^:(CNI-[0-9a-f]+) /.exec(line);
    if (m?.[1])
      chains.set(m[1], { chain: m[1], network: undefined, containerId: undefined, jumps: [], rules: [] });
  }
  for (const line of lines) {
    const jump = /^-A POSTROUTING .*-j (CNI-[0-9a-f]+)$/.exec(line);
    const own = /^-A (CNI-[0-9a-f]+) /.exec(line);
    const target = chains.get(jump?.[1] ?? own?.[1] ?? '');
    if (!target) continue;
    (jump ? target.jumps : target.rules).push(line);
    const owner = COMMENT.exec(line);
    if (owner && target.network === undefined) {
      target.network = owner[1];
      target.containerId = owner[2];
    }
  }
  return [...chains.values()];
}

/** iptables-restore --noflush input removing chains and the rules that jump to them. */
export function masqDeleteRules(chains: MasqChain[]): string {
  if (chains.length === 0) return '';
  const lines = ['*nat'];
  for (const c of chains) for (const j of c.jumps) lines.push(j.replace(/^-A /, '-D '));
  for (const c of chains) lines.push(`-F ${c.chain}`, `-X ${c.chain}`);
  lines.push('COMMIT', '');
  return lines.join('\n');
}

async function restore(input: string): Promise<void> {
  const out = await run('iptables-restore', ['-w', '5', '--noflush'], input);
  if (out.code !== 0) throw new CniError(CniCode.Internal, `iptables-restore: ${out.stderr.trim()}`);
}

export async function listMasqChains(): Promise<MasqChain[]> {
  const out = await run('iptables-save', ['-t', 'nat']);
  if (out.code !== 0) throw new CniError(CniCode.Internal, `iptables-save: ${out.stderr.trim()}`);
  return parseMasqChains(out.stdout);
}

export async function addMasq(
  net: string,
  containerId: string,
  leases: Lease[],
  nonMasquerade: string[],
): Promise<void> {
  await restore(masqAddRules(net, containerId, leases, nonMasquerade));
}

/**
 * The rules ADD made for these addresses, removed in one restore without reading the table
 * first; it fails as a whole when any of them is already gone.
 */
export function masqKnownDeleteRules(net: string, containerId: string, ips: number[]): string {
  const chain = chainName(net, containerId);
  const jumps = ips.map(
    (ip) => `-D POSTROUTING -s ${formatIp(ip)}/32 ${commentArg(net, containerId)} -j ${chain}`,
  );
  return ['*nat', ...jumps, `-F ${chain}`, `-X ${chain}`, 'COMMIT', ''].join('\n');
}

/** Removes the chains `select` picks; nothing to remove is success. */
export async function removeMasq(select: (c: MasqChain) => boolean, fastPath?: string): Promise<void> {
  if (fastPath !== undefined) {
    const out = await run('iptables-restore', ['-w', '5', '--noflush'], fastPath);
    if (out.code === 0) return;
  }
  const input = masqDeleteRules((await listMasqChains()).filter(select));
  if (input !== '') await restore(input);
}
