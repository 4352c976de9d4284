/**
 * Node IPAM and node lifecycle. IPAM gives every Node a pod CIDR from the cluster CIDR,
 * rebuilt from the stored Nodes on start so a restart never hands one out twice. Lifecycle
 * watches the Leases in kube-node-lease: a node whose Lease is older than the grace period
 * turns Ready=Unknown and gets the unreachable taints, its pods turn not Ready (so their
 * endpoints stop being ready), and after the eviction timeout its pods are deleted so their
 * controllers replace them. A renewed Lease undoes what this controller did.
 */
import { PodCidrAllocator } from './allocators.js';
import { type ControllerContext, isNotFound, keyOf, pathOf } from './context.js';
import { WorkQueue } from './queue.js';
import { timestamp } from '../../kube/time.js';

export function startNodeIpam(ctx: ControllerContext, clusterCidr: string, maskBits: number): WorkQueue {
  const nodes = ctx.informer('nodes');
  const cidrs = new PodCidrAllocator(clusterCidr, maskBits);
  for (const n of nodes.list()) {
    const spec = n.spec as { podCIDR?: string } | undefined;
    if (spec?.podCIDR) cidrs.restore(spec.podCIDR);
  }
  const queue = new WorkQueue((key) => sync(key), {
    name: 'node-ipam',
    log: (msg, error) => ctx.log({ msg, controller: 'node-ipam', error: String(error) }),
  });
  nodes.subscribe({
    onAdd: (n) => queue.add(keyOf(n)),
    onUpdate: (_, n) => queue.add(keyOf(n)),
    onDelete: (n) => {
      const cidr = (n.spec as { podCIDR?: string } | undefined)?.podCIDR;
      if (cidr) cidrs.release(cidr);
    },
  });

  async function sync(key: string): Promise<void> {
    const node = nodes.get(key);
    const spec = node?.spec as { podCIDR?: string } | undefined;
    if (node === undefined || spec?.podCIDR) return;
    const cidr = cidrs.allocate();
    try {
      await ctx.client.patch(pathOf('nodes', undefined, key), { spec: { podCIDR: cidr, podCIDRs: [cidr] } });
    } catch (error) {
      cidrs.release(cidr);
      if (!isNotFound(error)) throw error;
      return;
    }
    await ctx.events.record(
      { apiVersion: 'v1', kind: 'Node', metadata: { ...node.metadata, namespace: 'default' } },
      'Normal',
      'CIDRAssignmentSucceeded',
      `Node ${key} got pod CIDR ${cidr}`,
      { component: 'node-ipam-controller' },
    );
  }
  return queue;
}

const UNREACHABLE = 'node.kubernetes.io/unreachable';
const LOST_REASON = 'NodeStatusUnknown';

interface Condition {
  type: string;
  status: string;
  reason?: string;
  message?: string;
  lastHeartbeatTime?: string;
  lastTransitionTime?: string;
}

export interface LifecycleTimings {
  /** A Lease older than this makes its node Unknown (Kubernetes: 40 s). */
  gracePeriodMs: number;
  /** Pods of an Unknown node are deleted this long after it turned Unknown (Kubernetes: 300 s). */
  evictionTimeoutMs: number;
  /** How often the Leases are checked. */
  monitorPeriodMs: number;
}

