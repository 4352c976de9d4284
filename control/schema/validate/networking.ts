import { Path, invalid, notSupported, required, type FieldCause } from '../causes.js';
import { PORT_RANGE, dns1035Label, dns1123Subdomain, each, portName, validPort } from './names.js';
import { asArr, asObj, asStr, isAnyIP, objects, type Obj } from './util.js';

const SPEC = Path.root('spec');
const PATH_TYPES = ['Exact', 'ImplementationSpecific', 'Prefix'];

function validateHost(host: string, path: Path): FieldCause[] {
  if (isAnyIP(host)) return [invalid(path, host, 'must be a DNS name, not an IP address')];
  const name = host.startsWith('*.') ? host.slice(2) : host;
  if (host.includes('*') && !host.startsWith('*.')) {
    return [
      invalid(
        path,
        host,
        "a wildcard DNS-1123 subdomain must start with '*.', followed by a valid DNS subdomain, which must consist of lower case alphanumeric characters, '-' or '.' and end with an alphanumeric character (e.g. '*.example.com', regex used for validation is '\\*\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')",
      ),
    ];
  }
  return each(path, host, dns1123Subdomain(name));
}

function validateBackend(value: unknown, path: Path): FieldCause[] {
  const backend = asObj(value) ?? {};
  const service = asObj(backend.service);
  const resource = asObj(backend.resource);
  if (service && resource) return [invalid(path, '', 'cannot set both resource and service backends')];
  if (resource) {
    const causes: FieldCause[] = [];
    if (!asStr(resource.kind)) causes.push(required(path.child('resource', 'kind')));
    if (!asStr(resource.name)) causes.push(required(path.child('resource', 'name')));
    return causes;
  }
  if (!service) return [invalid(path, '', 'resource or service backend is required')];
  const causes: FieldCause[] = [];
  const sp = path.child('service');
  const name = asStr(service.name) ?? '';
  if (name === '') causes.push(required(sp.child('name')));
  else causes.push(...each(sp.child('name'), name, dns1035Label(name)));
  const port = asObj(service.port) ?? {};
  const portNameValue = asStr(port.name) ?? '';
  const number = port.number;
  if (portNameValue !== '' && number !== undefined && number !== 0) {
    causes.push(invalid(sp.child('port'), port, 'cannot set both port name & port number'));
  } else if (portNameValue !== '') {
    causes.push(...each(sp.child('port', 'name'), portNameValue, portName(portNameValue)));
  } else if (number !== undefined && number !== 0) {
    if (!validPort(number)) causes.push(invalid(sp.child('port', 'number'), number, PORT_RANGE));
  } else {
    causes.push(required(sp.child('port'), 'port name or number is required'));
  }
  return causes;
}

function validatePath(p: Obj, path: Path): FieldCause[] {
  const causes: FieldCause[] = [];
  const pathType = asStr(p.pathType);
  const value = asStr(p.path) ?? '';
  if (pathType === undefined || pathType === '') {
    causes.push(required(path.child('pathType'), 'pathType must be specified'));
  } else if (!PATH_TYPES.includes(pathType)) {
    causes.push(notSupported(path.child('pathType'), pathType, PATH_TYPES));
  } else if (pathType !== 'ImplementationSpecific' || value !== '') {
    if (!value.startsWith('/')) causes.push(invalid(path.child('path'), value, 'must be an absolute path'));
    else if (pathType !== 'ImplementationSpecific') {
      for (const bad of ['//', '/./', '/../', '%2f', '%2F']) {
        if (value.includes(bad)) causes.push(invalid(path.child('path'), value, `must not contain '${bad}'`));
      }
      for (const bad of ['/..', '/.']) {
        if (value.endsWith(bad)) causes.push(invalid(path.child('path'), value, `cannot end with '${bad}'`));
      }
    }
  }
  causes.push(...validateBackend(p.backend, path.child('backend')));
  return causes;
}

export function validateIngressSpec(value: unknown): FieldCause[] {
  const spec = asObj(value) ?? {};
  const causes: FieldCause[] = [];
  const rules = objects(spec.rules);
  if (rules.length === 0 && !asObj(spec.defaultBackend)) {
    causes.push(invalid(SPEC, spec, 'either `defaultBackend` or `rules` must be specified'));
  }
  if (asObj(spec.defaultBackend))
    causes.push(...validateBackend(spec.defaultBackend, SPEC.child('defaultBackend')));
  const className = asStr(spec.ingressClassName);
  if (className !== undefined)
    causes.push(...each(SPEC.child('ingressClassName'), className, dns1123Subdomain(className)));
  rules.forEach((rule, i) => {
    const rp = SPEC.child('rules').index(i);
    const host = asStr(rule.host) ?? '';
    if (host !== '') causes.push(...validateHost(host, rp.child('host')));
    const http = asObj(rule.http);
    if (!http) return;
    const paths = objects(http.paths);
    if (paths.length === 0) causes.push(required(rp.child('http', 'paths')));
    paths.forEach((p, j) => causes.push(...validatePath(p, rp.child('http', 'paths').index(j))));
  });
  objects(spec.tls).forEach((tls, i) => {
    const tp = SPEC.child('tls').index(i);
    asArr(tls.hosts).forEach((h, j) => {
      if (typeof h === 'string') causes.push(...validateHost(h, tp.child('hosts').index(j)));
    });
    const secret = asStr(tls.secretName);
    if (secret) causes.push(...each(tp.child('secretName'), secret, dns1123Subdomain(secret)));
  });
  return causes;
}

const CONTROLLER = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/[-a-zA-Z0-9/._~]*$/;

export function validateIngressClassSpec(value: unknown): FieldCause[] {
  const spec = asObj(value) ?? {};
  const controller = asStr(spec.controller) ?? '';
  if (controller === '') return [required(SPEC.child('controller'))];
  if (controller.length > 250)
    return [invalid(SPEC.child('controller'), controller, 'must be no more than 250 characters')];
  if (!CONTROLLER.test(controller)) {
    return [
      invalid(SPEC.child('controller'), controller, 'must be a domain-prefixed path (such as "acme.io/foo")'),
    ];
  }
  return [];
}
