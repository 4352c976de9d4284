import type { Range } from './config.js';

export interface Lease {
  ip: number;
  range: Range;
}

/** host-local's lease file body: the container id and the interface name, CRLF-separated. */
export function leaseBody(containerId: string, ifname: string): string {
  return `${containerId}\r\n${ifname}`;
}

export interface LeaseOwner {
  containerId: string;
  /** Undefined for the legacy form that holds only the container id. */
  ifname: string | undefined;
}

export function parseLeaseBody(text: string): LeaseOwner {
  const [containerId = '', ifname] = text.trim().split(/\r?\n/);
  return { containerId: containerId.trim(), ifname: ifname?.trim() };
}

export function ownedBy(owner: LeaseOwner, containerId: string, ifname: string): boolean {
  return owner.containerId === containerId && (owner.ifname === undefined || owner.ifname === ifname);
}

function at(set: Range[], index: number): Lease | undefined {
  let i = index;
  for (const range of set) {
    const size = range.rangeEnd - range.rangeStart + 1;
    if (i < size) return { ip: range.rangeStart + i, range };
    i -= size;
  }
  return undefined;
}

function indexOf(set: Range[], ip: number): number {
  let base = 0;
  for (const range of set) {
    if (ip >= range.rangeStart && ip <= range.rangeEnd) return base + ip - range.rangeStart;
    base += range.rangeEnd - range.rangeStart + 1;
  }
  return -1;
}

/**
 * The next free address of a range set, round-robin after the last one reserved (so a freed
 * address is not handed out again at once), never the gateway.
 */
export function pickAddress(
  set: Range[],
  used: ReadonlySet<number>,
  lastReserved: number | undefined,
): Lease | undefined {
  const total = set.reduce((n, r) => n + r.rangeEnd - r.rangeStart + 1, 0);
  const after = lastReserved === undefined ? -1 : indexOf(set, lastReserved);
  for (let i = 1; i <= total; i++) {
    const c = at(set, (after + i) % total);
    if (c && c.ip !== c.range.gateway && !used.has(c.ip)) return c;
  }
  return undefined;
}

export function freeCount(set: Range[], used: ReadonlySet<number>): number {
  let free = 0;
  for (const range of set) {
    for (let ip = range.rangeStart; ip <= range.rangeEnd; ip++) {
      if (ip !== range.gateway && !used.has(ip)) free++;
    }
  }
  return free;
}
