/**
 * The ReplicaSet controller's logic, pure: which pods to create or delete so a ReplicaSet has
 * `spec.replicas` active pods, and the status it reports. Follows kube-controller-manager:
 * pods are named `<rs>-<random>`, owned by the ReplicaSet, and deletion picks the least
 * valuable pods first (unscheduled, pending, not ready, then the youngest).
 */
import type { OwnerReference } from '../objects.js';

export type { OwnerReference };

export interface PodLike {
  metadata: {
    name?: string;
    generateName?: string;
    namespace?: string;
    uid?: string;
    labels?: Record<string, string>;
    creationTimestamp?: string;
    deletionTimestamp?: string;
    ownerReferences?: OwnerReference[];
  };
  spec?: { nodeName?: string; [k: string]: unknown };
  status?: { phase?: string; conditions?: { type: string; status: string; lastTransitionTime?: string }[] };
}

export interface PodTemplate {
  metadata?: { labels?: Record<string, string>; annotations?: Record<string, string> };
  spec?: Record<string, unknown>;
}

export interface ReplicaSetLike {
  metadata: {
    name: string;
    namespace: string;
    uid: string;
    generation?: number;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    creationTimestamp?: string;
    ownerReferences?: OwnerReference[];
  };
  spec: {
    replicas?: number;
    minReadySeconds?: number;
    selector?: { matchLabels?: Record<string, string> };
    template?: PodTemplate;
  };
  status?: Record<string, unknown>;
}

export const isActive = (p: PodLike) =>
  p.metadata.deletionTimestamp === undefined &&
  p.status?.phase !== 'Succeeded' &&
  p.status?.phase !== 'Failed';

export function readySince(p: PodLike): string | undefined {
  const c = p.status?.conditions?.find((x) => x.type === 'Ready');
  return c?.status === 'True' ? (c.lastTransitionTime ?? '') : undefined;
}

/** Ready for at least minReadySeconds at `now`. */
export function isAvailable(p: PodLike, minReadySeconds: number, now: Date): boolean {
  const since = readySince(p);
  if (since === undefined) return false;
  if (minReadySeconds <= 0 || since === '') return true;
  return now.getTime() - Date.parse(since) >= minReadySeconds * 1000;
}

export const ownedBy = (p: { metadata: { ownerReferences?: OwnerReference[] } }, uid: string) =>
  p.metadata.ownerReferences?.some((o) => o.uid === uid && o.controller === true) ?? false;

/** The pod the ReplicaSet creates from its template. */
export function podFromTemplate(rs: ReplicaSetLike): PodLike & { apiVersion: string; kind: string } {
  const t = rs.spec.template ?? {};
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      ...(t.metadata ?? {}),
      namespace: rs.metadata.namespace,
      labels: { ...(t.metadata?.labels ?? {}) },
      ownerReferences: [
        {
          apiVersion: 'apps/v1',
          kind: 'ReplicaSet',
          name: rs.metadata.name,
          uid: rs.metadata.uid,
          controller: true,
          blockOwnerDeletion: true,
        },
      ],
      generateName: `${rs.metadata.name}-`,
    },
    spec: structuredClone(t.spec ?? {}),
  };
}

/** Order in which surplus pods are deleted: least valuable first, as upstream's ActivePods sort. */
export function deletionOrder(pods: readonly PodLike[]): PodLike[] {
  const rank = (p: PodLike) => [
    p.spec?.nodeName ? 1 : 0,
    p.status?.phase === 'Pending' ? 0 : p.status?.phase === 'Running' ? 2 : 1,
    readySince(p) === undefined ? 0 : 1,
  ];
  return [...pods].sort((a, b) => {
    const ra = rank(a);
    const rb = rank(b);
    for (let i = 0; i < ra.length; i++) if (ra[i] !== rb[i]) return ra[i]! - rb[i]!;
    // Younger pods go first.
    return (b.metadata.creationTimestamp ?? '').localeCompare(a.metadata.creationTimestamp ?? '');
  });
}

export interface ReplicaSetDecision {
  create: number;
  delete: PodLike[];
  status: {
    replicas: number;
    fullyLabeledReplicas: number;
    readyReplicas: number;
    availableReplicas: number;
    observedGeneration: number;
  };
}

/** Burst limit per sync, like the upstream controller's slow-start batches. */
export const MAX_BURST = 500;

export function reconcileReplicaSet(
  rs: ReplicaSetLike,
  pods: readonly PodLike[],
  now: Date,
): ReplicaSetDecision {
  const mine = pods.filter((p) => ownedBy(p, rs.metadata.uid));
  const active = mine.filter(isActive);
  const want = rs.spec.replicas ?? 1;
  const diff = active.length - want;
  const templateLabels = rs.spec.template?.metadata?.labels ?? {};
  const minReady = rs.spec.minReadySeconds ?? 0;
  return {
    create: diff < 0 ? Math.min(-diff, MAX_BURST) : 0,
    delete: diff > 0 ? deletionOrder(active).slice(0, Math.min(diff, MAX_BURST)) : [],
    status: {
      replicas: active.length,
      fullyLabeledReplicas: active.filter((p) =>
        Object.entries(templateLabels).every(([k, v]) => p.metadata.labels?.[k] === v),
      ).length,
      readyReplicas: active.filter((p) => readySince(p) !== undefined).length,
      availableReplicas: active.filter((p) => isAvailable(p, minReady, now)).length,
      observedGeneration: rs.metadata.generation ?? 1,
    },
  };
}
