/**
 * Allocators for Service ClusterIPs and NodePorts, pure and deterministic given a random source.
 * As in kube-apiserver (KEP-3070 for IPs, KEP-3668 for ports) dynamic allocation prefers the
 * upper part of the range, leaving the lower band for addresses and ports users request.
 */

export class AllocationError extends Error {
  readonly code = 'ALLOCATION_FAILED';
  constructor(
    readonly kind: 'NotInRange' | 'Taken' | 'Exhausted' | 'Invalid',
    message: string,
  ) {
    super(message);
    this.name = 'AllocationError';
  }
}

export type Random = () => number;

/** A set of integers [first, last] with a lower band kept for requests. */
class RangeAllocator {
  private readonly used = new Set<number>();
  private readonly band: number;

  constructor(
    readonly first: number,
    readonly last: number,
    bandLimit: { min: number; div: number; max: number },
    private readonly random: Random,
  ) {
    const size = last - first + 1;
    this.band = Math.min(Math.max(bandLimit.min, Math.floor(size / bandLimit.div)), bandLimit.max, size);
  }

  get size(): number {
    return this.last - this.first + 1;
  }

  get free(): number {
    return this.size - this.used.size;
  }

  has(n: number): boolean {
    return this.used.has(n);
  }

  inRange(n: number): boolean {
    return n >= this.first && n <= this.last;
  }

  take(n: number): void {
    this.used.add(n);
  }

  release(n: number): void {
    this.used.delete(n);
  }

  /** A free value: random in the upper part, then the lower band, scanning from a random start. */
  next(): number | undefined {
    const upperFirst = this.first + this.band;
    for (const [lo, hi] of [
      [upperFirst, this.last],
      [this.first, upperFirst - 1],
    ] as const) {
      const span = hi - lo + 1;
      if (span <= 0) continue;
      const start = Math.floor(this.random() * span);
      for (let i = 0; i < span; i++) {
        const n = lo + ((start + i) % span);
        if (!this.used.has(n)) return n;
      }
    }
    return undefined;
  }
}

export function parseIPv4(ip: string): number | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(ip);
  if (!m) return undefined;
  const parts = m.slice(1).map(Number);
  if (parts.some((p) => p > 255)) return undefined;
  return (((parts[0]! << 24) >>> 0) + (parts[1]! << 16) + (parts[2]! << 8) + parts[3]!) >>> 0;
}

