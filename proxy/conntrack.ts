import { endpointString } from './model.js';
import type { ProxyModel, ServicePort } from './model.js';
import type { Exec } from './iptables/apply.js';

/** Arguments of one `conntrack -D` call. */
export type ConntrackDeletion = string[];

function portKey(sp: ServicePort): string {
  return `${sp.name}/${sp.protocol}`;
}

function destinations(sp: ServicePort): string[] {
  return [sp.clusterIP, ...sp.externalIPs, ...sp.loadBalancerIPs];
}

/**
 * The UDP conntrack entries kube-proxy deletes after a sync (its event-based clean-up), so that
 * UDP flows, which conntrack keeps pointing at old DNAT targets, cannot blackhole:
 * - an endpoint that was in use and no longer is: entries DNAT'ed to it, per service IP and NodePort;
 * - a service that had no endpoint and now has one: entries to its IPs and NodePort, which
 *   until now hit the REJECT rule and would otherwise keep being rejected;
 * - a UDP service port that is gone: entries to its cluster IP.
 */
export function staleConntrackEntries(prev: ProxyModel | undefined, next: ProxyModel): ConntrackDeletion[] {
  const out: ConntrackDeletion[] = [];
  const before = new Map((prev?.ports ?? []).filter((p) => p.protocol === 'UDP').map((p) => [portKey(p), p]));
  const seen = new Set<string>();
  for (const sp of next.ports) {
    if (sp.protocol !== 'UDP') continue;
    const key = portKey(sp);
    seen.add(key);
    const old = before.get(key);
    const usedNow = new Set(sp.reachableEndpoints.map(endpointString));
    if (
      old &&
      (!old.hasEndpoints || old.reachableEndpoints.length === 0) &&
      sp.reachableEndpoints.length > 0
    ) {
      for (const ip of destinations(sp)) out.push(['-D', '-p', 'udp', '--orig-dst', ip]);
      if (sp.nodePort) out.push(['-D', '-p', 'udp', '--dport', String(sp.nodePort)]);
    }
    for (const ep of old?.reachableEndpoints ?? []) {
      if (usedNow.has(endpointString(ep))) continue;
      for (const ip of destinations(old ?? sp))
        out.push(['-D', '-p', 'udp', '--orig-dst', ip, '--dst-nat', ep.ip]);
      const np = old?.nodePort ?? 0;
      if (np) out.push(['-D', '-p', 'udp', '--dport', String(np), '--dst-nat', ep.ip]);
    }
  }
  for (const [key, old] of before) {
    if (!seen.has(key)) out.push(['-D', '-p', 'udp', '--orig-dst', old.clusterIP]);
  }
  return out;
}

/** Runs the deletions; "no entries matched" is not an error. Returns the failures' messages. */
export async function deleteConntrackEntries(exec: Exec, deletions: ConntrackDeletion[]): Promise<string[]> {
  const errors: string[] = [];
  for (const args of deletions) {
    const r = await exec('conntrack', args);
    if (r.code !== 0 && !/0 flow entries/.test(r.stderr))
      errors.push(`conntrack ${args.join(' ')}: ${r.stderr.trim()}`);
  }
  return errors;
}
