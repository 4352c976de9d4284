/**
 * A pod's resolv.conf from its dnsPolicy and dnsConfig, as kubelet composes it
 * (pkg/kubelet/network/dns): cluster DNS, the node's resolver, or only what the pod asks for.
 */

export interface ResolvConfig {
  readonly nameservers: readonly string[];
  readonly searches: readonly string[];
  readonly options: readonly string[];
}

export interface PodDnsSpec {
  readonly namespace: string;
  readonly dnsPolicy?: string;
  readonly hostNetwork?: boolean;
  readonly dnsConfig?: {
    readonly nameservers?: readonly string[];
    readonly searches?: readonly string[];
    readonly options?: readonly { readonly name: string; readonly value?: string }[];
  };
}

export interface NodeDns {
  /** The agent's --cluster-dns addresses; empty means none configured. */
  readonly clusterDNS: readonly string[];
  readonly clusterDomain: string;
  /** The node's own resolv.conf (kubelet's --resolv-conf). */
  readonly host: ResolvConfig;
}

export const MAX_NAMESERVERS = 3;
export const MAX_SEARCHES = 32;
export const MAX_SEARCH_CHARS = 2048;
export const MAX_SEARCH_ENTRY_CHARS = 253;

const POLICIES = ['ClusterFirst', 'ClusterFirstWithHostNet', 'Default', 'None'] as const;

/** Parses resolv.conf text as kubelet does: nameserver lines add up, the last search and options win. */
export function parseResolvConf(text: string): ResolvConfig {
  const nameservers: string[] = [];
  let searches: string[] = [];
  let options: string[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.replace(/[#;].*$/, '').trim();
    const [key, ...rest] = line.split(/\s+/);
    if (key === 'nameserver' && rest[0]) nameservers.push(rest[0]);
    else if (key === 'search') searches = rest;
    else if (key === 'options') options = rest;
  }
  return { nameservers, searches, options };
}

const unique = (items: readonly string[]): string[] => [...new Set(items)];

/** Options are `name` or `name:value`; a later option with the same name replaces the earlier one. */
function mergeOptions(base: readonly string[], extra: readonly string[]): string[] {
  const byName = new Map<string, string>();
  for (const o of [...base, ...extra]) byName.set(o.split(':')[0] as string, o);
  return [...byName.values()];
}

/** Kubelet's search limits: entries over 253 characters dropped, then at most 32 and 2048 characters. */
function fitSearches(searches: readonly string[]): string[] {
  const out: string[] = [];
  let chars = 0;
  for (const s of searches) {
    if (s.length > MAX_SEARCH_ENTRY_CHARS) continue;
    if (out.length === MAX_SEARCHES || chars + s.length + out.length > MAX_SEARCH_CHARS) break;
    out.push(s);
    chars += s.length;
  }
  return out;
}

/**
 * Which resolver a pod gets. ClusterFirst on a hostNetwork pod falls back to the node's
 * resolver (only ClusterFirstWithHostNet keeps cluster DNS there), and so does any cluster
 * policy when the agent has no cluster DNS configured.
 */
export function dnsKind(pod: PodDnsSpec, node: NodeDns): 'cluster' | 'host' | 'none' {
  const policy = pod.dnsPolicy ?? 'ClusterFirst';
  if (!(POLICIES as readonly string[]).includes(policy)) {
    throw new Error(`spec.dnsPolicy "${policy}" is not one of ${POLICIES.join(', ')}`);
  }
  if (policy === 'None') return 'none';
  if (policy === 'Default' || (policy === 'ClusterFirst' && pod.hostNetwork)) return 'host';
  return node.clusterDNS.length > 0 ? 'cluster' : 'host';
}

/** The resolver configuration kubelet would give `pod` on `node`. */
export function podResolvConfig(pod: PodDnsSpec, node: NodeDns): ResolvConfig {
  const d = node.clusterDomain;
  let base: ResolvConfig;
  switch (dnsKind(pod, node)) {
    case 'none':
      base = { nameservers: [], searches: [], options: [] };
      break;
    case 'host':
      base = node.host;
      break;
    case 'cluster':
      base = {
        nameservers: node.clusterDNS,
        searches: unique([`${pod.namespace}.svc.${d}`, `svc.${d}`, d, ...node.host.searches]),
        options: ['ndots:5'],
      };
      break;
  }
  const extra = pod.dnsConfig ?? {};
  const extraOptions = (extra.options ?? []).map((o) =>
    o.value === undefined || o.value === '' ? o.name : `${o.name}:${o.value}`,
  );
  return {
    nameservers: unique([...base.nameservers, ...(extra.nameservers ?? [])]).slice(0, MAX_NAMESERVERS),
    searches: fitSearches(unique([...base.searches, ...(extra.searches ?? [])])),
    options: mergeOptions(base.options, extraOptions),
  };
}

/** resolv.conf text; empty sections are left out. */
export function renderResolvConf(c: ResolvConfig): string {
  return [
    ...(c.searches.length > 0 ? [`search ${c.searches.join(' ')}`] : []),
    ...c.nameservers.map((n) => `nameserver ${n}`),
    ...(c.options.length > 0 ? [`options ${c.options.join(' ')}`] : []),
    '',
  ].join('\n');
}

/**
 * argv run with `file` bind-mounted over /etc/resolv.conf in a private mount namespace: what
 * `ip netns exec` does for sandboxes, for hostNetwork pods that have none. The shell execs the
 * command, so the pid stays the container's.
 */
export function withResolvConf(file: string, argv: readonly string[]): string[] {
  return [
    'unshare',
    '--mount',
    '--propagation',
    'private',
    '--',
    'sh',
    '-c',
    'mount --bind "$0" /etc/resolv.conf && exec "$@"',
    file,
    ...argv,
  ];
}
