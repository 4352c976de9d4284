/**
 * Kubernetes DNS-Based Service Discovery (schema 1.1.0) as CoreDNS's kubernetes plugin answers
 * it: objects → an index of records per name (built once per change), and a lookup that turns a
 * question into an answer, NODATA, NXDOMAIN, REFUSED or "not ours, forward it".
 */
import { isIPv4, isIPv6 } from 'node:net';
import type { EndpointSlice, Service } from './objects.js';
import type { RR, RData } from './wire.js';
import { CLASS_IN, RCODE, TYPE } from './wire.js';

export interface ZoneOptions {
  /** The cluster domain, lower case without a trailing dot. */
  zone: string;
  /** TTL of every cluster record and the SOA minimum (kubeadm: 30). */
  ttl: number;
  /** `insecure` answers a-b-c-d.<ns>.pod.<zone> from the name alone (kubeadm's default). */
  pods: 'insecure' | 'disabled';
  /** SOA serial; CoreDNS uses the time of the last object change. */
  serial: number;
}

export interface ObjectsSnapshot {
  services: Iterable<Service>;
  slices: Iterable<EndpointSlice>;
  namespaces: Iterable<string>;
}

export interface ZoneIndex {
  options: ZoneOptions;
  records: Map<string, RR[]>;
  /** Names that exist without records of their own (NODATA rather than NXDOMAIN). */
  emptyNames: Set<string>;
  namespaces: Set<string>;
  soa: RR;
}

export type Lookup =
  | {
      kind: 'answer';
      rcode: number;
      answers: RR[];
      authority: RR[];
      additional: RR[];
      /** A CNAME was answered for another type; the caller resolves this target and appends. */
      chase?: string;
    }
  | { kind: 'forward' };

const DNS_VERSION = '1.1.0';
const DNS_VERSION_TTL = 28800;

function txt(value: string): RData {
  const bytes = Buffer.alloc(value.length + 1);
  bytes[0] = value.length;
  bytes.write(value, 1, 'latin1');
  return { kind: 'raw', bytes };
}

function addressRData(ip: string): { type: number; data: RData } | null {
  if (isIPv4(ip))
    return { type: TYPE.A, data: { kind: 'raw', bytes: Buffer.from(ip.split('.').map(Number)) } };
  if (isIPv6(ip)) return { type: TYPE.AAAA, data: { kind: 'raw', bytes: ipv6Bytes(ip) } };
  return null;
}

function ipv6Bytes(ip: string): Buffer {
  const [head = '', tail] = ip.split('::');
  const parse = (s: string): number[] => (s === '' ? [] : s.split(':').map((h) => parseInt(h, 16)));
  let words = parse(head);
  if (tail !== undefined) {
    const t = parse(tail);
    words = [...words, ...new Array<number>(8 - words.length - t.length).fill(0), ...t];
  }
  const out = Buffer.alloc(16);
  words.forEach((w, i) => out.writeUInt16BE(w, i * 2));
  return out;
}

/** The reverse-lookup name of an address (in-addr.arpa or nibble-reversed ip6.arpa). */
export function reverseName(ip: string): string {
  if (isIPv4(ip)) return `${ip.split('.').reverse().join('.')}.in-addr.arpa`;
  const hex = ipv6Bytes(ip).toString('hex');
  return `${hex.split('').reverse().join('.')}.ip6.arpa`;
}

/** CoreDNS names an endpoint without a hostname by its address with dashes. */
export function dashedAddress(ip: string): string {
  return ip.replace(/[.:]/g, '-');
}

function srvWeight(n: number): number {
  return Math.max(1, Math.floor(100 / n));
}

