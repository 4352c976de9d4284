import {
  Path,
  duplicate,
  forbidden,
  immutable,
  invalid,
  notSupported,
  required,
  type FieldCause,
} from '../causes.js';
import { dns1123Subdomain, each, qualifiedName } from './names.js';
import { validateLabelSelector } from './selector.js';
import { asArr, asNum, asObj, asStr, isCIDR, isIPv4, isIPv6, jsonEqual, objects, type Obj } from './util.js';

const SPEC = Path.root('spec');
const CONFIG_KEY = /^[-._a-zA-Z0-9]+$/;
const CONFIG_KEY_DETAIL =
  "a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')";

function validateKeys(obj: Obj, fields: string[]): FieldCause[] {
  const causes: FieldCause[] = [];
  const seen = new Set<string>();
  for (const field of fields) {
    for (const key of Object.keys(asObj(obj[field]) ?? {})) {
      const path = Path.root(field).key(key);
      if (key.length > 253) causes.push(invalid(path, key, 'must be no more than 253 characters'));
      if (!CONFIG_KEY.test(key)) causes.push(invalid(path, key, CONFIG_KEY_DETAIL));
      if (key === '.' || key === '..') causes.push(invalid(path, key, `must not be '${key}'`));
      if (seen.has(key)) causes.push(duplicate(path, key));
      seen.add(key);
    }
  }
  return causes;
}

function immutableData(obj: Obj, old: Obj | undefined, fields: string[]): FieldCause[] {
  if (!old || old.immutable !== true) return [];
  const causes: FieldCause[] = [];
  if (obj.immutable !== true)
    causes.push(forbidden(Path.root('immutable'), 'field is immutable when `immutable` is set'));
  for (const f of fields) {
    if (!jsonEqual(obj[f] ?? {}, old[f] ?? {}))
      causes.push(forbidden(Path.root(f), 'field is immutable when `immutable` is set'));
  }
  return causes;
}

export function validateConfigMap(cm: Obj, old?: Obj): FieldCause[] {
  return [...validateKeys(cm, ['data', 'binaryData']), ...immutableData(cm, old, ['data', 'binaryData'])];
}

const SECRET_REQUIRED_KEYS: Record<string, string[]> = {
  'kubernetes.io/tls': ['tls.crt', 'tls.key'],
  'kubernetes.io/basic-auth': [],
  'kubernetes.io/dockerconfigjson': ['.dockerconfigjson'],
  'kubernetes.io/dockercfg': ['.dockercfg'],
  'kubernetes.io/ssh-auth': ['ssh-privatekey'],
};

export function validateSecret(secret: Obj, old?: Obj): FieldCause[] {
  const causes = [...validateKeys(secret, ['data', 'stringData']), ...immutableData(secret, old, ['data'])];
  const type = asStr(secret.type) ?? 'Opaque';
  const keys = new Set([
    ...Object.keys(asObj(secret.data) ?? {}),
    ...Object.keys(asObj(secret.stringData) ?? {}),
  ]);
  for (const key of SECRET_REQUIRED_KEYS[type] ?? []) {
    if (!keys.has(key)) causes.push(required(Path.root('data').key(key)));
  }
  if (type === 'kubernetes.io/service-account-token') {
    const annotations = asObj(asObj(secret.metadata)?.annotations) ?? {};
    if (!asStr(annotations['kubernetes.io/service-account.name'])) {
      causes.push(required(Path.root('metadata', 'annotations').key('kubernetes.io/service-account.name')));
    }
  }
  if (old && (asStr(old.type) ?? 'Opaque') !== type) causes.push(immutable(Path.root('type'), type));
  return causes;
}

const TAINT_EFFECTS = ['NoExecute', 'NoSchedule', 'PreferNoSchedule'];

export function validateNodeSpec(value: unknown): FieldCause[] {
  const spec = asObj(value) ?? {};
  const causes: FieldCause[] = [];
  const podCIDR = asStr(spec.podCIDR);
  if (podCIDR && !isCIDR(podCIDR))
    causes.push(
      invalid(
        SPEC.child('podCIDR'),
        podCIDR,
        'must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)',
      ),
    );
  asArr(spec.podCIDRs).forEach((c, i) => {
    if (typeof c !== 'string' || !isCIDR(c)) {
      causes.push(
        invalid(
          SPEC.child('podCIDRs').index(i),
          c,
          'must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)',
        ),
      );
    }
  });
  const seen = new Set<string>();
  objects(spec.taints).forEach((t, i) => {
    const p = SPEC.child('taints').index(i);
    const key = asStr(t.key) ?? '';
    causes.push(...each(p.child('key'), key, qualifiedName(key)));
    const effect = asStr(t.effect) ?? '';
    if (effect === '') causes.push(required(p.child('effect')));
    else if (!TAINT_EFFECTS.includes(effect))
      causes.push(notSupported(p.child('effect'), effect, TAINT_EFFECTS));
    const id = `${key}:${effect}`;
    if (seen.has(id)) causes.push(duplicate(p, id));
    seen.add(id);
  });
  return causes;
}

export function validateNamespaceSpec(value: unknown): FieldCause[] {
  const spec = asObj(value) ?? {};
  const causes: FieldCause[] = [];
  asArr(spec.finalizers).forEach((f, i) => {
    if (typeof f === 'string') causes.push(...each(SPEC.child('finalizers').index(i), f, qualifiedName(f)));
  });
  return causes;
}

