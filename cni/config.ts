import { CniCode, CniError, invalidConfig } from './errors.js';
import { broadcast, contains, formatCidr, network, parseCidr, parseIp, type Cidr } from './ipv4.js';
import type { Attachment, Dns, Result, Route } from './types.js';
import { checkVersion } from './version.js';

export interface Range {
  subnet: Cidr;
  rangeStart: number;
  rangeEnd: number;
  gateway: number;
}

export interface IpamConf {
  type: 'host-local';
  /** Each inner list is a range set that yields one address (host-local semantics). */
  ranges: Range[][];
  routes: Route[];
  dataDir: string;
}

export interface NetConf {
  cniVersion: string;
  name: string;
  type: string;
  bridge: string;
  isGateway: boolean;
  isDefaultGateway: boolean;
  ipMasq: boolean;
  /** klab extension (ip-masq-agent's term): destinations never masqueraded, e.g. the cluster's pod CIDR. */
  nonMasqueradeCIDRs: string[];
  hairpinMode: boolean;
  promiscMode: boolean;
  mtu?: number;
  ipam: IpamConf;
  dns?: Dns;
  prevResult?: Result;
  validAttachments?: Attachment[];
}

export const DEFAULT_DATA_DIR = '/var/lib/cni/networks';
const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;

type Obj = Record<string, unknown>;

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function bool(o: Obj, key: string, field: string): boolean {
  const v = o[key];
  if (v === undefined) return false;
  if (typeof v !== 'boolean') throw invalidConfig(field, `must be true or false, got ${JSON.stringify(v)}`);
  return v;
}

function str(o: Obj, key: string, field: string, fallback?: string): string {
  const v = o[key];
  if (v === undefined && fallback !== undefined) return fallback;
  if (typeof v !== 'string' || v === '') throw invalidConfig(field, `must be a non-empty string`);
  return v;
}

function ipField(o: Obj, key: string, field: string): number | undefined {
  const v = o[key];
  if (v === undefined) return undefined;
  const ip = typeof v === 'string' ? parseIp(v) : undefined;
  if (ip === undefined) throw invalidConfig(field, `${JSON.stringify(v)} is not an IPv4 address`);
  return ip;
}

function parseRange(v: unknown, field: string): Range {
  if (!isObj(v)) throw invalidConfig(field, 'must be an object');
  const subnetText = str(v, 'subnet', `${field}.subnet`);
  const subnet = parseCidr(subnetText);
  if (!subnet) throw invalidConfig(`${field}.subnet`, `"${subnetText}" is not an IPv4 CIDR`);
  if (network(subnet) !== subnet.ip) {
    throw invalidConfig(
      `${field}.subnet`,
      `"${subnetText}" has host bits set (network is ${formatCidr({ ip: network(subnet), prefix: subnet.prefix })})`,
    );
  }
  if (subnet.prefix > 30)
    throw invalidConfig(`${field}.subnet`, `"${subnetText}" is too small (at most /30)`);
  const first = subnet.ip + 1;
  const last = broadcast(subnet) - 1;
  const inSubnet = (key: string, ip: number | undefined): number | undefined => {
    if (ip !== undefined && (!contains(subnet, ip) || ip < first || ip > last)) {
      throw invalidConfig(`${field}.${key}`, `not a usable address of ${subnetText}`);
    }
    return ip;
  };
  const rangeStart = inSubnet('rangeStart', ipField(v, 'rangeStart', `${field}.rangeStart`)) ?? first;
  const rangeEnd = inSubnet('rangeEnd', ipField(v, 'rangeEnd', `${field}.rangeEnd`)) ?? last;
  if (rangeStart > rangeEnd) throw invalidConfig(`${field}.rangeStart`, 'is after rangeEnd');
  const gateway = inSubnet('gateway', ipField(v, 'gateway', `${field}.gateway`)) ?? first;
  return { subnet, rangeStart, rangeEnd, gateway };
}

function parseRoutes(v: unknown, field: string): Route[] {
  if (v === undefined) return [];
  if (!Array.isArray(v)) throw invalidConfig(field, 'must be a list');
  return v.map((r, i) => {
    const f = `${field}[${i}]`;
    if (!isObj(r)) throw invalidConfig(f, 'must be an object');
    const dst = str(r, 'dst', `${f}.dst`);
    if (!parseCidr(dst)) throw invalidConfig(`${f}.dst`, `"${dst}" is not an IPv4 CIDR`);
    const gw = ipField(r, 'gw', `${f}.gw`);
    return gw === undefined ? { dst } : { dst, gw: r.gw as string };
  });
}

function parseIpam(v: unknown): IpamConf {
  if (!isObj(v)) throw invalidConfig('ipam', 'must be an object');
  const type = str(v, 'type', 'ipam.type');
  if (type !== 'host-local') throw invalidConfig('ipam.type', `"${type}" is not supported (only host-local)`);
  let sets: unknown = v.ranges;
  if (sets === undefined && v.subnet !== undefined) sets = [[{ subnet: v.subnet, gateway: v.gateway }]];
  if (!Array.isArray(sets) || sets.length === 0)
    throw invalidConfig('ipam.ranges', 'must be a non-empty list of range sets');
  const ranges = sets.map((set, i) => {
    if (!Array.isArray(set) || set.length === 0)
      throw invalidConfig(`ipam.ranges[${i}]`, 'must be a non-empty list of ranges');
    const parsed = set.map((r, j) => parseRange(r, `ipam.ranges[${i}][${j}]`));
    parsed.forEach((a, j) =>
      parsed.slice(j + 1).forEach((b, k) => {
        if (a.rangeStart <= b.rangeEnd && b.rangeStart <= a.rangeEnd) {
          throw invalidConfig(`ipam.ranges[${i}][${j + k + 1}]`, `overlaps ipam.ranges[${i}][${j}]`);
        }
      }),
    );
    return parsed;
  });
  const dataDir = str(v, 'dataDir', 'ipam.dataDir', DEFAULT_DATA_DIR);
  if (!dataDir.startsWith('/')) throw invalidConfig('ipam.dataDir', `"${dataDir}" must be an absolute path`);
  return { type: 'host-local', ranges, routes: parseRoutes(v.routes, 'ipam.routes'), dataDir };
}

