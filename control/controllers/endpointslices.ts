/**
 * The EndpointSlice controller's logic, pure: a Service and the pods of its namespace in, the
 * slices that should exist out, then the smallest set of creates, updates and deletes that gets
 * there from the slices that exist. Follows kube-controller-manager's endpointslice controller:
 * at most 100 endpoints per slice, one slice per distinct resolved port set, conditions
 * ready/serving/terminating, hostname for pods with hostname + subdomain = service name.
 */

export const MANAGED_BY = 'endpointslice-controller.k8s.io';
export const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';
export const MANAGED_BY_LABEL = 'endpointslice.kubernetes.io/managed-by';
export const TRIGGER_TIME_ANNOTATION = 'endpoints.kubernetes.io/last-change-trigger-time';
export const MAX_ENDPOINTS_PER_SLICE = 100;

interface Meta {
  name?: string;
  namespace?: string;
  uid?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  deletionTimestamp?: string;
  creationTimestamp?: string;
  resourceVersion?: string;
  generateName?: string;
  ownerReferences?: unknown[];
}

export interface ServicePort {
  name?: string;
  protocol?: string;
  port: number;
  targetPort?: number | string;
  appProtocol?: string;
}

export interface Service {
  metadata: Meta;
  spec: {
    selector?: Record<string, string>;
    clusterIP?: string;
    ports?: ServicePort[];
    publishNotReadyAddresses?: boolean;
  };
}

export interface Pod {
  metadata: Meta;
  spec: {
    nodeName?: string;
    hostname?: string;
    subdomain?: string;
    containers?: { ports?: { name?: string; containerPort: number; protocol?: string }[] }[];
  };
  status?: {
    phase?: string;
    podIP?: string;
    podIPs?: { ip: string }[];
    conditions?: { type: string; status: string; lastTransitionTime?: string }[];
  };
}

export interface SlicePort {
  name: string;
  protocol: string;
  port: number;
  appProtocol?: string;
}

export interface SliceEndpoint {
  addresses: string[];
  conditions: { ready: boolean; serving: boolean; terminating: boolean };
  nodeName?: string;
  hostname?: string;
  targetRef: { kind: 'Pod'; namespace: string; name: string; uid?: string };
}

export interface EndpointSlice {
  apiVersion: 'discovery.k8s.io/v1';
  kind: 'EndpointSlice';
  metadata: Meta;
  addressType: 'IPv4' | 'IPv6';
  ports: SlicePort[] | null;
  endpoints: SliceEndpoint[];
}

export interface SliceChanges {
  create: EndpointSlice[];
  update: EndpointSlice[];
  delete: EndpointSlice[];
  /** Every slice the service should have (created, updated or unchanged), e.g. to mirror Endpoints. */
  desired: EndpointSlice[];
}

const matches = (selector: Record<string, string>, labels: Record<string, string> = {}) =>
  Object.entries(selector).every(([k, v]) => labels[k] === v);

const isReady = (pod: Pod) =>
  pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;

/** The port a service port reaches on this pod, or undefined when a named port is missing. */
export function resolveTargetPort(port: ServicePort, pod: Pod): number | undefined {
  const target = port.targetPort ?? port.port;
  if (typeof target === 'number') return target;
  if (/^\d+$/.test(target)) return Number(target);
  const protocol = port.protocol ?? 'TCP';
  for (const c of pod.spec.containers ?? []) {
    for (const p of c.ports ?? [])
      if (p.name === target && (p.protocol ?? 'TCP') === protocol) return p.containerPort;
  }
  return undefined;
}

function podIPv4(pod: Pod): string | undefined {
  const ips = [pod.status?.podIP, ...(pod.status?.podIPs ?? []).map((p) => p.ip)];
  return ips.find((ip): ip is string => ip !== undefined && ip.includes('.'));
}

/** Pods whose endpoints a service publishes, as the upstream controller filters them. */
function eligiblePods(service: Service, pods: readonly Pod[]): Pod[] {
  const selector = service.spec.selector ?? {};
  return pods.filter(
    (pod) =>
      pod.metadata.namespace === service.metadata.namespace &&
      matches(selector, pod.metadata.labels) &&
      pod.status?.phase !== 'Succeeded' &&
      pod.status?.phase !== 'Failed' &&
      podIPv4(pod) !== undefined,
  );
}

function endpointFor(service: Service, pod: Pod): SliceEndpoint {
  const terminating = pod.metadata.deletionTimestamp !== undefined;
  const ready = isReady(pod);
  const publishAll = service.spec.publishNotReadyAddresses === true;
  const ep: SliceEndpoint = {
    addresses: [podIPv4(pod) as string],
    conditions: { ready: publishAll || (ready && !terminating), serving: publishAll || ready, terminating },
    targetRef: {
      kind: 'Pod',
      namespace: pod.metadata.namespace ?? '',
      name: pod.metadata.name ?? '',
      uid: pod.metadata.uid,
    },
  };
  if (pod.spec.nodeName !== undefined) ep.nodeName = pod.spec.nodeName;
  if (pod.spec.hostname && pod.spec.subdomain === service.metadata.name) ep.hostname = pod.spec.hostname;
  return ep;
}

