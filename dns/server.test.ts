import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DnsConfig } from './config.js';
import { resolveConfig } from './config.js';
import type { DnsObject } from './objects.js';
import { parseObjects } from './objects.js';
import type { RunningDns } from './run.js';
import { startDns } from './run.js';
import { ObjectCache } from './store.js';
import type { RunningStub } from './upstream-stub.js';
import { startUpstreamStub } from './upstream-stub.js';

const run = promisify(execFile);
const fixture = parseObjects(
  readFileSync(new URL('./testdata/objects.yaml', import.meta.url), 'utf8'),
  'fixture',
);

/** A headless service with 100 ready endpoints: far beyond 512 bytes over UDP. */
function bigHeadless(): DnsObject[] {
  return [
    {
      kind: 'Service',
      namespace: 'default',
      name: 'big',
      type: 'ClusterIP',
      clusterIP: 'None',
      clusterIPs: [],
      ports: [],
      publishNotReadyAddresses: false,
    },
    {
      kind: 'EndpointSlice',
      namespace: 'default',
      name: 'big-1',
      serviceName: 'big',
      addressType: 'IPv4',
      ports: [{ name: 'http', port: 80, protocol: 'TCP' }],
      endpoints: Array.from({ length: 100 }, (_, i) => ({
        addresses: [`10.244.${1 + Math.floor(i / 50)}.${10 + (i % 50)}`],
        ready: true,
      })),
    },
  ];
}

let stub: RunningStub;
let dns: RunningDns;
let config: DnsConfig;
const objects = new ObjectCache();

async function dig(...args: string[]): Promise<string> {
  const { stdout } = await run('dig', ['-p', String(dns.port), '@127.0.0.1', '+time=3', '+tries=1', ...args]);
  return stdout;
}

async function http(port: number, path: string): Promise<{ status: number; body: string }> {
  const res = await fetch(`http://127.0.0.1:${port}${path}`);
  return { status: res.status, body: await res.text() };
}

beforeAll(async () => {
  stub = await startUpstreamStub({
    origin: 'example.test',
    a: {
      'example.test': ['192.0.2.1'],
      'www.example.test': ['192.0.2.2', '192.0.2.3'],
      'big.example.test': Array.from({ length: 100 }, (_, i) => `198.51.100.${i + 1}`),
    },
    ttl: 60,
    negativeTtl: 20,
  });
  config = resolveConfig(
    [
      {
        listen: '127.0.0.1:0',
        upstreams: [`127.0.0.1:${stub.port}`],
        upstreamTimeoutMs: 1000,
        opsHost: '127.0.0.1',
        healthPort: 0,
        readyPort: 0,
        metricsPort: 0,
      },
    ],
    () => '',
  );
  dns = await startDns(config, { objects, ops: true });
});

afterAll(async () => {
  await dns?.close();
  await stub?.close();
});

describe('before the object cache has synced', () => {
  it('answers SERVFAIL for cluster names and reports not ready, but is alive', async () => {
    expect(await dig('web.default.svc.cluster.local')).toMatch(/status: SERVFAIL/);
    const ops = dns.ops;
    if (!ops) throw new Error('ops endpoints not started');
    expect(await http(ops.ready, '/ready')).toEqual({ status: 503, body: 'kubernetes' });
    expect(await http(ops.health, '/health')).toEqual({ status: 200, body: 'OK' });
  });
});

