/**
 * The Deployment controller's logic, pure: from a Deployment and the ReplicaSets it owns, the
 * next step of its rollout (create the new ReplicaSet, scale ReplicaSets, delete old history)
 * and the status `kubectl rollout status` reads. Follows kube-controller-manager: the new
 * ReplicaSet is the one whose template equals the Deployment's (ignoring pod-template-hash);
 * RollingUpdate honours maxSurge/maxUnavailable; Recreate scales the old to zero first.
 */
import type { OwnerReference, PodTemplate, ReplicaSetLike } from './replicaset.js';
import { timestamp } from '../../kube/time.js';

export const REVISION = 'deployment.kubernetes.io/revision';
export const DESIRED_REPLICAS = 'deployment.kubernetes.io/desired-replicas';
export const MAX_REPLICAS = 'deployment.kubernetes.io/max-replicas';
export const HASH_LABEL = 'pod-template-hash';

export interface DeploymentLike {
  metadata: {
    name: string;
    namespace: string;
    uid: string;
    generation?: number;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
  spec: {
    replicas?: number;
    selector: { matchLabels?: Record<string, string>; matchExpressions?: unknown[] };
    template: PodTemplate;
    strategy?: {
      type?: string;
      rollingUpdate?: { maxSurge?: number | string; maxUnavailable?: number | string };
    };
    minReadySeconds?: number;
    revisionHistoryLimit?: number;
    paused?: boolean;
  };
  status?: { collisionCount?: number; conditions?: Condition[] };
}

export interface Condition {
  type: string;
  status: string;
  reason: string;
  message: string;
  lastUpdateTime: string;
  lastTransitionTime: string;
}

/** What the ReplicaSets report, as far as the rollout is concerned. */
type Rs = ReplicaSetLike & {
  status?: { replicas?: number; readyReplicas?: number; availableReplicas?: number };
};

export type DeploymentAction =
  | { type: 'create'; replicaSet: ReplicaSetLike & { apiVersion: string; kind: string } }
  | { type: 'scale'; name: string; replicas: number; annotations: Record<string, string> }
  | { type: 'annotate'; name: string; annotations: Record<string, string> }
  | { type: 'delete'; name: string };

export interface DeploymentPlan {
  actions: DeploymentAction[];
  revision: string;
  status: Record<string, unknown>;
}

const ALPHANUMS = 'bcdfghjklmnpqrstvwxz2456789';

/** A stable JSON text: object keys sorted, so equal templates hash and compare equal. */
export function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${stableJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/**
 * The pod-template-hash: FNV-32a of the template (and collision count), rendered with
 * Kubernetes' "safe" alphabet that avoids vowels and look-alike characters.
 */
export function podTemplateHash(template: PodTemplate, collisionCount = 0): string {
  let h = 0x811c9dc5;
  const text = stableJson(template) + (collisionCount > 0 ? String(collisionCount) : '');
  for (const byte of Buffer.from(text, 'utf8')) {
    h ^= byte;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return [...String(h)].map((c) => ALPHANUMS[c.charCodeAt(0) % ALPHANUMS.length]).join('');
}

function withoutHash(template: PodTemplate | undefined): string {
  const t = structuredClone(template ?? {});
  if (t.metadata?.labels) delete t.metadata.labels[HASH_LABEL];
  return stableJson(t);
}

/** The ReplicaSet whose pod template is the Deployment's, ignoring pod-template-hash. */
export function findNewReplicaSet<T extends ReplicaSetLike>(
  d: DeploymentLike,
  owned: readonly T[],
): T | undefined {
  const want = withoutHash(d.spec.template);
  return owned.find((rs) => withoutHash(rs.spec.template) === want);
}

/** Resolves an int-or-percent against `total`: surge rounds up, unavailable rounds down. */
export function resolveIntOrPercent(
  value: number | string | undefined,
  total: number,
  roundUp: boolean,
  dflt: string,
): number {
  const v = value ?? dflt;
  if (typeof v === 'number') return v;
  const m = /^(\d+)%$/.exec(v);
  if (!m) {
    if (/^\d+$/.test(v)) return Number(v);
    throw new Error(`invalid int-or-percent value "${v}"`);
  }
  const exact = (Number(m[1]) * total) / 100;
  return roundUp ? Math.ceil(exact) : Math.floor(exact);
}

export function surgeAndUnavailable(d: DeploymentLike): { maxSurge: number; maxUnavailable: number } {
  const desired = d.spec.replicas ?? 1;
  if (d.spec.strategy?.type === 'Recreate') return { maxSurge: 0, maxUnavailable: desired };
  const ru = d.spec.strategy?.rollingUpdate;
  const maxSurge = resolveIntOrPercent(ru?.maxSurge, desired, true, '25%');
  let maxUnavailable = resolveIntOrPercent(ru?.maxUnavailable, desired, false, '25%');
  if (maxSurge === 0 && maxUnavailable === 0) maxUnavailable = 1;
  return { maxSurge, maxUnavailable: Math.min(maxUnavailable, desired) };
}

const revisionOf = (rs: ReplicaSetLike) => Number(rs.metadata.annotations?.[REVISION] ?? 0) || 0;
const specReplicas = (rs: ReplicaSetLike) => rs.spec.replicas ?? 0;
const statusOf = (rs: Rs) => rs.status ?? {};

function condition(
  previous: Condition[] | undefined,
  type: string,
  status: string,
  reason: string,
  message: string,
  now: string,
): Condition {
  const old = previous?.find((c) => c.type === type);
  const transition = old !== undefined && old.status === status ? old.lastTransitionTime : now;
  const update =
    old !== undefined && old.status === status && old.reason === reason ? old.lastUpdateTime : now;
  return { type, status, reason, message, lastUpdateTime: update, lastTransitionTime: transition };
}

export function newReplicaSetFor(
  d: DeploymentLike,
  hash: string,
  replicas: number,
  revision: number,
  maxSurge: number,
) {
  const template = structuredClone(d.spec.template);
  template.metadata = {
    ...(template.metadata ?? {}),
    labels: { ...(template.metadata?.labels ?? {}), [HASH_LABEL]: hash },
  };
  const owner: OwnerReference = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    name: d.metadata.name,
    uid: d.metadata.uid,
    controller: true,
    blockOwnerDeletion: true,
  };
  const desired = d.spec.replicas ?? 1;
  return {
    apiVersion: 'apps/v1',
    kind: 'ReplicaSet',
    metadata: {
      name: `${d.metadata.name}-${hash}`,
      namespace: d.metadata.namespace,
      uid: '',
      labels: { ...(d.spec.template.metadata?.labels ?? {}), [HASH_LABEL]: hash },
      annotations: {
        [DESIRED_REPLICAS]: String(desired),
        [MAX_REPLICAS]: String(desired + maxSurge),
        [REVISION]: String(revision),
      },
      ownerReferences: [owner],
    },
    spec: {
      replicas,
      minReadySeconds: d.spec.minReadySeconds ?? 0,
      selector: {
        ...d.spec.selector,
        matchLabels: { ...(d.spec.selector.matchLabels ?? {}), [HASH_LABEL]: hash },
      },
      template,
    },
  };
}

/** The next step of a Deployment's rollout. `activeOldPods` counts pods of old ReplicaSets still running. */
export function planDeployment(
  d: DeploymentLike,
  owned: readonly Rs[],
  now: Date,
  activeOldPods = 0,
): DeploymentPlan {
  const desired = d.spec.replicas ?? 1;
  const nowText = timestamp(now);
  const { maxSurge, maxUnavailable } = surgeAndUnavailable(d);
  const newRs = findNewReplicaSet(d, owned);
  const old = owned.filter((rs) => rs !== newRs);
  const maxOldRevision = Math.max(0, ...old.map(revisionOf));
  const revision =
    newRs !== undefined && revisionOf(newRs) > maxOldRevision ? revisionOf(newRs) : maxOldRevision + 1;
  const actions: DeploymentAction[] = [];
  const rolloutAnnotations = () => ({
    [DESIRED_REPLICAS]: String(desired),
    [MAX_REPLICAS]: String(desired + maxSurge),
    [REVISION]: String(revision),
  });
  const planned = new Map<Rs, number>(owned.map((rs) => [rs, specReplicas(rs)]));
  let created = false;

  if (d.spec.paused !== true) {
    const oldTotal = old.reduce((t, rs) => t + specReplicas(rs), 0);
    if (d.spec.strategy?.type === 'Recreate') {
      for (const rs of old) if (specReplicas(rs) > 0) planned.set(rs, 0);
      const canStart = oldTotal === 0 && activeOldPods === 0;
      if (newRs === undefined) {
        actions.push({
          type: 'create',
          replicaSet: newReplicaSetFor(
            d,
            podTemplateHash(d.spec.template, d.status?.collisionCount),
            canStart ? desired : 0,
            revision,
            maxSurge,
          ),
        });
        created = true;
      } else if (canStart) planned.set(newRs, desired);
    } else if (newRs === undefined) {
      // Room left under desired + maxSurge decides how many new pods may start right away.
      const replicas =
        old.length === 0 ? desired : Math.max(0, Math.min(desired, desired + maxSurge - oldTotal));
      actions.push({
        type: 'create',
        replicaSet: newReplicaSetFor(
          d,
          podTemplateHash(d.spec.template, d.status?.collisionCount),
          replicas,
          revision,
          maxSurge,
        ),
      });
      created = true;
    } else if (oldTotal === 0) {
      planned.set(newRs, desired);
    } else {
      const total = owned.reduce((t, rs) => t + specReplicas(rs), 0);
      const newReplicas = specReplicas(newRs);
      if (total < desired + maxSurge && newReplicas < desired) {
        planned.set(newRs, Math.min(desired, newReplicas + (desired + maxSurge - total)));
      }
      const minAvailable = desired - maxUnavailable;
      const newUnavailable = newReplicas - (statusOf(newRs).availableReplicas ?? 0);
      let budget = total - minAvailable - newUnavailable;
      // First drop old pods that are not available anyway: they cost no availability.
      for (const rs of [...old].sort((a, b) => revisionOf(a) - revisionOf(b))) {
        if (budget <= 0) break;
        const unhealthy = specReplicas(rs) - (statusOf(rs).availableReplicas ?? 0);
        const cut = Math.min(budget, Math.max(0, unhealthy), planned.get(rs) ?? 0);
        if (cut > 0) {
          planned.set(rs, (planned.get(rs) ?? 0) - cut);
          budget -= cut;
        }
      }
      const available = owned.reduce((t, rs) => t + (statusOf(rs).availableReplicas ?? 0), 0);
      let scaleDown = Math.min(budget, available - minAvailable);
      for (const rs of [...old].sort((a, b) => revisionOf(a) - revisionOf(b))) {
        if (scaleDown <= 0) break;
        const cut = Math.min(scaleDown, planned.get(rs) ?? 0);
        if (cut > 0) {
          planned.set(rs, (planned.get(rs) ?? 0) - cut);
          scaleDown -= cut;
        }
      }
    }
  }

  for (const [rs, replicas] of planned) {
    const isNew = rs === newRs;
    const current = rs.metadata.annotations ?? {};
    const wanted = isNew ? { ...current, ...rolloutAnnotations() } : current;
    if (replicas !== specReplicas(rs)) {
      actions.push({ type: 'scale', name: rs.metadata.name, replicas, annotations: wanted });
    } else if (isNew && stableJson(current) !== stableJson(wanted)) {
      actions.push({ type: 'annotate', name: rs.metadata.name, annotations: wanted });
    }
  }

  const limit = d.spec.revisionHistoryLimit ?? 10;
  const idle = old
    .filter((rs) => (planned.get(rs) ?? 0) === 0 && (statusOf(rs).replicas ?? 0) === 0)
    .sort((a, b) => revisionOf(a) - revisionOf(b));
  for (const rs of idle.slice(0, Math.max(0, idle.length - limit)))
    actions.push({ type: 'delete', name: rs.metadata.name });

  const sum = (f: (rs: Rs) => number) => owned.reduce((t, rs) => t + f(rs), 0);
  const replicas = sum((rs) => statusOf(rs).replicas ?? 0);
  const updated = newRs === undefined ? 0 : (statusOf(newRs).replicas ?? 0);
  const ready = sum((rs) => statusOf(rs).readyReplicas ?? 0);
  const available = sum((rs) => statusOf(rs).availableReplicas ?? 0);
  const prev = d.status?.conditions;
  const minAvailable = desired - maxUnavailable;
  const complete =
    newRs !== undefined &&
    updated === desired &&
    replicas === desired &&
    (statusOf(newRs).availableReplicas ?? 0) === desired &&
    old.every((rs) => specReplicas(rs) === 0);
  const rsName =
    newRs?.metadata.name ??
    `${d.metadata.name}-${podTemplateHash(d.spec.template, d.status?.collisionCount)}`;
  const progressing = complete
    ? condition(
        prev,
        'Progressing',
        'True',
        'NewReplicaSetAvailable',
        `ReplicaSet "${rsName}" has successfully progressed.`,
        nowText,
      )
    : created
      ? condition(
          prev,
          'Progressing',
          'True',
          'NewReplicaSetCreated',
          `Created new replica set "${rsName}"`,
          nowText,
        )
      : condition(
          prev,
          'Progressing',
          'True',
          'ReplicaSetUpdated',
          `ReplicaSet "${rsName}" is progressing.`,
          nowText,
        );
  const availableCond =
    available >= minAvailable
      ? condition(
          prev,
          'Available',
          'True',
          'MinimumReplicasAvailable',
          'Deployment has minimum availability.',
          nowText,
        )
      : condition(
          prev,
          'Available',
          'False',
          'MinimumReplicasUnavailable',
          'Deployment does not have minimum availability.',
          nowText,
        );
  const status: Record<string, unknown> = {
    observedGeneration: d.metadata.generation ?? 1,
    replicas,
    updatedReplicas: updated,
    readyReplicas: ready,
    availableReplicas: available,
    unavailableReplicas: Math.max(0, sum(specReplicas) - available),
    conditions: [availableCond, progressing],
  };
  if (d.status?.collisionCount !== undefined) status.collisionCount = d.status.collisionCount;
  return { actions, revision: String(revision), status };
}
