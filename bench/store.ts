/**
 * Store benchmark: latency of create/update/get with N objects stored, a list of N objects,
 * watch delivery through the watch cache to many watchers under a steady write rate, and the
 * process RSS holding N Services + N EndpointSlices. Each store runs in its own child process
 * so RSS figures do not mix.
 *
 *   node dist/bench/store.js [--store sqlite|etcd|both] [--objects 10000] [--watchers 100]
 *                            [--rate 200] [--seconds 5]
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { EtcdStore } from '../control/store/etcd.js';
import { startEtcd } from '../control/store/etcd-process.js';
import { SqliteStore } from '../control/store/sqlite.js';
import type { JsonObject, Store } from '../control/store/types.js';
import { WatchCache } from '../control/store/watch-cache.js';

interface Options {
  store: 'sqlite' | 'etcd' | 'both';
  objects: number;
  watchers: number;
  rate: number;
  seconds: number;
}

type Result = Record<string, string>;

const SENT = 'bench.klab.io/sent';

function parseArgs(argv: string[]): Options {
  const options: Options = { store: 'both', objects: 10_000, watchers: 100, rate: 200, seconds: 5 };
  for (let i = 0; i < argv.length; i += 2) {
    const flag = argv[i];
    const value = argv[i + 1];
    if (value === undefined) throw new Error(`bench/store: ${flag} needs a value`);
    if (flag === '--store') {
      if (value !== 'sqlite' && value !== 'etcd' && value !== 'both') {
        throw new Error(`bench/store: --store must be sqlite, etcd or both, got ${value}`);
      }
      options.store = value;
    } else if (flag === '--objects' || flag === '--watchers' || flag === '--rate' || flag === '--seconds') {
      const n = Number(value);
      if (!Number.isInteger(n) || n <= 0) throw new Error(`bench/store: ${flag} must be a positive integer`);
      options[flag.slice(2) as 'objects' | 'watchers' | 'rate' | 'seconds'] = n;
    } else {
      throw new Error(`bench/store: unknown flag ${String(flag)}`);
    }
  }
  return options;
}

function service(i: number): JsonObject {
  const name = `svc-${i}`;
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: {
      name,
      namespace: 'bench',
      uid: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
      creationTimestamp: '2026-01-01T00:00:00Z',
      labels: { app: name, tier: 'backend' },
      annotations: { [SENT]: '0' },
    },
    spec: {
      type: 'ClusterIP',
      clusterIP: `10.96.${(i >> 8) & 255}.${i & 255}`,
      clusterIPs: [`10.96.${(i >> 8) & 255}.${i & 255}`],
      selector: { app: name },
      ports: [
        { name: 'http', protocol: 'TCP', port: 80, targetPort: 8080 },
        { name: 'https', protocol: 'TCP', port: 443, targetPort: 8443 },
      ],
      sessionAffinity: 'None',
      ipFamilies: ['IPv4'],
      ipFamilyPolicy: 'SingleStack',
      internalTrafficPolicy: 'Cluster',
    },
    status: { loadBalancer: {} },
  };
}

function endpointSlice(i: number): JsonObject {
  const name = `svc-${i}`;
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: {
      name: `${name}-abcde`,
      namespace: 'bench',
      labels: { 'kubernetes.io/service-name': name, 'endpointslice.kubernetes.io/managed-by': 'klab' },
      ownerReferences: [{ apiVersion: 'v1', kind: 'Service', name, uid: `uid-${i}`, controller: true }],
    },
    addressType: 'IPv4',
    endpoints: [1, 2, 3].map((n) => ({
      addresses: [`10.244.${n}.${i & 255}`],
      conditions: { ready: true, serving: true, terminating: false },
      nodeName: `node-${n}`,
      targetRef: { kind: 'Pod', namespace: 'bench', name: `${name}-pod-${n}`, uid: `pod-${i}-${n}` },
    })),
    ports: [
      { name: 'http', protocol: 'TCP', port: 8080 },
      { name: 'https', protocol: 'TCP', port: 8443 },
    ],
  };
}

function percentile(samples: number[], p: number): number {
  if (samples.length === 0) return NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))] as number;
}

function ms(value: number): string {
  return value < 10 ? value.toFixed(2) : value.toFixed(1);
}

function pair(samples: number[]): string {
  return `${ms(percentile(samples, 0.5))} / ${ms(percentile(samples, 0.99))}`;
}

async function timed<T>(samples: number[], op: () => Promise<T>): Promise<T> {
  const start = performance.now();
  const result = await op();
  samples.push(performance.now() - start);
  return result;
}

function sleep(msec: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.max(0, msec)));
}

function rssOf(pid: number): number {
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return match ? Number(match[1]) / 1024 : NaN;
}

async function benchStore(store: Store, options: Options, extraRssPid?: number): Promise<Result> {
  const n = options.objects;
  const key = (i: number): string => `/registry/services/bench/svc-${i}`;
  const revisions: number[] = [];
  const result: Result = {};

  const creates: number[] = [];
  for (let i = 0; i < n; i++)
    revisions[i] = (await timed(creates, () => store.create(key(i), service(i)))).modRevision;
  result[`create p50 / p99 (ms), ${n} stored`] = pair(creates);

  const updates: number[] = [];
  for (let j = 0; j < 2000; j++) {
    const i = Math.floor(Math.random() * n);
    const stored = await timed(updates, () => store.update(key(i), service(i), revisions[i]));
    revisions[i] = stored.modRevision;
  }
  result['update (CAS) p50 / p99 (ms)'] = pair(updates);

  const gets: number[] = [];
  for (let j = 0; j < 2000; j++) await timed(gets, () => store.get(key(Math.floor(Math.random() * n))));
  result['get p50 / p99 (ms)'] = pair(gets);

  const lists: number[] = [];
  for (let j = 0; j < 5; j++) {
    const list = await timed(lists, () => store.list('/registry/services/'));
    if (list.items.length !== n) throw new Error(`list returned ${list.items.length} items, expected ${n}`);
  }
  result[`list ${n} from store, median (ms)`] = ms(percentile(lists, 0.5));

  const cache = new WatchCache(store, '/registry/', { queueLimit: 10_000 });
  try {
    const startMs = performance.now();
    await cache.start();
    result['watch cache start (list + watch) (ms)'] = ms(performance.now() - startMs);
    const cacheLists: number[] = [];
    for (let j = 0; j < 5; j++) await timed(cacheLists, async () => cache.list('/registry/services/'));
    result[`list ${n} from watch cache, median (ms)`] = ms(percentile(cacheLists, 0.5));

    const delivery: number[] = [];
    const errors: string[] = [];
    for (let w = 0; w < options.watchers; w++) {
      cache.watch('/registry/services/', cache.revision, {
        onEvent: (event) => {
          const annotations = (event.value['metadata'] as JsonObject)['annotations'] as Record<
            string,
            string
          >;
          delivery.push(performance.now() - Number(annotations[SENT]));
        },
        onError: (error) => errors.push(error.message),
      });
    }
    const total = options.rate * options.seconds;
    const interval = 1000 / options.rate;
    const loadWrites: number[] = [];
    const inFlight: Promise<unknown>[] = [];
    const began = performance.now();
    // Open loop, like independent API clients: a write starts on schedule whether or not the
    // previous one has returned (so no compare-and-swap here).
    for (let j = 0; j < total; j++) {
      await sleep(began + j * interval - performance.now());
      const i = Math.floor(Math.random() * n);
      const value = service(i);
      ((value['metadata'] as JsonObject)['annotations'] as Record<string, string>)[SENT] = String(
        performance.now(),
      );
      inFlight.push(timed(loadWrites, () => store.update(key(i), value)));
    }
    await Promise.all(inFlight);
    const elapsed = (performance.now() - began) / 1000;
    const expected = total * options.watchers;
    const deadline = performance.now() + 10_000;
    while (delivery.length < expected && errors.length === 0 && performance.now() < deadline) await sleep(10);
    result[`writes/s achieved (target ${options.rate})`] = (total / elapsed).toFixed(0);
    result['update p50 / p99 under watch load (ms)'] = pair(loadWrites);
    result[`watch delivery p50 / p99 (ms), ${options.watchers} watchers`] = pair(delivery);
    result['events delivered / expected'] =
      `${delivery.length} / ${expected}${errors.length ? ` (${errors[0]})` : ''}`;

    // Latency is not measured here, so the slices go in 100 at a time.
    for (let i = 0; i < n; i += 100) {
      const batch = [...Array(Math.min(100, n - i)).keys()].map((j) => i + j);
      await Promise.all(
        batch.map((k) => store.create(`/registry/endpointslices/bench/svc-${k}-abcde`, endpointSlice(k))),
      );
    }
    await cache.waitForRevision(await store.currentRevision(), 30_000);
    const heapBefore = process.memoryUsage().heapUsed;
    result[`RSS with ${n} Services + ${n} EndpointSlices cached (MB)`] = (
      process.memoryUsage().rss /
      2 ** 20
    ).toFixed(0);
    result['JS heap used (MB)'] = (heapBefore / 2 ** 20).toFixed(0);
    if (extraRssPid !== undefined) result['etcd server RSS (MB)'] = rssOf(extraRssPid).toFixed(0);
  } finally {
    cache.close();
  }
  return result;
}

async function runOne(name: 'sqlite' | 'etcd', options: Options): Promise<Result> {
  if (name === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'klab-store-bench-'));
    const store = new SqliteStore(join(dir, 'state.db'));
    try {
      return await benchStore(store, options);
    } finally {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  }
  const etcd = await startEtcd({ dirPrefix: 'klab-store-bench-' });
  const store = new EtcdStore({ endpoints: [etcd.endpoint] });
  try {
    return await benchStore(store, options, etcd.pid);
  } finally {
    await store.close();
    await etcd.stop();
  }
}

function runChild(name: 'sqlite' | 'etcd', options: Options): Promise<Result> {
  const args = [
    process.argv[1] as string,
    '--store',
    name,
    '--objects',
    String(options.objects),
    '--watchers',
    String(options.watchers),
    '--rate',
    String(options.rate),
    '--seconds',
    String(options.seconds),
    '--json',
    'yes',
  ];
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.on('error', reject);
    child.on('exit', (code) => {
      if (code !== 0) return reject(new Error(`bench/store: the ${name} run exited with ${String(code)}`));
      resolve(JSON.parse(out.trim().split('\n').pop() as string) as Result);
    });
  });
}

function printTable(columns: Record<string, Result>): void {
  const names = Object.keys(columns);
  const metrics = [...new Set(names.flatMap((n) => Object.keys(columns[n] as Result)))];
  const rows = [
    ['metric', ...names],
    ...metrics.map((m) => [m, ...names.map((n) => columns[n]?.[m] ?? '-')]),
  ];
  const widths = (rows[0] as string[]).map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length)));
  for (const [index, row] of rows.entries()) {
    console.log(row.map((cell, c) => cell.padEnd(widths[c] as number)).join(' | '));
    if (index === 0) console.log(widths.map((w) => '-'.repeat(w)).join('-|-'));
  }
}

function describeMachine(): string {
  const cpus = execFileSync('nproc', { encoding: 'utf8' }).trim();
  const load = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
  return `node ${process.version}, ${cpus} CPUs, load average ${load}`;
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const jsonIndex = argv.indexOf('--json');
  const json = jsonIndex >= 0;
  if (json) argv.splice(jsonIndex, 2);
  const options = parseArgs(argv);
  if (json && options.store !== 'both') {
    console.log(JSON.stringify(await runOne(options.store, options)));
    return;
  }
  const stores: ('sqlite' | 'etcd')[] = options.store === 'both' ? ['sqlite', 'etcd'] : [options.store];
  const columns: Record<string, Result> = {};
  let failed = false;
  for (const name of stores) {
    try {
      columns[name] = await runChild(name, options);
    } catch (error) {
      failed = true;
      columns[name] = { error: error instanceof Error ? error.message : String(error) };
    }
  }
  console.log(
    `store benchmark: ${options.objects} objects, ${options.watchers} watchers, ${options.rate} writes/s for ${options.seconds} s (${describeMachine()})`,
  );
  printTable(columns);
  if (failed) process.exitCode = 1;
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 1;
});
