import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { DnsObject, EndpointSlice, Service } from './objects.js';
import { parseObjects } from './objects.js';
import type { Lookup, ZoneIndex } from './records.js';
import { buildZone, lookup, reverseName } from './records.js';
import type { RR } from './wire.js';
import { RCODE, TYPE } from './wire.js';

const objects = parseObjects(
  readFileSync(new URL('./testdata/objects.yaml', import.meta.url), 'utf8'),
  'fixture',
);

function zoneOf(objs: DnsObject[], ttl = 30): ZoneIndex {
  return buildZone(
    {
      services: objs.filter((o): o is Service => o.kind === 'Service'),
      slices: objs.filter((o): o is EndpointSlice => o.kind === 'EndpointSlice'),
      namespaces: objs.flatMap((o) => (o.kind === 'Namespace' ? [o.name] : [])),
    },
    { zone: 'cluster.local', ttl, pods: 'insecure', serial: 1700000000 },
  );
}

const zone = zoneOf(objects);

function answer(name: string, type: number): Extract<Lookup, { kind: 'answer' }> {
  const r = lookup(zone, name, type);
  if (r.kind !== 'answer') throw new Error(`${name} was forwarded`);
  return r;
}

/** Renders records the way `dig +short` shows rdata, to keep expectations readable. */
function short(rrs: RR[]): string[] {
  return rrs.map((rr) => {
    const d = rr.data;
    switch (d.kind) {
      case 'raw':
        if (rr.type === TYPE.A) return [...d.bytes].join('.');
        if (rr.type === TYPE.TXT) return `"${d.bytes.toString('latin1', 1)}"`;
        return d.bytes.toString('hex');
      case 'name':
        return `${d.name}.`;
      case 'srv':
        return `${d.priority} ${d.weight} ${d.port} ${d.target}.`;
      case 'mx':
        return `${d.preference} ${d.exchange}.`;
      case 'soa':
        return `${d.mname}. ${d.rname}. ${d.serial} ${d.refresh} ${d.retry} ${d.expire} ${d.minimum}`;
    }
  });
}