function parseStringList(o: Obj, key: string, field: string): string[] | undefined {
  const v = o[key];
  if (v === undefined) return undefined;
  if (!Array.isArray(v) || !v.every((s) => typeof s === 'string'))
    throw invalidConfig(field, 'must be a list of strings');
  return v as string[];
}

function parseCidrList(o: Obj, key: string): string[] {
  const list = parseStringList(o, key, key) ?? [];
  list.forEach((c, i) => {
    const cidr = parseCidr(c);
    if (!cidr || network(cidr) !== cidr.ip)
      throw invalidConfig(`${key}[${i}]`, `"${c}" is not an IPv4 network CIDR`);
  });
  return list;
}

function parseDns(v: unknown): Dns | undefined {
  if (v === undefined) return undefined;
  if (!isObj(v)) throw invalidConfig('dns', 'must be an object');
  const dns: Dns = {};
  const nameservers = parseStringList(v, 'nameservers', 'dns.nameservers');
  const search = parseStringList(v, 'search', 'dns.search');
  const options = parseStringList(v, 'options', 'dns.options');
  if (nameservers) dns.nameservers = nameservers;
  if (typeof v.domain === 'string') dns.domain = v.domain;
  if (search) dns.search = search;
  if (options) dns.options = options;
  return Object.keys(dns).length > 0 ? dns : undefined;
}

function parsePrevResult(v: unknown): Result | undefined {
  if (v === undefined) return undefined;
  if (!isObj(v)) throw invalidConfig('prevResult', 'must be an object');
  for (const key of ['interfaces', 'ips', 'routes'] as const) {
    if (v[key] !== undefined && !Array.isArray(v[key]))
      throw invalidConfig(`prevResult.${key}`, 'must be a list');
  }
  return v as unknown as Result;
}

function parseAttachments(v: unknown): Attachment[] | undefined {
  if (v === undefined) return undefined;
  const field = 'cni.dev/valid-attachments';
  if (!Array.isArray(v)) throw invalidConfig(field, 'must be a list');
  return v.map((a, i) => {
    if (!isObj(a) || typeof a.containerID !== 'string' || typeof a.ifname !== 'string') {
      throw invalidConfig(`${field}[${i}]`, 'must be {containerID, ifname} strings');
    }
    return { containerID: a.containerID, ifname: a.ifname };
  });
}

/** Decodes the JSON text (code 6 when it is not JSON) into a raw object. */
export function decode(text: string): Obj {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (err) {
    throw new CniError(CniCode.DecodeFailure, `error decoding network config: ${(err as Error).message}`);
  }
  if (!isObj(v))
    throw new CniError(CniCode.DecodeFailure, 'error decoding network config: not a JSON object');
  return v;
}

/** Validates a request configuration (the plugin object plus cniVersion and name). */
export function parseNetConf(raw: Obj): NetConf {
  const cniVersion = checkVersion(raw.cniVersion);
  const name = str(raw, 'name', 'name');
  if (!NAME.test(name)) throw invalidConfig('name', `"${name}" must match ${NAME.source}`);
  const type = str(raw, 'type', 'type');
  const bridge = str(raw, 'bridge', 'bridge', 'cni0');
  if (bridge.length > 15 || /[/:\s]/.test(bridge))
    throw invalidConfig('bridge', `"${bridge}" is not a valid interface name`);
  const hairpinMode = bool(raw, 'hairpinMode', 'hairpinMode');
  const promiscMode = bool(raw, 'promiscMode', 'promiscMode');
  if (hairpinMode && promiscMode)
    throw invalidConfig('promiscMode', 'cannot be set together with hairpinMode');
  let mtu: number | undefined;
  if (raw.mtu !== undefined && raw.mtu !== 0) {
    if (typeof raw.mtu !== 'number' || !Number.isInteger(raw.mtu) || raw.mtu < 68 || raw.mtu > 65535) {
      throw invalidConfig('mtu', `${JSON.stringify(raw.mtu)} is not an MTU between 68 and 65535`);
    }
    mtu = raw.mtu;
  }
  const isDefaultGateway = bool(raw, 'isDefaultGateway', 'isDefaultGateway');
  const conf: NetConf = {
    cniVersion,
    name,
    type,
    bridge,
    isGateway: bool(raw, 'isGateway', 'isGateway') || isDefaultGateway,
    isDefaultGateway,
    ipMasq: bool(raw, 'ipMasq', 'ipMasq'),
    nonMasqueradeCIDRs: parseCidrList(raw, 'nonMasqueradeCIDRs'),
    hairpinMode,
    promiscMode,
    ipam: parseIpam(raw.ipam),
  };
  if (mtu !== undefined) conf.mtu = mtu;
  const dns = parseDns(raw.dns);
  if (dns) conf.dns = dns;
  const prevResult = parsePrevResult(raw.prevResult);
  if (prevResult) conf.prevResult = prevResult;
  const valid = parseAttachments(raw['cni.dev/valid-attachments']);
  if (valid) conf.validAttachments = valid;
  return conf;
}