/** Builds the record index for a zone; a pure function of the objects and options. */
export function buildZone(objects: ObjectsSnapshot, options: ZoneOptions): ZoneIndex {
  const { zone, ttl } = options;
  const records = new Map<string, RR[]>();
  const add = (name: string, type: number, data: RData, recordTtl = ttl): void => {
    const rr: RR = { name, type, class: CLASS_IN, ttl: recordTtl, data };
    const list = records.get(name);
    if (list) list.push(rr);
    else records.set(name, [rr]);
  };
  const soa: RR = {
    name: zone,
    type: TYPE.SOA,
    class: CLASS_IN,
    ttl: Math.min(ttl, 300),
    data: {
      kind: 'soa',
      mname: `ns.dns.${zone}`,
      rname: `hostmaster.${zone}`,
      serial: options.serial,
      refresh: 7200,
      retry: 1800,
      expire: 86400,
      minimum: ttl,
    },
  };
  records.set(zone, [soa]);
  add(zone, TYPE.NS, { kind: 'name', name: `ns.dns.${zone}` });
  add(`dns-version.${zone}`, TYPE.TXT, txt(DNS_VERSION), DNS_VERSION_TTL);

  const namespaces = new Set<string>(Array.from(objects.namespaces, (n) => n.toLowerCase()));
  const slicesByService = new Map<string, EndpointSlice[]>();
  for (const s of objects.slices) {
    const key = `${s.namespace}/${s.serviceName}`;
    const list = slicesByService.get(key);
    if (list) list.push(s);
    else slicesByService.set(key, [s]);
  }

  for (const svc of objects.services) {
    const ns = svc.namespace.toLowerCase();
    namespaces.add(ns);
    const base = `${svc.name.toLowerCase()}.${ns}.svc.${zone}`;
    if (svc.type === 'ExternalName') {
      const target = (svc.externalName ?? '').toLowerCase().replace(/\.$/, '');
      if (target !== '') add(base, TYPE.CNAME, { kind: 'name', name: target });
      continue;
    }
    if (svc.clusterIP === 'None') {
      addHeadless(svc, base, slicesByService.get(`${svc.namespace}/${svc.name}`) ?? [], add);
      continue;
    }
    const named = svc.ports.filter((p) => p.name);
    for (const ip of svc.clusterIPs) {
      const addr = addressRData(ip);
      if (!addr) continue;
      add(base, addr.type, addr.data);
      add(reverseName(ip), TYPE.PTR, { kind: 'name', name: base });
    }
    if (svc.clusterIPs.length === 0) continue;
    for (const p of named) {
      add(`_${p.name?.toLowerCase()}._${p.protocol.toLowerCase()}.${base}`, TYPE.SRV, {
        kind: 'srv',
        priority: 0,
        weight: srvWeight(1),
        port: p.port,
        target: base,
      });
    }
  }

  const dnsService = records.get(`kube-dns.kube-system.svc.${zone}`);
  for (const rr of dnsService ?? []) {
    if (rr.type === TYPE.A || rr.type === TYPE.AAAA) add(`ns.dns.${zone}`, rr.type, rr.data);
  }

  const emptyNames = new Set<string>([`svc.${zone}`, `pod.${zone}`, `dns.${zone}`]);
  for (const ns of namespaces) emptyNames.add(`${ns}.svc.${zone}`);
  // Parents of SRV names (_proto.svc… and nothing above the service) exist as empty names.
  for (const name of records.keys()) {
    if (name.startsWith('_')) emptyNames.add(name.slice(name.indexOf('.') + 1));
  }
  return { options, records, emptyNames, namespaces, soa };
}

function addHeadless(
  svc: Service,
  base: string,
  slices: EndpointSlice[],
  add: (name: string, type: number, data: RData) => void,
): void {
  const targets: { host: string; ip: string }[] = [];
  const seen = new Set<string>();
  const ports = new Map<string, { name: string; port: number; protocol: string }>();
  for (const slice of slices) {
    if (slice.addressType !== 'IPv4' && slice.addressType !== 'IPv6') continue;
    let anyReady = false;
    for (const ep of slice.endpoints) {
      if (!ep.ready && !svc.publishNotReadyAddresses) continue;
      for (const ip of ep.addresses) {
        if (!addressRData(ip)) continue;
        const host = (ep.hostname ?? dashedAddress(ip)).toLowerCase();
        // The same endpoint may appear in two slices of one service (during a resync); once.
        if (seen.has(`${host}|${ip}`)) continue;
        seen.add(`${host}|${ip}`);
        targets.push({ host, ip });
        anyReady = true;
      }
    }
    if (!anyReady) continue;
    for (const p of slice.ports) {
      if (p.name) ports.set(`${p.name}/${p.protocol}`, { name: p.name, port: p.port, protocol: p.protocol });
    }
  }
  const hosts = new Set(targets.map((t) => `${t.host}.${base}`));
  for (const { host, ip } of targets) {
    const addr = addressRData(ip);
    if (!addr) continue;
    const fqdn = `${host}.${base}`;
    add(base, addr.type, addr.data);
    add(fqdn, addr.type, addr.data);
    add(reverseName(ip), TYPE.PTR, { kind: 'name', name: fqdn });
  }
  for (const p of ports.values()) {
    const name = `_${p.name.toLowerCase()}._${p.protocol.toLowerCase()}.${base}`;
    for (const target of hosts) {
      add(name, TYPE.SRV, { kind: 'srv', priority: 0, weight: srvWeight(hosts.size), port: p.port, target });
    }
  }
}

