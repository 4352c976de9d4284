/**
 * API server benchmark: `node dist/bench/api.js [--objects 10000] [--stores sqlite,etcd]
 * [--watch-seconds 30]`. Starts `klab control` as its own process (controllers off when the CLI
 * offers that), drives it over HTTPS with keep-alive connections, and prints one table row per
 * store: create, update and get latency with N objects stored, the time to list N Services,
 * watch delivery latency to 100 watchers under 200 writes/s (write sent → event received, after
 * one uncounted second), and the server's RSS with N Services + N EndpointSlices (right after
 * writing them and 10 s later), with the machine's load average at the start and end of each
 * store's run, and the CPU time per write of the watch phase (each fanned out to 100 watchers)
 * of the server and of this client, which the load does not skew. The watch phase lasts 30 s by
 * default: one major GC of either process lands in a 10 s window or not, and decides its p99.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { Agent, request } from 'node:https';
import { connect, type TLSSocket } from 'node:tls';
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

const percentile = (xs: ArrayLike<number>, p: number): number => {
  const s = Float64Array.from(xs).sort();
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

/** What precedes the bench's own object names (`w-<i>`) in an event; no other name looks like one. */
const NAME_MARK = Buffer.from('"name":"w-');
const QUOTE = 0x22;

/**
 * One watch over its own TLS connection, read as raw bytes: `onName` gets the index of every
 * `w-<i>` object in an event, as soon as its bytes arrive. The event stream is scanned for the
 * name instead of going through Node's HTTP client and JSON: 20,000 events a second parsed here
 * would take CPU (and GC pauses) from the server being measured on this two-core machine.
 */
function openWatch(t: Target, path: string, onName: (index: number) => void): Promise<TLSSocket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port: t.port, ca: t.ca }, () => {
      socket.write(
        `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${t.token}\r\nAccept: application/json\r\n\r\n`,
      );
    });
    let carry: Buffer = Buffer.alloc(0);
    let status = false;
    socket.on('data', (data: Buffer) => {
      const buf = carry.length ? Buffer.concat([carry, data]) : data;
      if (!status) {
        const head = buf.indexOf('\r\n');
        if (head < 0) return void (carry = buf);
        const line = buf.toString('latin1', 0, head);
        if (!line.startsWith('HTTP/1.1 200')) {
          socket.destroy();
          return reject(new Error(`watch ${path}: ${line}`));
        }
        status = true;
        resolve(socket);
      }
      let from = 0;
      for (;;) {
        const at = buf.indexOf(NAME_MARK, from);
        if (at < 0) {
          // A mark split across two reads is found with the next one.
          from = Math.max(from, buf.length - NAME_MARK.length + 1);
          break;
        }
        const end = buf.indexOf(QUOTE, at + NAME_MARK.length);
        if (end < 0) {
          from = at;
          break;
        }
        let index = 0;
        for (let d = at + NAME_MARK.length; d < end; d++) index = index * 10 + buf[d]! - 0x30;
        onName(index);
        from = end + 1;
      }
      carry = from < buf.length ? Buffer.from(buf.subarray(from)) : Buffer.alloc(0);
    });
    socket.on('error', reject);
  });
}

/**
 * Watch latency: `watchers` watchers, writes paced at `rate`/s for `seconds`, after one second
 * of the same writes that is not counted: the first writes of a kind run cold code in both
 * processes (JIT, first GC of the new objects), which is not the steady state this measures.
 * The CPU of the server and of this client is counted over the measured writes only.
 */
