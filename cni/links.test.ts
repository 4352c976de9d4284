import { describe, expect, it } from 'vitest';
import { parseNetConf } from './config.js';
import { parseIp } from './ipv4.js';
import { bridgeCreateLine, containerLines, hostLines, type PodLink } from './links.js';

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

describe('ip batch lines', () => {
  it('renders the host side with every bridge option', () => {
    const l = link({ isGateway: true, hairpinMode: true, mtu: 1400 });
    expect([bridgeCreateLine(l), ...hostLines(l)]).toEqual([
      'link add br9 address 02:00:00:00:00:03 mtu 1400 type bridge',
      'link set br9 up',
      'link add veth01234567 mtu 1400 address 02:00:00:00:00:01 type veth peer name eth0 mtu 1400 address 02:00:00:00:00:02 netns /run/netns/pod',
      'link set veth01234567 master br9',
      'link set veth01234567 type bridge_slave hairpin on',
      'link set veth01234567 up',
      'addr replace 10.244.1.1/24 dev br9',
    ]);
  });

  it('renders a plain L2 port without gateway, and promiscuous bridges', () => {
    expect(hostLines(link({ promiscMode: true }))).toEqual([
      'link set br9 promisc on up',
      'link add veth01234567 address 02:00:00:00:00:01 type veth peer name eth0 address 02:00:00:00:00:02 netns /run/netns/pod',
      'link set veth01234567 master br9',
      'link set veth01234567 up',
    ]);
  });

  it('renders the pod side: addresses, link, routes via the gateway unless given', () => {
    const l = link({});
    expect(
      containerLines('eth0', l.leases, [{ dst: '0.0.0.0/0' }, { dst: '10.96.0.0/12', gw: '10.244.1.254' }]),
    ).toEqual([
      'addr add 10.244.1.5/24 dev eth0',
      'link set eth0 up',
      'route add 0.0.0.0/0 via 10.244.1.1 dev eth0',
      'route add 10.96.0.0/12 via 10.244.1.254 dev eth0',
    ]);
  });
});
