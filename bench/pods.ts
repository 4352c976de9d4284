/**
 * Time to scale a Deployment 0→30 until every pod is Ready (issue 5's goal: ≤ 10 s), in a fresh
 * 3-node lab cluster, with where the time goes: API/controllers (created, scheduled), the agent's
 * sandbox, CNI ADD and container start (Running, with the pod IP) and readiness (Ready).
 * The pods are the demo's: klab/echo with an HTTP readiness probe (examples/echo.yaml).
 *
 *   node dist/bench/pods.js [--rounds 3] [--replicas 30]
 *
 * The watching half runs inside the lab's `ext` host (packets to lab addresses never leave the
 * host namespace); this script re-runs itself there with --inside.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs, promisify } from 'node:util';
import { type KubeObject, KubeClient } from '../kube/client.js';
import { Informer } from '../kube/informer.js';
import { loadKubeconfig } from '../kube/kubeconfig.js';
import { clusterPaths } from '../lab/cluster.js';
import { labDir } from '../lab/state.js';

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '3' },
    replicas: { type: 'string', default: '30' },
    inside: { type: 'string' },
    lab: { type: 'string' },
  },
});
const ROUNDS = Number(values.rounds);
const REPLICAS = Number(values.replicas);
for (const [flag, n] of [
  ['--rounds', ROUNDS],
  ['--replicas', REPLICAS],
] as const) {
  if (!Number.isInteger(n) || n < 1) throw new Error(`${flag}: "${String(n)}" is not a positive integer`);
}

const NAME = 'scale-bench';
const DEPLOYMENTS = '/apis/apps/v1/namespaces/default/deployments';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Pod extends KubeObject {
  spec?: { nodeName?: string };
  status?: {
    podIP?: string;
    conditions?: { type: string; status: string }[];
    containerStatuses?: { state?: { running?: unknown } }[];
  };
}

/** Milliseconds after the scale request at which a pod first showed each stage. */
interface Seen {
  created: number;
  scheduled?: number;
  running?: number;
  ready?: number;
}

const STAGES = ['created', 'scheduled', 'running', 'ready'] as const;

function deployment(replicas: number): KubeObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: NAME, namespace: 'default' },
    spec: {
      replicas,
      selector: { matchLabels: { app: NAME } },
      template: {
        metadata: { labels: { app: NAME } },
        spec: {
          terminationGracePeriodSeconds: 2,
          containers: [
            {
              name: 'echo',
              image: 'klab/echo',
              ports: [{ name: 'http', containerPort: 8080 }],
              readinessProbe: { httpGet: { path: '/', port: 'http' }, periodSeconds: 2 },
            },
          ],
        },
      },
    },
  };
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : (s[Math.floor((s.length - 1) / 2)] ?? NaN);
};

/**
 * CPU seconds used so far by the lab's processes (control plane, agents, proxies: every process
 * whose command line names the lab's folder) and the children they have reaped — the pods'
 * containers and every `ip`, plugin and probe process — which barely depends on how busy the
 * machine is, unlike wall time.
 */
function labCpuSeconds(dir: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
      if (!argv.some((a) => a.includes(dir))) continue;
      // `klab <command>`: control, agent (with the pods and every process it ran), proxy,
      // cni (the resident plugin, with its ip processes), dns (the coredns pods).
      const klab = argv.findIndex((a) => a.endsWith('klab.js'));
      const who = klab < 0 ? 'other' : (argv[klab + 1] ?? 'other');
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      // utime+stime, then cutime+cstime: the agent's children are its pods and its forks.
      const own = (Number(f[11]) + Number(f[12])) / 100;
      const reaped = (Number(f[13]) + Number(f[14])) / 100;
      out.set(who, (out.get(who) ?? 0) + own);
      const kids = who === 'agent' ? 'agent children' : who;
      out.set(kids, (out.get(kids) ?? 0) + reaped);
    } catch {
      // the process exited meanwhile
    }
  }
  return out;
}

