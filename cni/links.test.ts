import { describe, expect, it } from 'vitest';
import { parseNetConf } from './config.js';
import { parseIp } from './ipv4.js';
import { bridgeCreate, containerRequests, hostRequests, type PodLink } from './links.js';

function link(patch: Record<string, unknown>): PodLink {
  const conf = parseNetConf({
    cniVersion: '1.1.0',
    name: 'klab',
    type: 'klab-bridge',
    bridge: 'br9',
    ipam: { type: 'host-local', ranges: [[{ subnet: '10.244.1.0/24' }]], routes: [{ dst: '10.96.0.0/12' }] },
    ...patch,
  });
  const range = conf.ipam.ranges[0]?.[0];
  if (!range) throw new Error('no range');
  return {
    conf,
    ifname: 'eth0',
    netns: '/run/netns/pod',
    hostVeth: 'veth01234567',
    hostMac: '02:00:00:00:00:01',
    containerMac: '02:00:00:00:00:02',
    bridgeMac: '02:00:00:00:00:03',
    leases: [{ ip: parseIp('10.244.1.5') ?? 0, range }],
  };
}

describe('the requests of an ADD', () => {
  it('sets up the host side with every bridge option', () => {
    const l = link({ isGateway: true, hairpinMode: true, mtu: 1400 });
    expect(bridgeCreate(l).what).toBe('creating bridge br9');
    expect(bridgeCreate(l).body.includes(Buffer.from('bridge\0'))).toBe(true);
    const reqs = hostRequests(l, 4, 100);
    expect(reqs.map((r) => r.what)).toEqual([
      'setting flags of br9',
      'creating veth veth01234567 with peer eth0',
      'attaching veth01234567 to its bridge',
      'setting hairpin mode on veth01234567',
      'setting flags of veth01234567',
      'adding 10.244.1.1/24 to interface 4',
    ]);
    // The bridge up, without touching promiscuity.
    expect([reqs[0]?.body.readUInt32LE(8), reqs[0]?.body.readUInt32LE(12)]).toEqual([1, 1]);
  });

  it('sets up a plain L2 port without gateway, and promiscuous bridges', () => {
    const reqs = hostRequests(link({ promiscMode: true }), 4, 100);
    expect(reqs.map((r) => r.what)).toEqual([
      'setting flags of br9',
      'creating veth veth01234567 with peer eth0',
      'attaching veth01234567 to its bridge',
      'setting flags of veth01234567',
    ]);
    expect([reqs[0]?.body.readUInt32LE(8), reqs[0]?.body.readUInt32LE(12)]).toEqual([0x101, 0x101]);
  });

  it('configures the pod side: addresses, link, routes via the gateway unless given', () => {
    const l = link({});
    const reqs = containerRequests('eth0', 2, l.leases, [
      { dst: '0.0.0.0/0' },
      { dst: '10.96.0.0/12', gw: '10.244.1.254' },
    ]);
    expect(reqs.map((r) => r.what)).toEqual([
      'adding 10.244.1.5/24 to interface 2',
      'setting flags of eth0',
      'adding route to 0.0.0.0/0',
      'adding route to 10.96.0.0/12',
    ]);
    expect([...(reqs[2]?.body.subarray(-12, -8) ?? [])]).toEqual([10, 244, 1, 1]);
    expect([...(reqs[3]?.body.subarray(-12, -8) ?? [])]).toEqual([10, 244, 1, 254]);
  });

  it('refuses a route that is not IPv4', () => {
    expect(() => containerRequests('eth0', 2, link({}).leases, [{ dst: 'fd00::/64' }])).toThrow(
      'route dst fd00::/64 is not an IPv4 address or CIDR',
    );
  });
});
