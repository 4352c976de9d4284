import { mkdirSync, readdirSync, readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { IpamConf } from './config.js';
import { CniCode, CniError } from './errors.js';
import { formatIp, parseIp } from './ipv4.js';
import { leaseBody, ownedBy, parseLeaseBody, pickAddress, type Lease, type LeaseOwner } from './ipam.js';
import { createExclusive, pidAlive, unlinkQuiet, withLock } from './lock.js';
import type { Attachment } from './types.js';

/** host-local's on-disk store: <dataDir>/<network>/<ip> per lease, last_reserved_ip.<set>, lock. */
export class LeaseStore {
  readonly dir: string;

  constructor(
    private readonly ipam: IpamConf,
    network: string,
  ) {
    this.dir = join(ipam.dataDir, network);
  }

  private locked<T>(fn: () => T): Promise<T> {
    mkdirSync(this.dir, { recursive: true });
    return withLock(join(this.dir, 'lock'), fn);
  }

  /** Every lease file, by address. */
  private scan(): Map<number, LeaseOwner> {
    const out = new Map<number, LeaseOwner>();
    let names: string[];
    try {
      names = readdirSync(this.dir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return out;
      throw err;
    }
    for (const name of names) {
      const ip = parseIp(name);
      if (ip === undefined) continue;
      try {
        out.set(ip, parseLeaseBody(readFileSync(join(this.dir, name), 'utf8')));
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      }
    }
    return out;
  }

  private lastReserved(set: number): number | undefined {
    try {
      return parseIp(readFileSync(join(this.dir, `last_reserved_ip.${set}`), 'utf8').trim());
    } catch {
      return undefined;
    }
  }

  private writeLastReserved(set: number, ip: number): void {
    const path = join(this.dir, `last_reserved_ip.${set}`);
    writeFileSync(`${path}.${process.pid}.tmp`, formatIp(ip));
    renameSync(`${path}.${process.pid}.tmp`, path);
  }

  /**
   * One address per range set. Each lease file is complete on disk before this returns (and
   * before any interface exists), so a crash can leak a lease but never hand one out twice.
   */
  allocate(containerId: string, ifname: string): Promise<Lease[]> {
    return this.locked(() => {
      const leases = this.scan();
      for (const [ip, owner] of leases) {
        if (ownedBy(owner, containerId, ifname)) {
          throw new CniError(
            CniCode.Internal,
            `duplicate allocation: container ${containerId} interface ${ifname} already holds ${formatIp(ip)}`,
          );
        }
      }
      const used = new Set(leases.keys());
      const taken: Lease[] = [];
      try {
        this.ipam.ranges.forEach((set, index) => {
          for (;;) {
            const lease = pickAddress(set, used, this.lastReserved(index));
            if (!lease) {
              throw new CniError(
                CniCode.Internal,
                `no IP addresses available in range set ${index} (ipam.ranges[${index}])`,
              );
            }
            used.add(lease.ip);
            if (createExclusive(join(this.dir, formatIp(lease.ip)), leaseBody(containerId, ifname))) {
              taken.push(lease);
              this.writeLastReserved(index, lease.ip);
              return;
            }
          }
        });
      } catch (err) {
        for (const lease of taken) unlinkSync(join(this.dir, formatIp(lease.ip)));
        throw err;
      }
      return taken;
    });
  }

  private releaseWhere(match: (owner: LeaseOwner) => boolean): number[] {
    const released: number[] = [];
    for (const [ip, owner] of this.scan()) {
      if (!match(owner)) continue;
      unlinkQuiet(join(this.dir, formatIp(ip)));
      released.push(ip);
    }
    return released;
  }

  /** Idempotent: releasing what is not held succeeds with nothing released. */
  release(containerId: string, ifname: string): Promise<number[]> {
    return this.locked(() => this.releaseWhere((o) => ownedBy(o, containerId, ifname)));
  }

  /** Releases every lease whose attachment is not valid, and temp files of dead writers. */
  gc(valid: Attachment[]): Promise<number[]> {
    return this.locked(() => {
      for (const name of readdirSync(this.dir)) {
        const m = /\.(\d+)\.tmp$/.exec(name);
        if (m && !pidAlive(Number(m[1]))) unlinkQuiet(join(this.dir, name));
      }
      return this.releaseWhere((o) => !valid.some((a) => ownedBy(o, a.containerID, a.ifname)));
    });
  }

  held(containerId: string, ifname: string): number[] {
    return [...this.scan()].filter(([, o]) => ownedBy(o, containerId, ifname)).map(([ip]) => ip);
  }

  used(): Set<number> {
    return new Set(this.scan().keys());
  }
}
