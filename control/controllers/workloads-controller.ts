/**
 * The ReplicaSet and Deployment controller loops. Each sync reads the informer caches, asks the
 * pure planners (replicaset.ts, deployment.ts) what to do, writes it, and reports status
 * through the status subresource. Pod and ReplicaSet events requeue their owner.
 */
import type { KubeObject } from '../../kube/client.js';
import { type ControllerContext, isConflict, isNotFound, keyOf, pathOf } from './context.js';
import {
  type DeploymentLike,
  REVISION,
  findNewReplicaSet,
  planDeployment,
  stableJson,
} from './deployment.js';
import {
  type PodLike,
  type ReplicaSetLike,
  isActive,
  ownedBy,
  podFromTemplate,
  reconcileReplicaSet,
} from './replicaset.js';
import { WorkQueue } from './queue.js';

const controllerOf = (o: KubeObject) =>
  (o.metadata?.ownerReferences as { kind: string; name: string; controller?: boolean }[] | undefined)?.find(
    (r) => r.controller,
  );

const ignoreNotFound = (error: unknown) => {
  if (!isNotFound(error)) throw error;
};

export function startReplicaSetController(ctx: ControllerContext): WorkQueue {
  const sets = ctx.informer('replicaSets');
  const pods = ctx.informer('pods');
  const queue = new WorkQueue((key) => sync(key), {
    name: 'replicaset',
    concurrency: 4,
    log: (msg, error) => ctx.log({ msg, controller: 'replicaset', error: String(error) }),
  });
  sets.subscribe({
    onAdd: (o) => queue.add(keyOf(o)),
    onUpdate: (_, o) => queue.add(keyOf(o)),
    onDelete: (o) => queue.add(keyOf(o)),
  });
  const byPod = (p: KubeObject) => {
    const owner = controllerOf(p);
    if (owner?.kind === 'ReplicaSet') queue.add(`${p.metadata?.namespace}/${owner.name}`);
  };
  pods.subscribe({ onAdd: byPod, onUpdate: (_, p) => byPod(p), onDelete: byPod });

  /** Pods this process asked for but the informer has not shown yet, per ReplicaSet. */
  const expectations = new Map<string, { creates: number; deletes: Set<string>; at: number }>();

  async function sync(key: string): Promise<void> {
    const rs = sets.get(key) as unknown as ReplicaSetLike | undefined;
    if (rs === undefined || (rs.metadata as { deletionTimestamp?: string }).deletionTimestamp) {
      expectations.delete(key);
      return;
    }
    const namespace = rs.metadata.namespace;
    const mine = pods.list().filter((p) => p.metadata?.namespace === namespace) as unknown as PodLike[];
    const owned = mine.filter((p) => ownedBy(p, rs.metadata.uid));
    const exp = expectations.get(key);
    if (exp !== undefined && Date.now() - exp.at < 5_000) {
      // Wait until the informer has seen our own writes, or we would act twice on one change.
      const seenCreates = owned.length;
      const pendingDeletes = [...exp.deletes].filter((n) =>
        owned.some((p) => p.metadata.name === n && isActive(p)),
      );
      if (seenCreates < exp.creates || pendingDeletes.length > 0) {
        queue.addAfter(key, 50);
        return;
      }
    }
    expectations.delete(key);
    const decision = reconcileReplicaSet(rs, mine, ctx.now());
    if (decision.create > 0 || decision.delete.length > 0) {
      expectations.set(key, {
        creates: owned.length + decision.create,
        deletes: new Set(decision.delete.map((p) => p.metadata.name ?? '')),
        at: Date.now(),
      });
    }
    const template = podFromTemplate(rs);
    await Promise.all(
      Array.from({ length: decision.create }, () =>
        ctx.client.create(pathOf('pods', namespace), template as unknown as KubeObject),
      ),
    );
    await Promise.all(
      decision.delete.map((p) =>
        ctx.client.delete(pathOf('pods', namespace, p.metadata.name)).catch(ignoreNotFound),
      ),
    );
    const status = (rs as { status?: Record<string, unknown> }).status ?? {};
    if (Object.entries(decision.status).some(([k, v]) => status[k] !== v)) {
      await ctx.client
        .patch(pathOf('replicaSets', namespace, rs.metadata.name, 'status'), { status: decision.status })
        .catch(ignoreNotFound);
    }
  }
  return queue;
}

