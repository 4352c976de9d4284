import { describe, expect, it } from 'vitest';
import { bridgeMac, chainName, randomMac, vethName } from './names.js';

describe('names', () => {
  it('names the host veth stably from container id and ifname, within 15 characters', () => {
    const a = vethName('abc', 'eth0');
    expect(a).toMatch(/^veth[0-9a-f]{8}$/);
    expect(vethName('abc', 'eth0')).toBe(a);
    expect(vethName('abc', 'eth1')).not.toBe(a);
  });

  it('names the NAT chain like the reference plugin: CNI- and 24 hex, 28 in all', () => {
    const c = chainName('klab', 'abc');
    expect(c).toMatch(/^CNI-[0-9a-f]{24}$/);
    expect(chainName('klab', 'abd')).not.toBe(c);
  });

  it('makes unicast, locally administered MACs', () => {
    for (const mac of [randomMac(), bridgeMac('cni0')]) {
      expect(mac).toMatch(/^([0-9a-f]{2}:){5}[0-9a-f]{2}$/);
      expect(parseInt(mac.slice(0, 2), 16) & 0x03).toBe(0x02);
    }
    expect(bridgeMac('cni0')).toBe(bridgeMac('cni0'));
  });
});
