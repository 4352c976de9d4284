/**
 * API server benchmark: `node dist/bench/api.js [--objects 10000] [--stores sqlite,etcd]`.
 * Starts `klab control` as its own process (controllers off when the CLI offers that), drives
 * it over HTTPS with keep-alive connections, and prints one table row per store: create,
 * update and get latency with N objects stored, the time to list N Services, watch delivery
 * latency to 100 watchers under 200 writes/s (write sent → event received), and the server's
 * RSS with N Services + N EndpointSlices (right after writing them and 10 s later), with the
 * machine's load average at the start and end of each store's run, and the server's CPU time
 * per write of the watch phase (each fanned out to 100 watchers), which the load does not skew.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { Agent, request } from 'node:https';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { startEtcd, type EtcdProcess } from '../control/store/index.js';

interface Target {
  readonly port: number;
  readonly token: string;
  readonly ca: string;
  readonly agent: Agent;
}

const KLAB = fileURLToPath(new URL('../klab.js', import.meta.url));

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? (process.argv[i + 1] as string) : fallback;
}

function call(
  t: Target,
  method: string,
  path: string,
  body?: unknown,
  contentType = 'application/json',
): Promise<unknown> {
  const payload = body === undefined ? undefined : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port: t.port,
        method,
        path,
        ca: t.ca,
        agent: t.agent,
        headers: {
          Authorization: `Bearer ${t.token}`,
          Accept: 'application/json',
          ...(payload ? { 'Content-Type': contentType, 'Content-Length': Buffer.byteLength(payload) } : {}),
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          if ((res.statusCode ?? 500) >= 300)
            reject(new Error(`${method} ${path}: ${res.statusCode} ${text.slice(0, 200)}`));
          else resolve(JSON.parse(text) as unknown);
        });
      },
    );
    req.on('error', reject);
    if (payload) req.write(payload);
    req.end();
  });
}

const percentile = (xs: number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? NaN;
};

/** Runs `fn(i)` for i in [0, n) with `concurrency` in flight; returns each call's latency in ms. */
async function timed(n: number, concurrency: number, fn: (i: number) => Promise<unknown>): Promise<number[]> {
  const latencies: number[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < n) {
        const i = next++;
        const start = performance.now();
        await fn(i);
        latencies.push(performance.now() - start);
      }
    }),
  );
  return latencies;
}

async function startServer(
  dataDir: string,
  store: string,
  etcd?: EtcdProcess,
): Promise<{ child: ChildProcess; target: Target }> {
  const help = await new Promise<string>((resolve) => {
    const h = spawn(process.execPath, [KLAB, 'control', '--help']);
    let out = '';
    h.stdout.on('data', (d: Buffer) => (out += d.toString()));
    h.on('close', () => resolve(out));
  });
  const args = [
    ...serverNodeArgs,
    KLAB,
    'control',
    '--data-dir',
    dataDir,
    '--listen',
    '127.0.0.1:0',
    '--advertise-address',
    '127.0.0.1',
  ];
  args.push('--store', store);
  if (etcd) args.push('--etcd-endpoints', etcd.endpoint);
  if (help.includes('--no-controllers')) args.push('--no-controllers');
  // Its request log goes to a file, as in a lab: a pipe read by this busy process would make
  // the server wait on the benchmark.
  const log = openSync(join(dataDir, 'control.log'), 'a');
  const child = spawn(process.execPath, args, { stdio: ['ignore', log, 'inherit'] });
  closeSync(log);
  let exited: number | null | undefined;
  child.once('exit', (code) => (exited = code));
  for (;;) {
    if (exited !== undefined) throw new Error(`klab control exited with ${exited}`);
    const out = await readFile(join(dataDir, 'control.log'), 'utf8');
    if (out.includes('API server listening')) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  const kubeconfig = parseYaml(await readFile(join(dataDir, 'admin.kubeconfig'), 'utf8')) as {
    clusters: { cluster: { server: string; 'certificate-authority-data': string } }[];
    users: { user: { token: string } }[];
  };
  const cluster = kubeconfig.clusters[0]!.cluster;
  return {
    child,
    target: {
      port: Number(new URL(cluster.server).port),
      token: kubeconfig.users[0]!.user.token,
      ca: Buffer.from(cluster['certificate-authority-data'], 'base64').toString('utf8'),
      agent: new Agent({ keepAlive: true, maxSockets: 128 }),
    },
  };
}

/**
 * CPU time the process has used, in ms, and its kernel part: unlike latency, it does not grow
 * with the machine's load.
 */
async function cpuMs(pid: number): Promise<{ total: number; sys: number }> {
  const fields = (await readFile(`/proc/${pid}/stat`, 'utf8')).split(') ')[1]!.split(' ');
  // utime and stime are fields 14 and 15 of stat(5), in clock ticks (100 per second on Linux).
  const sys = Number(fields[12]) * 10;
  return { total: Number(fields[11]) * 10 + sys, sys };
}

async function rssMiB(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? NaN) / 1024;
}

