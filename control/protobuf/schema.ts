/**
 * Field tables of the Kubernetes messages kubectl's typed commands send, by field number, as
 * the upstream k8s.io/api and apimachinery `generated.proto` files number them. Fields not
 * listed (status, security contexts, cloud volume sources, …) are skipped on decode.
 *
 * Each field is written `name: type`:
 * - type is a scalar (string, bytes, bool, int32, int64), one of the messages below, or one
 *   of the special messages that JSON shows as scalars (Quantity, Time, IntOrString);
 * - `[T]` is a repeated field, `{T}` a map<string, T>;
 * - `name?` marks a Go pointer field: present on the wire means set, so its zero value is
 *   kept (`replicas: 0`, `emptyDir: {}`); other fields follow omitempty;
 * - `...name` marks an embedded Go struct whose fields JSON shows inline in the parent.
 */

export const SCALARS = [
  'string',
  'bytes',
  'bool',
  'int32',
  'int64',
  'Quantity',
  'Time',
  'IntOrString',
] as const;
export type Scalar = (typeof SCALARS)[number];

export interface FieldDef {
  readonly name: string;
  /** A scalar or a message name. */
  readonly type: string;
  readonly kind: 'single' | 'repeated' | 'map';
  readonly keep: boolean;
  readonly inline: boolean;
}

/** Scalars carried as varints; all others are length-delimited. */
export const VARINT_TYPES: ReadonlySet<string> = new Set(['bool', 'int32', 'int64']);

export const isScalar = (type: string): type is Scalar => (SCALARS as readonly string[]).includes(type);

const OBJECT = { 1: 'metadata: ObjectMeta' };

