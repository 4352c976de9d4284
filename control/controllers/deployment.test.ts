import { describe, expect, it } from 'vitest';
import {
  type DeploymentLike,
  HASH_LABEL,
  REVISION,
  planDeployment,
  podTemplateHash,
  resolveIntOrPercent,
} from './deployment.js';
import type { PodLike, ReplicaSetLike } from './replicaset.js';
import { deletionOrder, reconcileReplicaSet } from './replicaset.js';

const now = new Date('2026-01-01T00:00:00Z');

const deployment = (
  image: string,
  replicas = 6,
  strategy?: DeploymentLike['spec']['strategy'],
): DeploymentLike => ({
  metadata: { name: 'echo', namespace: 'default', uid: 'd-uid', generation: 1 },
  spec: {
    replicas,
    selector: { matchLabels: { app: 'echo' } },
    template: { metadata: { labels: { app: 'echo' } }, spec: { containers: [{ name: 'echo', image }] } },
    strategy,
  },
});

type Rs = ReplicaSetLike & {
  status?: { replicas?: number; readyReplicas?: number; availableReplicas?: number };
};

/** Runs the controller until it stops acting; pods become available at once. */
function rollout(
  d: DeploymentLike,
  start: Rs[],
): { sets: Rs[]; maxTotal: number; minAvailable: number; steps: number } {
  let sets = start;
  let maxTotal = 0;
  let minAvailable = Infinity;
  for (let steps = 0; steps < 50; steps++) {
    const plan = planDeployment(d, sets, now);
    if (plan.actions.length === 0) return { sets, maxTotal, minAvailable, steps };
    for (const a of plan.actions) {
      if (a.type === 'create')
        sets = [
          ...sets,
          { ...a.replicaSet, metadata: { ...a.replicaSet.metadata, uid: a.replicaSet.metadata.name } },
        ];
      if (a.type === 'scale' || a.type === 'annotate')
        sets = sets.map((rs) =>
          rs.metadata.name === a.name
            ? {
                ...rs,
                metadata: { ...rs.metadata, annotations: a.annotations },
                spec: { ...rs.spec, replicas: a.type === 'scale' ? a.replicas : rs.spec.replicas },
              }
            : rs,
        );
      if (a.type === 'delete') sets = sets.filter((rs) => rs.metadata.name !== a.name);
    }
    // Scale-ups take effect before scale-downs finish: count the worst case.
    maxTotal = Math.max(
      maxTotal,
      sets.reduce((t, rs) => t + Math.max(rs.spec.replicas ?? 0, rs.status?.replicas ?? 0), 0),
    );
    minAvailable = Math.min(
      minAvailable,
      sets.reduce((t, rs) => t + Math.min(rs.spec.replicas ?? 0, rs.status?.availableReplicas ?? 0), 0),
    );
    sets = sets.map((rs) => ({
      ...rs,
      status: {
        replicas: rs.spec.replicas,
        readyReplicas: rs.spec.replicas,
        availableReplicas: rs.spec.replicas,
      },
    }));
  }
  throw new Error('rollout did not settle');
}

describe('podTemplateHash', () => {
  it('is stable, key-order independent and uses the safe alphabet', () => {
    const a = podTemplateHash({ metadata: { labels: { a: '1', b: '2' } } });
    expect(a).toBe(podTemplateHash({ metadata: { labels: { b: '2', a: '1' } } }));
    expect(a).toMatch(/^[bcdfghjklmnpqrstvwxz2456789]+$/);
    expect(podTemplateHash({}, 1)).not.toBe(podTemplateHash({}, 0));
  });
});

describe('resolveIntOrPercent', () => {
  it('rounds surge up and unavailable down', () => {
    expect(resolveIntOrPercent('25%', 6, true, '25%')).toBe(2);
    expect(resolveIntOrPercent('25%', 6, false, '25%')).toBe(1);
    expect(resolveIntOrPercent(undefined, 4, true, '25%')).toBe(1);
    expect(resolveIntOrPercent(3, 4, true, '25%')).toBe(3);
    expect(() => resolveIntOrPercent('x', 4, true, '25%')).toThrow(/invalid int-or-percent/);
  });
});

