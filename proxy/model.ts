import { SERVICE_NAME_LABEL } from './objects.js';
import type { EndpointSliceObject, ProxyObjects, ServiceObject } from './objects.js';

/** What a proxier needs to know about the node it programs. */
export interface NodeFacts {
  name: string;
  /** The node's own addresses; the first is its primary IP. */
  ips: string[];
  /** Pod CIDR of the whole cluster: kube-proxy's ClusterCIDR local-traffic detector. */
  clusterCIDR?: string;
  masqueradeAll: boolean;
  localhostNodePorts: boolean;
  labels?: Record<string, string>;
}

export type Protocol = 'TCP' | 'UDP' | 'SCTP';

export interface Endpoint {
  ip: string;
  port: number;
  ready: boolean;
  serving: boolean;
  terminating: boolean;
  local: boolean;
  zoneHints: readonly string[];
}

/** One port of one Service after kube-proxy's filtering: everything a renderer needs. */
export interface ServicePort {
  /** "namespace/name", the unit of change tracking. */
  service: string;
  portName: string;
  /** kube-proxy's ServicePortName string: "namespace/name" or "namespace/name:port". */
  name: string;
  protocol: Protocol;
  clusterIP: string;
  port: number;
  nodePort: number;
  externalIPs: string[];
  loadBalancerIPs: string[];
  loadBalancerSourceRanges: string[];
  /** ClientIP affinity timeout in seconds; 0 without affinity. */
  affinitySeconds: number;
  internalPolicyLocal: boolean;
  externalPolicyLocal: boolean;
  externallyAccessible: boolean;
  healthCheckNodePort: number;
  /** Every endpoint of this port, sorted by "ip:port" as kube-proxy sorts them. */
  endpoints: Endpoint[];
  /** Endpoints for Cluster-policy traffic (ready, or serving+terminating when none is ready). */
  clusterEndpoints: Endpoint[];
  /** Endpoints for Local-policy traffic on this node. */
  localEndpoints: Endpoint[];
  /** Every endpoint some chain of this node may DNAT to. */
  reachableEndpoints: Endpoint[];
  /** False when the Service has no usable endpoint anywhere. */
  hasEndpoints: boolean;
}

export interface ProxyModel {
  node: NodeFacts;
  /** Sorted by name and protocol, so every renderer is deterministic. */
  ports: ServicePort[];
  /** Endpoints over all service ports, as kube-proxy counts them for large-cluster mode. */
  totalEndpoints: number;
}

export const DEFAULT_AFFINITY_SECONDS = 10800;
const TOPOLOGY_MODE = 'service.kubernetes.io/topology-mode';
const TOPOLOGY_HINTS = 'service.kubernetes.io/topology-aware-hints';
const ZONE_LABEL = 'topology.kubernetes.io/zone';

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

export function isIPv4(s: string): boolean {
  return IPV4.test(s);
}

function ipToInt(ip: string): number {
  return ip.split('.').reduce((acc, o) => acc * 256 + Number(o), 0);
}

function intToIp(n: number): string {
  return [24, 16, 8, 0].map((s) => (n >>> s) & 255).join('.');
}

/** Parses "a.b.c.d/n" into its network address form (as Go's net.IPNet prints it), or undefined. */
export function normalizeCIDR(text: string): string | undefined {
  const [ip, bits, extra] = text.trim().split('/');
  if (extra !== undefined || ip === undefined || bits === undefined || !isIPv4(ip) || !/^\d{1,2}$/.test(bits))
    return undefined;
  const n = Number(bits);
  if (n > 32) return undefined;
  const mask = n === 0 ? 0 : (0xffffffff << (32 - n)) >>> 0;
  return `${intToIp((ipToInt(ip) & mask) >>> 0)}/${n}`;
}

export function cidrContains(cidr: string, ip: string): boolean {
  const [net, bits] = cidr.split('/');
  if (net === undefined || bits === undefined || !isIPv4(ip)) return false;
  const n = Number(bits);
  const mask = n === 0 ? 0 : (0xffffffff << (32 - n)) >>> 0;
  return (ipToInt(ip) & mask) >>> 0 === (ipToInt(net) & mask) >>> 0;
}

export function endpointString(ep: { ip: string; port: number }): string {
  return `${ep.ip}:${ep.port}`;
}

function portKey(spn: string, protocol: string): string {
  return `${spn}/${protocol}`;
}

function isExternallyAccessible(svc: ServiceObject): boolean {
  const t = svc.spec.type ?? 'ClusterIP';
  return t === 'NodePort' || t === 'LoadBalancer' || (svc.spec.externalIPs?.length ?? 0) > 0;
}

/** Shared by every endpoint without zone hints (the common case), rather than one array each. */
const NO_ZONES: readonly string[] = [];

