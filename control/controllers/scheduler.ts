/**
 * The scheduler's decision for one pod, pure: filter the nodes as kube-scheduler's default
 * plugins do (node ready and schedulable, nodeSelector, taints and tolerations, requested
 * CPU/memory/pods against allocatable, host ports), score the rest by least-requested resources
 * plus spreading pods of one owner, and explain a failure the way `kubectl describe` shows it.
 */
import { parseQuantity } from './quantity.js';

interface Taint {
  key: string;
  value?: string;
  effect: string;
}
interface Toleration {
  key?: string;
  operator?: string;
  value?: string;
  effect?: string;
}
interface Container {
  resources?: { requests?: Record<string, string | number> };
  ports?: { hostPort?: number; containerPort: number; protocol?: string; hostIP?: string }[];
}

export interface SchedPod {
  metadata: { name?: string; namespace?: string; ownerReferences?: { uid: string; controller?: boolean }[] };
  spec: {
    nodeName?: string;
    nodeSelector?: Record<string, string>;
    tolerations?: Toleration[];
    containers: Container[];
    initContainers?: Container[];
  };
  status?: { phase?: string };
}

export interface SchedNode {
  metadata: { name: string; labels?: Record<string, string> };
  spec?: { unschedulable?: boolean; taints?: Taint[] };
  status?: {
    allocatable?: Record<string, string | number>;
    conditions?: { type: string; status: string }[];
  };
}

export type ScheduleResult = { node: string } | { message: string };

/** Requests summed over containers, with init containers as kube-scheduler counts them (max). */
export function podRequests(pod: SchedPod): { cpu: number; memory: number } {
  const sum = (cs: Container[] = [], key: string) =>
    cs.reduce((t, c) => t + parseQuantity(c.resources?.requests?.[key] ?? 0), 0);
  const maxInit = (key: string) =>
    Math.max(
      0,
      ...(pod.spec.initContainers ?? []).map((c) => parseQuantity(c.resources?.requests?.[key] ?? 0)),
    );
  return {
    cpu: Math.max(sum(pod.spec.containers, 'cpu'), maxInit('cpu')),
    memory: Math.max(sum(pod.spec.containers, 'memory'), maxInit('memory')),
  };
}

function tolerates(tolerations: Toleration[] = [], taint: Taint): boolean {
  return tolerations.some((t) => {
    if (t.effect !== undefined && t.effect !== '' && t.effect !== taint.effect) return false;
    if (t.operator === 'Exists') return t.key === undefined || t.key === '' || t.key === taint.key;
    return t.key === taint.key && (t.value ?? '') === (taint.value ?? '');
  });
}

const hostPorts = (pod: SchedPod) =>
  pod.spec.containers.flatMap((c) =>
    (c.ports ?? [])
      .filter((p) => (p.hostPort ?? 0) > 0)
      .map((p) => ({ port: p.hostPort as number, protocol: p.protocol ?? 'TCP', ip: p.hostIP || '0.0.0.0' })),
  );

const active = (p: SchedPod) => p.status?.phase !== 'Succeeded' && p.status?.phase !== 'Failed';