describe('planDeployment', () => {
  it('creates the first ReplicaSet at full size with revision 1 and the hash label', () => {
    const plan = planDeployment(deployment('v1'), [], now);
    expect(plan.actions).toHaveLength(1);
    const a = plan.actions[0]!;
    if (a.type !== 'create') throw new Error('expected create');
    const hash = podTemplateHash(deployment('v1').spec.template);
    expect(a.replicaSet.metadata.name).toBe(`echo-${hash}`);
    expect(a.replicaSet.spec.replicas).toBe(6);
    expect(a.replicaSet.spec.selector?.matchLabels).toEqual({ app: 'echo', [HASH_LABEL]: hash });
    expect(a.replicaSet.metadata.annotations?.[REVISION]).toBe('1');
    expect(plan.status.conditions).toContainEqual(
      expect.objectContaining({ type: 'Progressing', reason: 'NewReplicaSetCreated' }),
    );
  });

  it('rolls an image change within maxSurge and maxUnavailable, then reports complete', () => {
    const v1 = rollout(deployment('v1'), []);
    const v2 = rollout(deployment('v2'), v1.sets);
    expect(v2.maxTotal).toBeLessThanOrEqual(6 + 2);
    expect(v2.minAvailable).toBeGreaterThanOrEqual(6 - 1);
    const byRev = Object.fromEntries(
      v2.sets.map((rs) => [rs.metadata.annotations?.[REVISION], rs.spec.replicas]),
    );
    expect(byRev).toEqual({ '1': 0, '2': 6 });
    const done = planDeployment(deployment('v2'), v2.sets, now);
    expect(done.status).toMatchObject({
      replicas: 6,
      updatedReplicas: 6,
      availableReplicas: 6,
      observedGeneration: 1,
    });
    expect(done.status.conditions).toContainEqual(
      expect.objectContaining({ type: 'Progressing', reason: 'NewReplicaSetAvailable' }),
    );
    // Undo: the old template again reuses the old ReplicaSet with a new revision.
    const back = rollout(deployment('v1'), v2.sets);
    expect(back.sets).toHaveLength(2);
    const revs = Object.fromEntries(
      back.sets.map((rs) => [
        String(rs.spec.template?.spec?.containers && JSON.stringify(rs.spec.template.spec.containers)),
        rs.metadata.annotations?.[REVISION],
      ]),
    );
    expect(Object.values(revs).sort()).toEqual(['2', '3']);
  });

  it('scales without a rollout when only replicas change', () => {
    const v1 = rollout(deployment('v1', 6), []);
    const nine = rollout(deployment('v1', 9), v1.sets);
    expect(nine.sets.map((rs) => rs.spec.replicas)).toEqual([9]);
    const two = rollout(deployment('v1', 2), nine.sets);
    expect(two.sets.map((rs) => rs.spec.replicas)).toEqual([2]);
  });

  it('Recreate scales the old ReplicaSet to zero before starting the new one', () => {
    const v1 = rollout(deployment('v1', 3, { type: 'Recreate' }), []);
    const first = planDeployment(deployment('v2', 3, { type: 'Recreate' }), v1.sets, now, 3);
    expect(first.actions).toContainEqual(expect.objectContaining({ type: 'scale', replicas: 0 }));
    const created = first.actions.find((a) => a.type === 'create');
    expect(created?.type === 'create' && created.replicaSet.spec.replicas).toBe(0);
  });

  it('keeps at most revisionHistoryLimit idle ReplicaSets', () => {
    let sets: Rs[] = [];
    const d = (image: string) => ({
      ...deployment(image, 1),
      spec: { ...deployment(image, 1).spec, revisionHistoryLimit: 2 },
    });
    for (const image of ['v1', 'v2', 'v3', 'v4', 'v5']) sets = rollout(d(image), sets).sets;
    expect(sets.map((rs) => rs.metadata.annotations?.[REVISION]).sort()).toEqual(['3', '4', '5']);
  });
});

describe('reconcileReplicaSet', () => {
  const rs: ReplicaSetLike = {
    metadata: { name: 'echo-abc', namespace: 'default', uid: 'rs-uid', generation: 2 },
    spec: { replicas: 2, template: { metadata: { labels: { app: 'echo' } }, spec: {} } },
  };
  const pod = (name: string, extra: Partial<PodLike> = {}): PodLike => ({
    metadata: {
      name,
      labels: { app: 'echo' },
      creationTimestamp: `2026-01-01T00:00:0${name.at(-1)}Z`,
      ownerReferences: [
        { apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'echo-abc', uid: 'rs-uid', controller: true },
      ],
    },
    spec: { nodeName: 'node-1' },
    status: {
      phase: 'Running',
      conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: '2026-01-01T00:00:00Z' }],
    },
    ...extra,
  });

  it('creates the missing pods and reports status', () => {
    const d = reconcileReplicaSet(rs, [pod('p1')], now);
    expect(d.create).toBe(1);
    expect(d.status).toEqual({
      replicas: 1,
      fullyLabeledReplicas: 1,
      readyReplicas: 1,
      availableReplicas: 1,
      observedGeneration: 2,
    });
  });

  it('deletes the least valuable pods first and ignores terminating ones', () => {
    const pending = pod('p3', { spec: {}, status: { phase: 'Pending' } });
    const terminating = pod('p4', {
      metadata: { ...pod('p4').metadata, deletionTimestamp: '2026-01-01T00:01:00Z' },
    });
    const d = reconcileReplicaSet(
      { ...rs, spec: { ...rs.spec, replicas: 1 } },
      [pod('p1'), pod('p2'), pending, terminating],
      now,
    );
    expect(d.delete.map((p) => p.metadata.name)).toEqual(['p3', 'p2']);
    expect(deletionOrder([pod('p1'), pod('p2')]).map((p) => p.metadata.name)).toEqual(['p2', 'p1']);
  });
});
