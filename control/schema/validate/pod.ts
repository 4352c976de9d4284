import { Path, duplicate, forbidden, invalid, notSupported, required, type FieldCause } from '../causes.js';
import { PORT_RANGE, dns1123Label, dns1123Subdomain, each, portName, validPort } from './names.js';
import { asArr, asNum, asObj, asStr, objects, type Obj } from './util.js';

const PROTOCOLS = ['SCTP', 'TCP', 'UDP'];
const ENV_NAME = /^[-._a-zA-Z][-._a-zA-Z0-9]*$/;
const ENV_NAME_DETAIL =
  "a valid environment variable name must consist of alphabetic characters, digits, '_', '-', or '.', and must not start with a digit (e.g. 'my.env-name',  or 'MY_ENV.NAME',  or 'MyEnvName1', regex used for validation is '[-._a-zA-Z][-._a-zA-Z0-9]*')";

/** Non-negative integer fields share one message. */
function nonNegative(obj: Obj, field: string, path: Path): FieldCause[] {
  const v = asNum(obj[field]);
  return v !== undefined && v < 0
    ? [invalid(path.child(field), v, 'must be greater than or equal to 0')]
    : [];
}

function validateProbeTarget(port: unknown, path: Path): FieldCause[] {
  if (typeof port === 'number') return validPort(port) ? [] : [invalid(path, port, PORT_RANGE)];
  if (typeof port === 'string') return each(path, port, portName(port));
  return [required(path)];
}

function validateProbe(value: unknown, path: Path, kind: 'liveness' | 'readiness' | 'startup'): FieldCause[] {
  const probe = asObj(value);
  if (!probe) return [];
  const causes: FieldCause[] = [];
  const handlers = ['exec', 'httpGet', 'tcpSocket', 'grpc'].filter((h) => asObj(probe[h]));
  if (handlers.length === 0) causes.push(required(path, 'must specify a handler type'));
  else if (handlers.length > 1) {
    causes.push(forbidden(path.child(handlers[1]!), 'may not specify more than 1 handler type'));
  }
  const http = asObj(probe.httpGet);
  if (http) {
    causes.push(...validateProbeTarget(http.port, path.child('httpGet', 'port')));
    const scheme = asStr(http.scheme);
    if (scheme && !['HTTP', 'HTTPS'].includes(scheme)) {
      causes.push(notSupported(path.child('httpGet', 'scheme'), scheme, ['HTTP', 'HTTPS']));
    }
  }
  const tcp = asObj(probe.tcpSocket);
  if (tcp) causes.push(...validateProbeTarget(tcp.port, path.child('tcpSocket', 'port')));
  const grpc = asObj(probe.grpc);
  if (grpc && !validPort(grpc.port)) causes.push(invalid(path.child('grpc', 'port'), grpc.port, PORT_RANGE));
  const exec = asObj(probe.exec);
  if (exec && asArr(exec.command).length === 0) causes.push(required(path.child('exec', 'command')));
  for (const f of [
    'initialDelaySeconds',
    'timeoutSeconds',
    'periodSeconds',
    'successThreshold',
    'failureThreshold',
  ]) {
    causes.push(...nonNegative(probe, f, path));
  }
  const success = asNum(probe.successThreshold);
  if (kind !== 'readiness' && success !== undefined && success !== 1) {
    causes.push(invalid(path.child('successThreshold'), success, 'must be 1'));
  }
  return causes;
}

interface PodContext {
  portNames: Set<string>;
  /** `<hostIP>/<hostPort>/<protocol>`: one host port serves one container of the pod. */
  hostPorts: Set<string>;
  volumeNames: Set<string>;
  hostNetwork: boolean;
}