describe('cluster records', () => {
  it('serves the schema version', () => {
    const r = answer('dns-version.cluster.local', TYPE.TXT);
    expect(short(r.answers)).toEqual(['"1.1.0"']);
    expect(r.answers[0]?.ttl).toBe(28800);
  });

  it('answers A for a ClusterIP service with the configured TTL', () => {
    const r = answer('web.default.svc.cluster.local', TYPE.A);
    expect(r.rcode).toBe(RCODE.NOERROR);
    expect(short(r.answers)).toEqual(['10.96.0.20']);
    expect(r.answers[0]?.ttl).toBe(30);
  });

  it('answers NODATA (NOERROR + SOA) for an existing name with another type', () => {
    const r = answer('web.default.svc.cluster.local', TYPE.AAAA);
    expect(r.rcode).toBe(RCODE.NOERROR);
    expect(r.answers).toEqual([]);
    expect(short(r.authority)).toEqual([
      'ns.dns.cluster.local. hostmaster.cluster.local. 1700000000 7200 1800 86400 30',
    ]);
  });

  it('answers NXDOMAIN + SOA for a missing service', () => {
    const r = answer('nope.default.svc.cluster.local', TYPE.A);
    expect(r.rcode).toBe(RCODE.NXDOMAIN);
    expect(r.authority.map((a) => a.type)).toEqual([TYPE.SOA]);
  });

  it('tells existing namespaces (NODATA) from unknown ones (NXDOMAIN)', () => {
    expect(answer('default.svc.cluster.local', TYPE.A).rcode).toBe(RCODE.NOERROR);
    expect(answer('empty-ns.svc.cluster.local', TYPE.A).rcode).toBe(RCODE.NOERROR);
    expect(answer('missing-ns.svc.cluster.local', TYPE.A).rcode).toBe(RCODE.NXDOMAIN);
    expect(answer('svc.cluster.local', TYPE.A).rcode).toBe(RCODE.NOERROR);
    expect(answer('pod.cluster.local', TYPE.A).rcode).toBe(RCODE.NOERROR);
  });

  it('answers SOA and NS at the apex, and NODATA for other apex types', () => {
    expect(short(answer('cluster.local', TYPE.SOA).answers)[0]).toMatch(/^ns\.dns\.cluster\.local\. /);
    expect(short(answer('cluster.local', TYPE.NS).answers)).toEqual(['ns.dns.cluster.local.']);
    expect(short(answer('ns.dns.cluster.local', TYPE.A).answers)).toEqual(['10.96.0.10']);
    const a = answer('cluster.local', TYPE.A);
    expect([a.rcode, a.answers.length]).toEqual([RCODE.NOERROR, 0]);
  });

  it('answers SRV for named ports only, with the service address as additional', () => {
    const r = answer('_http._tcp.web.default.svc.cluster.local', TYPE.SRV);
    expect(short(r.answers)).toEqual(['0 100 80 web.default.svc.cluster.local.']);
    expect(short(r.additional)).toEqual(['10.96.0.20']);
    expect(answer('_8080._tcp.web.default.svc.cluster.local', TYPE.SRV).rcode).toBe(RCODE.NXDOMAIN);
    const dns = answer('_dns._udp.kube-dns.kube-system.svc.cluster.local', TYPE.SRV);
    expect(short(dns.answers)).toEqual(['0 100 53 kube-dns.kube-system.svc.cluster.local.']);
    expect(answer('_tcp.web.default.svc.cluster.local', TYPE.SRV).rcode).toBe(RCODE.NOERROR);
  });

  it('answers PTR for service and endpoint addresses', () => {
    expect(reverseName('10.96.0.20')).toBe('20.0.96.10.in-addr.arpa');
    expect(short(answer('20.0.96.10.in-addr.arpa', TYPE.PTR).answers)).toEqual([
      'web.default.svc.cluster.local.',
    ]);
    expect(short(answer('5.1.244.10.in-addr.arpa', TYPE.PTR).answers)).toEqual([
      'db-0.db.default.svc.cluster.local.',
    ]);
    expect(short(answer('6.2.244.10.in-addr.arpa', TYPE.PTR).answers)).toEqual([
      '10-244-2-6.db.default.svc.cluster.local.',
    ]);
    expect(lookup(zone, '9.9.9.9.in-addr.arpa', TYPE.PTR)).toEqual({ kind: 'forward' });
  });

  it('answers every ready endpoint of a headless service, and per-endpoint names', () => {
    expect(short(answer('db.default.svc.cluster.local', TYPE.A).answers)).toEqual([
      '10.244.1.5',
      '10.244.2.6',
    ]);
    expect(short(answer('db-0.db.default.svc.cluster.local', TYPE.A).answers)).toEqual(['10.244.1.5']);
    expect(short(answer('10-244-2-6.db.default.svc.cluster.local', TYPE.A).answers)).toEqual(['10.244.2.6']);
    expect(answer('db-2.db.default.svc.cluster.local', TYPE.A).rcode).toBe(RCODE.NXDOMAIN);
    expect(short(answer('_pg._tcp.db.default.svc.cluster.local', TYPE.SRV).answers)).toEqual([
      '0 50 5432 db-0.db.default.svc.cluster.local.',
      '0 50 5432 10-244-2-6.db.default.svc.cluster.local.',
    ]);
  });

  it('publishes not-ready endpoints when the service asks for it', () => {
    const objs = objects.map((o) =>
      o.kind === 'Service' && o.name === 'db' ? { ...o, publishNotReadyAddresses: true } : o,
    );
    const r = lookup(zoneOf(objs), 'db-2.db.default.svc.cluster.local', TYPE.A);
    expect(r.kind === 'answer' && short(r.answers)).toEqual(['10.244.3.7']);
  });

  it('answers NXDOMAIN for a headless service without ready endpoints', () => {
    expect(answer('lonely.default.svc.cluster.local', TYPE.A).rcode).toBe(RCODE.NXDOMAIN);
  });

  it('answers a CNAME for ExternalName services and asks the caller to chase it', () => {
    const r = answer('ext.other.svc.cluster.local', TYPE.A);
    expect(short(r.answers)).toEqual(['example.test.']);
    expect(r.chase).toBe('example.test');
    const c = answer('ext.other.svc.cluster.local', TYPE.CNAME);
    expect([short(c.answers), c.chase]).toEqual([['example.test.'], undefined]);
  });

  it('answers pod records from the name under "pods insecure"', () => {
    expect(short(answer('10-244-1-9.default.pod.cluster.local', TYPE.A).answers)).toEqual(['10.244.1.9']);
    expect(answer('10-244-1-9.missing.pod.cluster.local', TYPE.A).rcode).toBe(RCODE.NXDOMAIN);
    expect(answer('not-an-ip.default.pod.cluster.local', TYPE.A).rcode).toBe(RCODE.NXDOMAIN);
    expect(answer('10-244-1-9.default.pod.cluster.local', TYPE.AAAA).rcode).toBe(RCODE.NOERROR);
  });

  it('answers AAAA and ip6.arpa PTR for IPv6 cluster addresses', () => {
    const v6 = zoneOf([
      {
        kind: 'Service',
        namespace: 'default',
        name: 'six',
        type: 'ClusterIP',
        clusterIP: 'fd00::a',
        clusterIPs: ['fd00::a'],
        ports: [],
        publishNotReadyAddresses: false,
      },
    ]);
    const r = lookup(v6, 'six.default.svc.cluster.local', TYPE.AAAA);
    expect(r.kind === 'answer' && short(r.answers)).toEqual(['fd00000000000000000000000000000a']);
    const ptr = lookup(v6, reverseName('fd00::a'), TYPE.PTR);
    expect(ptr.kind === 'answer' && short(ptr.answers)).toEqual(['six.default.svc.cluster.local.']);
    expect(reverseName('fd00::a')).toMatch(/^a\.0\.0\.0\..*\.d\.f\.ip6\.arpa$/);
  });

  it('refuses zone transfers and forwards names outside the zone', () => {
    expect(answer('cluster.local', TYPE.AXFR).rcode).toBe(RCODE.REFUSED);
    expect(lookup(zone, 'example.test', TYPE.A)).toEqual({ kind: 'forward' });
    expect(lookup(zone, 'notcluster.local', TYPE.A)).toEqual({ kind: 'forward' });
  });

  it('derives the SOA TTL and minimum from the configured TTL', () => {
    const z = zoneOf(objects, 600);
    const r = lookup(z, 'nope.default.svc.cluster.local', TYPE.A);
    expect(r.kind === 'answer' && r.authority[0]?.ttl).toBe(300);
    expect(r.kind === 'answer' && short(r.authority)[0]).toMatch(/ 600$/);
  });
});