/** Why `node` cannot run `pod`, or undefined when it can. */
export function filterNode(pod: SchedPod, node: SchedNode, podsOnNode: readonly SchedPod[]): string[] {
  const reasons: string[] = [];
  const ready = node.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
  if (node.spec?.unschedulable) reasons.push('node(s) were unschedulable');
  const taints = [...(node.spec?.taints ?? [])];
  if (!ready && !taints.some((t) => t.key.startsWith('node.kubernetes.io/'))) {
    taints.push({ key: 'node.kubernetes.io/not-ready', effect: 'NoSchedule' });
  }
  const untolerated = taints.find(
    (t) => (t.effect === 'NoSchedule' || t.effect === 'NoExecute') && !tolerates(pod.spec.tolerations, t),
  );
  if (untolerated)
    reasons.push(`node(s) had untolerated taint {${untolerated.key}: ${untolerated.value ?? ''}}`);
  const labels = node.metadata.labels ?? {};
  if (Object.entries(pod.spec.nodeSelector ?? {}).some(([k, v]) => labels[k] !== v)) {
    reasons.push("node(s) didn't match Pod's node affinity/selector");
  }
  const others = podsOnNode.filter(active);
  const alloc = node.status?.allocatable ?? {};
  const want = podRequests(pod);
  const used = others
    .map(podRequests)
    .reduce((a, b) => ({ cpu: a.cpu + b.cpu, memory: a.memory + b.memory }), {
      cpu: 0,
      memory: 0,
    });
  if (alloc.pods !== undefined && others.length + 1 > parseQuantity(alloc.pods))
    reasons.push('Too many pods');
  if (alloc.cpu !== undefined && want.cpu > 0 && used.cpu + want.cpu > parseQuantity(alloc.cpu))
    reasons.push('Insufficient cpu');
  if (
    alloc.memory !== undefined &&
    want.memory > 0 &&
    used.memory + want.memory > parseQuantity(alloc.memory)
  )
    reasons.push('Insufficient memory');
  const taken = others.flatMap(hostPorts);
  const clash = hostPorts(pod).some((w) =>
    taken.some(
      (t) =>
        t.port === w.port &&
        t.protocol === w.protocol &&
        (t.ip === w.ip || t.ip === '0.0.0.0' || w.ip === '0.0.0.0'),
    ),
  );
  if (clash) reasons.push("node(s) didn't have free ports for the requested pod ports");
  return reasons;
}

function score(pod: SchedPod, node: SchedNode, podsOnNode: readonly SchedPod[]): number {
  const alloc = node.status?.allocatable ?? {};
  const want = podRequests(pod);
  const others = podsOnNode.filter(active);
  const used = others
    .map(podRequests)
    .reduce((a, b) => ({ cpu: a.cpu + b.cpu, memory: a.memory + b.memory }), want);
  const free = (total: string | number | undefined, u: number) => {
    const t = total === undefined ? 0 : parseQuantity(total);
    return t <= 0 ? 0 : Math.max(0, (t - u) / t);
  };
  const leastRequested = ((free(alloc.cpu, used.cpu) + free(alloc.memory, used.memory)) / 2) * 100;
  const owner = pod.metadata.ownerReferences?.find((o) => o.controller)?.uid;
  const siblings =
    owner === undefined
      ? 0
      : others.filter((p) => p.metadata.ownerReferences?.some((o) => o.uid === owner)).length;
  // Spreading weighs more than resources so a ReplicaSet's pods land evenly, as the default
  // PodTopologySpread/SelectorSpread scoring achieves on small clusters.
  return leastRequested - siblings * 1000;
}

/** Picks the node for `pod`, or explains why none fits in kube-scheduler's words. */
export function schedule(
  pod: SchedPod,
  nodes: readonly SchedNode[],
  podsByNode: ReadonlyMap<string, readonly SchedPod[]>,
): ScheduleResult {
  const counts = new Map<string, number>();
  let best: { name: string; score: number } | undefined;
  const sorted = [...nodes].sort((a, b) => a.metadata.name.localeCompare(b.metadata.name));
  for (const node of sorted) {
    const pods = podsByNode.get(node.metadata.name) ?? [];
    const reasons = filterNode(pod, node, pods);
    if (reasons.length > 0) {
      for (const r of reasons) counts.set(r, (counts.get(r) ?? 0) + 1);
      continue;
    }
    const s = score(pod, node, pods);
    if (best === undefined || s > best.score) best = { name: node.metadata.name, score: s };
  }
  if (best !== undefined) return { node: best.name };
  const parts = [...counts].map(([reason, n]) => `${n} ${reason}`).sort();
  const detail = parts.length > 0 ? ` ${parts.join(', ')}.` : '';
  return { message: `0/${nodes.length} nodes are available:${detail}` };
}
