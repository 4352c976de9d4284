import { parseAllDocuments } from 'yaml';

/** The parts of a core/v1 Service that kube-proxy reads. */
export interface ServiceObject {
  metadata: { namespace: string; name: string; annotations?: Record<string, string> };
  spec: {
    type?: string;
    clusterIP?: string;
    clusterIPs?: string[];
    ports?: Array<{ name?: string; protocol?: string; port: number; nodePort?: number }>;
    externalIPs?: string[];
    loadBalancerSourceRanges?: string[];
    sessionAffinity?: string;
    sessionAffinityConfig?: { clientIP?: { timeoutSeconds?: number } };
    externalTrafficPolicy?: string;
    internalTrafficPolicy?: string;
    healthCheckNodePort?: number;
    trafficDistribution?: string;
  };
  status?: { loadBalancer?: { ingress?: Array<{ ip?: string; hostname?: string; ipMode?: string }> } };
}

/** The parts of a discovery.k8s.io/v1 EndpointSlice that kube-proxy reads. */
export interface EndpointSliceObject {
  metadata: {
    namespace: string;
    name: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
  addressType: string;
  endpoints?: Array<{
    addresses: string[];
    conditions?: { ready?: boolean | null; serving?: boolean | null; terminating?: boolean | null };
    nodeName?: string;
    zone?: string;
    hints?: { forZones?: Array<{ name: string }>; forNodes?: Array<{ name: string }> };
  }>;
  ports?: Array<{ name?: string | null; protocol?: string; port?: number | null }> | null;
}

export interface ProxyObjects {
  services: ServiceObject[];
  endpointSlices: EndpointSliceObject[];
}

export const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';

/** Raised for objects kube-proxy could not read; the message names the document and field. */
export class ObjectError extends Error {}

type Json = Record<string, unknown>;

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

class Reader {
  constructor(readonly where: string) {}

  fail(field: string, why: string): never {
    throw new ObjectError(`${this.where}: ${field}: ${why}`);
  }

  object(v: unknown, field: string): Json {
    if (!isObject(v)) this.fail(field, 'must be an object');
    return v;
  }

  optObject(v: unknown, field: string): Json | undefined {
    return v === undefined || v === null ? undefined : this.object(v, field);
  }

  string(v: unknown, field: string): string {
    if (typeof v !== 'string' || v === '') this.fail(field, 'must be a non-empty string');
    return v;
  }

  optString(v: unknown, field: string): string | undefined {
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'string') this.fail(field, 'must be a string');
    return v;
  }

  port(v: unknown, field: string, min = 1): number {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > 65535) {
      this.fail(field, `must be an integer port (${min}-65535), got ${JSON.stringify(v)}`);
    }
    return v;
  }

  optPort(v: unknown, field: string): number | undefined {
    return v === undefined || v === null ? undefined : this.port(v, field, 0);
  }

  optBool(v: unknown, field: string): boolean | undefined {
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'boolean') this.fail(field, 'must be true or false');
    return v;
  }

  stringList(v: unknown, field: string): string[] | undefined {
    if (v === undefined || v === null) return undefined;
    if (!Array.isArray(v)) this.fail(field, 'must be a list of strings');
    return v.map((s, i) => this.string(s, `${field}[${i}]`));
  }

  list(v: unknown, field: string): unknown[] | undefined {
    if (v === undefined || v === null) return undefined;
    if (!Array.isArray(v)) this.fail(field, 'must be a list');
    return v;
  }

  stringMap(v: unknown, field: string): Record<string, string> | undefined {
    const o = this.optObject(v, field);
    if (!o) return undefined;
    const out: Record<string, string> = {};
    for (const [k, val] of Object.entries(o)) out[k] = this.optString(val, `${field}.${k}`) ?? '';
    return out;
  }
}