export function validateLeaseSpec(value: unknown): FieldCause[] {
  const spec = asObj(value) ?? {};
  const causes: FieldCause[] = [];
  const duration = asNum(spec.leaseDurationSeconds);
  if (duration !== undefined && duration <= 0) {
    causes.push(invalid(SPEC.child('leaseDurationSeconds'), duration, 'must be greater than 0'));
  }
  const transitions = asNum(spec.leaseTransitions);
  if (transitions !== undefined && transitions < 0) {
    causes.push(invalid(SPEC.child('leaseTransitions'), transitions, 'must be greater than or equal to 0'));
  }
  const strategy = asStr(spec.strategy);
  const preferred = asStr(spec.preferredHolder);
  if (preferred && !strategy)
    causes.push(forbidden(SPEC.child('preferredHolder'), 'may only be specified if `strategy` is defined'));
  return causes;
}

export function validateEvent(event: Obj): FieldCause[] {
  const causes: FieldCause[] = [];
  const involved = asObj(event.involvedObject) ?? {};
  const eventNs = asStr(asObj(event.metadata)?.namespace) ?? '';
  const involvedNs = asStr(involved.namespace) ?? '';
  if (involvedNs !== '' && involvedNs !== eventNs) {
    causes.push(
      invalid(Path.root('involvedObject', 'namespace'), involvedNs, 'does not match event.namespace'),
    );
  }
  const type = asStr(event.type);
  if (type !== undefined && type !== '' && type !== 'Normal' && type !== 'Warning') {
    causes.push(notSupported(Path.root('type'), type, ['Normal', 'Warning']));
  }
  return causes;
}

const ipToBigInt = (ip: string): bigint => {
  if (isIPv4(ip)) return ip.split('.').reduce((acc, part) => (acc << 8n) + BigInt(Number(part)), 0n);
  const [head = '', tail = ''] = ip.split('::');
  const h = head === '' ? [] : head.split(':');
  const t = tail === '' ? [] : tail.split(':');
  const groups = ip.includes('::') ? [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t] : h;
  return groups.reduce((acc, g) => (acc << 16n) + BigInt(parseInt(g, 16)), 0n);
};

/** MetalLB pool addresses: a CIDR or `start-end` of one family, start not after end. */
export function poolAddressProblem(value: string): string | undefined {
  const s = value.trim();
  if (s.includes('/')) return isCIDR(s) ? undefined : `invalid CIDR ${JSON.stringify(s)}`;
  const parts = s.split('-').map((x) => x.trim());
  if (parts.length !== 2)
    return 'must be a CIDR (192.168.56.200/29) or a range (192.168.56.200-192.168.56.250)';
  const [start, end] = parts as [string, string];
  const v4 = isIPv4(start) && isIPv4(end);
  const v6 = isIPv6(start) && isIPv6(end);
  if (!v4 && !v6)
    return `invalid IP range ${JSON.stringify(s)}: both ends must be IP addresses of the same family`;
  if (ipToBigInt(start) > ipToBigInt(end)) return `invalid IP range ${JSON.stringify(s)}: start is after end`;
  return undefined;
}

export function validateIPAddressPoolSpec(value: unknown): FieldCause[] {
  const spec = asObj(value);
  if (!spec) return [required(SPEC)];
  const causes: FieldCause[] = [];
  const addresses = asArr(spec.addresses);
  if (addresses.length === 0) causes.push(required(SPEC.child('addresses')));
  addresses.forEach((a, i) => {
    const problem = typeof a === 'string' ? poolAddressProblem(a) : 'must be a string';
    if (problem) causes.push(invalid(SPEC.child('addresses').index(i), a, problem));
  });
  const alloc = asObj(spec.serviceAllocation);
  if (alloc) {
    const ap = SPEC.child('serviceAllocation');
    objects(alloc.namespaceSelectors).forEach((s, i) =>
      causes.push(...validateLabelSelector(s, ap.child('namespaceSelectors').index(i))),
    );
    objects(alloc.serviceSelectors).forEach((s, i) =>
      causes.push(...validateLabelSelector(s, ap.child('serviceSelectors').index(i))),
    );
  }
  return causes;
}

export function validateL2AdvertisementSpec(value: unknown): FieldCause[] {
  const spec = asObj(value) ?? {};
  const causes: FieldCause[] = [];
  asArr(spec.ipAddressPools).forEach((p, i) => {
    if (typeof p === 'string')
      causes.push(...each(SPEC.child('ipAddressPools').index(i), p, dns1123Subdomain(p)));
  });
  for (const field of ['ipAddressPoolSelectors', 'nodeSelectors', 'serviceSelectors']) {
    objects(spec[field]).forEach((s, i) =>
      causes.push(...validateLabelSelector(s, SPEC.child(field).index(i))),
    );
  }
  objects(spec.preferredNodeSelectors).forEach((pref, i) => {
    const w = asNum(pref.weight);
    if (w === undefined || w < 1 || w > 100) {
      causes.push(
        invalid(
          SPEC.child('preferredNodeSelectors').index(i).child('weight'),
          pref.weight,
          'must be in the range 1-100',
        ),
      );
    }
  });
  return causes;
}