/** The bench's own object names (`w-<i>`); no other name in a ConfigMap event looks like one. */
const EVENT_NAME = /"name":"(w-\d+)"/;

/** Watch latency: 100 watchers, writes paced at `rate`/s for `seconds`. */
async function watchLatency(t: Target, watchers: number, rate: number, seconds: number): Promise<number[]> {
  const path = '/api/v1/namespaces/bench/configmaps';
  const sent = new Map<string, number>();
  const latencies: number[] = [];
  const list = (await call(t, 'GET', `${path}?limit=1`)) as { metadata: { resourceVersion: string } };
  const requests = await Promise.all(
    Array.from(
      { length: watchers },
      () =>
        new Promise<ReturnType<typeof request>>((resolve, reject) => {
          const req = request(
            {
              host: '127.0.0.1',
              port: t.port,
              path: `${path}?watch=true&resourceVersion=${list.metadata.resourceVersion}`,
              ca: t.ca,
              headers: { Authorization: `Bearer ${t.token}` },
            },
            (res) => {
              let buf = '';
              res.on('data', (c: Buffer) => {
                const now = performance.now();
                buf += c.toString('utf8');
                let nl;
                // The name is found without parsing the whole event: 20,000 events a second
                // parsed here would take CPU from the server being measured on this machine.
                while ((nl = buf.indexOf('\n')) >= 0) {
                  const name = EVENT_NAME.exec(buf.slice(0, nl))?.[1];
                  buf = buf.slice(nl + 1);
                  const at = name === undefined ? undefined : sent.get(name);
                  if (at !== undefined) latencies.push(now - at);
                }
              });
              resolve(req);
            },
          );
          req.on('error', reject);
          req.end();
        }),
    ),
  );
  const total = rate * seconds;
  const start = performance.now();
  const writes: Promise<unknown>[] = [];
  for (let i = 0; i < total; i++) {
    const due = start + (i * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    const name = `w-${i}`;
    sent.set(name, performance.now());
    writes.push(call(t, 'POST', path, { metadata: { name } }));
  }
  await Promise.all(writes);
  const deadline = performance.now() + 10_000;
  while (latencies.length < total * watchers && performance.now() < deadline)
    await new Promise((r) => setTimeout(r, 50));
  for (const r of requests) r.destroy();
  return latencies;
}

const load1 = (): string => loadavg()[0]!.toFixed(1);

async function benchStore(store: string, n: number): Promise<Record<string, string>> {
  const loadAtStart = load1();
  const dataDir = await mkdtemp(join(tmpdir(), 'klab-api-bench-'));
  const etcd = store === 'etcd' ? await startEtcd({ dirPrefix: 'klab-api-bench-etcd-' }) : undefined;
  const { child, target: t } = await startServer(dataDir, store, etcd);
  try {
    await call(t, 'POST', '/api/v1/namespaces', { metadata: { name: 'bench' } });
    const svc = (i: number) => ({
      metadata: { name: `svc-${i}`, labels: { bench: 'yes' } },
      spec: { clusterIP: 'None', selector: { app: `a${i}` }, ports: [{ port: 80 }] },
    });
    const create = await timed(n, 8, (i) => call(t, 'POST', '/api/v1/namespaces/bench/services', svc(i)));
    const sample = Math.min(1000, n);
    const update = await timed(sample, 8, (i) =>
      call(
        t,
        'PATCH',
        `/api/v1/namespaces/bench/services/svc-${i}`,
        { metadata: { labels: { round: '1' } } },
        'application/merge-patch+json',
      ),
    );
    const get = await timed(sample, 8, (i) =>
      call(t, 'GET', `/api/v1/namespaces/bench/services/svc-${(i * 7) % n}`),
    );
    const lists = await timed(3, 1, () => call(t, 'GET', '/api/v1/namespaces/bench/services'));
    await timed(n, 8, (i) =>
      call(t, 'POST', '/apis/discovery.k8s.io/v1/namespaces/bench/endpointslices', {
        metadata: { name: `svc-${i}-abcde`, labels: { 'kubernetes.io/service-name': `svc-${i}` } },
        addressType: 'IPv4',
        endpoints: [{ addresses: [`10.244.${(i >> 8) % 256}.${i % 256}`], conditions: { ready: true } }],
        ports: [{ port: 8080, protocol: 'TCP' }],
      }),
    );
    const rss = await rssMiB(child.pid!);
    // Right after the writes the heap still holds their garbage; V8 returns it once quiet.
    await new Promise((r) => setTimeout(r, 10_000));
    const rssQuiet = await rssMiB(child.pid!);
    const cpuBefore = await cpuMs(child.pid!);
    const watch = await watchLatency(t, 100, 200, 10);
    const cpuAfter = await cpuMs(child.pid!);
    const perWrite = (ms: number): string => (ms / (200 * 10)).toFixed(2);
    const ms = (xs: number[], p: number) => percentile(xs, p).toFixed(1);
    return {
      store,
      objects: String(n),
      'create p50/p99 ms': `${ms(create, 50)} / ${ms(create, 99)}`,
      'update p50/p99 ms': `${ms(update, 50)} / ${ms(update, 99)}`,
      'get p50/p99 ms': `${ms(get, 50)} / ${ms(get, 99)}`,
      'list all ms': ms(lists, 50),
      'watch p50/p99 ms': `${ms(watch, 50)} / ${ms(watch, 99)}`,
      'events delivered': `${watch.length}/${100 * 200 * 10}`,
      'server CPU ms per watched write (kernel)': `${perWrite(cpuAfter.total - cpuBefore.total)} (${perWrite(cpuAfter.sys - cpuBefore.sys)})`,
      'RSS MiB after writes / 10 s later': `${rss.toFixed(0)} / ${rssQuiet.toFixed(0)}`,
      'load start/end': `${loadAtStart} / ${load1()}`,
    };
  } finally {
    t.agent.destroy();
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
    await etcd?.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
}

function printTable(rows: Record<string, string>[]): void {
  const cols = Object.keys(rows[0] ?? {});
  const width = cols.map((c) => Math.max(c.length, ...rows.map((r) => (r[c] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(width[i] ?? 0)).join(' | ');
  console.log(line(cols));
  console.log(width.map((w) => '-'.repeat(w)).join('-|-'));
  for (const r of rows) console.log(line(cols.map((c) => r[c] ?? '')));
}

const n = Number(arg('objects', '10000'));
if (!Number.isInteger(n) || n < 1)
  throw new Error(`--objects must be a positive integer, got ${arg('objects', '')}`);
const stores = arg('stores', 'sqlite,etcd').split(',');
/** Extra node flags for the server, e.g. `--cpu-prof --cpu-prof-dir=prof` to profile it. */
const serverNodeArgs = arg('server-node-args', '').split(' ').filter(Boolean);
for (const s of stores) if (s !== 'sqlite' && s !== 'etcd') throw new Error(`--stores: unknown store "${s}"`);
const rows: Record<string, string>[] = [];
for (const store of stores) rows.push(await benchStore(store, n));
printTable(rows);
