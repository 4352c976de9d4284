import { describe, expect, it } from 'vitest';
import { ServiceAdmissionError, ServiceAllocations, type ServiceObject } from './service-allocations.js';

/** Admits and commits, as a stored write does. */
function take(a: ServiceAllocations, s: ServiceObject, old?: ServiceObject): ServiceObject {
  const r = a.admit(s, old);
  r.commit();
  return r.object;
}

const svc = (spec: ServiceObject['spec']): ServiceObject => ({
  metadata: { name: 's', namespace: 'default' },
  spec,
});

describe('ServiceAllocations', () => {
  it('gives ClusterIP services an address and NodePort services ports; headless and ExternalName none', () => {
    const a = new ServiceAllocations();
    const c = take(a, svc({ type: 'ClusterIP', ports: [{ port: 80 }] }));
    expect(c.spec?.clusterIPs).toEqual([c.spec?.clusterIP]);
    expect(c.spec?.ports?.[0]?.nodePort).toBeUndefined();
    const n = take(a, svc({ type: 'NodePort', ports: [{ port: 80 }, { port: 53, protocol: 'UDP' }] }));
    expect(n.spec?.ports?.every((p) => p.nodePort! >= 30000 && p.nodePort! <= 32767)).toBe(true);
    expect(take(a, svc({ type: 'ClusterIP', clusterIP: 'None' })).spec).toMatchObject({
      clusterIP: 'None',
      clusterIPs: ['None'],
    });
    expect(take(a, svc({ type: 'ExternalName' })).spec?.clusterIP).toBeUndefined();
  });

  it('refuses a taken request with the field, and allocates nothing of a failed request', () => {
    const a = new ServiceAllocations();
    take(a, svc({ type: 'NodePort', clusterIP: '10.96.0.10', ports: [{ port: 80, nodePort: 30080 }] }));
    const before = [a.ips.free, a.ports.free];
    let error: unknown;
    try {
      take(
        a,
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
    expect(() => take(a, svc({ clusterIP: '10.96.0.10' }))).toThrow(/spec.clusterIPs: .*already allocated/);
  });

  it('allows one node port for TCP and UDP of the same service, keeps ports on update, releases on type change', () => {
    const a = new ServiceAllocations();
    const dns = take(
      a,
      svc({
        type: 'NodePort',
        ports: [
          { port: 53, nodePort: 30053 },
          { port: 53, protocol: 'UDP', nodePort: 30053 },
        ],
      }),
    );
    const same = take(a, structuredClone(dns), dns);
    expect(same.spec?.ports?.map((p) => p.nodePort)).toEqual([30053, 30053]);
    const back = take(a, { ...same, spec: { ...same.spec, type: 'ClusterIP' } }, same);
    expect(back.spec?.ports?.[0]?.nodePort).toBeUndefined();
    expect(a.ports.has(30053)).toBe(false);
    expect(back.spec?.clusterIP).toBe(dns.spec?.clusterIP);
  });

  it('allocates a healthCheckNodePort for LoadBalancer with Local traffic policy; repair restores the books', () => {
    const a = new ServiceAllocations();
    const lb = take(a, svc({ type: 'LoadBalancer', externalTrafficPolicy: 'Local', ports: [{ port: 80 }] }));
    expect(lb.spec?.healthCheckNodePort).toBeGreaterThanOrEqual(30000);
    const b = new ServiceAllocations();
    b.repair([lb]);
    expect(b.ips.has(lb.spec!.clusterIP!)).toBe(true);
    expect(b.ports.has(lb.spec!.healthCheckNodePort!)).toBe(true);
    b.release(lb);
    expect(b.ports.has(lb.spec!.ports![0]!.nodePort!)).toBe(false);
  });
});

describe('reservations', () => {
  it('rollback returns new reservations; commit releases the old version', () => {
    const a = new ServiceAllocations();
    const before = a.ips.free;
    const r = a.admit(svc({ type: 'NodePort', ports: [{ port: 80 }] }));
    expect(a.ips.free).toBe(before - 1);
    r.rollback();
    expect(a.ips.free).toBe(before);
    const first = take(a, svc({ type: 'NodePort', ports: [{ port: 80 }] }));
    const port = first.spec!.ports![0]!.nodePort!;
    const toCluster = a.admit({ ...first, spec: { ...first.spec, type: 'ClusterIP' } }, first);
    expect(a.ports.has(port)).toBe(true);
    toCluster.commit();
    expect(a.ports.has(port)).toBe(false);
  });
});

describe('updates that leave allocated values out', () => {
  it('keep the ClusterIP, node ports and health check port', () => {
    const a = new ServiceAllocations();
    const lb = take(a, svc({ type: 'LoadBalancer', externalTrafficPolicy: 'Local', ports: [{ port: 80 }] }));
    const replaced = take(
      a,
      svc({ type: 'LoadBalancer', externalTrafficPolicy: 'Local', ports: [{ port: 80 }] }),
      lb,
    );
    expect(replaced.spec?.clusterIP).toBe(lb.spec?.clusterIP);
    expect(replaced.spec?.ports?.[0]?.nodePort).toBe(lb.spec?.ports?.[0]?.nodePort);
    expect(replaced.spec?.healthCheckNodePort).toBe(lb.spec?.healthCheckNodePort);
  });
});
