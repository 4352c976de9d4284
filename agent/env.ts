/**
 * A container's environment as kubelet builds it (makeEnvironmentVariables): service links,
 * envFrom, env with $(VAR) expansion and valueFrom sources; then $(VAR) in command and args.
 */
import type { ContainerSpec, Pod } from './pod.js';

export interface ServicePort {
  name?: string;
  port: number;
  protocol?: string;
}

export interface Service {
  metadata: { name: string; namespace: string };
  spec?: { clusterIP?: string; ports?: ServicePort[] };
}

/** ConfigMap data, or Secret data already base64-decoded; undefined when the object does not exist. */
export type ObjectData = Record<string, string> | undefined;

export interface EnvContext {
  readonly podIP: string;
  readonly hostIP: string;
  /** Services of every namespace; only the pod's own and default/kubernetes are used. */
  readonly services: readonly Service[];
  readonly configMap: (name: string) => ObjectData;
  readonly secret: (name: string) => ObjectData;
}

export type EnvResult =
  | { readonly kind: 'ok'; readonly env: Record<string, string> }
  | { readonly kind: 'error'; readonly message: string };

/** kubelet's makeEnvVariableName: upper case, dashes to underscores. */
const envName = (s: string) => s.toUpperCase().replaceAll('-', '_');

const hasClusterIP = (s: Service) => !!s.spec?.clusterIP && s.spec.clusterIP !== 'None';

/** The Docker-link style variables of one service, in kubelet's order. */
function serviceVars(s: Service): [string, string][] {
  const ip = s.spec?.clusterIP as string;
  const ports = s.spec?.ports ?? [];
  const prefix = envName(s.metadata.name);
  const host = ip.includes(':') ? `[${ip}]` : ip;
  const out: [string, string][] = [[`${prefix}_SERVICE_HOST`, ip]];
  if (ports[0]) out.push([`${prefix}_SERVICE_PORT`, String(ports[0].port)]);
  for (const p of ports) if (p.name) out.push([`${prefix}_SERVICE_PORT_${envName(p.name)}`, String(p.port)]);
  ports.forEach((p, i) => {
    const proto = (p.protocol ?? 'TCP').toLowerCase();
    const url = `${proto}://${host}:${p.port}`;
    if (i === 0) out.push([`${prefix}_PORT`, url]);
    const pp = `${prefix}_PORT_${p.port}_${proto.toUpperCase()}`;
    out.push([pp, url], [`${pp}_PROTO`, proto], [`${pp}_PORT`, String(p.port)], [`${pp}_ADDR`, ip]);
  });
  return out;
}

/**
 * The service environment: default/kubernetes always, the pod's namespace's services unless
 * enableServiceLinks is false; services without a cluster IP (headless, ExternalName) give none.
 */
export function serviceEnv(
  services: readonly Service[],
  namespace: string,
  enableServiceLinks: boolean,
): Record<string, string> {
  const chosen = new Map<string, Service>();
  for (const s of services) {
    if (!hasClusterIP(s)) continue;
    if (s.metadata.namespace === 'default' && s.metadata.name === 'kubernetes') {
      if (!chosen.has(s.metadata.name)) chosen.set(s.metadata.name, s);
    } else if (s.metadata.namespace === namespace && enableServiceLinks) {
      chosen.set(s.metadata.name, s);
    }
  }
  return Object.fromEntries([...chosen.values()].flatMap(serviceVars));
}

/**
 * Kubernetes' $(VAR) expansion: `$(NAME)` is replaced when NAME is known and kept as written
 * otherwise; `$$` is a literal `$`; any other `$` is kept.
 */
export function expand(input: string, lookup: (name: string) => string | undefined): string {
  let out = '';
  let i = 0;
  while (i < input.length) {
    const ch = input[i] as string;
    if (ch !== '$' || i + 1 >= input.length) {
      out += ch;
      i++;
      continue;
    }
    const next = input[i + 1];
    if (next === '$') {
      out += '$';
      i += 2;
    } else if (next === '(') {
      const close = input.indexOf(')', i + 2);
      if (close < 0) {
        out += '$(';
        i += 2;
      } else {
        const name = input.slice(i + 2, close);
        out += lookup(name) ?? `$(${name})`;
        i = close + 1;
      }
    } else {
      out += `$${next}`;
      i += 2;
    }
  }
  return out;
}

/** Names envFrom may define (validation.IsEnvVarName); kubelet skips the others. */
const ENV_NAME_RE = /^[-._a-zA-Z][-._a-zA-Z0-9]*$/;

