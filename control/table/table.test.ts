import { describe, expect, it } from 'vitest';
import { findKind, RESOURCES } from '../resources.js';
import type { JsonObject } from '../store/types.js';
import { toTable } from './index.js';
import { summarizePod } from './pod.js';
import { TABLE_FIXTURES } from './testdata/objects.js';

const now = new Date('2026-01-01T12:00:00Z');
const info = (apiVersion: string, kind: string) => {
  const found = findKind(apiVersion, kind);
  if (!found) throw new Error(`${apiVersion} ${kind} not served`);
  return found;
};
const cells = (apiVersion: string, kind: string, o: JsonObject) =>
  (toTable(info(apiVersion, kind), [o], { includeObject: 'None', now }).rows as { cells: unknown[] }[])[0]
    ?.cells;
const headers = (apiVersion: string, kind: string) =>
  (
    toTable(info(apiVersion, kind), [], { includeObject: 'None', now }).columnDefinitions as {
      name: string;
      priority: number;
    }[]
  ).map((c) => (c.priority > 0 ? `(${c.name})` : c.name));

describe('toTable shape', () => {
  it('builds a meta.k8s.io/v1 Table with row objects per includeObject', () => {
    const svc = { metadata: { name: 'a', namespace: 'd', uid: 'u' }, spec: { type: 'ClusterIP', ports: [] } };
    const i = info('v1', 'Service');
    const meta = toTable(i, [svc], { includeObject: 'Metadata', now });
    expect(meta).toMatchObject({ kind: 'Table', apiVersion: 'meta.k8s.io/v1', metadata: {} });
    expect((meta.rows as JsonObject[])[0]?.object).toEqual({
      kind: 'PartialObjectMetadata',
      apiVersion: 'meta.k8s.io/v1',
      metadata: { name: 'a', namespace: 'd', uid: 'u' },
    });
    expect((toTable(i, [svc], { includeObject: 'Object', now }).rows as JsonObject[])[0]?.object).toEqual({
      apiVersion: 'v1',
      kind: 'Service',
      ...svc,
    });
    expect((toTable(i, [svc], { includeObject: 'None', now }).rows as JsonObject[])[0]).toEqual({
      cells: ['a', 'ClusterIP', '<none>', '<none>', '<none>', '<unknown>', '<none>'],
    });
    expect(toTable(i, [svc], { includeObject: 'None', now, noHeaders: true }).columnDefinitions).toEqual([]);
  });

  it('has the columns kubectl users know, wide ones marked by priority', () => {
    expect(headers('v1', 'Pod')).toEqual([
      'Name',
      'Ready',
      'Status',
      'Restarts',
      'Age',
      '(IP)',
      '(Node)',
      '(Nominated Node)',
      '(Readiness Gates)',
    ]);
    expect(headers('v1', 'Service')).toEqual([
      'Name',
      'Type',
      'Cluster-IP',
      'External-IP',
      'Port(s)',
      'Age',
      '(Selector)',
    ]);
    expect(headers('v1', 'Node')).toEqual([
      'Name',
      'Status',
      'Roles',
      'Age',
      'Version',
      '(Internal-IP)',
      '(External-IP)',
      '(OS-Image)',
      '(Kernel-Version)',
      '(Container-Runtime)',
    ]);
    expect(headers('apps/v1', 'Deployment')).toEqual([
      'Name',
      'Ready',
      'Up-to-date',
      'Available',
      'Age',
      '(Containers)',
      '(Images)',
      '(Selector)',
    ]);
    expect(headers('discovery.k8s.io/v1', 'EndpointSlice')).toEqual([
      'Name',
      'AddressType',
      'Ports',
      'Endpoints',
      'Age',
    ]);
    expect(headers('networking.k8s.io/v1', 'Ingress')).toEqual([
      'Name',
      'Class',
      'Hosts',
      'Address',
      'Ports',
      'Age',
    ]);
    for (const r of RESOURCES)
      expect(headers(r.group ? `${r.group}/${r.version}` : r.version, r.kind).length).toBeGreaterThan(1);
  });
});

describe('Service cells', () => {
  it('prints node ports, pending load balancers and selectors', () => {
    const lb = {
      metadata: { name: 'web', creationTimestamp: '2026-01-01T11:55:00Z' },
      spec: {
        type: 'LoadBalancer',
        clusterIP: '10.96.0.20',
        selector: { tier: 'fe', app: 'web' },
        ports: [
          { port: 80, nodePort: 30080, protocol: 'TCP' },
          { port: 53, protocol: 'UDP' },
        ],
      },
    };
    expect(cells('v1', 'Service', lb)).toEqual([
      'web',
      'LoadBalancer',
      '10.96.0.20',
      '<pending>',
      '80:30080/TCP,53/UDP',
      '5m',
      'app=web,tier=fe',
    ]);
    const assigned = { ...lb, status: { loadBalancer: { ingress: [{ ip: '192.168.56.200' }] } } };
    expect(cells('v1', 'Service', assigned)?.[3]).toBe('192.168.56.200');
    expect(
      cells('v1', 'Service', {
        metadata: { name: 'x' },
        spec: { type: 'ExternalName', externalName: 'example.com' },
      })?.[3],
    ).toBe('example.com');
  });
});