describe('cluster names over UDP and TCP (dig)', () => {
  beforeAll(() => objects.replace([...fixture, ...bigHeadless()]));

  it('is ready once synced', async () => {
    expect((await http(dns.ops?.ready ?? 0, '/ready')).status).toBe(200);
  });

  it('answers A, SRV, PTR, TXT and CNAME as dig shows them', async () => {
    expect((await dig('web.default.svc.cluster.local', '+short')).trim()).toBe('10.96.0.20');
    expect((await dig('WEB.Default.SVC.cluster.local', '+short', '+tcp')).trim()).toBe('10.96.0.20');
    expect((await dig('_http._tcp.web.default.svc.cluster.local', 'SRV', '+short')).trim()).toBe(
      '0 100 80 web.default.svc.cluster.local.',
    );
    expect((await dig('-x', '10.96.0.20', '+short')).trim()).toBe('web.default.svc.cluster.local.');
    expect((await dig('dns-version.cluster.local', 'TXT', '+short')).trim()).toBe('"1.1.0"');
    expect((await dig('alias.other.svc.cluster.local', '+short')).trim().split('\n')).toEqual([
      'web.default.svc.cluster.local.',
      '10.96.0.20',
    ]);
  });

  it('marks answers authoritative and echoes EDNS', async () => {
    const out = await dig('web.default.svc.cluster.local');
    expect(out).toMatch(/flags: qr aa rd;/);
    expect(out).toMatch(/EDNS: version: 0, flags:; udp: 1232/);
    expect(await dig('web.default.svc.cluster.local', '+noedns')).not.toMatch(/OPT PSEUDOSECTION/);
  });

  it('answers NXDOMAIN with the SOA, and NODATA for an existing name of another type', async () => {
    const nx = await dig('nope.default.svc.cluster.local');
    expect(nx).toMatch(/status: NXDOMAIN/);
    expect(nx).toMatch(
      /cluster\.local\.\s+30\s+IN\s+SOA\s+ns\.dns\.cluster\.local\. hostmaster\.cluster\.local\./,
    );
    const nodata = await dig('web.default.svc.cluster.local', 'AAAA');
    expect(nodata).toMatch(/status: NOERROR/);
    expect(nodata).toMatch(/ANSWER: 0, AUTHORITY: 1/);
  });

  it('truncates a 100-endpoint headless answer over UDP and completes it over TCP', async () => {
    const udp = await dig('big.default.svc.cluster.local', '+ignore', '+noedns');
    expect(udp).toMatch(/flags: qr aa tc rd;/);
    const udpCount = Number(/ANSWER: (\d+)/.exec(udp)?.[1]);
    expect(udpCount).toBeLessThan(100);
    const tcp = await dig('big.default.svc.cluster.local', '+tcp', '+short');
    expect(tcp.trim().split('\n')).toHaveLength(100);
    // dig without +ignore retries over TCP by itself on TC.
    expect((await dig('big.default.svc.cluster.local', '+short')).trim().split('\n')).toHaveLength(100);
    const srv = await dig('_http._tcp.big.default.svc.cluster.local', 'SRV', '+tcp', '+short');
    expect(srv.trim().split('\n')).toHaveLength(100);
    expect(srv).toMatch(/^0 1 80 10-244-1-10\.big\.default\.svc\.cluster\.local\.$/m);
  });

  it('sees a new and a deleted service at once', async () => {
    const svc: DnsObject = {
      kind: 'Service',
      namespace: 'default',
      name: 'fresh',
      type: 'ClusterIP',
      clusterIP: '10.96.7.7',
      clusterIPs: ['10.96.7.7'],
      ports: [],
      publishNotReadyAddresses: false,
    };
    expect(await dig('fresh.default.svc.cluster.local')).toMatch(/status: NXDOMAIN/);
    objects.apply('ADDED', svc);
    expect((await dig('fresh.default.svc.cluster.local', '+short')).trim()).toBe('10.96.7.7');
    objects.apply('DELETED', svc);
    expect(await dig('fresh.default.svc.cluster.local')).toMatch(/status: NXDOMAIN/);
  });
});

describe('forwarding and caching', () => {
  it('forwards names outside the zone and answers repeats from the cache', async () => {
    expect((await dig('www.example.test', '+short')).trim().split('\n').sort()).toEqual([
      '192.0.2.2',
      '192.0.2.3',
    ]);
    const again = await dig('www.example.test');
    expect(again).toMatch(/status: NOERROR/);
    expect(again).toMatch(/flags: qr rd ra;/);
    expect((await dig('www.example.test', '+tcp', '+short')).trim().split('\n')).toHaveLength(2);
    expect(stub.queries.get('www.example.test|1')).toBe(1);
  });

  it('caches NXDOMAIN for the SOA minimum', async () => {
    expect(await dig('missing.example.test')).toMatch(/status: NXDOMAIN/);
    expect(await dig('missing.example.test')).toMatch(/status: NXDOMAIN/);
    expect(stub.queries.get('missing.example.test|1')).toBe(1);
  });

  it('retries upstream over TCP when the upstream truncates, and truncates for small clients', async () => {
    expect((await dig('big.example.test', '+tcp', '+short')).trim().split('\n')).toHaveLength(100);
    expect(await dig('big.example.test', '+ignore', '+noedns')).toMatch(/flags: qr tc rd ra;/);
    expect(stub.queries.get('big.example.test|1')).toBe(2);
  });

  it('chases an ExternalName target through the upstream', async () => {
    expect((await dig('ext.other.svc.cluster.local', '+short')).trim().split('\n')).toEqual([
      'example.test.',
      '192.0.2.1',
    ]);
  });

  it('forwards reverse lookups for addresses outside the cluster', async () => {
    expect(await dig('-x', '192.0.2.55')).toMatch(/status: NXDOMAIN/);
    expect(stub.queries.get('55.2.0.192.in-addr.arpa|12')).toBe(1);
  });

  it('counts requests, responses and cache hits under CoreDNS metric names', async () => {
    const m = await http(dns.ops?.metrics ?? 0, '/metrics');
    expect(m.status).toBe(200);
    expect(m.body).toMatch(/coredns_dns_requests_total\{[^}]*proto="udp"[^}]*type="A"\} \d+/);
    expect(m.body).toMatch(/coredns_dns_responses_total\{[^}]*rcode="NXDOMAIN"[^}]*\} \d+/);
    expect(m.body).toMatch(/coredns_dns_request_duration_seconds_bucket/);
    expect(m.body).toMatch(/coredns_cache_hits_total\{[^}]*type="success"\} [1-9]/);
    expect(m.body).toMatch(/coredns_cache_hits_total\{[^}]*type="denial"\} [1-9]/);
    expect(m.body).toMatch(/coredns_cache_misses_total\{[^}]*\} [1-9]/);
  });
});

describe('upstream failure', () => {
  it('answers SERVFAIL when the upstream does not answer', async () => {
    const silent = await startDns(
      { ...config, upstreams: [{ host: '127.0.0.1', port: 9 }], upstreamTimeoutMs: 200 },
      { objects },
    );
    try {
      const { stdout } = await run('dig', [
        '-p',
        String(silent.port),
        '@127.0.0.1',
        '+time=3',
        '+tries=1',
        'x.test',
      ]);
      expect(stdout).toMatch(/status: SERVFAIL/);
    } finally {
      await silent.close();
    }
  });
});
