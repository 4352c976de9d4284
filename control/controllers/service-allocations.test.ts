import { describe, expect, it } from 'vitest';
import { ServiceAdmissionError, ServiceAllocations, type ServiceObject } from './service-allocations.js';

const svc = (spec: ServiceObject['spec']): ServiceObject => ({
  metadata: { name: 's', namespace: 'default' },
  spec,
});

describe('ServiceAllocations', () => {
  it('gives ClusterIP services an address and NodePort services ports; headless and ExternalName none', () => {
    const a = new ServiceAllocations();
    const c = a.admit(svc({ type: 'ClusterIP', ports: [{ port: 80 }] }));
    expect(c.spec?.clusterIPs).toEqual([c.spec?.clusterIP]);
    expect(c.spec?.ports?.[0]?.nodePort).toBeUndefined();
    const n = a.admit(svc({ type: 'NodePort', ports: [{ port: 80 }, { port: 53, protocol: 'UDP' }] }));
    expect(n.spec?.ports?.every((p) => p.nodePort! >= 30000 && p.nodePort! <= 32767)).toBe(true);
    expect(a.admit(svc({ type: 'ClusterIP', clusterIP: 'None' })).spec).toMatchObject({
      clusterIP: 'None',
      clusterIPs: ['None'],
    });
    expect(a.admit(svc({ type: 'ExternalName' })).spec?.clusterIP).toBeUndefined();
  });

  it('refuses a taken request with the field, and allocates nothing of a failed request', () => {
    const a = new ServiceAllocations();
    a.admit(svc({ type: 'NodePort', clusterIP: '10.96.0.10', ports: [{ port: 80, nodePort: 30080 }] }));
    const before = [a.ips.free, a.ports.free];
    let error: unknown;
    try {
      a.admit(
        svc({
          type: 'NodePort',
          clusterIP: '10.96.0.11',
          ports: [
            { port: 80, nodePort: 30080 },
            { port: 81, nodePort: 40000 },
          ],
        }),
      );
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ServiceAdmissionError);
    expect((error as ServiceAdmissionError).problems.map((p) => p.field)).toEqual([
      'spec.ports[0].nodePort',
      'spec.ports[1].nodePort',
    ]);
    expect([a.ips.free, a.ports.free]).toEqual(before);
    expect(() => a.admit(svc({ clusterIP: '10.96.0.10' }))).toThrow(/spec.clusterIPs: .*already allocated/);
  });

  it('allows one node port for TCP and UDP of the same service, keeps ports on update, releases on type change', () => {
    const a = new ServiceAllocations();
    const dns = a.admit(
      svc({
        type: 'NodePort',
        ports: [
          { port: 53, nodePort: 30053 },
          { port: 53, protocol: 'UDP', nodePort: 30053 },
        ],
      }),
    );
    const same = a.admit(structuredClone(dns), dns);
    expect(same.spec?.ports?.map((p) => p.nodePort)).toEqual([30053, 30053]);
    const back = a.admit({ ...same, spec: { ...same.spec, type: 'ClusterIP' } }, same);
    expect(back.spec?.ports?.[0]?.nodePort).toBeUndefined();
    expect(a.ports.has(30053)).toBe(false);
    expect(back.spec?.clusterIP).toBe(dns.spec?.clusterIP);
  });

  it('allocates a healthCheckNodePort for LoadBalancer with Local traffic policy; repair restores the books', () => {
    const a = new ServiceAllocations();
    const lb = a.admit(svc({ type: 'LoadBalancer', externalTrafficPolicy: 'Local', ports: [{ port: 80 }] }));
    expect(lb.spec?.healthCheckNodePort).toBeGreaterThanOrEqual(30000);
    const b = new ServiceAllocations();
    b.repair([lb]);
    expect(b.ips.has(lb.spec!.clusterIP!)).toBe(true);
    expect(b.ports.has(lb.spec!.healthCheckNodePort!)).toBe(true);
    b.release(lb);
    expect(b.ports.has(lb.spec!.ports![0]!.nodePort!)).toBe(false);
  });
});
