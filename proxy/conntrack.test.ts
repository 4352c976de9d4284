import { describe, expect, it } from 'vitest';
import { staleConntrackEntries } from './conntrack.js';
import { buildModel } from './model.js';
import type { ProxyModel } from './model.js';
import type { EndpointSliceObject, ServiceObject } from './objects.js';

const node = { name: 'n1', ips: ['192.168.56.11'], masqueradeAll: false, localhostNodePorts: true };

function model(ips: string[], protocol = 'UDP', withService = true): ProxyModel {
  const services: ServiceObject[] = withService
    ? [
        {
          metadata: { namespace: 'kube-system', name: 'dns' },
          spec: {
            type: 'NodePort',
            clusterIP: '10.96.0.10',
            externalIPs: ['192.168.56.50'],
            ports: [{ name: 'dns', port: 53, protocol, nodePort: 30053 }],
          },
        },
      ]
    : [];
  const slices: EndpointSliceObject[] = [
    {
      metadata: { namespace: 'kube-system', name: 'dns-1', labels: { 'kubernetes.io/service-name': 'dns' } },
      addressType: 'IPv4',
      endpoints: ips.map((ip) => ({ addresses: [ip] })),
      ports: [{ name: 'dns', port: 53, protocol }],
    },
  ];
  return buildModel({ services, endpointSlices: slices }, node);
}

describe('staleConntrackEntries', () => {
  it('deletes entries DNATed to a UDP endpoint that went away', () => {
    expect(staleConntrackEntries(model(['10.244.0.5', '10.244.1.5']), model(['10.244.1.5']))).toEqual([
      ['-D', '-p', 'udp', '--orig-dst', '10.96.0.10', '--dst-nat', '10.244.0.5'],
      ['-D', '-p', 'udp', '--orig-dst', '192.168.56.50', '--dst-nat', '10.244.0.5'],
      ['-D', '-p', 'udp', '--dport', '30053', '--dst-nat', '10.244.0.5'],
    ]);
  });

  it('flushes the service IPs when a UDP service gets its first endpoint', () => {
    expect(staleConntrackEntries(model([]), model(['10.244.0.5']))).toEqual([
      ['-D', '-p', 'udp', '--orig-dst', '10.96.0.10'],
      ['-D', '-p', 'udp', '--orig-dst', '192.168.56.50'],
      ['-D', '-p', 'udp', '--dport', '30053'],
    ]);
  });

  it('clears a deleted UDP service, and leaves TCP and unchanged services alone', () => {
    expect(staleConntrackEntries(model(['10.244.0.5']), model(['10.244.0.5'], 'UDP', false))).toEqual([
      ['-D', '-p', 'udp', '--orig-dst', '10.96.0.10'],
    ]);
    expect(staleConntrackEntries(model(['10.244.0.5'], 'TCP'), model([], 'TCP'))).toEqual([]);
    expect(staleConntrackEntries(model(['10.244.0.5']), model(['10.244.0.5']))).toEqual([]);
    expect(staleConntrackEntries(undefined, model(['10.244.0.5']))).toEqual([]);
  });
});
