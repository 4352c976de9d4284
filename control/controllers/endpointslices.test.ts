import { describe, expect, it } from 'vitest';
import {
  MANAGED_BY,
  type EndpointSlice,
  type Pod,
  type Service,
  reconcileEndpointSlices,
  resolveTargetPort,
} from './endpointslices.js';

const service = (extra: Partial<Service['spec']> = {}): Service => ({
  metadata: { name: 'echo', namespace: 'default', uid: 'svc-uid', creationTimestamp: '2026-01-01T00:00:00Z' },
  spec: {
    selector: { app: 'echo' },
    clusterIP: '10.96.0.20',
    ports: [{ name: 'http', port: 80, targetPort: 'web' }],
    ...extra,
  },
});

const pod = (
  name: string,
  ip: string,
  opts: { ready?: boolean; deleting?: boolean; port?: number; node?: string } = {},
): Pod => ({
  metadata: {
    name,
    namespace: 'default',
    uid: `uid-${name}`,
    labels: { app: 'echo' },
    creationTimestamp: '2026-01-01T00:00:01Z',
    ...(opts.deleting ? { deletionTimestamp: '2026-01-01T00:05:00Z' } : {}),
  },
  spec: {
    nodeName: opts.node ?? 'node-1',
    containers: [{ ports: [{ name: 'web', containerPort: opts.port ?? 8080 }] }],
  },
  status: {
    phase: 'Running',
    podIP: ip,
    conditions: [
      {
        type: 'Ready',
        status: opts.ready === false ? 'False' : 'True',
        lastTransitionTime: '2026-01-01T00:00:03Z',
      },
    ],
  },
});

describe('resolveTargetPort', () => {
  it('resolves numbers, numeric strings and names per pod', () => {
    expect(resolveTargetPort({ port: 80 }, pod('a', '10.244.1.2'))).toBe(80);
    expect(resolveTargetPort({ port: 80, targetPort: '8443' }, pod('a', '10.244.1.2'))).toBe(8443);
    expect(resolveTargetPort({ port: 80, targetPort: 'web' }, pod('a', '10.244.1.2', { port: 9000 }))).toBe(
      9000,
    );
    expect(resolveTargetPort({ port: 80, targetPort: 'nope' }, pod('a', '10.244.1.2'))).toBeUndefined();
    expect(
      resolveTargetPort({ port: 53, protocol: 'UDP', targetPort: 'web' }, pod('a', '10.244.1.2')),
    ).toBeUndefined();
  });
});

describe('reconcileEndpointSlices', () => {
  it('creates one slice with conditions, targetRef, labels and owner', () => {
    const {
      create,
      update,
      delete: del,
    } = reconcileEndpointSlices(
      service(),
      [
        pod('b', '10.244.2.3', { ready: false }),
        pod('a', '10.244.1.2'),
        pod('c', '10.244.3.4', { deleting: true }),
      ],
      [],
    );
    expect(update).toEqual([]);
    expect(del).toEqual([]);
    expect(create).toHaveLength(1);
    const s = create[0]!;
    expect(s.metadata.generateName).toBe('echo-');
    expect(s.metadata.labels).toMatchObject({
      'kubernetes.io/service-name': 'echo',
      'endpointslice.kubernetes.io/managed-by': MANAGED_BY,
    });
    expect(s.metadata.ownerReferences).toEqual([
      {
        apiVersion: 'v1',
        kind: 'Service',
        name: 'echo',
        uid: 'svc-uid',
        controller: true,
        blockOwnerDeletion: true,
      },
    ]);
    expect(s.ports).toEqual([{ name: 'http', protocol: 'TCP', port: 8080 }]);
    expect(s.endpoints.map((e) => [e.addresses[0], e.conditions])).toEqual([
      ['10.244.1.2', { ready: true, serving: true, terminating: false }],
      ['10.244.2.3', { ready: false, serving: false, terminating: false }],
      ['10.244.3.4', { ready: false, serving: true, terminating: true }],
    ]);
    expect(s.endpoints[0]!.targetRef).toEqual({ kind: 'Pod', namespace: 'default', name: 'a', uid: 'uid-a' });
    expect(s.metadata.annotations?.['endpoints.kubernetes.io/last-change-trigger-time']).toBe(
      '2026-01-01T00:05:00Z',
    );
  });

  it('splits by resolved port and at 100 endpoints', () => {
    const pods = Array.from({ length: 150 }, (_, i) =>
      pod(`p${String(i).padStart(3, '0')}`, `10.244.1.${i + 1}`),
    );
    pods.push(pod('other', '10.244.9.9', { port: 9090 }));
    const { create } = reconcileEndpointSlices(service(), pods, []);
    expect(create.map((s) => [s.ports?.[0]?.port, s.endpoints.length])).toEqual([
      [9090, 1],
      [8080, 100],
      [8080, 50],
    ]);
  });

  it('keeps an empty placeholder, publishes not-ready addresses on request, sets hostnames', () => {
    expect(reconcileEndpointSlices(service(), [], []).create[0]).toMatchObject({
      ports: null,
      endpoints: [],
    });
    const p = pod('db-0', '10.244.1.5', { ready: false });
    p.spec.hostname = 'db-0';
    p.spec.subdomain = 'echo';
    const [s] = reconcileEndpointSlices(
      service({ publishNotReadyAddresses: true, clusterIP: 'None' }),
      [p],
      [],
    ).create;
    expect(s!.endpoints[0]).toMatchObject({ hostname: 'db-0', conditions: { ready: true, serving: true } });
    expect(s!.metadata.labels?.['service.kubernetes.io/headless']).toBe('');
  });

  it('updates in place, leaves unchanged slices alone, deletes extras, ignores foreign slices', () => {
    const first = reconcileEndpointSlices(service(), [pod('a', '10.244.1.2')], []).create[0]!;
    const existing: EndpointSlice = {
      ...first,
      metadata: { ...first.metadata, name: 'echo-abcde', generateName: 'echo-' },
    };
    const unchanged = reconcileEndpointSlices(service(), [pod('a', '10.244.1.2')], [existing]);
    expect([unchanged.create, unchanged.update, unchanged.delete]).toEqual([[], [], []]);
    expect(unchanged.desired.map((s) => s.metadata.name)).toEqual(['echo-abcde']);
    const changed = reconcileEndpointSlices(
      service(),
      [pod('a', '10.244.1.2', { ready: false })],
      [existing],
    );
    expect(changed.update.map((s) => s.metadata.name)).toEqual(['echo-abcde']);
    const foreign: EndpointSlice = {
      ...existing,
      metadata: { name: 'mine', labels: { 'kubernetes.io/service-name': 'echo' } },
    };
    const extra: EndpointSlice = { ...existing, metadata: { ...existing.metadata, name: 'echo-zzzzz' } };
    const res = reconcileEndpointSlices(service(), [pod('a', '10.244.1.2')], [existing, extra, foreign]);
    expect(res.delete.map((s) => s.metadata.name)).toEqual(['echo-zzzzz']);
  });
});
