/**
 * Controllers benchmark (issue 4): `klab control` in its own process, the benchmark standing in
 * for the agents. Measures (1) the time from creating N Services with P ready pods each until
 * every EndpointSlice carries all of its endpoints, and (2) with those Services present, the
 * latency from a pod turning Ready (its status write) to its EndpointSlice showing it ready,
 * seen through a watch. Prints a table.
 *
 *   node dist/bench/controllers.js [--services 1000] [--pods 10] [--samples 100]
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { KubeClient, type KubeObject } from '../kube/client.js';
import { loadKubeconfig } from '../kube/kubeconfig.js';

interface Options {
  services: number;
  pods: number;
  samples: number;
}

function parseArgs(argv: string[]): Options {
  const o: Options = { services: 1000, pods: 10, samples: 100 };
  for (let i = 0; i < argv.length; i += 2) {
    const key = argv[i]?.replace(/^--/, '') as keyof Options;
    const value = Number(argv[i + 1]);
    if (!(key in o) || !Number.isInteger(value) || value <= 0) {
      throw new Error(
        `bench/controllers: bad option ${argv[i]} ${argv[i + 1]} (use --services, --pods, --samples with positive integers)`,
      );
    }
    o[key] = value;
  }
  return o;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const pct = (xs: number[], p: number) =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))] ?? NaN;
const stamp = () => new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');

async function inBatches<T>(items: T[], size: number, fn: (item: T) => Promise<unknown>): Promise<void> {
  for (let i = 0; i < items.length; i += size) await Promise.all(items.slice(i, i + size).map(fn));
}

function readyStatus(ip: string, ready: boolean) {
  const flag = ready ? 'True' : 'False';
  return {
    status: {
      phase: 'Running',
      podIP: ip,
      podIPs: [{ ip }],
      conditions: [
        { type: 'ContainersReady', status: flag },
        { type: 'Ready', status: flag, lastTransitionTime: stamp() },
      ],
    },
  };
}

async function main(): Promise<void> {
  const o = parseArgs(process.argv.slice(2));
  const dir = mkdtempSync(join(tmpdir(), 'klab-bench-controllers-'));
  const klab = fileURLToPath(new URL('../klab.js', import.meta.url));
  let server: ChildProcess | undefined;
  let client: KubeClient | undefined;
  const renew: NodeJS.Timeout[] = [];
  try {
    server = spawn(
      process.execPath,
      [klab, 'control', '--data-dir', dir, '--listen', '127.0.0.1:0', '--advertise-address', '127.0.0.1'],
      {
        stdio: 'ignore',
      },
    );
    const kubeconfig = join(dir, 'admin.kubeconfig');
    for (let i = 0; !existsSync(kubeconfig); i++) {
      if (i > 200) throw new Error('klab control did not write its kubeconfig in 20 s');
      await sleep(100);
    }
    await sleep(300);
    client = new KubeClient(loadKubeconfig(kubeconfig));
    const c = client;
    const leases = '/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases';
    for (const name of ['bench-1', 'bench-2', 'bench-3']) {
      await c.create('/api/v1/nodes', {
        metadata: { name },
        status: {
          allocatable: { cpu: '64', memory: '256Gi', pods: '100000' },
          conditions: [{ type: 'Ready', status: 'True' }],
        },
      });
      await c.create(leases, {
        metadata: { name },
        spec: { holderIdentity: name, renewTime: `${stamp().slice(0, -1)}.000000Z` },
      });
      renew.push(
        setInterval(
          () =>
            void c
              .patch(`${leases}/${name}`, { spec: { renewTime: `${stamp().slice(0, -1)}.000000Z` } })
              .catch(() => undefined),
          5_000,
        ),
      );
    }

    const ns = '/api/v1/namespaces/default';
    const t0 = performance.now();
    const svcIdx = Array.from({ length: o.services }, (_, i) => i);
    await inBatches(svcIdx, 50, (i) =>
      c.create(`${ns}/services`, {
        metadata: { name: `b${i}` },
        spec: { selector: { bench: `b${i}` }, ports: [{ port: 80, targetPort: 8080 }] },
      }),
    );
    const pods = svcIdx.flatMap((i) =>
      Array.from({ length: o.pods }, (_, k) => ({ svc: i, k, name: `b${i}-${k}` })),
    );
    const ipOf = (svc: number, k: number) => {
      const n = svc * o.pods + k + 2;
      return `10.${244 + Math.floor(n / 65536)}.${Math.floor(n / 256) % 256}.${n % 256}`;
    };
    await inBatches(pods, 50, (p) =>
      c.create(`${ns}/pods`, {
        metadata: { name: p.name, labels: { bench: `b${p.svc}` } },
        spec: { nodeName: `bench-${(p.k % 3) + 1}`, containers: [{ name: 'c', image: 'klab/echo' }] },
      }),
    );
    await inBatches(pods, 50, (p) =>
      c.patch(`${ns}/pods/${p.name}/status`, readyStatus(ipOf(p.svc, p.k), true)),
    );
    const writesDone = performance.now();
    const complete = async () => {
      const slices = await c.list<KubeObject>('/apis/discovery.k8s.io/v1/namespaces/default/endpointslices');
      const ready = new Map<string, number>();
      for (const s of slices.items) {
        const svc = s.metadata?.labels?.['kubernetes.io/service-name'] ?? '';
        const eps = (s.endpoints as { conditions: { ready: boolean } }[] | null) ?? [];
        ready.set(svc, (ready.get(svc) ?? 0) + eps.filter((e) => e.conditions.ready).length);
      }
      return svcIdx.every((i) => ready.get(`b${i}`) === o.pods);
    };
    while (!(await complete())) await sleep(250);
    const allDone = performance.now();

    // Latency: flip one pod at a time to not-ready and back, timing status write → slice event.
    const seen = new Map<string, (t: number) => void>();
    const abort = new AbortController();
    const list = await c.list<KubeObject>('/apis/discovery.k8s.io/v1/namespaces/default/endpointslices');
    const watching = c
      .watch<KubeObject>(
        '/apis/discovery.k8s.io/v1/namespaces/default/endpointslices',
        { resourceVersion: list.metadata.resourceVersion },
        (ev) => {
          for (const e of (ev.object.endpoints as
            { targetRef?: { name: string }; conditions: { ready: boolean } }[] | null) ?? []) {
            const key = `${e.targetRef?.name}/${e.conditions.ready}`;
            seen.get(key)?.(performance.now());
          }
        },
        abort.signal,
      )
      .catch(() => undefined);
    const latencies: number[] = [];
    for (let s = 0; s < o.samples; s++) {
      const p = pods[Math.floor(Math.random() * pods.length)]!;
      for (const ready of [false, true]) {
        const arrived = new Promise<number>((resolve) => seen.set(`${p.name}/${ready}`, resolve));
        const start = performance.now();
        await c.patch(`${ns}/pods/${p.name}/status`, readyStatus(ipOf(p.svc, p.k), ready));
        const at = await Promise.race([arrived, sleep(10_000).then(() => NaN)]);
        seen.delete(`${p.name}/${ready}`);
        if (ready) latencies.push(at - start);
      }
    }
    abort.abort();
    await watching;

    const rows = [
      ['services × ready pods', `${o.services} × ${o.pods}`],
      ['create + mark ready (API writes), s', ((writesDone - t0) / 1000).toFixed(1)],
      ['until every slice complete, s', ((allDone - t0) / 1000).toFixed(1)],
      ['slices complete after last write, ms', (allDone - writesDone).toFixed(0)],
      [`pod Ready → slice ready p50 (n=${latencies.length}), ms`, pct(latencies, 50).toFixed(1)],
      ['pod Ready → slice ready p99, ms (goal ≤ 100)', pct(latencies, 99).toFixed(1)],
    ];
    const width = Math.max(...rows.map((r) => r[0]!.length));
    console.log(`${'measure'.padEnd(width)}  value`);
    for (const [k, v] of rows) console.log(`${k!.padEnd(width)}  ${v}`);
  } finally {
    renew.forEach(clearInterval);
    client?.close();
    if (server && server.exitCode === null) {
      server.kill('SIGTERM');
      await Promise.race([new Promise((r) => server!.once('exit', r)), sleep(5_000)]);
      if (server.exitCode === null) server.kill('SIGKILL');
    }
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
