/**
 * Host prerequisites: the Debian packages klab's data path needs, found by the command each
 * package provides. Pure planning here; the effects live in setup-command.ts.
 */
export interface Prerequisite {
  /** A command whose presence proves the package is installed. */
  readonly command: string;
  /** The Debian package that provides it. */
  readonly debianPackage: string;
  readonly why: string;
}

export const PREREQUISITES: readonly Prerequisite[] = [
  { command: 'ip', debianPackage: 'iproute2', why: 'network namespaces, veths, bridges, routes' },
  { command: 'iptables-restore', debianPackage: 'iptables', why: 'kube-proxy iptables mode' },
  { command: 'ipset', debianPackage: 'ipset', why: 'kube-proxy IPVS mode' },
  { command: 'conntrack', debianPackage: 'conntrack', why: 'stale UDP flow clean-up' },
  { command: 'nft', debianPackage: 'nftables', why: 'kube-proxy nftables mode' },
  { command: 'arping', debianPackage: 'arping', why: 'Layer 2 announcement checks' },
  { command: 'dig', debianPackage: 'bind9-dnsutils', why: 'cluster DNS queries (dig)' },
  { command: 'curl', debianPackage: 'curl', why: 'HTTP checks from lab hosts' },
  { command: 'ping', debianPackage: 'iputils-ping', why: 'reachability checks between lab hosts' },
  { command: 'etcd', debianPackage: 'etcd-server', why: "the API server's etcd store (--store etcd)" },
  { command: 'strace', debianPackage: 'strace', why: 'the SQLite store test that watches fsync order' },
];

export interface HostFacts {
  readonly isRoot: boolean;
  readonly isDebian: boolean;
}

export type SetupPlan =
  | { readonly action: 'nothing' }
  | { readonly action: 'apt-get'; readonly packages: readonly string[] }
  | { readonly action: 'stop'; readonly message: string };

/** Decides what setup must do, given which prerequisite commands are missing. */
export function planSetup(missing: readonly Prerequisite[], host: HostFacts): SetupPlan {
  if (missing.length === 0) return { action: 'nothing' };
  const packages = [...new Set(missing.map((p) => p.debianPackage))].sort();
  if (host.isRoot && host.isDebian) return { action: 'apt-get', packages };
  const lines = missing.map((p) => `  ${p.command} (Debian package ${p.debianPackage}): ${p.why}`);
  const how = host.isDebian
    ? `run as root: apt-get install -y ${packages.join(' ')}`
    : `install the equivalents of these Debian packages with your system's package manager: ${packages.join(' ')}`;
  return {
    action: 'stop',
    message: `klab needs commands that are missing:\n${lines.join('\n')}\nTo fix, ${how}`,
  };
}
