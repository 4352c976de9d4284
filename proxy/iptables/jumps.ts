/**
 * The jump rules from the built-in chains into kube-proxy's chains. kube-proxy installs them
 * outside iptables-restore (which must not own whole built-in chains), with `iptables -C` then
 * `iptables -I`, on every full sync.
 */
export interface JumpRule {
  table: 'filter' | 'nat';
  /** Built-in chain the rule sits in. */
  from: string;
  /** kube-proxy chain it jumps to (created first if missing). */
  to: string;
  /** Match arguments, comment included, without `-j`. */
  args: string[];
}

const NEW = ['-m', 'conntrack', '--ctstate', 'NEW'];

function jump(
  table: JumpRule['table'],
  to: string,
  from: string,
  comment: string,
  extra: string[] = [],
): JumpRule {
  return { table, from, to, args: [...extra, ...(comment ? ['-m', 'comment', '--comment', comment] : [])] };
}

/** kube-proxy's iptablesJumpChains followed by iptablesKubeletJumpChains, in its order. */
export const JUMP_RULES: readonly JumpRule[] = [
  jump('filter', 'KUBE-EXTERNAL-SERVICES', 'INPUT', 'kubernetes externally-visible service portals', NEW),
  jump('filter', 'KUBE-EXTERNAL-SERVICES', 'FORWARD', 'kubernetes externally-visible service portals', NEW),
  jump('filter', 'KUBE-NODEPORTS', 'INPUT', 'kubernetes health check service ports'),
  jump('filter', 'KUBE-SERVICES', 'FORWARD', 'kubernetes service portals', NEW),
  jump('filter', 'KUBE-SERVICES', 'OUTPUT', 'kubernetes service portals', NEW),
  jump('filter', 'KUBE-FORWARD', 'FORWARD', 'kubernetes forwarding rules'),
  jump('filter', 'KUBE-PROXY-FIREWALL', 'INPUT', 'kubernetes load balancer firewall', NEW),
  jump('filter', 'KUBE-PROXY-FIREWALL', 'OUTPUT', 'kubernetes load balancer firewall', NEW),
  jump('filter', 'KUBE-PROXY-FIREWALL', 'FORWARD', 'kubernetes load balancer firewall', NEW),
  jump('nat', 'KUBE-SERVICES', 'OUTPUT', 'kubernetes service portals'),
  jump('nat', 'KUBE-SERVICES', 'PREROUTING', 'kubernetes service portals'),
  jump('nat', 'KUBE-POSTROUTING', 'POSTROUTING', 'kubernetes postrouting rules'),
  jump('filter', 'KUBE-FIREWALL', 'INPUT', ''),
  jump('filter', 'KUBE-FIREWALL', 'OUTPUT', ''),
];

/** Renders a jump rule as `iptables-save` shows it, for display and for `-C`/`-I` arguments. */
export function jumpRuleArgs(rule: JumpRule): string[] {
  return [...rule.args, '-j', rule.to];
}

/** kube-proxy's canary chain: its disappearance means someone flushed the tables. */
export const PROXY_CANARY = 'KUBE-PROXY-CANARY';
export const CANARY_TABLES = ['mangle', 'nat', 'filter'] as const;