/** The value of a downward-API fieldRef, as kubelet's podFieldSelectorRuntimeValue gives it. */
export function fieldRefValue(
  pod: Pod,
  fieldPath: string,
  ctx: Pick<EnvContext, 'podIP' | 'hostIP'>,
): string {
  const meta = pod.metadata as Pod['metadata'] & {
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
  const keyed = /^metadata\.(labels|annotations)\['([^']*)'\]$/.exec(fieldPath);
  if (keyed) return (keyed[1] === 'labels' ? meta.labels : meta.annotations)?.[keyed[2] as string] ?? '';
  switch (fieldPath) {
    case 'metadata.name':
      return meta.name;
    case 'metadata.namespace':
      return meta.namespace;
    case 'metadata.uid':
      return meta.uid;
    case 'spec.nodeName':
      return pod.spec.nodeName ?? '';
    case 'spec.serviceAccountName':
      return (pod.spec as { serviceAccountName?: string }).serviceAccountName ?? 'default';
    case 'status.hostIP':
    case 'status.hostIPs':
      return ctx.hostIP;
    case 'status.podIP':
    case 'status.podIPs':
      return ctx.podIP;
    default:
      throw new Error(`unsupported fieldRef fieldPath "${fieldPath}"`);
  }
}

/**
 * The container's variables in kubelet's precedence: service links lowest, then envFrom in
 * order, then env in order (each `value` expanded against what is defined so far and the service
 * variables). A required ConfigMap, Secret or key that is missing is an error naming it.
 */
export function containerEnv(pod: Pod, container: ContainerSpec, ctx: EnvContext): EnvResult {
  const ns = pod.metadata.namespace;
  const services = serviceEnv(ctx.services, ns, pod.spec.enableServiceLinks !== false);
  const vars = new Map<string, string>();
  const source = (kind: 'configMap' | 'secret', name: string): ObjectData =>
    kind === 'configMap' ? ctx.configMap(name) : ctx.secret(name);
  const what = (kind: 'configMap' | 'secret') => (kind === 'configMap' ? 'configmaps' : 'secrets');
  const title = (kind: 'configMap' | 'secret') => (kind === 'configMap' ? 'ConfigMap' : 'Secret');
  try {
    for (const from of container.envFrom ?? []) {
      const kind = from.configMapRef ? 'configMap' : from.secretRef ? 'secret' : undefined;
      const ref = from.configMapRef ?? from.secretRef;
      if (!kind || !ref)
        throw new Error(`container "${container.name}": envFrom entry has no configMapRef or secretRef`);
      const data = source(kind, ref.name);
      if (data === undefined) {
        if (ref.optional) continue;
        throw new Error(`${what(kind)} "${ref.name}" not found`);
      }
      for (const [k, v] of Object.entries(data)) {
        const name = `${from.prefix ?? ''}${k}`;
        if (ENV_NAME_RE.test(name)) vars.set(name, v);
      }
    }
    const lookup = (name: string) => vars.get(name) ?? services[name];
    for (const e of container.env ?? []) {
      if (e.value !== undefined && e.value !== '') {
        vars.set(e.name, expand(e.value, lookup));
        continue;
      }
      const vf = e.valueFrom;
      if (!vf) {
        vars.set(e.name, '');
        continue;
      }
      if (vf.fieldRef) {
        vars.set(e.name, fieldRefValue(pod, vf.fieldRef.fieldPath, ctx));
        continue;
      }
      const kind = vf.configMapKeyRef ? 'configMap' : vf.secretKeyRef ? 'secret' : undefined;
      const ref = vf.configMapKeyRef ?? vf.secretKeyRef;
      if (!kind || !ref) {
        throw new Error(
          `container "${container.name}": env "${e.name}" valueFrom needs fieldRef, configMapKeyRef or secretKeyRef`,
        );
      }
      const data = source(kind, ref.name);
      if (data === undefined) {
        if (ref.optional) continue;
        throw new Error(`${what(kind)} "${ref.name}" not found`);
      }
      const value = data[ref.key];
      if (value === undefined) {
        if (ref.optional) continue;
        throw new Error(`couldn't find key ${ref.key} in ${title(kind)} ${ns}/${ref.name}`);
      }
      vars.set(e.name, value);
    }
  } catch (error) {
    return { kind: 'error', message: (error as Error).message };
  }
  return { kind: 'ok', env: { ...services, ...Object.fromEntries(vars) } };
}

/** The ConfigMaps and Secrets a container's env and envFrom name. */
export function referencedObjects(container: ContainerSpec): { configMaps: string[]; secrets: string[] } {
  const configMaps = new Set<string>();
  const secrets = new Set<string>();
  for (const f of container.envFrom ?? []) {
    if (f.configMapRef) configMaps.add(f.configMapRef.name);
    if (f.secretRef) secrets.add(f.secretRef.name);
  }
  for (const e of container.env ?? []) {
    if (e.valueFrom?.configMapKeyRef) configMaps.add(e.valueFrom.configMapKeyRef.name);
    if (e.valueFrom?.secretKeyRef) secrets.add(e.valueFrom.secretKeyRef.name);
  }
  return { configMaps: [...configMaps], secrets: [...secrets] };
}

/** command and args with $(VAR) expanded from the container's final environment. */
export function expandArgv(argv: readonly string[], env: Record<string, string>): string[] {
  return argv.map((a) => expand(a, (name) => env[name]));
}