async function watchLatency(
  t: Target,
  serverPid: number,
  watchers: number,
  rate: number,
  seconds: number,
): Promise<{
  latencies: Float64Array;
  /** The p99 of each 10 s of the measured writes (by when the write was sent). */
  sliceP99s: number[];
  clientCpuMs: number;
  serverCpu: { total: number; sys: number };
}> {
  const path = '/api/v1/namespaces/bench/configmaps';
  const warmup = rate;
  const total = warmup + rate * seconds;
  const sent = new Float64Array(total);
  // Preallocated: a growing array would be copied (and collected) while latencies are measured.
  const latencies = new Float64Array((total - warmup) * watchers);
  const writeOf = new Uint32Array(latencies.length);
  let received = 0;
  const list = (await call(t, 'GET', `${path}?limit=1`)) as { metadata: { resourceVersion: string } };
  const sockets = await Promise.all(
    Array.from({ length: watchers }, () =>
      openWatch(t, `${path}?watch=true&resourceVersion=${list.metadata.resourceVersion}`, (i) => {
        // Only the bench's own writes carry `w-<i>` names; `received` stays in bounds should one repeat.
        if (i >= warmup && received < latencies.length) {
          writeOf[received] = i - warmup;
          latencies[received++] = performance.now() - sent[i]!;
        }
      }),
    ),
  );
  let cpuStart = process.cpuUsage();
  let serverStart = await cpuMs(serverPid);
  const start = performance.now();
  const writes: Promise<unknown>[] = [];
  for (let i = 0; i < total; i++) {
    if (i === warmup) {
      cpuStart = process.cpuUsage();
      serverStart = await cpuMs(serverPid);
    }
    const due = start + (i * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    sent[i] = performance.now();
    writes.push(call(t, 'POST', path, { metadata: { name: `w-${i}` } }));
  }
  await Promise.all(writes);
  const deadline = performance.now() + 10_000;
  while (received < latencies.length && performance.now() < deadline)
    await new Promise((r) => setTimeout(r, 50));
  const cpu = process.cpuUsage(cpuStart);
  const serverEnd = await cpuMs(serverPid);
  for (const s of sockets) s.destroy();
  return {
    latencies: latencies.subarray(0, received),
    sliceP99s: Array.from({ length: Math.ceil(seconds / 10) }, (_, slice) =>
      percentile(
        latencies.subarray(0, received).filter((_, k) => Math.floor(writeOf[k]! / (rate * 10)) === slice),
        99,
      ),
    ),
    clientCpuMs: (cpu.user + cpu.system) / 1000,
    serverCpu: { total: serverEnd.total - serverStart.total, sys: serverEnd.sys - serverStart.sys },
  };
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
    const {
      latencies: watch,
      sliceP99s,
      clientCpuMs,
      serverCpu,
    } = await watchLatency(t, child.pid!, 100, 200, watchSeconds);
    const perWrite = (ms: number): string => (ms / (200 * watchSeconds)).toFixed(2);
    const ms = (xs: ArrayLike<number>, p: number) => percentile(xs, p).toFixed(1);
    return {
      store,
      objects: String(n),
      'create p50/p99 ms': `${ms(create, 50)} / ${ms(create, 99)}`,
      'update p50/p99 ms': `${ms(update, 50)} / ${ms(update, 99)}`,
      'get p50/p99 ms': `${ms(get, 50)} / ${ms(get, 99)}`,
      'list all ms': ms(lists, 50),
      'watch p50/p99 ms': `${ms(watch, 50)} / ${ms(watch, 99)}`,
      'watch p99 per 10 s ms': sliceP99s.map((x) => x.toFixed(1)).join(' '),
      'events delivered': `${watch.length}/${100 * 200 * watchSeconds}`,
      'server CPU ms per watched write (kernel)': `${perWrite(serverCpu.total)} (${perWrite(serverCpu.sys)})`,
      'bench client CPU ms per watched write': perWrite(clientCpuMs),
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
const watchSeconds = Number(arg('watch-seconds', '30'));
if (!Number.isInteger(watchSeconds) || watchSeconds < 1)
  throw new Error(`--watch-seconds must be a positive integer, got ${arg('watch-seconds', '')}`);
/** Extra node flags for the server, e.g. `--cpu-prof --cpu-prof-dir=prof` to profile it. */
const serverNodeArgs = arg('server-node-args', '').split(' ').filter(Boolean);
for (const s of stores) if (s !== 'sqlite' && s !== 'etcd') throw new Error(`--stores: unknown store "${s}"`);
const rows: Record<string, string>[] = [];
for (const store of stores) rows.push(await benchStore(store, n));
printTable(rows);
