import { describe, expect, it } from 'vitest';
import { parseQuantity } from './quantity.js';
import { type SchedNode, type SchedPod, schedule } from './scheduler.js';

const node = (name: string, extra: Partial<SchedNode> = {}): SchedNode => ({
  metadata: { name, labels: { 'kubernetes.io/hostname': name } },
  status: {
    allocatable: { cpu: '2', memory: '4Gi', pods: '110' },
    conditions: [{ type: 'Ready', status: 'True' }],
  },
  ...extra,
});

const pod = (name: string, spec: Partial<SchedPod['spec']> = {}, owner = 'rs-1'): SchedPod => ({
  metadata: { name, namespace: 'default', ownerReferences: [{ uid: owner, controller: true }] },
  spec: { containers: [{ resources: { requests: { cpu: '100m', memory: '64Mi' } } }], ...spec },
});

describe('parseQuantity', () => {
  it('reads kube quantities', () => {
    expect(parseQuantity('100m')).toBeCloseTo(0.1);
    expect(parseQuantity('128Mi')).toBe(128 * 2 ** 20);
    expect(parseQuantity('1G')).toBe(1e9);
    expect(parseQuantity('2e3')).toBe(2000);
    expect(() => parseQuantity('lots')).toThrow(/quantity "lots" is not valid/);
  });
});

describe('schedule', () => {
  it('spreads a ReplicaSet 2/2/2 over three nodes', () => {
    const nodes = [node('node-1'), node('node-2'), node('node-3')];
    const placed = new Map<string, SchedPod[]>();
    for (let i = 0; i < 6; i++) {
      const p = pod(`p${i}`);
      const r = schedule(p, nodes, placed);
      if (!('node' in r)) throw new Error(r.message);
      placed.set(r.node, [...(placed.get(r.node) ?? []), p]);
    }
    expect([...placed.values()].map((ps) => ps.length)).toEqual([2, 2, 2]);
  });

  it('explains why nothing fits, in kube-scheduler words', () => {
    const nodes = [
      node('node-1', { spec: { unschedulable: true } }),
      node('node-2', {
        status: {
          allocatable: { cpu: '50m', memory: '4Gi' },
          conditions: [{ type: 'Ready', status: 'True' }],
        },
      }),
      node('node-3', { status: { conditions: [{ type: 'Ready', status: 'False' }] } }),
    ];
    const r = schedule(pod('x', { nodeSelector: { disk: 'ssd' } }), nodes, new Map());
    expect(r).toEqual({
      message:
        "0/3 nodes are available: 1 Insufficient cpu, 1 node(s) had untolerated taint {node.kubernetes.io/not-ready: }, 1 node(s) were unschedulable, 3 node(s) didn't match Pod's node affinity/selector.",
    });
  });

  it('honours tolerations, node selectors and host ports', () => {
    const tainted = node('cp', {
      spec: { taints: [{ key: 'node-role.kubernetes.io/control-plane', effect: 'NoSchedule' }] },
    });
    expect(schedule(pod('a'), [tainted], new Map())).toHaveProperty('message');
    expect(
      schedule(
        pod('a', { tolerations: [{ key: 'node-role.kubernetes.io/control-plane', operator: 'Exists' }] }),
        [tainted],
        new Map(),
      ),
    ).toEqual({ node: 'cp' });
    const withPort = (n: string) =>
      pod(n, { containers: [{ ports: [{ containerPort: 80, hostPort: 8080 }] }] });
    const busy = new Map([['node-1', [withPort('old')]]]);
    expect(schedule(withPort('new'), [node('node-1'), node('node-2')], busy)).toEqual({ node: 'node-2' });
    const ssd = node('node-2', { metadata: { name: 'node-2', labels: { disk: 'ssd' } } });
    expect(schedule(pod('s', { nodeSelector: { disk: 'ssd' } }), [node('node-1'), ssd], new Map())).toEqual({
      node: 'node-2',
    });
  });
});