function readMetadata(r: Reader, v: unknown) {
  const m = r.object(v, 'metadata');
  return {
    namespace: r.optString(m.namespace, 'metadata.namespace') || 'default',
    name: r.string(m.name, 'metadata.name'),
    labels: r.stringMap(m.labels, 'metadata.labels'),
    annotations: r.stringMap(m.annotations, 'metadata.annotations'),
  };
}

/** Validates one Service document into the fields kube-proxy uses. */
export function readService(doc: unknown, where: string): ServiceObject {
  const r: Reader = new Reader(where);
  const o = r.object(doc, '(document)');
  const meta = readMetadata(r, o.metadata);
  const spec = r.object(o.spec, 'spec');
  const ports = r.list(spec.ports, 'spec.ports')?.map((p, i) => {
    const f = `spec.ports[${i}]`;
    const po = r.object(p, f);
    const protocol = r.optString(po.protocol, `${f}.protocol`) ?? 'TCP';
    if (!['TCP', 'UDP', 'SCTP'].includes(protocol)) r.fail(`${f}.protocol`, `must be TCP, UDP or SCTP`);
    return {
      name: r.optString(po.name, `${f}.name`),
      protocol,
      port: r.port(po.port, `${f}.port`),
      nodePort: r.optPort(po.nodePort, `${f}.nodePort`),
    };
  });
  const affinity = r.optObject(spec.sessionAffinityConfig, 'spec.sessionAffinityConfig');
  const clientIP = affinity && r.optObject(affinity.clientIP, 'spec.sessionAffinityConfig.clientIP');
  const rawTimeout = clientIP?.timeoutSeconds;
  let timeout: number | undefined;
  if (rawTimeout !== undefined && rawTimeout !== null) {
    if (typeof rawTimeout !== 'number' || !Number.isInteger(rawTimeout) || rawTimeout < 1) {
      r.fail('spec.sessionAffinityConfig.clientIP.timeoutSeconds', 'must be a positive integer');
    }
    timeout = rawTimeout;
  }
  const status = r.optObject(o.status, 'status');
  const lb = status && r.optObject(status.loadBalancer, 'status.loadBalancer');
  const ingress = lb
    ? r.list(lb.ingress, 'status.loadBalancer.ingress')?.map((g, i) => {
        const f = `status.loadBalancer.ingress[${i}]`;
        const go = r.object(g, f);
        return {
          ip: r.optString(go.ip, `${f}.ip`),
          hostname: r.optString(go.hostname, `${f}.hostname`),
          ipMode: r.optString(go.ipMode, `${f}.ipMode`),
        };
      })
    : undefined;
  return {
    metadata: { namespace: meta.namespace, name: meta.name, annotations: meta.annotations },
    spec: {
      type: r.optString(spec.type, 'spec.type'),
      clusterIP: r.optString(spec.clusterIP, 'spec.clusterIP'),
      clusterIPs: r.stringList(spec.clusterIPs, 'spec.clusterIPs'),
      ports,
      externalIPs: r.stringList(spec.externalIPs, 'spec.externalIPs'),
      loadBalancerSourceRanges: r.stringList(spec.loadBalancerSourceRanges, 'spec.loadBalancerSourceRanges'),
      sessionAffinity: r.optString(spec.sessionAffinity, 'spec.sessionAffinity'),
      sessionAffinityConfig: timeout === undefined ? undefined : { clientIP: { timeoutSeconds: timeout } },
      externalTrafficPolicy: r.optString(spec.externalTrafficPolicy, 'spec.externalTrafficPolicy'),
      internalTrafficPolicy: r.optString(spec.internalTrafficPolicy, 'spec.internalTrafficPolicy'),
      healthCheckNodePort: r.optPort(spec.healthCheckNodePort, 'spec.healthCheckNodePort'),
      trafficDistribution: r.optString(spec.trafficDistribution, 'spec.trafficDistribution'),
    },
    status: ingress ? { loadBalancer: { ingress } } : undefined,
  };
}

