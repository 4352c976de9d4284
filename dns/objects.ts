/**
 * The slice of the Kubernetes object model cluster DNS reads, validated from untyped JSON/YAML.
 * Validation errors name the object and the field, so a bad snapshot file is easy to fix.
 */
import { createRequire } from 'node:module';
import type * as Yaml from 'yaml';

// Loaded on the first YAML input only: the yaml package costs a DNS thread about 6 MB, and
// JSON snapshots and the API feed never need it.
const requireLazily = createRequire(import.meta.url);
const yaml = (): typeof Yaml => requireLazily('yaml') as typeof Yaml;

export interface ServicePort {
  name?: string;
  port: number;
  protocol: string;
}

export interface Service {
  kind: 'Service';
  namespace: string;
  name: string;
  /** 'None' for headless services; '' for ExternalName services. */
  clusterIP: string;
  clusterIPs: string[];
  type: string;
  externalName?: string;
  ports: ServicePort[];
  publishNotReadyAddresses: boolean;
}

export interface Endpoint {
  addresses: string[];
  hostname?: string;
  /** conditions.ready; Kubernetes says a missing value means ready. */
  ready: boolean;
}

export interface EndpointSlice {
  kind: 'EndpointSlice';
  namespace: string;
  name: string;
  serviceName: string;
  addressType: string;
  endpoints: Endpoint[];
  ports: { name?: string; port: number; protocol: string }[];
}

export interface Namespace {
  kind: 'Namespace';
  name: string;
}

export type DnsObject = Service | EndpointSlice | Namespace;

type Json = Record<string, unknown>;

function isObj(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function str(v: unknown, where: string, required: boolean): string | undefined {
  if (v === undefined || v === null) {
    if (required) throw new Error(`${where} is required`);
    return undefined;
  }
  if (typeof v !== 'string') throw new Error(`${where} must be a string, got ${JSON.stringify(v)}`);
  return v;
}

function arr(v: unknown, where: string): unknown[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw new Error(`${where} must be a list`);
  return v;
}

function port(v: unknown, where: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > 65535) {
    throw new Error(`${where} must be an integer port 1-65535, got ${JSON.stringify(v)}`);
  }
  return v;
}

/** Converts one Kubernetes object; returns null for kinds DNS does not use. */
export function toDnsObject(raw: unknown, where = 'object'): DnsObject | null {
  if (!isObj(raw)) throw new Error(`${where}: not an object`);
  const kind = str(raw.kind, `${where}.kind`, true);
  const meta = raw.metadata;
  if (!isObj(meta)) throw new Error(`${where}: metadata is required`);
  const name = str(meta.name, `${where}.metadata.name`, true) as string;
  const at = `${where}: ${kind} ${name}`;
  if (kind === 'Namespace') return { kind, name };
  const namespace = str(meta.namespace, `${at}: metadata.namespace`, false) ?? 'default';
  const spec = isObj(raw.spec) ? raw.spec : {};
  if (kind === 'Service') {
    const type = str(spec.type, `${at}: spec.type`, false) ?? 'ClusterIP';
    const clusterIP = str(spec.clusterIP, `${at}: spec.clusterIP`, false) ?? '';
    const clusterIPs = arr(spec.clusterIPs, `${at}: spec.clusterIPs`).map(
      (ip, i) => str(ip, `${at}: spec.clusterIPs[${i}]`, true) as string,
    );
    const externalName = str(spec.externalName, `${at}: spec.externalName`, false);
    if (type === 'ExternalName' && !externalName) {
      throw new Error(`${at}: spec.externalName is required for type ExternalName`);
    }
    const ports = arr(spec.ports, `${at}: spec.ports`).map((p, i) => {
      const w = `${at}: spec.ports[${i}]`;
      if (!isObj(p)) throw new Error(`${w} must be an object`);
      return {
        name: str(p.name, `${w}.name`, false),
        port: port(p.port, `${w}.port`),
        protocol: str(p.protocol, `${w}.protocol`, false) ?? 'TCP',
      };
    });
    return {
      kind,
      namespace,
      name,
      type,
      clusterIP,
      clusterIPs: clusterIPs.length > 0 ? clusterIPs : clusterIP && clusterIP !== 'None' ? [clusterIP] : [],
      externalName,
      ports,
      publishNotReadyAddresses: spec.publishNotReadyAddresses === true,
    };
  }
  if (kind === 'EndpointSlice') {
    const labels = isObj(meta.labels) ? meta.labels : {};
    const serviceName = str(labels['kubernetes.io/service-name'], `${at}: the service-name label`, false);
    const addressType = str(raw.addressType, `${at}: addressType`, true) as string;
    const endpoints = arr(raw.endpoints, `${at}: endpoints`).map((e, i) => {
      const w = `${at}: endpoints[${i}]`;
      if (!isObj(e)) throw new Error(`${w} must be an object`);
      const conditions = isObj(e.conditions) ? e.conditions : {};
      return {
        addresses: arr(e.addresses, `${w}.addresses`).map(
          (a, j) => str(a, `${w}.addresses[${j}]`, true) as string,
        ),
        hostname: str(e.hostname, `${w}.hostname`, false),
        ready: conditions.ready !== false,
      };
    });
    const ports = arr(raw.ports, `${at}: ports`).map((p, i) => {
      const w = `${at}: ports[${i}]`;
      if (!isObj(p)) throw new Error(`${w} must be an object`);
      return {
        name: str(p.name, `${w}.name`, false),
        port: port(p.port, `${w}.port`),
        protocol: str(p.protocol, `${w}.protocol`, false) ?? 'TCP',
      };
    });
    return { kind, namespace, name, serviceName: serviceName ?? '', addressType, endpoints, ports };
  }
  return null;
}

/**
 * Parses a JSON document or a multi-document YAML stream; `List` objects are flattened. JSON
 * skips the YAML parser, which is slow and memory-hungry for snapshots of thousands of objects,
 * and YAML documents are parsed one at a time so only one syntax tree is alive at once.
 */
export function parseObjects(text: string, source = 'input'): DnsObject[] {
  const out: DnsObject[] = [];
  const add = (value: unknown, where: string): void => {
    if (value === null || value === undefined) return;
    const items = isObj(value) && Array.isArray(value.items) ? value.items : [value];
    items.forEach((item, i) => {
      const o = toDnsObject(item, `${where}${items.length > 1 ? ` item ${i + 1}` : ''}`);
      if (o) out.push(o);
    });
  };
  const trimmed = text.trimStart();
  if (trimmed.startsWith('{') || trimmed.startsWith('[')) {
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (e) {
      throw new Error(`${source}: ${(e as Error).message}`);
    }
    const docs = Array.isArray(value) ? value : [value];
    docs.forEach((d, i) => add(d, docs.length > 1 ? `${source}: element ${i + 1}` : source));
    return out;
  }
  let d = 0;
  const { Composer, Parser } = yaml();
  for (const doc of new Composer().compose(new Parser().parse(text))) {
    d++;
    if (doc.errors.length > 0) {
      throw new Error(`${source}: document ${d}: ${doc.errors[0]?.message ?? 'invalid YAML'}`);
    }
    add(doc.toJS(), `${source}: document ${d}`);
  }
  return out;
}
