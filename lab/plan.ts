/**
 * Pure planning of a lab: from a name and a node count to every namespace, address and interface,
 * and the exact `ip` batch lines and sysctl writes that create them. The netns provider only runs
 * what this returns, so the layout is readable (and tested) without a kernel.
 */
import { LabError } from './errors.js';
import { hostAccessIfName, netnsName, validateLabName } from './names.js';

export const LAN_PREFIX = '192.168.56';
export const LAN_PREFIX_LENGTH = 24;
export const LAN_CIDR = `${LAN_PREFIX}.0/${LAN_PREFIX_LENGTH}`;
export const HOST_ACCESS_IP = `${LAN_PREFIX}.1`;
export const EXT_IP = `${LAN_PREFIX}.2`;
/** node-N gets .(10+N); the LoadBalancer pool starts at .200, so nodes stay below it. */
export const FIRST_NODE_OCTET = 11;
export const MAX_NODES = 100;
export const DEFAULT_NODES = 3;
export const LAN_BRIDGE = 'lan0';
/** Every lab host's interface on the LAN, as on a Vagrant VM's private network. */
export const HOST_IFNAME = 'eth1';
/** The LAN-namespace end of the host-access veth. */
export const HOST_ACCESS_PEER = 'host';

export type HostRole = 'node' | 'ext';

export interface LabHost {
  readonly name: string;
  readonly role: HostRole;
  readonly netns: string;
  readonly ip: string;
  /** Always HOST_IFNAME inside the host's namespace. */
  readonly ifname: string;
  /** The veth end in the LAN namespace, enslaved to the bridge; named after the host. */
  readonly lanPort: string;
}

export interface HostAccess {
  readonly ifname: string;
  readonly peer: string;
  readonly ip: string;
}

export interface LabPlan {
  readonly lab: string;
  readonly nodes: number;
  readonly lanNetns: string;
  readonly bridge: string;
  /** node-1 … node-N, then ext. */
  readonly hosts: readonly LabHost[];
  readonly hostAccess: HostAccess | null;
}

export interface PlanOptions {
  readonly name: string;
  readonly nodes: number;
  readonly hostAccess?: boolean;
}

export function nodeIp(index: number): string {
  return `${LAN_PREFIX}.${FIRST_NODE_OCTET + index - 1}`;
}

export function validateNodeCount(nodes: number): number {
  if (!Number.isInteger(nodes) || nodes < 1 || nodes > MAX_NODES) {
    throw new LabError(
      'BAD_NODE_COUNT',
      `node count ${String(nodes)} is not a whole number from 1 to ${MAX_NODES}`,
      `pass --nodes 1…${MAX_NODES}`,
    );
  }
  return nodes;
}

export function planLab(options: PlanOptions): LabPlan {
  const lab = validateLabName(options.name);
  const nodes = validateNodeCount(options.nodes);
  const host = (name: string, role: HostRole, ip: string): LabHost => ({
    name,
    role,
    netns: netnsName(lab, name),
    ip,
    ifname: HOST_IFNAME,
    lanPort: name,
  });
  const hosts: LabHost[] = [];
  for (let i = 1; i <= nodes; i++) hosts.push(host(`node-${i}`, 'node', nodeIp(i)));
  hosts.push(host('ext', 'ext', EXT_IP));
  return {
    lab,
    nodes,
    lanNetns: netnsName(lab, 'lan'),
    bridge: LAN_BRIDGE,
    hosts,
    hostAccess: options.hostAccess
      ? { ifname: hostAccessIfName(lab), peer: HOST_ACCESS_PEER, ip: HOST_ACCESS_IP }
      : null,
  };
}

/** Every namespace of the lab, the LAN first. */
export function planNamespaces(plan: LabPlan): string[] {
  return [plan.lanNetns, ...plan.hosts.map((h) => h.netns)];
}

/**
 * `ip -batch` lines for the host namespace: the namespaces, then veths created directly across
 * them, so no lab interface ever shows up in the host's namespace (except the opt-in host access).
 */