export const formatIPv4 = (n: number): string =>
  [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');

export function parseCidr(cidr: string): { base: number; bits: number } {
  const [ip, bitsText] = cidr.split('/');
  const base = ip === undefined ? undefined : parseIPv4(ip);
  const bits = Number(bitsText);
  if (base === undefined || !Number.isInteger(bits) || bits < 0 || bits > 32) {
    throw new AllocationError('Invalid', `invalid IPv4 CIDR "${cidr}"`);
  }
  const mask = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
  return { base: (base & mask) >>> 0, bits };
}

/** ClusterIPs from a service CIDR; the network and broadcast addresses are never handed out. */
export class ServiceIpAllocator {
  private readonly range: RangeAllocator;

  constructor(
    readonly cidr: string,
    random: Random = Math.random,
  ) {
    const { base, bits } = parseCidr(cidr);
    if (bits > 30) throw new AllocationError('Invalid', `service CIDR ${cidr} is too small`);
    const last = base + 2 ** (32 - bits) - 2;
    this.range = new RangeAllocator(base + 1, last, { min: 16, div: 16, max: 256 }, random);
  }

  get free(): number {
    return this.range.free;
  }

  has(ip: string): boolean {
    const n = parseIPv4(ip);
    return n !== undefined && this.range.has(n);
  }

  /** Records an address already in use (repair on start); addresses outside the range are ignored. */
  restore(ip: string): void {
    const n = parseIPv4(ip);
    if (n !== undefined && this.range.inRange(n)) this.range.take(n);
  }

  allocate(requested?: string): string {
    if (requested !== undefined) {
      const n = parseIPv4(requested);
      if (n === undefined) throw new AllocationError('Invalid', `${requested} is not a valid IPv4 address`);
      if (!this.range.inRange(n)) {
        throw new AllocationError(
          'NotInRange',
          `failed to allocate IP ${requested}: the provided IP (${requested}) is not in the valid range. The range of valid IPs is ${this.cidr}`,
        );
      }
      if (this.range.has(n)) {
        throw new AllocationError(
          'Taken',
          `failed to allocate IP ${requested}: provided IP is already allocated`,
        );
      }
      this.range.take(n);
      return requested;
    }
    const n = this.range.next();
    if (n === undefined) {
      throw new AllocationError('Exhausted', `failed to allocate a serviceIP: range is full (${this.cidr})`);
    }
    this.range.take(n);
    return formatIPv4(n);
  }

  release(ip: string): void {
    const n = parseIPv4(ip);
    if (n !== undefined) this.range.release(n);
  }
}

/** NodePorts from a port range such as 30000-32767. */
export class NodePortAllocator {
  private readonly range: RangeAllocator;

  constructor(
    readonly portRange: string,
    random: Random = Math.random,
  ) {
    const m = /^(\d+)-(\d+)$/.exec(portRange);
    const first = Number(m?.[1]);
    const last = Number(m?.[2]);
    if (!m || first < 1 || last > 65535 || first > last) {
      throw new AllocationError(
        'Invalid',
        `invalid node port range "${portRange}" (expected e.g. 30000-32767)`,
      );
    }
    this.range = new RangeAllocator(first, last, { min: 16, div: 32, max: 128 }, random);
  }

  get free(): number {
    return this.range.free;
  }

  has(port: number): boolean {
    return this.range.has(port);
  }

  restore(port: number): void {
    if (this.range.inRange(port)) this.range.take(port);
  }

  allocate(requested?: number): number {
    if (requested !== undefined) {
      if (!this.range.inRange(requested)) {
        throw new AllocationError(
          'NotInRange',
          `provided port is not in the valid range. The range of valid ports is ${this.portRange}`,
        );
      }
      if (this.range.has(requested)) throw new AllocationError('Taken', 'provided port is already allocated');
      this.range.take(requested);
      return requested;
    }
    const n = this.range.next();
    if (n === undefined) throw new AllocationError('Exhausted', `range is full (${this.portRange})`);
    this.range.take(n);
    return n;
  }

  release(port: number): void {
    this.range.release(port);
  }
}

/** Node pod CIDRs: consecutive /N subnets of the cluster CIDR, the first free one each time. */
export class PodCidrAllocator {
  private readonly used = new Set<number>();
  private readonly base: number;
  private readonly count: number;
  private readonly step: number;

  constructor(
    readonly clusterCidr: string,
    readonly nodeMaskBits = 24,
  ) {
    const { base, bits } = parseCidr(clusterCidr);
    if (nodeMaskBits < bits || nodeMaskBits > 30) {
      throw new AllocationError(
        'Invalid',
        `node mask /${nodeMaskBits} does not fit in cluster CIDR ${clusterCidr}`,
      );
    }
    this.base = base;
    this.count = 2 ** (nodeMaskBits - bits);
    this.step = 2 ** (32 - nodeMaskBits);
  }

  private indexOf(cidr: string): number | undefined {
    const { base, bits } = parseCidr(cidr);
    const index = (base - this.base) / this.step;
    if (bits !== this.nodeMaskBits || !Number.isInteger(index) || index < 0 || index >= this.count)
      return undefined;
    return index;
  }

  restore(cidr: string): void {
    const i = this.indexOf(cidr);
    if (i !== undefined) this.used.add(i);
  }

  allocate(): string {
    for (let i = 0; i < this.count; i++) {
      if (!this.used.has(i)) {
        this.used.add(i);
        return `${formatIPv4(this.base + i * this.step)}/${this.nodeMaskBits}`;
      }
    }
    throw new AllocationError(
      'Exhausted',
      `no free /${this.nodeMaskBits} left in cluster CIDR ${this.clusterCidr}`,
    );
  }

  release(cidr: string): void {
    const i = this.indexOf(cidr);
    if (i !== undefined) this.used.delete(i);
  }
}
