import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import {
  parseResolvConf,
  podResolvConfig,
  renderResolvConf,
  withResolvConf,
  type NodeDns,
} from './resolv.js';

const node: NodeDns = {
  clusterDNS: ['10.96.0.10'],
  clusterDomain: 'cluster.local',
  host: parseResolvConf(
    '# the LAN resolver\nnameserver 192.168.56.2\nsearch lab.example\noptions timeout:2 attempts:3\n',
  ),
};
const render = (pod: Parameters<typeof podResolvConfig>[0], n: NodeDns = node) =>
  renderResolvConf(podResolvConfig(pod, n));

describe('parseResolvConf', () => {
  it('collects nameservers and keeps the last search and options lines', () => {
    expect(
      parseResolvConf('nameserver 1.1.1.1\nsearch a b\nnameserver 2.2.2.2 ; x\nsearch c\noptions ndots:2\n'),
    ).toEqual({ nameservers: ['1.1.1.1', '2.2.2.2'], searches: ['c'], options: ['ndots:2'] });
    expect(parseResolvConf('')).toEqual({ nameservers: [], searches: [], options: [] });
  });
});

describe('podResolvConfig', () => {
  it('ClusterFirst (also the default): cluster DNS, the namespace search path then the node’s, ndots:5', () => {
    const want =
      'search shop.svc.cluster.local svc.cluster.local cluster.local lab.example\n' +
      'nameserver 10.96.0.10\noptions ndots:5\n';
    expect(render({ namespace: 'shop', dnsPolicy: 'ClusterFirst' })).toBe(want);
    expect(render({ namespace: 'shop' })).toBe(want);
  });

  it('Default: the node’s resolv.conf as it is', () => {
    expect(render({ namespace: 'kube-system', dnsPolicy: 'Default' })).toBe(
      'search lab.example\nnameserver 192.168.56.2\noptions timeout:2 attempts:3\n',
    );
  });

  it('ClusterFirst on a hostNetwork pod falls back to Default; ClusterFirstWithHostNet keeps cluster DNS', () => {
    expect(render({ namespace: 'a', hostNetwork: true })).toBe(
      render({ namespace: 'a', dnsPolicy: 'Default' }),
    );
    expect(render({ namespace: 'a', hostNetwork: true, dnsPolicy: 'ClusterFirstWithHostNet' })).toBe(
      render({ namespace: 'a' }),
    );
  });

  it('a cluster policy without --cluster-dns falls back to the node’s resolver', () => {
    expect(render({ namespace: 'a' }, { ...node, clusterDNS: [] })).toBe(
      render({ namespace: 'a', dnsPolicy: 'Default' }),
    );
  });

  it('None: only dnsConfig', () => {
    expect(
      render({
        namespace: 'a',
        dnsPolicy: 'None',
        dnsConfig: {
          nameservers: ['192.0.2.1'],
          searches: ['ns1.svc.cluster-domain.example', 'my.dns.search.suffix'],
          options: [{ name: 'ndots', value: '2' }, { name: 'edns0' }],
        },
      }),
    ).toBe(
      'search ns1.svc.cluster-domain.example my.dns.search.suffix\nnameserver 192.0.2.1\noptions ndots:2 edns0\n',
    );
    expect(render({ namespace: 'a', dnsPolicy: 'None' })).toBe('');
  });

  it('merges dnsConfig into every policy: duplicates dropped, options replaced by name', () => {
    expect(
      podResolvConfig(
        {
          namespace: 'a',
          dnsConfig: {
            nameservers: ['10.96.0.10', '192.0.2.1'],
            searches: ['svc.cluster.local', 'extra.example'],
            options: [{ name: 'ndots', value: '1' }, { name: 'single-request-reopen' }],
          },
        },
        node,
      ),
    ).toEqual({
      nameservers: ['10.96.0.10', '192.0.2.1'],
      searches: ['a.svc.cluster.local', 'svc.cluster.local', 'cluster.local', 'lab.example', 'extra.example'],
      options: ['ndots:1', 'single-request-reopen'],
    });
  });

  it('keeps at most 3 nameservers and the search list within 32 entries and 2048 characters', () => {
    const many = podResolvConfig(
      {
        namespace: 'a',
        dnsPolicy: 'None',
        dnsConfig: {
          nameservers: ['192.0.2.1', '192.0.2.2', '192.0.2.3', '192.0.2.4'],
          searches: ['x'.repeat(254), ...Array.from({ length: 40 }, (_, i) => `d${i}.example`)],
        },
      },
      node,
    );
    expect(many.nameservers).toEqual(['192.0.2.1', '192.0.2.2', '192.0.2.3']);
    expect(many.searches).toHaveLength(32);
    expect(many.searches[0]).toBe('d0.example');
    const long = podResolvConfig(
      {
        namespace: 'a',
        dnsPolicy: 'None',
        dnsConfig: { searches: Array.from({ length: 10 }, (_, i) => `${i}`.padEnd(250, 'y')) },
      },
      node,
    );
    expect(long.searches).toHaveLength(8);
    expect(long.searches.join(' ').length).toBeLessThanOrEqual(2048);
  });

  it('names an unknown dnsPolicy', () => {
    expect(() => podResolvConfig({ namespace: 'a', dnsPolicy: 'Cluster' }, node)).toThrow(
      /dnsPolicy "Cluster" is not one of ClusterFirst/,
    );
  });
});

describe('withResolvConf', () => {
  it('shows the pod’s resolv.conf to a hostNetwork container and leaves the machine’s alone', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'klab-resolv-'));
    try {
      const file = join(dir, 'resolv.conf');
      await writeFile(file, 'nameserver 10.96.0.10\n');
      const [cmd, ...args] = withResolvConf(file, ['cat', '/etc/resolv.conf']);
      const inside = await execa(cmd as string, args);
      expect(inside.stdout).toBe('nameserver 10.96.0.10');
      const outside = await execa('cat', ['/etc/resolv.conf']);
      expect(outside.stdout).not.toBe('nameserver 10.96.0.10');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