describe('object parsing', () => {
  it('names the object and field on bad input', () => {
    expect(() =>
      parseObjects('kind: Service\nmetadata: {name: x}\nspec: {ports: [{port: 99999}]}', 'f.yaml'),
    ).toThrow(/f\.yaml: .*Service x: spec\.ports\[0\]\.port must be an integer port/);
    expect(() => parseObjects('kind: Service\nmetadata: {name: x}\nspec: {type: ExternalName}')).toThrow(
      /spec\.externalName is required/,
    );
    expect(() => parseObjects('kind: Service\nspec: {}')).toThrow(/metadata is required/);
  });

  it('reads JSON snapshots as well as YAML', () => {
    const json = JSON.stringify({ kind: 'List', items: [{ kind: 'Namespace', metadata: { name: 'n' } }] });
    expect(parseObjects(json)).toEqual([{ kind: 'Namespace', name: 'n' }]);
    expect(() => parseObjects('{"kind": ', 'x.json')).toThrow(/^x\.json: /);
  });

  it('flattens List objects and ignores kinds DNS does not use', () => {
    const objs = parseObjects(
      'kind: List\nitems:\n- {kind: ConfigMap, metadata: {name: a}}\n- {kind: Namespace, metadata: {name: b}}',
    );
    expect(objs).toEqual([{ kind: 'Namespace', name: 'b' }]);
  });
});
