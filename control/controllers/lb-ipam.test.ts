import { describe, expect, it } from 'vitest';
import { type AddressPool, assignAddress, poolRanges, stillValid } from './lb-ipam.js';

const pool = (name: string, addresses: string[], extra: Partial<AddressPool['spec']> = {}): AddressPool => ({
  metadata: { name, namespace: 'metallb-system' },
  spec: { addresses, ...extra },
});
const svc = (annotations: Record<string, string> = {}, loadBalancerIP?: string) => ({
  metadata: { name: 'web', namespace: 'default', annotations },
  spec: { type: 'LoadBalancer', loadBalancerIP },
});

describe('assignAddress', () => {
  const pools = [
    pool('default', ['192.168.56.200-192.168.56.202']),
    pool('manual', ['192.168.57.0/30'], { autoAssign: false }),
  ];

  it('hands out the first free address of auto-assign pools', () => {
    expect(assignAddress(svc(), pools, new Set())).toEqual({ ip: '192.168.56.200', pool: 'default' });
    expect(assignAddress(svc(), pools, new Set(['192.168.56.200']))).toEqual({
      ip: '192.168.56.201',
      pool: 'default',
    });
  });

  it('honours the requested address and the pool annotation', () => {
    expect(assignAddress(svc({}, '192.168.56.202'), pools, new Set())).toEqual({
      ip: '192.168.56.202',
      pool: 'default',
    });
    expect(
      assignAddress(svc({ 'metallb.universe.tf/loadBalancerIPs': '192.168.57.1' }), pools, new Set()),
    ).toEqual({
      ip: '192.168.57.1',
      pool: 'manual',
    });
    expect(assignAddress(svc({ 'metallb.universe.tf/address-pool': 'manual' }), pools, new Set())).toEqual({
      ip: '192.168.57.0',
      pool: 'manual',
    });
    expect(assignAddress(svc({}, '10.0.0.1'), pools, new Set())).toEqual({
      error: 'Failed to allocate IP for "default/web": ["10.0.0.1"] is not allowed in config',
    });
  });

  it('reports exhaustion, skips buggy addresses on request, rejects bad pools', () => {
    const full = new Set(['192.168.56.200', '192.168.56.201', '192.168.56.202']);
    expect(assignAddress(svc(), pools, full)).toEqual({
      error: 'Failed to allocate IP for "default/web": no available IPs',
    });
    expect(assignAddress(svc(), [pool('p', ['10.1.0.0/23'], { avoidBuggyIPs: true })], new Set())).toEqual({
      ip: '10.1.0.1',
      pool: 'p',
    });
    expect(() => poolRanges(pool('bad', ['192.168.56.9-192.168.56.1']))).toThrow(
      'IPAddressPool bad: invalid range',
    );
  });

  it('tells whether a held address is still allowed', () => {
    expect(stillValid(svc(), '192.168.56.201', pools)).toBe(true);
    expect(stillValid(svc(), '192.168.56.201', [])).toBe(false);
    expect(stillValid(svc({}, '192.168.56.202'), '192.168.56.201', pools)).toBe(false);
  });
});