const TABLES: Record<string, Record<number, string>> = {
  // meta/v1
  ObjectMeta: {
    1: 'name: string',
    2: 'generateName: string',
    3: 'namespace: string',
    5: 'uid: string',
    6: 'resourceVersion: string',
    7: 'generation: int64',
    8: 'creationTimestamp: Time',
    9: 'deletionTimestamp?: Time',
    10: 'deletionGracePeriodSeconds?: int64',
    11: 'labels: {string}',
    12: 'annotations: {string}',
    13: 'ownerReferences: [OwnerReference]',
    14: 'finalizers: [string]',
  },
  OwnerReference: {
    1: 'kind: string',
    3: 'name: string',
    4: 'uid: string',
    5: 'apiVersion: string',
    6: 'controller?: bool',
    7: 'blockOwnerDeletion?: bool',
  },
  LabelSelector: { 1: 'matchLabels: {string}', 2: 'matchExpressions: [LabelSelectorRequirement]' },
  LabelSelectorRequirement: { 1: 'key: string', 2: 'operator: string', 3: 'values: [string]' },

  // core/v1 objects
  Namespace: { ...OBJECT, 2: 'spec: NamespaceSpec' },
  NamespaceSpec: { 1: 'finalizers: [string]' },
  ConfigMap: { ...OBJECT, 2: 'data: {string}', 3: 'binaryData: {bytes}', 4: 'immutable?: bool' },
  Secret: {
    ...OBJECT,
    2: 'data: {bytes}',
    3: 'type: string',
    4: 'stringData: {string}',
    5: 'immutable?: bool',
  },
  ServiceAccount: {
    ...OBJECT,
    2: 'secrets: [ObjectReference]',
    3: 'imagePullSecrets: [LocalObjectReference]',
    4: 'automountServiceAccountToken?: bool',
  },
  ObjectReference: {
    1: 'kind: string',
    2: 'namespace: string',
    3: 'name: string',
    4: 'uid: string',
    5: 'apiVersion: string',
    6: 'resourceVersion: string',
    7: 'fieldPath: string',
  },
  LocalObjectReference: { 1: 'name: string' },

  Service: { ...OBJECT, 2: 'spec: ServiceSpec' },
  ServiceSpec: {
    1: 'ports: [ServicePort]',
    2: 'selector: {string}',
    3: 'clusterIP: string',
    4: 'type: string',
    5: 'externalIPs: [string]',
    7: 'sessionAffinity: string',
    8: 'loadBalancerIP: string',
    9: 'loadBalancerSourceRanges: [string]',
    10: 'externalName: string',
    11: 'externalTrafficPolicy: string',
    12: 'healthCheckNodePort: int32',
    13: 'publishNotReadyAddresses: bool',
    14: 'sessionAffinityConfig?: SessionAffinityConfig',
    17: 'ipFamilyPolicy?: string',
    18: 'clusterIPs: [string]',
    19: 'ipFamilies: [string]',
    20: 'allocateLoadBalancerNodePorts?: bool',
    21: 'loadBalancerClass?: string',
    22: 'internalTrafficPolicy?: string',
    23: 'trafficDistribution?: string',
  },
  ServicePort: {
    1: 'name: string',
    2: 'protocol: string',
    3: 'port: int32',
    4: 'targetPort: IntOrString',
    5: 'nodePort: int32',
    6: 'appProtocol?: string',
  },
  SessionAffinityConfig: { 1: 'clientIP?: ClientIPConfig' },
  ClientIPConfig: { 1: 'timeoutSeconds?: int32' },

  Pod: { ...OBJECT, 2: 'spec: PodSpec' },
  PodTemplateSpec: { ...OBJECT, 2: 'spec: PodSpec' },
  PodSpec: {
    1: 'volumes: [Volume]',
    2: 'containers: [Container]',
    3: 'restartPolicy: string',
    4: 'terminationGracePeriodSeconds?: int64',
    5: 'activeDeadlineSeconds?: int64',
    6: 'dnsPolicy: string',
    7: 'nodeSelector: {string}',
    8: 'serviceAccountName: string',
    9: 'serviceAccount: string',
    10: 'nodeName: string',
    11: 'hostNetwork: bool',
    15: 'imagePullSecrets: [LocalObjectReference]',
    16: 'hostname: string',
    17: 'subdomain: string',
    19: 'schedulerName: string',
    20: 'initContainers: [Container]',
    21: 'automountServiceAccountToken?: bool',
    22: 'tolerations: [Toleration]',
    23: 'hostAliases: [HostAlias]',
    24: 'priorityClassName: string',
    25: 'priority?: int32',
    26: 'dnsConfig?: PodDNSConfig',
    30: 'enableServiceLinks?: bool',
  },
  Container: {
    1: 'name: string',
    2: 'image: string',
    3: 'command: [string]',
    4: 'args: [string]',
    5: 'workingDir: string',
    6: 'ports: [ContainerPort]',
    7: 'env: [EnvVar]',
    8: 'resources: ResourceRequirements',
    9: 'volumeMounts: [VolumeMount]',
    10: 'livenessProbe?: Probe',
    11: 'readinessProbe?: Probe',
    12: 'lifecycle?: Lifecycle',
    13: 'terminationMessagePath: string',
    14: 'imagePullPolicy: string',
    16: 'stdin: bool',
    17: 'stdinOnce: bool',
    18: 'tty: bool',
    19: 'envFrom: [EnvFromSource]',
    20: 'terminationMessagePolicy: string',
    22: 'startupProbe?: Probe',
  },
  ContainerPort: {
    1: 'name: string',
    2: 'hostPort: int32',
    3: 'containerPort: int32',
    4: 'protocol: string',
    5: 'hostIP: string',
  },
  EnvVar: { 1: 'name: string', 2: 'value: string', 3: 'valueFrom?: EnvVarSource' },
  EnvVarSource: {
    1: 'fieldRef?: ObjectFieldSelector',
    2: 'resourceFieldRef?: ResourceFieldSelector',
    3: 'configMapKeyRef?: ConfigMapKeySelector',
    4: 'secretKeyRef?: SecretKeySelector',
  },
  ObjectFieldSelector: { 1: 'apiVersion: string', 2: 'fieldPath: string' },
  ResourceFieldSelector: { 1: 'containerName: string', 2: 'resource: string', 3: 'divisor: Quantity' },
  ConfigMapKeySelector: {
    1: '...localObjectReference: LocalObjectReference',
    2: 'key: string',
    3: 'optional?: bool',
  },
  SecretKeySelector: {
    1: '...localObjectReference: LocalObjectReference',
    2: 'key: string',
    3: 'optional?: bool',
  },
  EnvFromSource: {
    1: 'prefix: string',
    2: 'configMapRef?: ConfigMapEnvSource',
    3: 'secretRef?: SecretEnvSource',
  },
  ConfigMapEnvSource: { 1: '...localObjectReference: LocalObjectReference', 2: 'optional?: bool' },
  SecretEnvSource: { 1: '...localObjectReference: LocalObjectReference', 2: 'optional?: bool' },
  ResourceRequirements: { 1: 'limits: {Quantity}', 2: 'requests: {Quantity}' },
  Probe: {
    1: '...handler: ProbeHandler',
    2: 'initialDelaySeconds: int32',
    3: 'timeoutSeconds: int32',
    4: 'periodSeconds: int32',
    5: 'successThreshold: int32',
    6: 'failureThreshold: int32',
    7: 'terminationGracePeriodSeconds?: int64',
  },
  ProbeHandler: { 1: 'exec?: ExecAction', 2: 'httpGet?: HTTPGetAction', 3: 'tcpSocket?: TCPSocketAction' },
  Lifecycle: { 1: 'postStart?: LifecycleHandler', 2: 'preStop?: LifecycleHandler' },
  LifecycleHandler: {
    1: 'exec?: ExecAction',
    2: 'httpGet?: HTTPGetAction',
    3: 'tcpSocket?: TCPSocketAction',
  },
  ExecAction: { 1: 'command: [string]' },
  HTTPGetAction: {
    1: 'path: string',
    2: 'port: IntOrString',
    3: 'host: string',
    4: 'scheme: string',
    5: 'httpHeaders: [HTTPHeader]',
  },
  HTTPHeader: { 1: 'name: string', 2: 'value: string' },
  TCPSocketAction: { 1: 'port: IntOrString', 2: 'host: string' },
  VolumeMount: {
    1: 'name: string',
    2: 'readOnly: bool',
    3: 'mountPath: string',
    4: 'subPath: string',
    5: 'mountPropagation?: string',
    6: 'subPathExpr: string',
  },
  Volume: { 1: 'name: string', 2: '...volumeSource: VolumeSource' },
  VolumeSource: {
    1: 'hostPath?: HostPathVolumeSource',
    2: 'emptyDir?: EmptyDirVolumeSource',
    6: 'secret?: SecretVolumeSource',
    10: 'persistentVolumeClaim?: PersistentVolumeClaimVolumeSource',
    19: 'configMap?: ConfigMapVolumeSource',
  },
  HostPathVolumeSource: { 1: 'path: string', 2: 'type?: string' },
  EmptyDirVolumeSource: { 1: 'medium: string', 2: 'sizeLimit?: Quantity' },
  SecretVolumeSource: {
    1: 'secretName: string',
    2: 'items: [KeyToPath]',
    3: 'defaultMode?: int32',
    4: 'optional?: bool',
  },
  ConfigMapVolumeSource: {
    1: '...localObjectReference: LocalObjectReference',
    2: 'items: [KeyToPath]',
    3: 'defaultMode?: int32',
    4: 'optional?: bool',
  },
  PersistentVolumeClaimVolumeSource: { 1: 'claimName: string', 2: 'readOnly: bool' },
  KeyToPath: { 1: 'key: string', 2: 'path: string', 3: 'mode?: int32' },
  Toleration: {
    1: 'key: string',
    2: 'operator: string',
    3: 'value: string',
    4: 'effect: string',
    5: 'tolerationSeconds?: int64',
  },
  HostAlias: { 1: 'ip: string', 2: 'hostnames: [string]' },
  PodDNSConfig: { 1: 'nameservers: [string]', 2: 'searches: [string]', 3: 'options: [PodDNSConfigOption]' },
  PodDNSConfigOption: { 1: 'name: string', 2: 'value?: string' },

  // apps/v1
  Deployment: { ...OBJECT, 2: 'spec: DeploymentSpec' },
  DeploymentSpec: {
    1: 'replicas?: int32',
    2: 'selector?: LabelSelector',
    3: 'template: PodTemplateSpec',
    4: 'strategy: DeploymentStrategy',
    5: 'minReadySeconds: int32',
    6: 'revisionHistoryLimit?: int32',
    7: 'paused: bool',
    9: 'progressDeadlineSeconds?: int32',
  },
  DeploymentStrategy: { 1: 'type: string', 2: 'rollingUpdate?: RollingUpdateDeployment' },
  RollingUpdateDeployment: { 1: 'maxUnavailable?: IntOrString', 2: 'maxSurge?: IntOrString' },
  ReplicaSet: { ...OBJECT, 2: 'spec: ReplicaSetSpec' },
  ReplicaSetSpec: {
    1: 'replicas?: int32',
    2: 'selector?: LabelSelector',
    3: 'template: PodTemplateSpec',
    4: 'minReadySeconds: int32',
  },

  // networking.k8s.io/v1
  Ingress: { ...OBJECT, 2: 'spec: IngressSpec' },
  IngressSpec: {
    1: 'defaultBackend?: IngressBackend',
    2: 'tls: [IngressTLS]',
    3: 'rules: [IngressRule]',
    4: 'ingressClassName?: string',
  },
  IngressTLS: { 1: 'hosts: [string]', 2: 'secretName: string' },
  IngressRule: { 1: 'host: string', 2: '...ingressRuleValue: IngressRuleValue' },
  IngressRuleValue: { 1: 'http?: HTTPIngressRuleValue' },
  HTTPIngressRuleValue: { 1: 'paths: [HTTPIngressPath]' },
  HTTPIngressPath: { 1: 'path: string', 2: 'backend: IngressBackend', 3: 'pathType?: string' },
  IngressBackend: { 3: 'resource?: TypedLocalObjectReference', 4: 'service?: IngressServiceBackend' },
  IngressServiceBackend: { 1: 'name: string', 2: 'port: ServiceBackendPort' },
  ServiceBackendPort: { 1: 'name: string', 2: 'number: int32' },
  TypedLocalObjectReference: { 1: 'apiGroup?: string', 2: 'kind: string', 3: 'name: string' },

  // authentication/v1 (`kubectl create token`)
  TokenRequest: { ...OBJECT, 2: 'spec: TokenRequestSpec' },
  TokenRequestSpec: {
    1: 'audiences: [string]',
    3: 'boundObjectRef?: BoundObjectReference',
    4: 'expirationSeconds?: int64',
  },
  BoundObjectReference: { 1: 'kind: string', 2: 'apiVersion: string', 3: 'name: string', 4: 'uid: string' },
};