function validateContainer(c: Obj, path: Path, ctx: PodContext, init: boolean): FieldCause[] {
  const causes: FieldCause[] = [];
  const name = asStr(c.name) ?? '';
  if (name === '') causes.push(required(path.child('name')));
  else causes.push(...each(path.child('name'), name, dns1123Label(name)));
  if ((asStr(c.image) ?? '').trim() === '') causes.push(required(path.child('image')));
  objects(c.ports).forEach((port, i) => {
    const p = path.child('ports').index(i);
    const pn = asStr(port.name);
    if (pn !== undefined && pn !== '') {
      causes.push(...each(p.child('name'), pn, portName(pn)));
      if (ctx.portNames.has(pn)) causes.push(duplicate(p.child('name'), pn));
      ctx.portNames.add(pn);
    }
    if (port.containerPort === undefined) causes.push(required(p.child('containerPort')));
    else if (!validPort(port.containerPort))
      causes.push(invalid(p.child('containerPort'), port.containerPort, PORT_RANGE));
    const hostPort = port.hostPort;
    if (hostPort !== undefined && hostPort !== 0 && !validPort(hostPort)) {
      causes.push(invalid(p.child('hostPort'), hostPort, PORT_RANGE));
    }
    if (ctx.hostNetwork && hostPort !== undefined && hostPort !== 0 && hostPort !== port.containerPort) {
      causes.push(
        invalid(p.child('hostPort'), hostPort, 'must match `containerPort` when `hostNetwork` is true'),
      );
    }
    if (typeof hostPort === 'number' && hostPort !== 0) {
      const hostKey = `${hostPort}/${asStr(port.protocol) ?? 'TCP'}`;
      const key = `${asStr(port.hostIP) ?? ''}/${hostKey}`;
      if (ctx.hostPorts.has(key)) causes.push(duplicate(p.child('hostPort'), hostKey));
      ctx.hostPorts.add(key);
    }
    const proto = asStr(port.protocol);
    if (proto !== undefined && !PROTOCOLS.includes(proto))
      causes.push(notSupported(p.child('protocol'), proto, PROTOCOLS));
  });
  objects(c.env).forEach((env, i) => {
    const p = path.child('env').index(i);
    const n = asStr(env.name) ?? '';
    if (n === '') causes.push(required(p.child('name')));
    else if (!ENV_NAME.test(n)) causes.push(invalid(p.child('name'), n, ENV_NAME_DETAIL));
    if (env.value !== undefined && env.value !== '' && asObj(env.valueFrom)) {
      causes.push(invalid(p.child('valueFrom'), '', 'may not be specified when `value` is not empty'));
    }
  });
  const mountPaths = new Set<string>();
  objects(c.volumeMounts).forEach((m, i) => {
    const p = path.child('volumeMounts').index(i);
    const n = asStr(m.name) ?? '';
    if (n === '') causes.push(required(p.child('name')));
    const mp = asStr(m.mountPath) ?? '';
    if (mp === '') causes.push(required(p.child('mountPath')));
    else if (mountPaths.has(mp)) causes.push(invalid(p.child('mountPath'), mp, 'must be unique'));
    mountPaths.add(mp);
  });
  if (!init) {
    causes.push(...validateProbe(c.livenessProbe, path.child('livenessProbe'), 'liveness'));
    causes.push(...validateProbe(c.readinessProbe, path.child('readinessProbe'), 'readiness'));
    causes.push(...validateProbe(c.startupProbe, path.child('startupProbe'), 'startup'));
  }
  return causes;
}