/** One 0→N scale: the per-pod stage times, then N→0 until every pod object is gone. */
async function round(client: KubeClient): Promise<{ seen: Seen[]; downMs: number }> {
  const seen = new Map<string, Seen>();
  let t0 = 0;
  const observe = (pod: Pod) => {
    if (t0 === 0 || pod.metadata?.deletionTimestamp) return;
    const uid = pod.metadata?.uid ?? '';
    const t = performance.now() - t0;
    const s = seen.get(uid) ?? { created: t };
    seen.set(uid, s);
    if (pod.spec?.nodeName) s.scheduled ??= t;
    if (pod.status?.containerStatuses?.every((c) => c.state?.running)) s.running ??= t;
    if (pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')) s.ready ??= t;
  };
  const pods = new Informer<Pod>(
    client,
    '/api/v1/namespaces/default/pods',
    { onAdd: observe, onUpdate: (_p, o) => observe(o) },
    { labelSelector: `app=${NAME}` },
  ).start();
  try {
    await pods.synced;
    if (pods.list().length > 0) throw new Error(`${NAME} pods are left from an earlier round`);
    t0 = performance.now();
    await client.patch(`${DEPLOYMENTS}/${NAME}`, { spec: { replicas: REPLICAS } });
    const deadline = t0 + 180_000;
    while ([...seen.values()].filter((s) => s.ready !== undefined).length < REPLICAS) {
      if (performance.now() > deadline) throw new Error(`not all ${REPLICAS} pods were Ready within 180 s`);
      await sleep(20);
    }
    const down0 = performance.now();
    await client.patch(`${DEPLOYMENTS}/${NAME}`, { spec: { replicas: 0 } });
    while (pods.list().length > 0) {
      if (performance.now() > down0 + 180_000) throw new Error('pods were not gone within 180 s');
      await sleep(50);
    }
    return { seen: [...seen.values()], downMs: performance.now() - down0 };
  } finally {
    await pods.stop();
  }
}

async function inside(kubeconfig: string): Promise<void> {
  const client = new KubeClient(loadKubeconfig(kubeconfig), 'klab-bench-pods');
  await client.create(DEPLOYMENTS, deployment(0));
  const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`.padStart(9);
  const dir = labDir(values.lab ?? '');
  console.log('all …: seconds after the scale request until the last pod showed it (pod IP and Running');
  console.log('arrive in one status update); lab CPU: CPU seconds of the whole lab over the round (0→N→0)\n');
  console.log(
    `${'round'.padEnd(6)}${'all created'.padStart(12)}${'scheduled'.padStart(11)}${'Running'.padStart(11)}${'Ready'.padStart(11)}${'→0 gone'.padStart(11)}${'lab CPU'.padStart(11)}${'per pod'.padStart(10)}`,
  );
  const all: Seen[] = [];
  const split: string[] = [];
  try {
    for (let r = 1; r <= ROUNDS; r++) {
      const cpu0 = labCpuSeconds(dir);
      const { seen, downMs } = await round(client);
      const cpu1 = labCpuSeconds(dir);
      const by = [...cpu1].map(([k, v]) => [k, v - (cpu0.get(k) ?? 0)] as const);
      const cpu = by.reduce((t, [, v]) => t + v, 0);
      split.push(by.map(([k, v]) => `${k} ${v.toFixed(1)} s`).join(', '));
      all.push(...seen);
      const last = (k: (typeof STAGES)[number]) => Math.max(...seen.map((x) => x[k] ?? NaN));
      console.log(
        `${String(r).padEnd(6)}${s(last('created')).padStart(12)}${s(last('scheduled')).padStart(11)}${s(last('running')).padStart(11)}${s(last('ready')).padStart(11)}${s(downMs).padStart(11)}${`${cpu.toFixed(1)} s`.padStart(11)}${`${((cpu * 1000) / REPLICAS).toFixed(0)} ms`.padStart(10)}`,
      );
    }
  } finally {
    await client.delete(`${DEPLOYMENTS}/${NAME}`).catch(() => undefined);
    client.close();
  }
  console.log('\nlab CPU by klab command, per round:');
  split.forEach((line, i) => console.log(`  ${i + 1}: ${line}`));
  console.log('\nper pod, median over every round (ms): time in each stage');
  for (let i = 1; i < STAGES.length; i++) {
    const from = STAGES[i - 1] as (typeof STAGES)[number];
    const to = STAGES[i] as (typeof STAGES)[number];
    const d = all.flatMap((x) => (x[to] !== undefined ? [(x[to] ?? 0) - x[from]!] : []));
    console.log(`  ${`${from} → ${to}`.padEnd(22)}${median(d).toFixed(0).padStart(7)}`);
  }
}

async function outside(): Promise<void> {
  const run = promisify(execFile);
  const klabJs = fileURLToPath(new URL('../klab.js', import.meta.url));
  const lab = `b${randomBytes(3).toString('hex')}`;
  const klab = (args: string[]) => run(process.execPath, [klabJs, ...args], { maxBuffer: 1 << 24 });
  const load = () => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
  try {
    const up0 = performance.now();
    await klab(['lab', 'up', '--name', lab]);
    console.log(
      `lab ${lab}: 3 nodes up with the cluster in ${((performance.now() - up0) / 1000).toFixed(1)} s; load average ${load()}`,
    );
    console.log(
      `scale a Deployment 0→${REPLICAS} until every pod is Ready (goal ≤ 10 s), ${ROUNDS} rounds\n`,
    );
    const self = fileURLToPath(import.meta.url);
    const argv = [process.execPath, self, '--inside', clusterPaths(lab).adminKubeconfig];
    const { stdout } = await klab([
      'lab',
      'exec',
      '--name',
      lab,
      'ext',
      '--',
      ...argv,
      '--rounds',
      String(ROUNDS),
      '--replicas',
      String(REPLICAS),
      '--lab',
      lab,
    ]);
    process.stdout.write(stdout);
    console.log(`\nload average at the end: ${load()}`);
  } finally {
    await klab(['lab', 'down', '--name', lab]);
  }
}

if (values.inside !== undefined) await inside(values.inside);
else await outside();