/** Validates one EndpointSlice document into the fields kube-proxy uses. */
export function readEndpointSlice(doc: unknown, where: string): EndpointSliceObject {
  const r: Reader = new Reader(where);
  const o = r.object(doc, '(document)');
  const meta = readMetadata(r, o.metadata);
  if (!meta.labels?.[SERVICE_NAME_LABEL]) {
    r.fail(`metadata.labels["${SERVICE_NAME_LABEL}"]`, 'is required (it names the Service)');
  }
  const endpoints = r.list(o.endpoints, 'endpoints')?.map((e, i) => {
    const f = `endpoints[${i}]`;
    const eo = r.object(e, f);
    const cond = r.optObject(eo.conditions, `${f}.conditions`);
    const hints = r.optObject(eo.hints, `${f}.hints`);
    const names = (v: unknown, field: string) =>
      r
        .list(v, field)
        ?.map((z, j) => ({ name: r.string(r.object(z, `${field}[${j}]`).name, `${field}[${j}].name`) }));
    return {
      addresses: r.stringList(eo.addresses, `${f}.addresses`) ?? r.fail(`${f}.addresses`, 'is required'),
      conditions: cond && {
        ready: r.optBool(cond.ready, `${f}.conditions.ready`),
        serving: r.optBool(cond.serving, `${f}.conditions.serving`),
        terminating: r.optBool(cond.terminating, `${f}.conditions.terminating`),
      },
      nodeName: r.optString(eo.nodeName, `${f}.nodeName`),
      zone: r.optString(eo.zone, `${f}.zone`),
      hints: hints && {
        forZones: names(hints.forZones, `${f}.hints.forZones`),
        forNodes: names(hints.forNodes, `${f}.hints.forNodes`),
      },
    };
  });
  const ports = r.list(o.ports, 'ports')?.map((p, i) => {
    const f = `ports[${i}]`;
    const po = r.object(p, f);
    return {
      name: r.optString(po.name, `${f}.name`),
      protocol: r.optString(po.protocol, `${f}.protocol`) ?? 'TCP',
      port: r.optPort(po.port, `${f}.port`),
    };
  });
  return {
    metadata: meta,
    addressType: r.string(o.addressType, 'addressType'),
    endpoints,
    ports,
  };
}

/**
 * Reads Services and EndpointSlices from a YAML stream (several documents, or `kind: List`
 * as `kubectl get -o yaml` prints it). Other kinds are ignored, as kube-proxy never sees them.
 */
export function parseObjects(text: string, source = 'input'): ProxyObjects {
  const out: ProxyObjects = { services: [], endpointSlices: [] };
  const docs = parseAllDocuments(text);
  docs.forEach((doc, di) => {
    const where = `${source} document ${di + 1}`;
    if (doc.errors.length > 0) throw new ObjectError(`${where}: invalid YAML: ${doc.errors[0]?.message}`);
    const value: unknown = doc.toJSON();
    if (value === null || value === undefined) return;
    if (!isObject(value)) throw new ObjectError(`${where}: must be a Kubernetes object`);
    const items = value.kind === 'List' || value.kind?.toString().endsWith('List') ? value.items : [value];
    if (!Array.isArray(items)) throw new ObjectError(`${where}: items: must be a list`);
    items.forEach((item, ii) => {
      const at = items === value.items ? `${where} items[${ii}]` : where;
      if (!isObject(item)) throw new ObjectError(`${at}: must be a Kubernetes object`);
      const kind =
        item.kind ??
        (value.kind === 'ServiceList'
          ? 'Service'
          : value.kind === 'EndpointSliceList'
            ? 'EndpointSlice'
            : undefined);
      const named =
        isObject(item.metadata) && typeof item.metadata.name === 'string' ? ` (${item.metadata.name})` : '';
      if (kind === 'Service') out.services.push(readService(item, `${at} Service${named}`));
      else if (kind === 'EndpointSlice')
        out.endpointSlices.push(readEndpointSlice(item, `${at} EndpointSlice${named}`));
      else if (typeof kind !== 'string') throw new ObjectError(`${at}: kind: is required`);
    });
  });
  return out;
}