/** PodSpec rules, for Pods and for pod templates. */
export function validatePodSpec(value: unknown, path: Path, opts: { template: boolean }): FieldCause[] {
  const spec = asObj(value) ?? {};
  const causes: FieldCause[] = [];
  const ctx: PodContext = {
    portNames: new Set(),
    hostPorts: new Set(),
    volumeNames: new Set(),
    hostNetwork: spec.hostNetwork === true,
  };

  objects(spec.volumes).forEach((v, i) => {
    const p = path.child('volumes').index(i);
    const n = asStr(v.name) ?? '';
    if (n === '') causes.push(required(p.child('name')));
    else {
      causes.push(...each(p.child('name'), n, dns1123Label(n)));
      if (ctx.volumeNames.has(n)) causes.push(duplicate(p.child('name'), n));
      ctx.volumeNames.add(n);
    }
  });

  const containerNames = new Set<string>();
  const checkList = (field: 'initContainers' | 'containers') => {
    objects(spec[field]).forEach((c, i) => {
      const p = path.child(field).index(i);
      causes.push(...validateContainer(c, p, ctx, field === 'initContainers'));
      const n = asStr(c.name) ?? '';
      if (n !== '') {
        if (containerNames.has(n)) causes.push(duplicate(p.child('name'), n));
        containerNames.add(n);
      }
    });
  };
  checkList('initContainers');
  if (asArr(spec.containers).length === 0) causes.push(required(path.child('containers')));
  checkList('containers');

  const restart = asStr(spec.restartPolicy);
  if (opts.template && restart !== undefined && restart !== 'Always') {
    causes.push(notSupported(path.child('restartPolicy'), restart, ['Always']));
  }
  if (spec.dnsPolicy === 'None' && !asObj(spec.dnsConfig)) {
    causes.push(required(path.child('dnsConfig'), 'must provide `dnsConfig` when `dnsPolicy` is None'));
  }
  const dnsConfig = asObj(spec.dnsConfig);
  if (dnsConfig) {
    if (asArr(dnsConfig.nameservers).length > 3) {
      causes.push(
        invalid(
          path.child('dnsConfig', 'nameservers'),
          dnsConfig.nameservers,
          'must not have more than 3 nameservers',
        ),
      );
    }
    asArr(dnsConfig.searches).forEach((s, i) => {
      if (typeof s === 'string') {
        causes.push(
          ...each(path.child('dnsConfig', 'searches').index(i), s, dns1123Subdomain(s.replace(/\.$/, ''))),
        );
      }
    });
  }
  causes.push(...nonNegative(spec, 'terminationGracePeriodSeconds', path));
  const deadline = asNum(spec.activeDeadlineSeconds);
  if (deadline !== undefined && deadline <= 0) {
    causes.push(
      invalid(path.child('activeDeadlineSeconds'), deadline, 'must be between 1 and 2147483647, inclusive'),
    );
  }
  for (const f of ['hostname', 'subdomain']) {
    const v = asStr(spec[f]);
    if (v) causes.push(...each(path.child(f), v, dns1123Label(v)));
  }
  const sa = asStr(spec.serviceAccountName);
  if (sa) causes.push(...each(path.child('serviceAccountName'), sa, dns1123Subdomain(sa)));
  const nodeName = asStr(spec.nodeName);
  if (nodeName) causes.push(...each(path.child('nodeName'), nodeName, dns1123Subdomain(nodeName)));
  return causes;
}

/** Fields of a running pod's spec that an update may change, per upstream. */
function mutableView(spec: Obj, old: Obj): Obj {
  const containers = (list: unknown, oldList: unknown) =>
    objects(list).map((c, i) => ({ ...c, image: objects(oldList)[i]?.image }));
  return {
    ...spec,
    containers: containers(spec.containers, old.containers),
    initContainers: containers(spec.initContainers, old.initContainers),
    activeDeadlineSeconds: old.activeDeadlineSeconds,
    tolerations: old.tolerations,
    terminationGracePeriodSeconds: old.terminationGracePeriodSeconds,
    // Binding sets the node once; after that it is fixed like the rest.
    nodeName: old.nodeName === undefined || old.nodeName === '' ? old.nodeName : spec.nodeName,
  };
}

export function podUpdateForbidden(
  spec: Obj,
  old: Obj,
  equal: (a: unknown, b: unknown) => boolean,
): FieldCause[] {
  if (
    equal(mutableView(spec, old), {
      ...old,
      containers: objects(old.containers),
      initContainers: objects(old.initContainers),
    })
  ) {
    return [];
  }
  return [
    forbidden(
      Path.root('spec'),
      'pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)',
    ),
  ];
}
