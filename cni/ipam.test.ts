import { describe, expect, it } from 'vitest';
import { parseNetConf, type Range } from './config.js';
import { formatIp, parseIp } from './ipv4.js';
import { freeCount, leaseBody, ownedBy, parseLeaseBody, pickAddress } from './ipam.js';

function rangeSet(...ranges: Record<string, string>[]): Range[] {
  const c = parseNetConf({
    cniVersion: '1.1.0',
    name: 'n',
    type: 't',
    ipam: { type: 'host-local', ranges: [ranges] },
  });
  return c.ipam.ranges[0] ?? [];
}

const ip = (s: string): number => parseIp(s) ?? -1;

describe('pickAddress', () => {
  const set = rangeSet({ subnet: '10.0.0.0/29' });

  it('starts at the first usable address after the gateway', () => {
    expect(formatIp(pickAddress(set, new Set(), undefined)?.ip ?? 0)).toBe('10.0.0.2');
  });

  it('goes round-robin after the last reserved address and wraps, skipping the gateway and used ones', () => {
    expect(formatIp(pickAddress(set, new Set(), ip('10.0.0.3'))?.ip ?? 0)).toBe('10.0.0.4');
    expect(formatIp(pickAddress(set, new Set([ip('10.0.0.2')]), ip('10.0.0.6'))?.ip ?? 0)).toBe('10.0.0.3');
  });

  it('is undefined when the set is exhausted', () => {
    const used = new Set(['10.0.0.2', '10.0.0.3', '10.0.0.4', '10.0.0.5', '10.0.0.6'].map(ip));
    expect(pickAddress(set, used, undefined)).toBeUndefined();
    expect(freeCount(set, used)).toBe(0);
  });

  it('walks several ranges of one set in order', () => {
    const two = rangeSet(
      { subnet: '10.1.0.0/24', rangeStart: '10.1.0.10', rangeEnd: '10.1.0.11' },
      { subnet: '10.2.0.0/24', rangeStart: '10.2.0.20', rangeEnd: '10.2.0.20' },
    );
    const picks: string[] = [];
    let last: number | undefined;
    const used = new Set<number>();
    for (let i = 0; i < 3; i++) {
      const l = pickAddress(two, used, last);
      if (!l) break;
      used.add(l.ip);
      last = l.ip;
      picks.push(`${formatIp(l.ip)} gw ${formatIp(l.range.gateway)}`);
    }
    expect(picks).toEqual(['10.1.0.10 gw 10.1.0.1', '10.1.0.11 gw 10.1.0.1', '10.2.0.20 gw 10.2.0.1']);
    expect(pickAddress(two, used, last)).toBeUndefined();
  });
});

describe('lease bodies', () => {
  it('round-trip the host-local format and match the legacy id-only form', () => {
    expect(leaseBody('abc', 'eth0')).toBe('abc\r\neth0');
    const owner = parseLeaseBody(leaseBody('abc', 'eth0'));
    expect(ownedBy(owner, 'abc', 'eth0')).toBe(true);
    expect(ownedBy(owner, 'abc', 'eth1')).toBe(false);
    expect(ownedBy(parseLeaseBody('abc\n'), 'abc', 'net1')).toBe(true);
  });
});
