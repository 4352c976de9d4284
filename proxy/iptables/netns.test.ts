import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EndpointSliceObject, ServiceObject } from '../objects.js';
import { ProxySyncEngine } from '../sync.js';
import { detectBackend, hostExec, IptablesApplier, netnsExec } from './apply.js';
import type { Exec } from './apply.js';
import { endpointChain, serviceChains } from './names.js';

// One "node" namespace with kube-proxy's rules, a client on the node's LAN and three backend
// "pods" behind veths; every name carries kpx- and a random suffix.
const id = randomBytes(3).toString('hex');
const NODE = `kpx-${id}-node`;
const CLIENT = `kpx-${id}-client`;
const GATEWAY = `kpx-${id}-gw`;
const PODS = [1, 2, 3].map((i) => ({ ns: `kpx-${id}-pod${i}`, ip: `10.244.${i}.2`, name: `pod${i}` }));
const NODE_IP = '192.168.56.11';

const servers: ChildProcess[] = [];
const createdNs: string[] = [];

async function sh(args: string[]): Promise<string> {
  const r = await hostExec(args[0] as string, args.slice(1));
  if (r.code !== 0) throw new Error(`${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

const ECHO = `
const net = require('net'), dgram = require('dgram');
const [name, port] = [process.argv[1], Number(process.argv[2])];
const t = net.createServer((s) => s.end(name + '\\n')).listen(port, '0.0.0.0', () => {
  const u = dgram.createSocket('udp4');
  u.on('message', (m, r) => u.send(name, r.port, r.address));
  u.bind(port, '0.0.0.0', () => console.log('ready'));
});`;

/** TCP: connect `count` times in a row (or for `durationMs`, every 10 ms); tally answers. */
const CLIENT_TCP = `
const net = require('net');
const [ip, port, count, durationMs] = process.argv.slice(1).map((v, i) => (i === 0 ? v : Number(v)));
const tally = {}; const errors = {}; const started = Date.now(); let slowest = 0;
function once() {
  return new Promise((resolve) => {
    const t0 = Date.now(); let data = '';
    const s = net.connect({ host: ip, port, timeout: 2000 });
    const done = (k, bucket) => { slowest = Math.max(slowest, Date.now() - t0); bucket[k] = (bucket[k] || 0) + 1; s.destroy(); resolve(); };
    s.on('data', (d) => (data += d));
    s.on('end', () => done(data.trim(), tally));
    s.on('timeout', () => done('ETIMEDOUT', errors));
    s.on('error', (e) => done(e.code, errors));
  });
}
(async () => {
  if (durationMs > 0) { while (Date.now() - started < durationMs) { await once(); await new Promise((r) => setTimeout(r, 10)); } }
  else for (let i = 0; i < count; i++) await once();
  console.log(JSON.stringify({ tally, errors, slowest }));
})();`;

/** UDP: from a fixed source port, send one datagram and print who answered (or timeout). */
const CLIENT_UDP = `
const dgram = require('dgram');
const [ip, port, src] = process.argv.slice(1);
const u = dgram.createSocket('udp4');
u.bind(Number(src), () => {
  const timer = setTimeout(() => { console.log('timeout'); u.close(); }, 1500);
  u.on('message', (m) => { clearTimeout(timer); console.log(m.toString()); u.close(); });
  u.send('ping', Number(port), ip);
});`;

async function nodeIn(ns: string, script: string, args: (string | number)[]): Promise<string> {
  return sh(['ip', 'netns', 'exec', ns, process.execPath, '-e', script, ...args.map(String)]);
}

interface TcpResult {
  tally: Record<string, number>;
  errors: Record<string, number>;
  slowest: number;
}

async function tcp(ip: string, port: number, count: number): Promise<TcpResult> {
  return JSON.parse(await nodeIn(CLIENT, CLIENT_TCP, [ip, port, count, 0])) as TcpResult;
}

async function startEcho(ns: string, name: string, port: number): Promise<void> {
  const child = spawn('ip', ['netns', 'exec', ns, process.execPath, '-e', ECHO, name, String(port)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  servers.push(child);
  await new Promise<void>((resolve, reject) => {
    child.stdout?.on('data', (d: Buffer) => d.toString().includes('ready') && resolve());
    child.on('exit', (code) => reject(new Error(`echo server in ${ns} exited with ${code}`)));
  });
}

function service(name: string, clusterIP: string, extra: Partial<ServiceObject['spec']> = {}): ServiceObject {
  return {
    metadata: { namespace: 'demo', name },
    spec: { clusterIP, ports: [{ name: 'p', port: 80, protocol: 'TCP' }], ...extra },
  };
}

function slice(svc: string, ips: string[], port = 8080, protocol = 'TCP'): EndpointSliceObject {
  return {
    metadata: { namespace: 'demo', name: `${svc}-1`, labels: { 'kubernetes.io/service-name': svc } },
    addressType: 'IPv4',
    endpoints: ips.map((ip) => ({ addresses: [ip], nodeName: 'node-x' })),
    ports: [{ name: 'p', port, protocol }],
  };
}

const exec: Exec = netnsExec(NODE);
const node = {
  name: 'node-1',
  ips: [NODE_IP],
  clusterCIDR: '10.244.0.0/16',
  masqueradeAll: false,
  localhostNodePorts: false,
};

function newEngine(): ProxySyncEngine {
  return new ProxySyncEngine({
    node,
    exec,
    applier: new IptablesApplier(exec, 'nft'),
    minSyncPeriodMs: 50,
    syncPeriodMs: 60_000,
  });
}

function loadObjects(e: ProxySyncEngine): void {
  e.setService(
    service('web', '10.96.0.20', {
      type: 'NodePort',
      ports: [{ name: 'p', port: 80, protocol: 'TCP', nodePort: 30080 }],
    }),
  );
  e.setEndpointSlice(
    slice(
      'web',
      PODS.map((p) => p.ip),
    ),
  );
  e.setService(service('other', '10.96.0.21'));
  e.setEndpointSlice(slice('other', [PODS[0]?.ip as string]));
  e.setService(service('empty', '10.96.0.22'));
  e.setService(service('dns', '10.96.0.23', { ports: [{ name: 'p', port: 53, protocol: 'UDP' }] }));
  e.setEndpointSlice(slice('dns', [PODS[0]?.ip as string], 8080, 'UDP'));
}

beforeAll(async () => {
  for (const ns of [NODE, CLIENT, GATEWAY, ...PODS.map((p) => p.ns)]) {
    await sh(['ip', 'netns', 'add', ns]);
    createdNs.push(ns);
    await sh(['ip', '-n', ns, 'link', 'set', 'lo', 'up']);
  }
  await sh(['ip', 'netns', 'exec', NODE, 'sysctl', '-qw', 'net.ipv4.ip_forward=1']);
  await sh([
    'ip',
    'link',
    'add',
    `kpx-${id}-c`,
    'netns',
    CLIENT,
    'type',
    'veth',
    'peer',
    'name',
    `kpx-${id}-n`,
    'netns',
    NODE,
  ]);
  await sh(['ip', '-n', CLIENT, 'addr', 'add', '192.168.56.2/24', 'dev', `kpx-${id}-c`]);
  await sh(['ip', '-n', NODE, 'addr', 'add', `${NODE_IP}/24`, 'dev', `kpx-${id}-n`]);
  await sh(['ip', '-n', CLIENT, 'link', 'set', `kpx-${id}-c`, 'up']);
  await sh(['ip', '-n', NODE, 'link', 'set', `kpx-${id}-n`, 'up']);
  await sh(['ip', '-n', CLIENT, 'route', 'add', 'default', 'via', NODE_IP]);
  // Like any node, ours has a default route (to an uplink gateway namespace that forwards
  // nothing), so service IPs route and reach the filter rules; an uplink other than the
  // client's link keeps ICMP redirects out of the picture.
  await sh([
    'ip',
    'link',
    'add',
    `kpx-${id}-up`,
    'netns',
    NODE,
    'type',
    'veth',
    'peer',
    'name',
    `kpx-${id}-gw`,
    'netns',
    GATEWAY,
  ]);
  await sh(['ip', '-n', NODE, 'addr', 'add', '172.31.255.1/24', 'dev', `kpx-${id}-up`]);
  await sh(['ip', '-n', GATEWAY, 'addr', 'add', '172.31.255.2/24', 'dev', `kpx-${id}-gw`]);
  await sh(['ip', '-n', NODE, 'link', 'set', `kpx-${id}-up`, 'up']);
  await sh(['ip', '-n', GATEWAY, 'link', 'set', `kpx-${id}-gw`, 'up']);
  await sh(['ip', '-n', NODE, 'route', 'add', 'default', 'via', '172.31.255.2']);
  for (const [i, pod] of PODS.entries()) {
    const [inPod, onNode] = [`kpx-${id}-p${i + 1}`, `kpx-${id}-h${i + 1}`];
    await sh([
      'ip',
      'link',
      'add',
      inPod,
      'netns',
      pod.ns,
      'type',
      'veth',
      'peer',
      'name',
      onNode,
      'netns',
      NODE,
    ]);
    await sh(['ip', '-n', pod.ns, 'addr', 'add', `${pod.ip}/24`, 'dev', inPod]);
    await sh(['ip', '-n', NODE, 'addr', 'add', `10.244.${i + 1}.1/24`, 'dev', onNode]);
    await sh(['ip', '-n', pod.ns, 'link', 'set', inPod, 'up']);
    await sh(['ip', '-n', NODE, 'link', 'set', onNode, 'up']);
    await sh(['ip', '-n', pod.ns, 'route', 'add', 'default', 'via', `10.244.${i + 1}.1`]);
  }
  await Promise.all(PODS.map((p) => startEcho(p.ns, p.name, 8080)));
});

afterAll(async () => {
  for (const s of servers) if (s.pid !== undefined && s.exitCode === null) process.kill(s.pid);
  // Deleting a namespace removes its veths, iptables tables and conntrack entries with it.
  for (const ns of createdNs) await hostExec('ip', ['netns', 'del', ns]);
});

describe('kube-proxy rules in a node namespace, exercised with real packets', () => {
  const engine = newEngine();

  it('picks the nft backend in a namespace without rules, legacy where kubelet left its canary', async () => {
    expect(await detectBackend(exec)).toBe('nft');
    const probe = `kpx-${id}-probe`;
    await sh(['ip', 'netns', 'add', probe]);
    createdNs.push(probe);
    await sh(['ip', 'netns', 'exec', probe, 'iptables-legacy', '-t', 'mangle', '-N', 'KUBE-KUBELET-CANARY']);
    expect(await detectBackend(netnsExec(probe))).toBe('legacy');
  });

  it('full sync on start: ClusterIP DNAT spreads over every endpoint', async () => {
    loadObjects(engine);
    const r = await engine.syncNow();
    expect(r).toMatchObject({ ok: true, full: true });
    const res = await tcp('10.96.0.20', 80, 60);
    expect(res.errors).toEqual({});
    expect(Object.keys(res.tally).sort()).toEqual(['pod1', 'pod2', 'pod3']);
  });

  it('NodePort answers on the node IP', async () => {
    const res = await tcp(NODE_IP, 30080, 5);
    expect(res.errors).toEqual({});
    expect(Object.values(res.tally).reduce((a, b) => a + b, 0)).toBe(5);
  });

  it('a service without endpoints is refused at once', async () => {
    const res = await tcp('10.96.0.22', 80, 3);
    expect(res.errors).toEqual({ ECONNREFUSED: 3 });
    expect(res.slowest).toBeLessThan(1000);
  });

  it('a partial sync rewrites only the changed service chains', async () => {
    const applier = new IptablesApplier(exec, 'nft');
    await tcp('10.96.0.21', 80, 3);
    const other = serviceChains({ name: 'demo/other:p', protocol: 'TCP' }).svc;
    // Counted rules of the unchanged service: in its own chain, and the KUBE-SERVICES jump.
    const counted = async () => {
      const save = (await exec('iptables-nft-save', ['-c', '-t', 'nat'])).stdout;
      const live = save.split('\n').filter((l) => !l.startsWith('[0:0]'));
      return {
        chain: live.filter((l) => l.includes(`-A ${other} `)).length > 0,
        services: live.filter((l) => l.includes('-A KUBE-SERVICES') && l.endsWith(`-j ${other}`)).length,
      };
    };
    const before = await applier.save('nat');
    expect(await counted()).toEqual({ chain: true, services: 1 });
    const gone = endpointChain(
      { name: 'demo/web:p', protocol: 'TCP' },
      { ip: PODS[0]?.ip as string, port: 8080 },
    );
    expect(await applier.natChains()).toContain(gone);

    engine.setEndpointSlice(slice('web', [PODS[1]?.ip as string, PODS[2]?.ip as string]));
    const r = await engine.syncNow();
    expect(r).toMatchObject({ ok: true, full: false });
    const after = await applier.save('nat');
    const webChains = (s: string) => s.split('\n').filter((l) => l.includes('demo/web:p'));
    expect(webChains(after)).not.toEqual(webChains(before));
    const otherLines = (s: string) => s.split('\n').filter((l) => l.includes('demo/other:p'));
    expect(otherLines(after)).toEqual(otherLines(before));
    // Neither the unchanged service's chain nor KUBE-SERVICES (its rules came out the same) was
    // rewritten, so their packet counters survived; the dropped endpoint's chain went at once.
    expect(await counted()).toEqual({ chain: true, services: 1 });
    expect(await applier.natChains()).not.toContain(gone);
    const res = await tcp('10.96.0.20', 80, 20);
    expect(Object.keys(res.tally).sort()).toEqual(['pod2', 'pod3']);
  });

  it('a full sync split into several nat transactions writes the same rules', async () => {
    const applier = new IptablesApplier(exec, 'nft');
    const before = await applier.save('nat');
    const restores: string[] = [];
    const recording: Exec = (file, args, input) => {
      if (input !== undefined) restores.push(input);
      return exec(file, args, input);
    };
    const staged = new ProxySyncEngine({
      node,
      exec,
      applier: new IptablesApplier(recording, 'nft'),
      render: { stageBudget: 50 },
    });
    loadObjects(staged);
    staged.setEndpointSlice(slice('web', [PODS[1]?.ip as string, PODS[2]?.ip as string]));
    expect(await staged.syncNow()).toMatchObject({ ok: true, full: true });
    await staged.stop();
    expect((restores.at(-1) ?? '').split('*nat\n').length).toBeGreaterThan(3);
    const rules = (save: string) =>
      save.split('\n').filter((l) => l.startsWith('-A ') || l.startsWith(':KUBE'));
    expect(rules(await applier.save('nat')).sort()).toEqual(rules(before).sort());
    expect((await tcp('10.96.0.20', 80, 20)).errors).toEqual({});
  });

  it('a KUBE chain deleted by hand is back after the next sync', async () => {
    const svc = serviceChains({ name: 'demo/other:p', protocol: 'TCP' }).svc;
    await sh(['ip', 'netns', 'exec', NODE, 'iptables-nft', '-t', 'nat', '-F', 'KUBE-SERVICES']);
    await sh(['ip', 'netns', 'exec', NODE, 'iptables-nft', '-t', 'nat', '-F', svc]);
    await sh(['ip', 'netns', 'exec', NODE, 'iptables-nft', '-t', 'nat', '-X', svc]);
    const r = await engine.syncNow();
    expect(r).toMatchObject({ ok: true, full: true });
    expect(await new IptablesApplier(exec, 'nft').natChains()).toContain(svc);
    expect((await tcp('10.96.0.21', 80, 2)).tally).toEqual({ pod1: 2 });
  });

  it('UDP: replacing the only endpoint clears the stale conntrack entry', async () => {
    expect((await nodeIn(CLIENT, CLIENT_UDP, ['10.96.0.23', 53, 40000])).trim()).toBe('pod1');
    engine.setEndpointSlice(slice('dns', [PODS[1]?.ip as string], 8080, 'UDP'));
    expect((await engine.syncNow()).ok).toBe(true);
    // Same 5-tuple as before: without the clean-up conntrack would still send it to pod1's DNAT.
    expect((await nodeIn(CLIENT, CLIENT_UDP, ['10.96.0.23', 53, 40000])).trim()).toBe('pod2');
  });

  it('restarting the sync engine does not flush working rules', async () => {
    const stream = nodeIn(CLIENT, CLIENT_TCP, ['10.96.0.20', 80, 0, 2500]);
    await new Promise((r) => setTimeout(r, 500));
    await engine.stop();
    const restarted = newEngine();
    loadObjects(restarted);
    restarted.setEndpointSlice(slice('web', [PODS[1]?.ip as string, PODS[2]?.ip as string]));
    restarted.setEndpointSlice(slice('dns', [PODS[1]?.ip as string], 8080, 'UDP'));
    const r = await restarted.syncNow();
    expect(r).toMatchObject({ ok: true, full: true });
    const res = JSON.parse(await stream) as TcpResult;
    await restarted.stop();
    expect(res.errors).toEqual({});
    expect(Object.values(res.tally).reduce((a, b) => a + b, 0)).toBeGreaterThan(20);
  });
});
