import {
  CORE,
  META,
  bool,
  int32,
  int64,
  intOrString,
  kind,
  obj,
  ref,
  str,
  type Definitions,
} from '../dsl.js';
import { conditionList, selectorRef } from './meta.js';
import { withList } from './core.js';

const a = (name: string) => `io.k8s.api.apps.v1.${name}`;
const gvk = (k: string) => ({ group: 'apps', version: 'v1', kind: k });
const replicaCondition = (description: string) =>
  obj(
    description,
    {
      type: str('Condition type.'),
      status: str('True, False or Unknown.'),
      lastUpdateTime: ref(`${META}Time`, 'When the condition was last updated.'),
      lastTransitionTime: ref(`${META}Time`, 'When status last changed.'),
      reason: str('CamelCase reason for the last transition.'),
      message: str('Human-readable details.'),
    },
    ['type', 'status'],
  );

/** apps/v1 Deployment and ReplicaSet, and the autoscaling/v1 Scale of their scale subresource. */
export const appsDefinitions: Definitions = {
  [a('RollingUpdateDeployment')]: obj('Parameters of a rolling update.', {
    maxUnavailable: intOrString(
      'Pods that may be unavailable during the update, as a count or a percentage.',
    ),
    maxSurge: intOrString('Pods that may exist above the desired count, as a count or a percentage.'),
  }),
  [a('DeploymentStrategy')]: obj('How old pods are replaced by new ones.', {
    type: str('RollingUpdate (default) or Recreate.'),
    rollingUpdate: ref(a('RollingUpdateDeployment'), 'Parameters of RollingUpdate.'),
  }),
  [a('DeploymentSpec')]: obj(
    'Desired state of a Deployment.',
    {
      replicas: int32('Desired number of pods; defaults to 1.'),
      selector: selectorRef(
        'Pods managed by the Deployment; must match the template labels and cannot change.',
      ),
      template: ref(`${CORE}PodTemplateSpec`, 'Pods to create.'),
      strategy: {
        ...ref(a('DeploymentStrategy'), 'How old pods are replaced.'),
        'x-kubernetes-patch-strategy': 'retainKeys',
      },
      minReadySeconds: int32('Seconds a new pod must be ready before it counts as available.'),
      revisionHistoryLimit: int32('Old ReplicaSets kept for rollback; defaults to 10.'),
      paused: bool('Stop rolling out template changes.'),
      progressDeadlineSeconds: int32(
        'Seconds without progress before the rollout is reported failed; defaults to 600.',
      ),
    },
    ['selector', 'template'],
  ),
  [a('DeploymentCondition')]: replicaCondition('One aspect of the Deployment state.'),
  [a('DeploymentStatus')]: obj('Observed state of a Deployment.', {
    observedGeneration: int64('metadata.generation this status is about.'),
    replicas: int32('Pods targeted by the Deployment.'),
    updatedReplicas: int32('Pods with the current template.'),
    readyReplicas: int32('Ready pods.'),
    availableReplicas: int32('Pods ready for at least minReadySeconds.'),
    unavailableReplicas: int32('Pods still needed for full availability.'),
    terminatingReplicas: int32('Pods being terminated.'),
    conditions: conditionList(a('DeploymentCondition'), 'Current conditions.'),
    collisionCount: int32('Counter used to avoid name collisions of ReplicaSets.'),
  }),
  ...withList(
    a('Deployment'),
    'Declarative updates of a set of identical pods.',
    kind('Declarative updates of a set of identical pods, through ReplicaSets.', gvk('Deployment'), {
      spec: ref(a('DeploymentSpec'), 'Desired state.'),
      status: ref(a('DeploymentStatus'), 'Observed state.'),
    }),
  ),
  [a('ReplicaSetSpec')]: obj(
    'Desired state of a ReplicaSet.',
    {
      replicas: int32('Desired number of pods; defaults to 1.'),
      minReadySeconds: int32('Seconds a new pod must be ready before it counts as available.'),
      selector: selectorRef('Pods managed by the ReplicaSet; must match the template labels.'),
      template: ref(`${CORE}PodTemplateSpec`, 'Pods to create.'),
    },
    ['selector'],
  ),
  [a('ReplicaSetCondition')]: replicaCondition('One aspect of the ReplicaSet state.'),
  [a('ReplicaSetStatus')]: obj(
    'Observed state of a ReplicaSet.',
    {
      replicas: int32('Pods that exist.'),
      fullyLabeledReplicas: int32('Pods whose labels match the template.'),
      readyReplicas: int32('Ready pods.'),
      availableReplicas: int32('Pods ready for at least minReadySeconds.'),
      terminatingReplicas: int32('Pods being terminated.'),
      observedGeneration: int64('metadata.generation this status is about.'),
      conditions: conditionList(a('ReplicaSetCondition'), 'Current conditions.'),
    },
    ['replicas'],
  ),
  ...withList(
    a('ReplicaSet'),
    'Keeps a number of identical pods running.',
    kind('Keeps a number of identical pods running.', gvk('ReplicaSet'), {
      spec: ref(a('ReplicaSetSpec'), 'Desired state.'),
      status: ref(a('ReplicaSetStatus'), 'Observed state.'),
    }),
  ),
  'io.k8s.api.autoscaling.v1.ScaleSpec': obj('Desired scale.', {
    replicas: int32('Desired number of pods.'),
  }),
  'io.k8s.api.autoscaling.v1.ScaleStatus': obj(
    'Observed scale.',
    {
      replicas: int32('Current number of pods.'),
      selector: str('Label selector of the pods, in string form.'),
    },
    ['replicas'],
  ),
  'io.k8s.api.autoscaling.v1.Scale': kind(
    'The scale subresource of a workload.',
    { group: 'autoscaling', version: 'v1', kind: 'Scale' },
    {
      spec: ref('io.k8s.api.autoscaling.v1.ScaleSpec', 'Desired scale.'),
      status: ref('io.k8s.api.autoscaling.v1.ScaleStatus', 'Observed scale.'),
    },
  ),
};