export function createBatch(plan: LabPlan): string[] {
  const lines = planNamespaces(plan).map((ns) => `netns add ${ns}`);
  for (const h of plan.hosts) {
    lines.push(
      `link add ${h.ifname} netns ${h.netns} type veth peer name ${h.lanPort} netns ${plan.lanNetns}`,
    );
  }
  if (plan.hostAccess) {
    const a = plan.hostAccess;
    lines.push(`link add ${a.ifname} type veth peer name ${a.peer} netns ${plan.lanNetns}`);
    lines.push(`addr add ${a.ip}/${LAN_PREFIX_LENGTH} dev ${a.ifname}`);
    lines.push(`link set ${a.ifname} up`);
  }
  return lines;
}

/** What to do inside one namespace: sysctl writes first, then `ip -batch` lines. */
export interface NamespaceConfig {
  readonly netns: string;
  /** The lab host this configures, or undefined for the LAN switch. */
  readonly host: LabHost | undefined;
  readonly sysctls: ReadonlyArray<readonly [key: string, value: string]>;
  readonly ipBatch: readonly string[];
}

export function lanConfig(plan: LabPlan): NamespaceConfig {
  const ports = plan.hosts.map((h) => h.lanPort);
  if (plan.hostAccess) ports.push(plan.hostAccess.peer);
  return {
    netns: plan.lanNetns,
    host: undefined,
    sysctls: [],
    ipBatch: [
      'link set lo up',
      `link add ${plan.bridge} type bridge`,
      `link set ${plan.bridge} up`,
      ...ports.map((p) => `link set ${p} master ${plan.bridge} up`),
    ],
  };
}

export interface HostFacts {
  /** br_netfilter is loaded, so net.bridge.* sysctls exist in every namespace. */
  readonly brNetfilter: boolean;
}

/**
 * The sysctls a Kubernetes node needs: forwarding for pod and service traffic, loose reverse-path
 * filtering (replies of DNAT'd service traffic may come back asymmetrically), route_localnet for
 * kube-proxy's localhost node ports, and bridged pod traffic through iptables (kubeadm's preflight
 * asks for the same).
 */
export function nodeSysctls(facts: HostFacts): Array<[string, string]> {
  const sysctls: Array<[string, string]> = [
    ['net.ipv4.ip_forward', '1'],
    ['net.ipv4.conf.all.rp_filter', '0'],
    ['net.ipv4.conf.default.rp_filter', '0'],
    ['net.ipv4.conf.all.route_localnet', '1'],
  ];
  if (facts.brNetfilter) {
    sysctls.push(['net.bridge.bridge-nf-call-iptables', '1'], ['net.bridge.bridge-nf-call-ip6tables', '1']);
  }
  return sysctls;
}

export function hostConfig(host: LabHost, facts: HostFacts): NamespaceConfig {
  const batch = [
    'link set lo up',
    `addr add ${host.ip}/${LAN_PREFIX_LENGTH} dev ${host.ifname}`,
    `link set ${host.ifname} up`,
  ];
  // A node needs some route for a ClusterIP, or connect() fails before kube-proxy's DNAT can
  // act. An on-link default keeps every such packet on the lab's LAN: nothing leaves the lab.
  // ext is a laptop on the LAN only and gets no default route.
  if (host.role === 'node') batch.push(`route add default dev ${host.ifname}`);
  return {
    netns: host.netns,
    host,
    sysctls: host.role === 'node' ? nodeSysctls(facts) : [],
    ipBatch: batch,
  };
}

/**
 * The `sh -c` script run inside a namespace (via `ip netns exec`): sysctl writes are shell
 * redirections, then the shell execs `ip -batch -`, which reads the batch on stdin. One process
 * per namespace.
 */
export function renderNamespaceScript(config: NamespaceConfig): string {
  const writes = config.sysctls.map(
    ([key, value]) => `echo ${value} > /proc/sys/${key.replaceAll('.', '/')}`,
  );
  return ['set -e', ...writes, 'exec ip -batch -'].join('\n');
}

/** `ip -batch -force` lines for the host namespace that remove namespaces (and their veths). */
export function deleteBatch(namespaces: readonly string[]): string[] {
  return namespaces.map((ns) => `netns del ${ns}`);
}