export function startDeploymentController(ctx: ControllerContext): WorkQueue {
  const deployments = ctx.informer('deployments');
  const sets = ctx.informer('replicaSets');
  const pods = ctx.informer('pods');
  const queue = new WorkQueue((key) => sync(key), {
    name: 'deployment',
    concurrency: 2,
    log: (msg, error) => ctx.log({ msg, controller: 'deployment', error: String(error) }),
  });
  deployments.subscribe({
    onAdd: (o) => queue.add(keyOf(o)),
    onUpdate: (_, o) => queue.add(keyOf(o)),
    onDelete: (o) => queue.add(keyOf(o)),
  });
  const byRs = (rs: KubeObject) => {
    const owner = controllerOf(rs);
    if (owner?.kind === 'Deployment') queue.add(`${rs.metadata?.namespace}/${owner.name}`);
  };
  sets.subscribe({ onAdd: byRs, onUpdate: (_, o) => byRs(o), onDelete: byRs });
  // Recreate waits for old pods to be gone: a pod deletion must wake its Deployment.
  pods.subscribe({
    onDelete: (p) => {
      const owner = controllerOf(p);
      const rs =
        owner?.kind === 'ReplicaSet' ? sets.get(`${p.metadata?.namespace}/${owner.name}`) : undefined;
      if (rs !== undefined) byRs(rs);
    },
  });

  async function sync(key: string): Promise<void> {
    const d = deployments.get(key) as unknown as DeploymentLike | undefined;
    if (d === undefined || (d.metadata as { deletionTimestamp?: string }).deletionTimestamp) return;
    const namespace = d.metadata.namespace;
    const owned = sets
      .list()
      .filter(
        (rs) => rs.metadata?.namespace === namespace && ownedBy(rs as unknown as PodLike, d.metadata.uid),
      ) as unknown as ReplicaSetLike[];
    const newRs = findNewReplicaSet(d, owned);
    const oldUids = new Set(owned.filter((rs) => rs !== newRs).map((rs) => rs.metadata.uid));
    const activeOldPods = pods
      .list()
      .filter((p) => p.metadata?.namespace === namespace && isActive(p as unknown as PodLike))
      .filter((p) => [...oldUids].some((uid) => ownedBy(p as unknown as PodLike, uid))).length;
    const plan = planDeployment(d, owned, ctx.now(), activeOldPods);
    for (const action of plan.actions) {
      try {
        if (action.type === 'create') {
          await ctx.client.create(
            pathOf('replicaSets', namespace),
            action.replicaSet as unknown as KubeObject,
          );
          await ctx.events.record(
            { apiVersion: 'apps/v1', kind: 'Deployment', metadata: d.metadata },
            'Normal',
            'ScalingReplicaSet',
            `Scaled up replica set ${action.replicaSet.metadata.name} from 0 to ${action.replicaSet.spec.replicas}`,
            { component: 'deployment-controller' },
          );
        } else if (action.type === 'scale' || action.type === 'annotate') {
          const rs = owned.find((r) => r.metadata.name === action.name);
          const body: Record<string, unknown> = { metadata: { annotations: action.annotations } };
          if (action.type === 'scale') body.spec = { replicas: action.replicas };
          await ctx.client.patch(pathOf('replicaSets', namespace, action.name), body);
          if (action.type === 'scale' && rs !== undefined) {
            const from = rs.spec.replicas ?? 0;
            await ctx.events.record(
              { apiVersion: 'apps/v1', kind: 'Deployment', metadata: d.metadata },
              'Normal',
              'ScalingReplicaSet',
              `Scaled ${action.replicas > from ? 'up' : 'down'} replica set ${action.name} from ${from} to ${action.replicas}`,
              { component: 'deployment-controller' },
            );
          }
        } else {
          await ctx.client.delete(pathOf('replicaSets', namespace, action.name)).catch(ignoreNotFound);
        }
      } catch (error) {
        if (isConflict(error)) {
          queue.addAfter(key, 100);
          return;
        }
        throw error;
      }
    }
    if (d.metadata.annotations?.[REVISION] !== plan.revision) {
      await ctx.client.patch(pathOf('deployments', namespace, d.metadata.name), {
        metadata: { annotations: { [REVISION]: plan.revision } },
      });
    }
    // Writing an unchanged status would wake this loop again through the watch, forever.
    if (stableJson(plan.status) !== stableJson(d.status ?? {})) {
      await ctx.client
        .patch(pathOf('deployments', namespace, d.metadata.name, 'status'), { status: plan.status })
        .catch(ignoreNotFound);
    }
  }
  return queue;
}