/** True when the index answers for this name (the cluster zone, or a known reverse name). */
export function inZone(index: ZoneIndex, name: string): boolean {
  const zone = index.options.zone;
  return name === zone || name.endsWith(`.${zone}`);
}

function negative(index: ZoneIndex, rcode: number): Lookup {
  return { kind: 'answer', rcode, answers: [], authority: [index.soa], additional: [] };
}

/** Answers `name`/`qtype` from the index, as CoreDNS's kubernetes plugin does. */
export function lookup(index: ZoneIndex, name: string, qtype: number): Lookup {
  const isReverse = name.endsWith('.in-addr.arpa') || name.endsWith('.ip6.arpa');
  if (!inZone(index, name)) {
    // Reverse names fall through to the upstreams unless they belong to a cluster address.
    if (!isReverse || !index.records.has(name)) return { kind: 'forward' };
  }
  if (qtype === TYPE.AXFR || qtype === TYPE.IXFR) {
    return { kind: 'answer', rcode: RCODE.REFUSED, answers: [], authority: [], additional: [] };
  }
  const rrs = index.records.get(name) ?? podRecords(index, name);
  if (!rrs) {
    return negative(index, index.emptyNames.has(name) ? RCODE.NOERROR : RCODE.NXDOMAIN);
  }
  const cname = rrs.find((r) => r.type === TYPE.CNAME);
  if (cname && qtype !== TYPE.CNAME && qtype !== TYPE.ANY) {
    const target = cname.data.kind === 'name' ? cname.data.name : '';
    return {
      kind: 'answer',
      rcode: RCODE.NOERROR,
      answers: [cname],
      authority: [],
      additional: [],
      chase: target,
    };
  }
  const answers = qtype === TYPE.ANY ? rrs : rrs.filter((r) => r.type === qtype);
  if (answers.length === 0) return negative(index, RCODE.NOERROR);
  const additional: RR[] = [];
  if (qtype === TYPE.SRV) {
    const targets = new Set<string>();
    for (const rr of answers) if (rr.data.kind === 'srv') targets.add(rr.data.target);
    for (const t of targets) {
      for (const rr of index.records.get(t) ?? []) {
        if (rr.type === TYPE.A || rr.type === TYPE.AAAA) additional.push(rr);
      }
    }
  }
  return { kind: 'answer', rcode: RCODE.NOERROR, answers, authority: [], additional };
}

/** `pods insecure`: a-b-c-d.<ns>.pod.<zone> answers the address spelled in its first label. */
function podRecords(index: ZoneIndex, name: string): RR[] | undefined {
  const { zone, pods, ttl } = index.options;
  if (pods !== 'insecure') return undefined;
  const suffix = `.pod.${zone}`;
  if (!name.endsWith(suffix)) return undefined;
  const labels = name.slice(0, -suffix.length).split('.');
  if (labels.length !== 2) return undefined;
  const [host = '', ns = ''] = labels;
  if (!index.namespaces.has(ns)) return undefined;
  const v4 = host.replace(/-/g, '.');
  const ip = isIPv4(v4) ? v4 : host.replace(/-/g, ':');
  const addr = addressRData(ip);
  if (!addr) return undefined;
  return [{ name, type: addr.type, class: CLASS_IN, ttl, data: addr.data }];
}
