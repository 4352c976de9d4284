import type { ResourceInfo } from '../../resources.js';
import type { JsonObject } from '../../store/types.js';
import { asArr, asObj, isIPv6, type Obj } from '../validate/util.js';
import { defaultPod, defaultPodSpec } from './pod.js';

const setIfAbsent = (o: Obj, key: string, value: unknown): void => {
  if (o[key] === undefined || o[key] === null || o[key] === '') o[key] = value;
};

const ensure = (o: Obj, key: string): Obj => {
  const existing = asObj(o[key]);
  if (existing) return existing;
  const created: Obj = {};
  o[key] = created;
  return created;
};

function defaultTemplate(spec: Obj): void {
  const template = asObj(spec.template);
  const podSpec = template ? asObj(template.spec) : undefined;
  if (podSpec) defaultPodSpec(podSpec);
}

function defaultService(svc: Obj): void {
  const spec = ensure(svc, 'spec');
  setIfAbsent(spec, 'type', 'ClusterIP');
  setIfAbsent(spec, 'sessionAffinity', 'None');
  if (spec.sessionAffinity === 'ClientIP') {
    const clientIP = ensure(ensure(spec, 'sessionAffinityConfig'), 'clientIP');
    setIfAbsent(clientIP, 'timeoutSeconds', 10800);
  }
  for (const p of asArr(spec.ports)) {
    const port = asObj(p);
    if (!port) continue;
    setIfAbsent(port, 'protocol', 'TCP');
    if (port.targetPort === undefined || port.targetPort === 0 || port.targetPort === '')
      port.targetPort = port.port;
  }
  const type = spec.type;
  const external = type === 'NodePort' || type === 'LoadBalancer' || asArr(spec.externalIPs).length > 0;
  if (external) setIfAbsent(spec, 'externalTrafficPolicy', 'Cluster');
  if (type !== 'ExternalName') {
    setIfAbsent(spec, 'internalTrafficPolicy', 'Cluster');
    const clusterIP = typeof spec.clusterIP === 'string' ? spec.clusterIP : '';
    setIfAbsent(spec, 'ipFamilyPolicy', 'SingleStack');
    if (asArr(spec.ipFamilies).length === 0) spec.ipFamilies = [isIPv6(clusterIP) ? 'IPv6' : 'IPv4'];
    if (clusterIP !== '' && asArr(spec.clusterIPs).length === 0) spec.clusterIPs = [clusterIP];
  }
  if (type === 'LoadBalancer' && spec.allocateLoadBalancerNodePorts === undefined)
    spec.allocateLoadBalancerNodePorts = true;
  if (svc.status === undefined) svc.status = { loadBalancer: {} };
}

function defaultDeployment(d: Obj): void {
  const spec = ensure(d, 'spec');
  if (spec.replicas === undefined) spec.replicas = 1;
  const strategy = ensure(spec, 'strategy');
  setIfAbsent(strategy, 'type', 'RollingUpdate');
  if (strategy.type === 'RollingUpdate') {
    const rolling = ensure(strategy, 'rollingUpdate');
    setIfAbsent(rolling, 'maxUnavailable', '25%');
    setIfAbsent(rolling, 'maxSurge', '25%');
  }
  if (spec.revisionHistoryLimit === undefined) spec.revisionHistoryLimit = 10;
  if (spec.progressDeadlineSeconds === undefined) spec.progressDeadlineSeconds = 600;
  defaultTemplate(spec);
}

function defaultReplicaSet(rs: Obj): void {
  const spec = ensure(rs, 'spec');
  if (spec.replicas === undefined) spec.replicas = 1;
  defaultTemplate(spec);
}

function defaultNamespace(ns: Obj): void {
  const spec = ensure(ns, 'spec');
  if (spec.finalizers === undefined) spec.finalizers = ['kubernetes'];
  setIfAbsent(ensure(ns, 'status'), 'phase', 'Active');
  const meta = ensure(ns, 'metadata');
  if (typeof meta.name === 'string' && meta.name !== '') {
    ensure(meta, 'labels')['kubernetes.io/metadata.name'] = meta.name;
  }
}

function defaultPortProtocols(ports: unknown): void {
  for (const p of asArr(ports)) {
    const port = asObj(p);
    if (port) setIfAbsent(port, 'protocol', 'TCP');
  }
}

function defaultNode(node: Obj): void {
  const status = asObj(node.status);
  if (status && status.allocatable === undefined && status.capacity !== undefined)
    status.allocatable = status.capacity;
}

const DEFAULTERS: Record<string, (o: Obj) => void> = {
  '/Namespace': defaultNamespace,
  '/Node': defaultNode,
  '/Pod': defaultPod,
  '/Service': defaultService,
  '/Endpoints': (o) => asArr(o.subsets).forEach((s) => defaultPortProtocols(asObj(s)?.ports)),
  '/Secret': (o) => setIfAbsent(o, 'type', 'Opaque'),
  'apps/Deployment': defaultDeployment,
  'apps/ReplicaSet': defaultReplicaSet,
  'discovery.k8s.io/EndpointSlice': (o) => defaultPortProtocols(o.ports),
  'metallb.io/IPAddressPool': (o) => {
    const spec = asObj(o.spec);
    if (!spec) return;
    if (spec.autoAssign === undefined) spec.autoAssign = true;
    if (spec.avoidBuggyIPs === undefined) spec.avoidBuggyIPs = false;
  },
};

/**
 * The object with the defaults kube-apiserver fills in for its kind (a new object; the input is
 * not changed). Values the caller set are kept; only missing fields are filled.
 */
export function defaultObject(info: ResourceInfo, obj: JsonObject): JsonObject {
  const out = structuredClone(obj);
  DEFAULTERS[`${info.group}/${info.kind}`]?.(out);
  return out;
}