/** Builds the endpoint lists per service port from EndpointSlices, as kube-proxy's slice cache does. */
function collectEndpoints(slices: EndpointSliceObject[], node: NodeFacts): Map<string, Endpoint[]> {
  const byPort = new Map<string, Map<string, Endpoint>>();
  for (const slice of slices) {
    if (slice.addressType !== 'IPv4') continue;
    const svcName = slice.metadata.labels?.[SERVICE_NAME_LABEL];
    if (!svcName) continue;
    for (const p of slice.ports ?? []) {
      if (p.port === undefined || p.port === null) continue;
      const spn = `${slice.metadata.namespace}/${svcName}${p.name ? `:${p.name}` : ''}`;
      const key = portKey(spn, p.protocol ?? 'TCP');
      let set = byPort.get(key);
      if (!set) byPort.set(key, (set = new Map()));
      for (const e of slice.endpoints ?? []) {
        const ip = e.addresses[0];
        if (ip === undefined || !isIPv4(ip)) continue;
        const local = e.nodeName !== undefined && e.nodeName === node.name;
        const ep: Endpoint = {
          ip,
          port: p.port,
          ready: e.conditions?.ready ?? true,
          serving: e.conditions?.serving ?? true,
          terminating: e.conditions?.terminating ?? false,
          local,
          zoneHints: e.hints?.forZones ? e.hints.forZones.map((z) => z.name) : NO_ZONES,
        };
        const id = endpointString(ep);
        // An endpoint listed in two slices counts once; being local wins, as in kube-proxy.
        if (!set.has(id) || local) set.set(id, ep);
      }
    }
  }
  const out = new Map<string, Endpoint[]>();
  for (const [key, set] of byPort) {
    // Sorted by the "ip:port" keys already at hand, not strings rebuilt per comparison.
    const ids = [...set.keys()].sort(compareStrings);
    out.set(
      key,
      ids.map((id) => set.get(id) as Endpoint),
    );
  }
  return out;
}

function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function canUseTopology(
  svc: ServiceObject,
  endpoints: Endpoint[],
  labels: Record<string, string> | undefined,
): boolean {
  const annotations = svc.metadata.annotations ?? {};
  const hints = annotations[TOPOLOGY_MODE] ?? annotations[TOPOLOGY_HINTS] ?? '';
  if (hints !== 'Auto' && hints !== 'auto' && svc.spec.trafficDistribution !== 'PreferClose') return false;
  const zone = labels?.[ZONE_LABEL];
  if (!zone) return false;
  let hasEndpointForZone = false;
  for (const ep of endpoints) {
    if (!ep.ready) continue;
    if (ep.zoneHints.length === 0) return false;
    if (ep.zoneHints.includes(zone)) hasEndpointForZone = true;
  }
  return hasEndpointForZone;
}

interface Categorized {
  clusterEndpoints: Endpoint[];
  localEndpoints: Endpoint[];
  reachableEndpoints: Endpoint[];
  hasEndpoints: boolean;
}

/** kube-proxy's CategorizeEndpoints: topology, traffic policy and the terminating fallback. */
function categorize(
  svc: ServiceObject,
  endpoints: Endpoint[],
  usesCluster: boolean,
  usesLocal: boolean,
  labels: Record<string, string> | undefined,
): Categorized {
  let clusterEndpoints: Endpoint[] = [];
  let localEndpoints: Endpoint[] = [];
  let hasEndpoints = false;
  let useTopology = false;
  let useTerminating = false;
  const servingTerminating = (ep: Endpoint) => ep.serving && ep.terminating;

  if (usesCluster) {
    useTopology = canUseTopology(svc, endpoints, labels);
    const zone = labels?.[ZONE_LABEL] ?? '';
    clusterEndpoints = endpoints.filter((ep) => ep.ready && (!useTopology || ep.zoneHints.includes(zone)));
    if (clusterEndpoints.length === 0) clusterEndpoints = endpoints.filter(servingTerminating);
    hasEndpoints = clusterEndpoints.length > 0;
  }
  if (!usesLocal) {
    return { clusterEndpoints, localEndpoints, reachableEndpoints: clusterEndpoints, hasEndpoints };
  }

  let localReady = false;
  let localTerminating = false;
  for (const ep of endpoints) {
    if (ep.ready) {
      hasEndpoints = true;
      if (ep.local) localReady = true;
    } else if (servingTerminating(ep)) {
      hasEndpoints = true;
      if (ep.local) localTerminating = true;
    }
  }
  if (localReady) {
    localEndpoints = endpoints.filter((ep) => ep.local && ep.ready);
  } else if (localTerminating) {
    useTerminating = true;
    localEndpoints = endpoints.filter((ep) => ep.local && servingTerminating(ep));
  }
  if (!usesCluster) {
    return { clusterEndpoints, localEndpoints, reachableEndpoints: localEndpoints, hasEndpoints };
  }
  if (!useTopology && !useTerminating) {
    return { clusterEndpoints, localEndpoints, reachableEndpoints: clusterEndpoints, hasEndpoints };
  }
  const merged = new Map<string, Endpoint>();
  for (const ep of [...clusterEndpoints, ...localEndpoints]) merged.set(endpointString(ep), ep);
  const reachableEndpoints = [...merged.values()].sort((a, b) =>
    compareStrings(endpointString(a), endpointString(b)),
  );
  return { clusterEndpoints, localEndpoints, reachableEndpoints, hasEndpoints };
}

