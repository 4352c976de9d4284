/**
 * LoadBalancer address assignment from metallb.io/v1beta1 IPAddressPools, pure: MetalLB's
 * controller semantics for pools (CIDRs and ranges, autoAssign, avoidBuggyIPs), the requested
 * address (`spec.loadBalancerIP` or `metallb.universe.tf/loadBalancerIPs`) and the pool
 * annotation `metallb.universe.tf/address-pool`.
 */
import { formatIPv4, parseCidr, parseIPv4 } from './allocators.js';

export const LB_IPS_ANNOTATION = 'metallb.universe.tf/loadBalancerIPs';
export const POOL_ANNOTATION = 'metallb.universe.tf/address-pool';

export interface AddressPool {
  metadata: { name: string; namespace?: string };
  spec: { addresses?: string[]; autoAssign?: boolean; avoidBuggyIPs?: boolean };
}

export interface LbService {
  metadata: { name?: string; namespace?: string; annotations?: Record<string, string> };
  spec?: { type?: string; loadBalancerIP?: string };
}

export type Assignment = { ip: string; pool: string } | { error: string };

interface Range {
  first: number;
  last: number;
}

/** The address ranges of a pool; throws with the bad entry named. */
export function poolRanges(pool: AddressPool): Range[] {
  return (pool.spec.addresses ?? []).map((entry) => {
    const dash = entry.indexOf('-');
    if (dash >= 0) {
      const first = parseIPv4(entry.slice(0, dash).trim());
      const last = parseIPv4(entry.slice(dash + 1).trim());
      if (first === undefined || last === undefined || first > last) {
        throw new Error(`IPAddressPool ${pool.metadata.name}: invalid range "${entry}"`);
      }
      return { first, last };
    }
    try {
      const { base, bits } = parseCidr(entry);
      return { first: base, last: base + 2 ** (32 - bits) - 1 };
    } catch {
      throw new Error(`IPAddressPool ${pool.metadata.name}: invalid CIDR "${entry}"`);
    }
  });
}

const buggy = (n: number) => (n & 255) === 0 || (n & 255) === 255;

function poolContains(pool: AddressPool, n: number): boolean {
  return poolRanges(pool).some((r) => n >= r.first && n <= r.last) && !(pool.spec.avoidBuggyIPs && buggy(n));
}

export function requestedIP(service: LbService): string | undefined {
  const annotated = service.metadata.annotations?.[LB_IPS_ANNOTATION]?.split(',')
    .map((s) => s.trim())
    .find((s) => s.includes('.'));
  return annotated ?? (service.spec?.loadBalancerIP || undefined);
}

/**
 * An address for `service`, given the pools and the addresses other Services hold (`inUse`,
 * keyed by address). Returns MetalLB's reason when none can be given.
 */
export function assignAddress(
  service: LbService,
  pools: readonly AddressPool[],
  inUse: ReadonlySet<string>,
): Assignment {
  const key = `${service.metadata.namespace}/${service.metadata.name}`;
  const sorted = [...pools].sort((a, b) => a.metadata.name.localeCompare(b.metadata.name));
  const wantedPool = service.metadata.annotations?.[POOL_ANNOTATION];
  const candidates = wantedPool !== undefined ? sorted.filter((p) => p.metadata.name === wantedPool) : sorted;
  if (wantedPool !== undefined && candidates.length === 0) {
    return { error: `Failed to allocate IP for "${key}": unknown pool "${wantedPool}"` };
  }
  const requested = requestedIP(service);
  if (requested !== undefined) {
    const n = parseIPv4(requested);
    if (n === undefined) return { error: `Failed to allocate IP for "${key}": invalid IP "${requested}"` };
    const pool = candidates.find((p) => poolContains(p, n));
    if (pool === undefined) {
      return { error: `Failed to allocate IP for "${key}": ["${requested}"] is not allowed in config` };
    }
    if (inUse.has(requested)) {
      return { error: `Failed to allocate IP for "${key}": ["${requested}"]: address already in use` };
    }
    return { ip: requested, pool: pool.metadata.name };
  }
  for (const pool of candidates) {
    if (wantedPool === undefined && pool.spec.autoAssign === false) continue;
    for (const r of poolRanges(pool)) {
      for (let n = r.first; n <= r.last; n++) {
        if (pool.spec.avoidBuggyIPs && buggy(n)) continue;
        const ip = formatIPv4(n);
        if (!inUse.has(ip)) return { ip, pool: pool.metadata.name };
      }
    }
  }
  return { error: `Failed to allocate IP for "${key}": no available IPs` };
}

/** Whether a Service still may keep the address it holds (pool gone or changed → no). */
export function stillValid(service: LbService, ip: string, pools: readonly AddressPool[]): boolean {
  const n = parseIPv4(ip);
  if (n === undefined) return false;
  const wantedPool = service.metadata.annotations?.[POOL_ANNOTATION];
  const requested = requestedIP(service);
  if (requested !== undefined && requested !== ip) return false;
  return pools.some(
    (p) => (wantedPool === undefined || p.metadata.name === wantedPool) && poolContains(p, n),
  );
}
