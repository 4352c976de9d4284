/**
 * The scheduler loop: every pending pod without a node (and for the default scheduler) is
 * placed by `schedule` and bound through the pods/binding subresource, as kube-scheduler
 * does. Pods that fit nowhere get a FailedScheduling event and are retried when nodes or pods
 * change, and at least every few seconds.
 */
import type { KubeObject } from '../../kube/client.js';
import { type ControllerContext, isConflict, isNotFound, keyOf, pathOf } from './context.js';
import { WorkQueue } from './queue.js';
import { type SchedNode, type SchedPod, schedule } from './scheduler.js';
import { timestamp } from '../../kube/time.js';

const unscheduled = (p: KubeObject) => {
  const spec = p.spec as { nodeName?: string; schedulerName?: string } | undefined;
  return (
    !spec?.nodeName &&
    (spec?.schedulerName ?? 'default-scheduler') === 'default-scheduler' &&
    p.metadata?.deletionTimestamp === undefined
  );
};

export function startScheduler(ctx: ControllerContext): { stop(): void } {
  const pods = ctx.informer('pods');
  const nodes = ctx.informer('nodes');
  const failing = new Set<string>();
  /** Bindings written but not yet seen by the informer, so capacity is not double counted. */
  const assumed = new Map<string, string>();
  const queue = new WorkQueue((key) => sync(key), {
    name: 'scheduler',
    log: (msg, error) => ctx.log({ msg, controller: 'scheduler', error: String(error) }),
  });
  const retryFailing = () => failing.forEach((k) => queue.add(k));
  pods.subscribe({
    onAdd: (p) => unscheduled(p) && queue.add(keyOf(p)),
    onUpdate: (_, p) => {
      if (unscheduled(p)) queue.add(keyOf(p));
      else assumed.delete(keyOf(p));
    },
    onDelete: (p) => {
      failing.delete(keyOf(p));
      assumed.delete(keyOf(p));
      retryFailing();
    },
  });
  nodes.subscribe({ onAdd: retryFailing, onUpdate: retryFailing });
  const timer = setInterval(retryFailing, 5_000).unref();

  async function sync(key: string): Promise<void> {
    const pod = pods.get(key);
    if (pod === undefined || !unscheduled(pod) || assumed.has(key)) {
      failing.delete(key);
      return;
    }
    const byNode = new Map<string, SchedPod[]>();
    for (const p of pods.list()) {
      const node = (p.spec as { nodeName?: string } | undefined)?.nodeName ?? assumed.get(keyOf(p));
      if (!node) continue;
      const onNode = byNode.get(node);
      if (onNode) onNode.push(p as unknown as SchedPod);
      else byNode.set(node, [p as unknown as SchedPod]);
    }
    const result = schedule(pod as unknown as SchedPod, nodes.list() as unknown as SchedNode[], byNode);
    const ref = { apiVersion: 'v1', kind: 'Pod', metadata: pod.metadata };
    if ('message' in result) {
      if (!failing.has(key)) {
        failing.add(key);
        await ctx.events.record(ref, 'Warning', 'FailedScheduling', result.message, {
          component: 'default-scheduler',
        });
        await ctx.client
          .patch(pathOf('pods', pod.metadata?.namespace, pod.metadata?.name, 'status'), {
            status: {
              conditions: [
                {
                  type: 'PodScheduled',
                  status: 'False',
                  reason: 'Unschedulable',
                  message: result.message,
                  lastTransitionTime: timestamp(ctx.now()),
                },
              ],
            },
          })
          .catch(() => undefined);
      }
      return;
    }
    failing.delete(key);
    try {
      await ctx.client.create(pathOf('pods', pod.metadata?.namespace, pod.metadata?.name, 'binding'), {
        apiVersion: 'v1',
        kind: 'Binding',
        metadata: { name: pod.metadata?.name, namespace: pod.metadata?.namespace, uid: pod.metadata?.uid },
        target: { apiVersion: 'v1', kind: 'Node', name: result.node },
      });
    } catch (error) {
      if (isNotFound(error) || isConflict(error)) return;
      throw error;
    }
    assumed.set(key, result.node);
    // The next pod is placed without waiting for this Event: `assumed` already counts the binding.
    void ctx.events.record(
      ref,
      'Normal',
      'Scheduled',
      `Successfully assigned ${pod.metadata?.namespace}/${pod.metadata?.name} to ${result.node}`,
      { component: 'default-scheduler' },
    );
  }
  return {
    stop: () => {
      clearInterval(timer);
      queue.stop();
    },
  };
}