export function startNodeLifecycle(ctx: ControllerContext, timings: LifecycleTimings): { stop(): void } {
  const nodes = ctx.informer('nodes');
  const leases = ctx.informer('leases');
  const pods = ctx.informer('pods');
  let busy = false;
  const stamp = () => timestamp(ctx.now());

  async function markPods(nodeName: string, ready: boolean): Promise<void> {
    for (const pod of pods.list()) {
      if ((pod.spec as { nodeName?: string } | undefined)?.nodeName !== nodeName) continue;
      const conditions = ((pod.status as { conditions?: Condition[] } | undefined)?.conditions ?? []).map(
        (c) => ({ ...c }),
      );
      const readyCond = conditions.find((c) => c.type === 'Ready');
      if (ready) {
        // Only undo what this controller did; the agent owns every other reason.
        if (readyCond?.reason !== LOST_REASON) continue;
        const containersReady = conditions.find((c) => c.type === 'ContainersReady')?.status === 'True';
        Object.assign(readyCond, {
          status: containersReady ? 'True' : 'False',
          reason: undefined,
          message: undefined,
          lastTransitionTime: stamp(),
        });
      } else {
        if (readyCond?.status === 'False') continue;
        const next = {
          type: 'Ready',
          status: 'False',
          reason: LOST_REASON,
          message: 'Node is not ready',
          lastTransitionTime: stamp(),
        };
        if (readyCond) Object.assign(readyCond, next);
        else conditions.push(next);
      }
      await ctx.client
        .patch(
          pathOf('pods', pod.metadata?.namespace, pod.metadata?.name, 'status'),
          { status: { conditions } },
          'merge',
        )
        .catch((e: unknown) => ctx.log({ msg: 'pod status not updated', pod: keyOf(pod), error: String(e) }));
    }
  }

  async function check(): Promise<void> {
    const now = ctx.now().getTime();
    for (const node of nodes.list()) {
      const name = node.metadata?.name ?? '';
      const lease = leases.get(`kube-node-lease/${name}`);
      const renew = (lease?.spec as { renewTime?: string } | undefined)?.renewTime;
      const created = node.metadata?.creationTimestamp as string | undefined;
      const last = Date.parse(renew ?? created ?? new Date(now).toISOString());
      const status = (node.status ?? {}) as { conditions?: Condition[] };
      const readyCond = status.conditions?.find((c) => c.type === 'Ready');
      const taints = (
        (node.spec as { taints?: { key: string; effect: string; timeAdded?: string }[] } | undefined)
          ?.taints ?? []
      ).slice();
      const lost = now - last > timings.gracePeriodMs;
      if (lost && readyCond?.status !== 'Unknown') {
        const conditions = (status.conditions ?? []).map((c) =>
          ['Ready', 'MemoryPressure', 'DiskPressure', 'PIDPressure'].includes(c.type)
            ? {
                ...c,
                status: 'Unknown',
                reason: LOST_REASON,
                message: 'Kubelet stopped posting node status.',
                lastTransitionTime: stamp(),
              }
            : c,
        );
        if (!conditions.some((c) => c.type === 'Ready')) {
          conditions.push({
            type: 'Ready',
            status: 'Unknown',
            reason: LOST_REASON,
            message: 'Kubelet stopped posting node status.',
            lastTransitionTime: stamp(),
          });
        }
        await ctx.client.patch(
          pathOf('nodes', undefined, name, 'status'),
          { status: { conditions } },
          'merge',
        );
        if (!taints.some((t) => t.key === UNREACHABLE)) {
          taints.push(
            { key: UNREACHABLE, effect: 'NoSchedule', timeAdded: stamp() },
            { key: UNREACHABLE, effect: 'NoExecute', timeAdded: stamp() },
          );
          await ctx.client.patch(pathOf('nodes', undefined, name), { spec: { taints } }, 'merge');
        }
        await ctx.events.record(
          { apiVersion: 'v1', kind: 'Node', metadata: { ...node.metadata, namespace: 'default' } },
          'Normal',
          'NodeNotReady',
          `Node ${name} status is now: NodeNotReady`,
          { component: 'node-controller' },
        );
        await markPods(name, false);
      } else if (lost && readyCond?.status === 'Unknown') {
        await markPods(name, false);
        const since = Date.parse(readyCond.lastTransitionTime ?? new Date(now).toISOString());
        if (now - since > timings.evictionTimeoutMs) {
          for (const pod of pods.list()) {
            if (
              (pod.spec as { nodeName?: string } | undefined)?.nodeName !== name ||
              pod.metadata?.deletionTimestamp
            )
              continue;
            await ctx.client
              .delete(pathOf('pods', pod.metadata?.namespace, pod.metadata?.name))
              .catch(() => undefined);
          }
        }
      } else if (!lost) {
        // The agent's heartbeat may already have set Ready=True; the taints and the pods' Ready
        // conditions are still this controller's to undo.
        const wasLost = readyCond?.status === 'Unknown' && readyCond.reason === LOST_REASON;
        const tainted = taints.some((t) => t.key === UNREACHABLE);
        if (!wasLost && !tainted) continue;
        const conditions = (status.conditions ?? []).map((c) =>
          c.reason === LOST_REASON
            ? {
                ...c,
                status: c.type === 'Ready' ? 'True' : 'False',
                reason: c.type === 'Ready' ? 'KubeletReady' : 'KubeletHasSufficientMemory',
                message: c.type === 'Ready' ? 'kubelet is posting ready status' : '',
                lastTransitionTime: stamp(),
              }
            : c,
        );
        if (wasLost) {
          await ctx.client.patch(
            pathOf('nodes', undefined, name, 'status'),
            { status: { conditions } },
            'merge',
          );
        }
        if (tainted) {
          await ctx.client.patch(
            pathOf('nodes', undefined, name),
            { spec: { taints: taints.filter((t) => t.key !== UNREACHABLE) } },
            'merge',
          );
        }
        await markPods(name, true);
      }
    }
  }

  const timer = setInterval(() => {
    if (busy) return;
    busy = true;
    check()
      .catch((error: unknown) => ctx.log({ msg: 'node lifecycle check failed', error: String(error) }))
      .finally(() => (busy = false));
  }, timings.monitorPeriodMs).unref();
  return { stop: () => clearInterval(timer) };
}