/** Root message of each `apiVersion/kind` a protobuf body may carry. */
export const ROOTS: Record<string, string> = {
  'v1/Namespace': 'Namespace',
  'v1/ConfigMap': 'ConfigMap',
  'v1/Secret': 'Secret',
  'v1/ServiceAccount': 'ServiceAccount',
  'v1/Service': 'Service',
  'v1/Pod': 'Pod',
  'apps/v1/Deployment': 'Deployment',
  'apps/v1/ReplicaSet': 'ReplicaSet',
  'networking.k8s.io/v1/Ingress': 'Ingress',
  'authentication.k8s.io/v1/TokenRequest': 'TokenRequest',
};

const FIELD = /^(\.\.\.)?([A-Za-z]+)(\?)?: (\[(\w+)\]|\{(\w+)\}|(\w+))$/;

export function parseField(spec: string, where: string): FieldDef {
  const m = FIELD.exec(spec);
  if (!m) throw new Error(`malformed field spec "${spec}" in ${where}`);
  const type = (m[5] ?? m[6] ?? m[7])!;
  if (!isScalar(type) && !(type in TABLES)) throw new Error(`unknown type ${type} in ${where}`);
  // Repeated numbers may arrive packed and map values are read as bytes; no table needs either.
  if ((m[5] || m[6]) && VARINT_TYPES.has(type))
    throw new Error(`${spec} in ${where}: repeated or map ${type} is not supported`);
  return {
    name: m[2]!,
    type,
    kind: m[5] ? 'repeated' : m[6] ? 'map' : 'single',
    keep: m[3] === '?',
    inline: m[1] === '...',
  };
}

export const MESSAGES: ReadonlyMap<string, ReadonlyMap<number, FieldDef>> = new Map(
  Object.entries(TABLES).map(([message, fields]) => [
    message,
    new Map(Object.entries(fields).map(([n, spec]) => [Number(n), parseField(spec, message)])),
  ]),
);
