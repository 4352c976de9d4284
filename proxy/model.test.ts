import { describe, expect, it } from 'vitest';
import { buildModel, normalizeCIDR } from './model.js';
import type { NodeFacts } from './model.js';
import type { EndpointSliceObject, ServiceObject } from './objects.js';

const node: NodeFacts = {
  name: 'node-1',
  ips: ['192.168.56.11'],
  masqueradeAll: false,
  localhostNodePorts: true,
};

function svc(spec: Partial<ServiceObject['spec']> = {}, annotations?: Record<string, string>): ServiceObject {
  return {
    metadata: { namespace: 'ns', name: 's', annotations },
    spec: { clusterIP: '10.96.0.9', ports: [{ name: 'p', port: 80, protocol: 'TCP' }], ...spec },
  };
}

type Ep = NonNullable<EndpointSliceObject['endpoints']>[number];
function slice(endpoints: Ep[]): EndpointSliceObject {
  return {
    metadata: { namespace: 'ns', name: 's-1', labels: { 'kubernetes.io/service-name': 's' } },
    addressType: 'IPv4',
    endpoints,
    ports: [{ name: 'p', port: 8080, protocol: 'TCP' }],
  };
}

function port(service: ServiceObject, endpoints: Ep[], n: NodeFacts = node) {
  const m = buildModel({ services: [service], endpointSlices: [slice(endpoints)] }, n);
  const sp = m.ports[0];
  if (!sp) throw new Error('no service port');
  const ips = (l: { ip: string }[]) => l.map((e) => e.ip);
  return {
    sp,
    cluster: ips(sp.clusterEndpoints),
    local: ips(sp.localEndpoints),
    reachable: ips(sp.reachableEndpoints),
  };
}

describe('buildModel', () => {
  it('sorts endpoints by "ip:port" string and dedups across slices, preferring local', () => {
    const s = svc();
    const m = buildModel(
      {
        services: [s],
        endpointSlices: [
          slice([{ addresses: ['10.244.0.2'] }, { addresses: ['10.244.0.10'] }]),
          {
            ...slice([{ addresses: ['10.244.0.2'], nodeName: 'node-1' }]),
            metadata: { ...slice([]).metadata, name: 's-2' },
          },
        ],
      },
      node,
    );
    expect(m.ports[0]?.endpoints.map((e) => [e.ip, e.local])).toEqual([
      ['10.244.0.10', false],
      ['10.244.0.2', true],
    ]);
    expect(m.totalEndpoints).toBe(2);
  });

  it('skips headless and ExternalName services and non-IPv4 slices', () => {
    const m = buildModel(
      {
        services: [svc({ clusterIP: 'None' }), { ...svc({ type: 'ExternalName', clusterIP: undefined }) }],
        endpointSlices: [{ ...slice([{ addresses: ['fd00::1'] }]), addressType: 'IPv6' }],
      },
      node,
    );
    expect(m.ports).toEqual([]);
  });

  it('falls back to serving terminating endpoints only when none is ready', () => {
    const terminating = { ready: false, serving: true, terminating: true };
    expect(
      port(svc(), [{ addresses: ['10.0.0.1'], conditions: terminating }, { addresses: ['10.0.0.2'] }])
        .cluster,
    ).toEqual(['10.0.0.2']);
    const only = port(svc(), [{ addresses: ['10.0.0.1'], conditions: terminating }]);
    expect(only.cluster).toEqual(['10.0.0.1']);
    expect(only.sp.hasEndpoints).toBe(true);
    const notServing = port(svc(), [
      { addresses: ['10.0.0.1'], conditions: { ...terminating, serving: false } },
    ]);
    expect(notServing.sp.hasEndpoints).toBe(false);
  });

  it('internalTrafficPolicy Local uses only this node’s endpoints', () => {
    const r = port(svc({ internalTrafficPolicy: 'Local' }), [
      { addresses: ['10.0.0.1'], nodeName: 'node-1' },
      { addresses: ['10.0.0.2'], nodeName: 'node-2' },
    ]);
    expect(r.cluster).toEqual([]);
    expect(r.local).toEqual(['10.0.0.1']);
    expect(r.reachable).toEqual(['10.0.0.1']);
  });

  it('externalTrafficPolicy Local only counts for externally accessible services', () => {
    const eps: Ep[] = [{ addresses: ['10.0.0.1'], nodeName: 'node-1' }];
    expect(port(svc({ externalTrafficPolicy: 'Local' }), eps).sp.externalPolicyLocal).toBe(false);
    const np = port(
      svc({
        type: 'NodePort',
        externalTrafficPolicy: 'Local',
        ports: [{ name: 'p', port: 80, protocol: 'TCP', nodePort: 30000 }],
      }),
      eps,
    );
    expect(np.sp.externalPolicyLocal).toBe(true);
    expect(np.local).toEqual(['10.0.0.1']);
  });

  it('applies topology hints for the node zone, and ignores them when an endpoint lacks hints', () => {
    const zoned = { ...node, labels: { 'topology.kubernetes.io/zone': 'a' } };
    const hinted: Ep[] = [
      { addresses: ['10.0.0.1'], hints: { forZones: [{ name: 'a' }] } },
      { addresses: ['10.0.0.2'], hints: { forZones: [{ name: 'b' }] } },
    ];
    expect(port(svc({ trafficDistribution: 'PreferClose' }), hinted, zoned).cluster).toEqual(['10.0.0.1']);
    expect(port(svc({}, { 'service.kubernetes.io/topology-mode': 'Auto' }), hinted, zoned).cluster).toEqual([
      '10.0.0.1',
    ]);
    expect(port(svc(), hinted, zoned).cluster).toEqual(['10.0.0.1', '10.0.0.2']);
    const partial: Ep[] = [hinted[0] as Ep, { addresses: ['10.0.0.3'] }];
    expect(port(svc({ trafficDistribution: 'PreferClose' }), partial, zoned).cluster).toEqual([
      '10.0.0.1',
      '10.0.0.3',
    ]);
  });

  it('reads LB ingress IPs (not ipMode Proxy), source ranges and the affinity default', () => {
    const r = port(
      {
        ...svc({
          type: 'LoadBalancer',
          sessionAffinity: 'ClientIP',
          loadBalancerSourceRanges: [' 10.1.2.3/8', 'bogus'],
        }),
        status: {
          loadBalancer: {
            ingress: [
              { ip: '192.168.56.200' },
              { ip: '192.168.56.201', ipMode: 'Proxy' },
              { hostname: 'lb' },
            ],
          },
        },
      },
      [],
    );
    expect(r.sp.loadBalancerIPs).toEqual(['192.168.56.200']);
    expect(r.sp.loadBalancerSourceRanges).toEqual(['10.0.0.0/8']);
    expect(r.sp.affinitySeconds).toBe(10800);
  });

  it('normalizes CIDRs as Go prints an IPNet', () => {
    expect(normalizeCIDR('203.0.113.77/25')).toBe('203.0.113.0/25');
    expect(normalizeCIDR('1.2.3.4')).toBeUndefined();
    expect(normalizeCIDR('1.2.3.4/33')).toBeUndefined();
  });
});
