import { describe, expect, it } from 'vitest';
import { parseNetConf } from './config.js';
import { parseIp } from './ipv4.js';
import { buildResult } from './result.js';

function conf(version: string, patch: Record<string, unknown> = {}) {
  return parseNetConf({
    cniVersion: version,
    name: 'klab',
    type: 'klab-bridge',
    isDefaultGateway: true,
    dns: { nameservers: ['10.96.0.10'], search: ['svc.cluster.local'] },
    ipam: { type: 'host-local', ranges: [[{ subnet: '10.244.1.0/24' }]], routes: [{ dst: '10.96.0.0/12' }] },
    ...patch,
  });
}

const attached = {
  bridge: { name: 'cni0', mac: '02:00:00:00:00:03' },
  hostVeth: { name: 'veth01234567', mac: '02:00:00:00:00:01', mtu: 1500 },
  container: { name: 'eth0', mac: '02:00:00:00:00:02', mtu: 1500, sandbox: '/run/netns/pod' },
};

function leases(c: ReturnType<typeof conf>) {
  const range = c.ipam.ranges[0]?.[0];
  if (!range) throw new Error('no range');
  return [{ ip: parseIp('10.244.1.5') ?? 0, range }];
}

describe('buildResult', () => {
  it('builds the 1.1.0 result: bridge, host veth, container; ips point at the container', () => {
    const c = conf('1.1.0');
    expect(buildResult(c, attached, leases(c))).toEqual({
      cniVersion: '1.1.0',
      interfaces: [attached.bridge, attached.hostVeth, attached.container],
      ips: [{ address: '10.244.1.5/24', gateway: '10.244.1.1', interface: 2 }],
      routes: [{ dst: '10.96.0.0/12' }, { dst: '0.0.0.0/0', gw: '10.244.1.1' }],
      dns: { nameservers: ['10.96.0.10'], search: ['svc.cluster.local'] },
    });
  });

  it('leaves 1.1-only interface fields out of a 1.0.0 result', () => {
    const c = conf('1.0.0');
    const r = buildResult(c, attached, leases(c));
    expect(r.cniVersion).toBe('1.0.0');
    expect(r.interfaces?.[1]).toEqual({ name: 'veth01234567', mac: '02:00:00:00:00:01' });
    expect(r.interfaces?.[2]).toEqual({ name: 'eth0', mac: '02:00:00:00:00:02', sandbox: '/run/netns/pod' });
  });

  it('passes a chained prevResult through ahead of its own entries', () => {
    const prevResult = {
      cniVersion: '1.1.0',
      interfaces: [{ name: 'dummy0' }],
      ips: [{ address: '192.0.2.5/24', interface: 0 }],
      routes: [{ dst: '192.0.2.0/24' }],
    };
    const c = conf('1.1.0', { prevResult, isDefaultGateway: false, dns: undefined });
    const r = buildResult(c, attached, leases(c));
    expect(r.interfaces?.map((i) => i.name)).toEqual(['dummy0', 'cni0', 'veth01234567', 'eth0']);
    expect(r.ips).toEqual([
      { address: '192.0.2.5/24', interface: 0 },
      { address: '10.244.1.5/24', gateway: '10.244.1.1', interface: 3 },
    ]);
    expect(r.routes).toEqual([{ dst: '192.0.2.0/24' }, { dst: '10.96.0.0/12' }]);
    expect(r.dns).toBeUndefined();
  });
});