const portsKey = (ports: readonly SlicePort[] | null) =>
  JSON.stringify((ports ?? []).map((p) => [p.name, p.protocol, p.port, p.appProtocol ?? '']));

/** The newest time something about these pods changed, for the trigger-time annotation. */
function triggerTime(pods: readonly Pod[], service: Service): string | undefined {
  const times = [service.metadata.creationTimestamp];
  for (const pod of pods) {
    times.push(pod.metadata.creationTimestamp, pod.metadata.deletionTimestamp);
    for (const c of pod.status?.conditions ?? []) if (c.type === 'Ready') times.push(c.lastTransitionTime);
  }
  return times
    .filter((t): t is string => t !== undefined)
    .sort()
    .at(-1);
}

/** Groups of endpoints (of already eligible pods) that share one resolved port set, in a stable order. */
function groupByPorts(
  service: Service,
  eligible: readonly Pod[],
): { ports: SlicePort[]; endpoints: SliceEndpoint[] }[] {
  const groups = new Map<string, { ports: SlicePort[]; endpoints: SliceEndpoint[] }>();
  const sorted = [...eligible].sort((a, b) => (a.metadata.name ?? '').localeCompare(b.metadata.name ?? ''));
  for (const pod of sorted) {
    const ports: SlicePort[] = [];
    for (const sp of service.spec.ports ?? []) {
      const port = resolveTargetPort(sp, pod);
      if (port === undefined) continue;
      const p: SlicePort = { name: sp.name ?? '', protocol: sp.protocol ?? 'TCP', port };
      if (sp.appProtocol !== undefined) p.appProtocol = sp.appProtocol;
      ports.push(p);
    }
    const key = portsKey(ports);
    const group = groups.get(key) ?? { ports, endpoints: [] };
    group.endpoints.push(endpointFor(service, pod));
    groups.set(key, group);
  }
  return [...groups.values()];
}

function sliceLabels(service: Service): Record<string, string> {
  const labels: Record<string, string> = { ...(service.metadata.labels ?? {}) };
  labels[SERVICE_NAME_LABEL] = service.metadata.name ?? '';
  labels[MANAGED_BY_LABEL] = MANAGED_BY;
  if (service.spec.clusterIP === 'None') labels['service.kubernetes.io/headless'] = '';
  return labels;
}

const sameContent = (a: EndpointSlice, b: EndpointSlice) =>
  JSON.stringify([a.ports ?? [], a.endpoints, a.metadata.labels]) ===
  JSON.stringify([b.ports ?? [], b.endpoints, b.metadata.labels]);

/**
 * What to write so the controller-managed slices of `service` match its pods. Slices are reused
 * by port set so names stay stable; a service without endpoints keeps one empty placeholder slice
 * as upstream does.
 */
export function reconcileEndpointSlices(
  service: Service,
  pods: readonly Pod[],
  existing: readonly EndpointSlice[],
): SliceChanges {
  const owned = existing.filter(
    (s) =>
      s.metadata.labels?.[MANAGED_BY_LABEL] === MANAGED_BY &&
      s.metadata.labels?.[SERVICE_NAME_LABEL] === service.metadata.name,
  );
  const eligible = eligiblePods(service, pods);
  const groups = groupByPorts(service, eligible);
  const labels = sliceLabels(service);
  const trigger = triggerTime(eligible, service);
  const wanted: { ports: SlicePort[] | null; endpoints: SliceEndpoint[] }[] = [];
  for (const g of groups) {
    for (let i = 0; i < g.endpoints.length; i += MAX_ENDPOINTS_PER_SLICE) {
      wanted.push({ ports: g.ports, endpoints: g.endpoints.slice(i, i + MAX_ENDPOINTS_PER_SLICE) });
    }
  }
  if (wanted.length === 0) wanted.push({ ports: null, endpoints: [] });

  const pool = new Map<string, EndpointSlice[]>();
  for (const s of [...owned].sort((a, b) => (a.metadata.name ?? '').localeCompare(b.metadata.name ?? ''))) {
    const key = portsKey(s.ports);
    pool.set(key, [...(pool.get(key) ?? []), s]);
  }
  const changes: SliceChanges = { create: [], update: [], delete: [], desired: [] };
  const ownerRef = {
    apiVersion: 'v1',
    kind: 'Service',
    name: service.metadata.name,
    uid: service.metadata.uid,
    controller: true,
    blockOwnerDeletion: true,
  };
  for (const w of wanted) {
    const reuse = pool.get(portsKey(w.ports))?.shift();
    const annotations: Record<string, string> = { ...(reuse?.metadata.annotations ?? {}) };
    if (trigger !== undefined) annotations[TRIGGER_TIME_ANNOTATION] = trigger;
    const slice: EndpointSlice = {
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      metadata: {
        ...(reuse?.metadata ?? {
          generateName: `${service.metadata.name}-`,
          namespace: service.metadata.namespace,
        }),
        labels,
        annotations,
        ownerReferences: [ownerRef],
      },
      addressType: 'IPv4',
      ports: w.ports,
      endpoints: w.endpoints,
    };
    changes.desired.push(slice);
    if (reuse === undefined) changes.create.push(slice);
    else if (!sameContent(reuse, slice)) changes.update.push(slice);
  }
  for (const rest of pool.values()) changes.delete.push(...rest);
  return changes;
}