/** The ClusterIP kube-proxy (IPv4 single-stack) uses, or undefined for headless/ExternalName. */
function serviceClusterIP(svc: ServiceObject): string | undefined {
  if (svc.spec.type === 'ExternalName') return undefined;
  const candidates = [svc.spec.clusterIP, ...(svc.spec.clusterIPs ?? [])];
  return candidates.find((ip): ip is string => ip !== undefined && isIPv4(ip));
}

/**
 * One Service's ports, from the Service and the EndpointSlices labelled with its name. Pure, so
 * a sync loop can keep the result for services that did not change.
 */
export function buildServicePorts(
  svc: ServiceObject,
  slices: EndpointSliceObject[],
  node: NodeFacts,
): ServicePort[] {
  const clusterIP = serviceClusterIP(svc);
  if (!clusterIP) return [];
  const endpointsByPort = collectEndpoints(slices, node);
  const service = `${svc.metadata.namespace}/${svc.metadata.name}`;
  const spec = svc.spec;
  const externalIPs = (spec.externalIPs ?? []).filter(isIPv4);
  const loadBalancerIPs = (svc.status?.loadBalancer?.ingress ?? [])
    .filter((g) => g.ip !== undefined && isIPv4(g.ip) && g.ipMode !== 'Proxy')
    .map((g) => g.ip as string);
  const loadBalancerSourceRanges = (spec.loadBalancerSourceRanges ?? [])
    .map(normalizeCIDR)
    .filter((c): c is string => c !== undefined);
  const externallyAccessible = isExternallyAccessible(svc);
  const externalPolicyLocal = externallyAccessible && spec.externalTrafficPolicy === 'Local';
  const internalPolicyLocal = spec.internalTrafficPolicy === 'Local';
  const affinitySeconds =
    spec.sessionAffinity === 'ClientIP'
      ? (spec.sessionAffinityConfig?.clientIP?.timeoutSeconds ?? DEFAULT_AFFINITY_SECONDS)
      : 0;
  const healthCheckNodePort =
    spec.type === 'LoadBalancer' && externalPolicyLocal ? (spec.healthCheckNodePort ?? 0) : 0;
  const ports: ServicePort[] = [];
  for (const p of spec.ports ?? []) {
    const portName = p.name ?? '';
    const name = portName ? `${service}:${portName}` : service;
    const protocol = (p.protocol ?? 'TCP') as Protocol;
    const endpoints = endpointsByPort.get(portKey(name, protocol)) ?? [];
    const nodePort = p.nodePort ?? 0;
    const accessible = nodePort !== 0 || loadBalancerIPs.length > 0 || externalIPs.length > 0;
    const extLocal = externalPolicyLocal && accessible;
    const usesCluster = !internalPolicyLocal || accessible;
    const usesLocal = internalPolicyLocal || extLocal;
    ports.push({
      service,
      portName,
      name,
      protocol,
      clusterIP,
      port: p.port,
      nodePort,
      externalIPs,
      loadBalancerIPs,
      loadBalancerSourceRanges,
      affinitySeconds,
      internalPolicyLocal,
      externalPolicyLocal: extLocal,
      externallyAccessible: accessible,
      healthCheckNodePort,
      endpoints,
      ...categorize(svc, endpoints, usesCluster, usesLocal, node.labels),
    });
  }
  return ports;
}

/** Puts service ports from many services into one deterministic model. */
export function assembleModel(node: NodeFacts, portsPerService: Iterable<ServicePort[]>): ProxyModel {
  const ports: ServicePort[] = [];
  let totalEndpoints = 0;
  for (const list of portsPerService) {
    for (const sp of list) {
      ports.push(sp);
      totalEndpoints += sp.endpoints.length;
    }
  }
  ports.sort((a, b) => compareStrings(a.name, b.name) || compareStrings(a.protocol, b.protocol));
  return { node, ports, totalEndpoints };
}

/** The Service an EndpointSlice belongs to, as "namespace/name". */
export function sliceServiceKey(slice: EndpointSliceObject): string | undefined {
  const name = slice.metadata.labels?.[SERVICE_NAME_LABEL];
  return name ? `${slice.metadata.namespace}/${name}` : undefined;
}

/** Services + EndpointSlices + node facts → the per-port model every proxier renders. */
export function buildModel(objects: ProxyObjects, node: NodeFacts): ProxyModel {
  const slicesByService = new Map<string, EndpointSliceObject[]>();
  for (const slice of objects.endpointSlices) {
    const key = sliceServiceKey(slice);
    if (!key) continue;
    const list = slicesByService.get(key);
    if (list) list.push(slice);
    else slicesByService.set(key, [slice]);
  }
  return assembleModel(
    node,
    objects.services.map((svc) =>
      buildServicePorts(
        svc,
        slicesByService.get(`${svc.metadata.namespace}/${svc.metadata.name}`) ?? [],
        node,
      ),
    ),
  );
}