describe('Pod status', () => {
  const pod = (status: JsonObject, extra: JsonObject = {}): JsonObject => ({
    metadata: { name: 'p', creationTimestamp: '2026-01-01T10:00:00Z', ...(extra.metadata as JsonObject) },
    spec: { containers: [{ name: 'a' }, { name: 'b' }], ...(extra.spec as JsonObject) },
    status,
  });
  const running = { running: { startedAt: '2026-01-01T10:00:01Z' } };

  it('counts ready containers and shows restarts with how long ago', () => {
    const p = pod(
      {
        phase: 'Running',
        podIPs: [{ ip: '10.244.1.5' }],
        containerStatuses: [
          { name: 'a', ready: true, restartCount: 0, state: running },
          {
            name: 'b',
            ready: false,
            restartCount: 5,
            state: { waiting: { reason: 'CrashLoopBackOff' } },
            lastState: { terminated: { exitCode: 1, finishedAt: '2026-01-01T11:55:00Z' } },
          },
        ],
      },
      { spec: { nodeName: 'node-1' } },
    );
    expect(cells('v1', 'Pod', p)).toEqual([
      'p',
      '1/2',
      'CrashLoopBackOff',
      '5 (5m ago)',
      '120m',
      '10.244.1.5',
      'node-1',
      '<none>',
      '<none>',
    ]);
  });

  it('follows init containers, creation and termination', () => {
    const withInit = {
      spec: { initContainers: [{ name: 'i1' }, { name: 'i2' }], containers: [{ name: 'a' }] },
    };
    expect(
      summarizePod(
        pod(
          {
            phase: 'Pending',
            initContainerStatuses: [
              { name: 'i1', state: { terminated: { exitCode: 0 } } },
              { name: 'i2', state: running },
            ],
          },
          withInit,
        ),
      ).reason,
    ).toBe('Init:1/2');
    expect(
      summarizePod(
        pod(
          {
            phase: 'Pending',
            initContainerStatuses: [{ name: 'i1', state: { terminated: { exitCode: 2 } } }],
          },
          withInit,
        ),
      ).reason,
    ).toBe('Init:ExitCode:2');
    expect(
      summarizePod(
        pod(
          {
            phase: 'Pending',
            initContainerStatuses: [{ name: 'i1', state: { waiting: { reason: 'CrashLoopBackOff' } } }],
          },
          withInit,
        ),
      ).reason,
    ).toBe('Init:CrashLoopBackOff');
    expect(
      summarizePod(
        pod({
          phase: 'Pending',
          containerStatuses: [{ name: 'a', state: { waiting: { reason: 'ContainerCreating' } } }],
        }),
      ).reason,
    ).toBe('ContainerCreating');
    expect(summarizePod(pod({ phase: 'Pending' })).reason).toBe('Pending');
    expect(
      summarizePod(pod({ phase: 'Running' }, { metadata: { deletionTimestamp: '2026-01-01T11:59:00Z' } }))
        .reason,
    ).toBe('Terminating');
    expect(
      summarizePod(pod({ phase: 'Succeeded' }, { metadata: { deletionTimestamp: '2026-01-01T11:59:00Z' } }))
        .reason,
    ).toBe('Succeeded');
    expect(
      summarizePod(
        pod({
          phase: 'Failed',
          containerStatuses: [{ name: 'a', state: { terminated: { exitCode: 137, signal: 9 } } }],
        }),
      ).reason,
    ).toBe('Signal:9');
    expect(
      summarizePod(
        pod({
          phase: 'Running',
          conditions: [{ type: 'Ready', status: 'False' }],
          containerStatuses: [
            { name: 'a', ready: true, state: running },
            { name: 'b', state: { terminated: { exitCode: 0, reason: 'Completed' } } },
          ],
        }),
      ).reason,
    ).toBe('NotReady');
    expect(
      summarizePod(
        pod({ phase: 'Pending', conditions: [{ type: 'PodScheduled', reason: 'SchedulingGated' }] }),
      ).reason,
    ).toBe('SchedulingGated');
  });

  it('counts readiness gates', () => {
    const p = pod(
      { phase: 'Running', conditions: [{ type: 'example.com/lb', status: 'True' }] },
      { spec: { readinessGates: [{ conditionType: 'example.com/lb' }, { conditionType: 'x' }] } },
    );
    expect(cells('v1', 'Pod', p)?.[8]).toBe('1/2');
  });
});

describe('tables of every kind (golden)', () => {
  it('renders the fixtures as kubectl would receive them', async () => {
    const out: Record<string, unknown> = {};
    for (const [key, objects] of Object.entries(TABLE_FIXTURES)) {
      const [apiVersion, kind] = key.split(' ') as [string, string];
      const table = toTable(info(apiVersion, kind), objects, { includeObject: 'None', now });
      out[key] = (table.rows as { cells: unknown[] }[]).map((r) => r.cells);
    }
    await expect(JSON.stringify(out, null, 2) + '\n').toMatchFileSnapshot('./testdata/cells.golden.txt');
  });
});
