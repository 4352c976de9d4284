import { asArr, asObj, type Obj } from '../validate/util.js';

const setIfAbsent = (o: Obj, key: string, value: unknown): void => {
  if (o[key] === undefined || o[key] === null || o[key] === '') o[key] = value;
};

function child(o: Obj, key: string): Obj | undefined {
  return asObj(o[key]);
}

/** Latest (or no) tag means the image may move, so upstream pulls it always. */
export function defaultPullPolicy(image: string): 'Always' | 'IfNotPresent' {
  if (image.includes('@')) return 'IfNotPresent';
  const lastSegment = image.split('/').pop() ?? '';
  const tag = lastSegment.includes(':') ? lastSegment.split(':').pop() : undefined;
  return tag === undefined || tag === 'latest' ? 'Always' : 'IfNotPresent';
}

function defaultProbe(probe: Obj | undefined): void {
  if (!probe) return;
  setIfAbsent(probe, 'timeoutSeconds', 1);
  setIfAbsent(probe, 'periodSeconds', 10);
  setIfAbsent(probe, 'successThreshold', 1);
  setIfAbsent(probe, 'failureThreshold', 3);
  const http = child(probe, 'httpGet');
  if (http) {
    setIfAbsent(http, 'path', '/');
    setIfAbsent(http, 'scheme', 'HTTP');
  }
  const grpc = child(probe, 'grpc');
  if (grpc && grpc.service === undefined) grpc.service = '';
}

function defaultHandler(handler: Obj | undefined): void {
  const http = handler ? child(handler, 'httpGet') : undefined;
  if (http) {
    setIfAbsent(http, 'path', '/');
    setIfAbsent(http, 'scheme', 'HTTP');
  }
}

function defaultFieldRefs(items: unknown): void {
  for (const item of asArr(items)) {
    const fieldRef = asObj(asObj(item)?.fieldRef);
    if (fieldRef) setIfAbsent(fieldRef, 'apiVersion', 'v1');
  }
}

function defaultContainer(c: Obj, hostNetwork: boolean): void {
  const image = typeof c.image === 'string' ? c.image : '';
  setIfAbsent(c, 'imagePullPolicy', defaultPullPolicy(image));
  setIfAbsent(c, 'terminationMessagePath', '/dev/termination-log');
  setIfAbsent(c, 'terminationMessagePolicy', 'File');
  if (c.resources === undefined) c.resources = {};
  for (const port of asArr(c.ports)) {
    const p = asObj(port);
    if (!p) continue;
    setIfAbsent(p, 'protocol', 'TCP');
    if (hostNetwork && (p.hostPort === undefined || p.hostPort === 0)) p.hostPort = p.containerPort;
  }
  for (const env of asArr(c.env)) {
    const fieldRef = asObj(asObj(asObj(env)?.valueFrom)?.fieldRef);
    if (fieldRef) setIfAbsent(fieldRef, 'apiVersion', 'v1');
  }
  defaultProbe(child(c, 'livenessProbe'));
  defaultProbe(child(c, 'readinessProbe'));
  defaultProbe(child(c, 'startupProbe'));
  const lifecycle = child(c, 'lifecycle');
  if (lifecycle) {
    defaultHandler(child(lifecycle, 'postStart'));
    defaultHandler(child(lifecycle, 'preStop'));
  }
}

function defaultVolume(v: Obj): void {
  for (const key of ['secret', 'configMap', 'downwardAPI', 'projected']) {
    const source = child(v, key);
    if (source) setIfAbsent(source, 'defaultMode', 420);
  }
  const downward = child(v, 'downwardAPI');
  if (downward) defaultFieldRefs(downward.items);
  const projected = child(v, 'projected');
  for (const s of asArr(projected?.sources)) {
    const src = asObj(s);
    const d = src ? child(src, 'downwardAPI') : undefined;
    if (d) defaultFieldRefs(d.items);
    const token = src ? child(src, 'serviceAccountToken') : undefined;
    if (token) setIfAbsent(token, 'expirationSeconds', 3600);
  }
  const hostPath = child(v, 'hostPath');
  if (hostPath && hostPath.type === undefined) hostPath.type = '';
  const emptyDir = child(v, 'emptyDir');
  if (emptyDir === undefined && Object.keys(v).length === 1 && typeof v.name === 'string') v.emptyDir = {};
}

/** SetDefaults_PodSpec and friends; mutates `spec`. */
export function defaultPodSpec(spec: Obj): void {
  setIfAbsent(spec, 'restartPolicy', 'Always');
  setIfAbsent(spec, 'dnsPolicy', 'ClusterFirst');
  setIfAbsent(spec, 'terminationGracePeriodSeconds', 30);
  setIfAbsent(spec, 'schedulerName', 'default-scheduler');
  if (spec.securityContext === undefined) spec.securityContext = {};
  const hostNetwork = spec.hostNetwork === true;
  for (const list of ['initContainers', 'containers']) {
    for (const c of asArr(spec[list])) {
      const container = asObj(c);
      if (container) defaultContainer(container, hostNetwork);
    }
  }
  for (const v of asArr(spec.volumes)) {
    const volume = asObj(v);
    if (volume) defaultVolume(volume);
  }
}

const RESOURCE_NAMES = ['cpu', 'memory'];

/** The QoS class the pod status reports, from requests and limits of its containers. */
export function qosClass(spec: Obj): 'Guaranteed' | 'Burstable' | 'BestEffort' {
  const containers = [...asArr(spec.initContainers), ...asArr(spec.containers)].map((c) => asObj(c) ?? {});
  let any = false;
  let guaranteed = true;
  for (const c of containers) {
    const res = asObj(c.resources) ?? {};
    const requests = asObj(res.requests) ?? {};
    const limits = asObj(res.limits) ?? {};
    for (const name of RESOURCE_NAMES) {
      const req = requests[name] ?? limits[name];
      if (req !== undefined || limits[name] !== undefined) any = true;
      if (limits[name] === undefined || String(req) !== String(limits[name])) guaranteed = false;
    }
  }
  if (!any) return 'BestEffort';
  return guaranteed ? 'Guaranteed' : 'Burstable';
}

/** A Pod (not a template) also gets the defaults admission and the create strategy add. */
export function defaultPod(pod: Obj): void {
  const spec = asObj(pod.spec);
  if (!spec) return;
  defaultPodSpec(spec);
  setIfAbsent(spec, 'enableServiceLinks', true);
  setIfAbsent(spec, 'serviceAccountName', 'default');
  setIfAbsent(spec, 'serviceAccount', spec.serviceAccountName);
  if (spec.priority === undefined) spec.priority = 0;
  setIfAbsent(spec, 'preemptionPolicy', 'PreemptLowerPriority');
  const status = asObj(pod.status) ?? {};
  setIfAbsent(status, 'phase', 'Pending');
  setIfAbsent(status, 'qosClass', qosClass(spec));
  pod.status = status;
}
