/**
 * CNI ADD/DEL latency: klab-bridge against the reference bridge + host-local plugins
 * (Debian containernetworking-plugins in /usr/lib/cni), same options, same run, interleaved.
 * klab-bridge runs twice: as an executable on its own (node per call), and through its launcher
 * to the resident plugin (`klab cni serve`) the agent keeps running. All run inside a throwaway
 * namespace standing in for the node; every pod gets a fresh netns.
 *
 *   node dist/bench/cni.js [--runs 50] [--ref-dir /usr/lib/cni]
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { run } from '../cni/exec.js';
import { install } from '../cni/install.js';
import { spawnResident } from '../cni/resident.js';

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '50' },
    'ref-dir': { type: 'string', default: '/usr/lib/cni' },
  },
});
const RUNS = Number(values.runs);
const REF_DIR = values['ref-dir'] ?? '/usr/lib/cni';
if (!Number.isInteger(RUNS) || RUNS < 1)
  throw new Error(`--runs: "${values.runs}" is not a positive integer`);
if (!existsSync(join(REF_DIR, 'bridge')) || !existsSync(join(REF_DIR, 'host-local'))) {
  throw new Error(`--ref-dir: ${REF_DIR} lacks the reference bridge and host-local plugins`);
}

const id = randomBytes(3).toString('hex');
const NODE = `kcni-bench-${id}`;
const scratch = mkdtempSync(join(tmpdir(), 'kcni-bench-'));

interface Plugin {
  label: string;
  exe: string;
  conf: (ipMasq: boolean) => Record<string, unknown>;
  /** A resident process doing the work: its CPU time counts too. */
  resident?: () => number;
}

function baseConf(type: string, bridge: string, subnet: string, dataDir: string, ipMasq: boolean) {
  return {
    cniVersion: '1.0.0',
    name: `bench-${type}`,
    type,
    bridge,
    isGateway: true,
    ipMasq,
    hairpinMode: true,
    ipam: { type: 'host-local', dataDir, ranges: [[{ subnet }]], routes: [{ dst: '0.0.0.0/0' }] },
  };
}

async function must(cmd: string, ...args: string[]): Promise<void> {
  const out = await run(cmd, args);
  if (out.code !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${out.stderr}`);
}

/** USER_HZ: the unit of /proc/PID/stat times on Linux. */
const CLOCK_TICKS = 100;

/**
 * CPU time (user+sys, ms) of every child this process has waited for, from /proc/self/stat;
 * unlike wall time it barely depends on how busy the machine is.
 */
function childCpuMs(): number {
  const stat = readFileSync('/proc/self/stat', 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[13]) + Number(fields[14]);
  return (ticks * 1000) / CLOCK_TICKS;
}

/**
 * CPU time (ms) of a running process, the children it has waited for, and its live descendants
 * (the resident's netlink helper lives as long as it does).
 */
function processCpuMs(pid: number): number {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return 0; // exited between listing and reading
  }
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = [11, 12, 13, 14].reduce((sum, i) => sum + Number(fields[i]), 0);
  return (ticks * 1000) / CLOCK_TICKS + liveChildren(pid).reduce((sum, c) => sum + processCpuMs(c), 0);
}

function liveChildren(pid: number): number[] {
  try {
    return readdirSync(`/proc/${pid}/task`).flatMap((t) =>
      readFileSync(`/proc/${pid}/task/${t}/children`, 'utf8').split(' ').filter(Boolean).map(Number),
    );
  } catch {
    return [];
  }
}

const KLAB_JS = fileURLToPath(new URL('../klab.js', import.meta.url));

/** Wall time of one plugin call, from spawn to exit. */
function timed(
  exe: string,
  env: Record<string, string>,
  conf: unknown,
  args: string[] = [],
): Promise<number> {
  return new Promise((resolve, reject) => {
    const start = process.hrtime.bigint();
    const child = spawn('ip', ['netns', 'exec', NODE, exe, ...args], { env: { ...process.env, ...env } });
    let stdout = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      const ms = Number(process.hrtime.bigint() - start) / 1e6;
      if (code !== 0) reject(new Error(`${exe} ${env.CNI_COMMAND} failed: ${stdout}`));
      else resolve(ms);
    });
    child.stdin.end(JSON.stringify(conf));
  });
}

function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] ?? NaN;
}

interface Stats {
  median: number;
  p99: number;
  cpu: number;
}

function stats(samples: number[], cpu: number[] = []): Stats {
  const s = [...samples].sort((a, b) => a - b);
  return {
    median: quantile(s, 0.5),
    p99: quantile(s, 0.99),
    cpu: cpu.reduce((a, b) => a + b, 0) / (cpu.length || 1),
  };
}

async function measure(plugins: Plugin[], ipMasq: boolean): Promise<Map<string, { add: Stats; del: Stats }>> {
  const samples = new Map(
    plugins.map((p) => [
      p.label,
      { add: [] as number[], del: [] as number[], addCpu: [] as number[], delCpu: [] as number[] },
    ]),
  );
  const warmup = 2;
  for (let i = 0; i < RUNS + warmup; i++) {
    // Alternate who goes first so neither always runs on a warmer cache.
    const order = i % 2 === 0 ? plugins : [...plugins].reverse();
    for (const p of order) {
      const netns = `kcni-bench-${id}-${i}`;
      await must('ip', 'netns', 'add', netns);
      try {
        const env = {
          CNI_CONTAINERID: `bench${id}${i}`,
          CNI_NETNS: `/var/run/netns/${netns}`,
          CNI_IFNAME: 'eth0',
          CNI_PATH: REF_DIR,
        };
        const conf = p.conf(ipMasq);
        const cpu = () => childCpuMs() + (p.resident?.() ?? 0);
        const cpu0 = cpu();
        const add = await timed(p.exe, { ...env, CNI_COMMAND: 'ADD' }, conf);
        const cpu1 = cpu();
        const del = await timed(p.exe, { ...env, CNI_COMMAND: 'DEL' }, conf);
        const cpu2 = cpu();
        const s = samples.get(p.label);
        if (s && i >= warmup) {
          s.add.push(add);
          s.del.push(del);
          s.addCpu.push(cpu1 - cpu0);
          s.delCpu.push(cpu2 - cpu1);
        }
      } finally {
        await run('ip', ['netns', 'del', netns]);
      }
    }
  }
  return new Map(
    [...samples].map(([k, v]) => [k, { add: stats(v.add, v.addCpu), del: stats(v.del, v.delCpu) }]),
  );
}

async function startupFloor(exe: string, args: string[] = []): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < 10; i++)
    times.push(await timed(exe, { CNI_COMMAND: 'VERSION' }, { cniVersion: '1.0.0' }, args));
  return stats(times).median;
}

const f = (n: number): string => n.toFixed(1).padStart(8);

async function main(): Promise<void> {
  const socket = join(scratch, 'klab-bridge.sock');
  const installed = (bin: string, residentSocket?: string): string =>
    install(
      {
        binDir: join(scratch, bin),
        confDir: join(scratch, 'net.d'),
        podCidr: '10.213.78.0/24',
        bridge: 'unused',
        name: 'bench',
        ipMasq: false,
        portmap: false,
        ...(residentSocket ? { residentSocket } : {}),
      },
      process.execPath,
    ).plugin;
  const plugin = installed('bin');
  const residentPlugin = installed('bin-resident', socket);
  const plugins: Plugin[] = [
    {
      label: 'reference bridge+host-local',
      exe: join(REF_DIR, 'bridge'),
      conf: (m) => baseConf('bridge', `kbr${id}`, '10.213.77.0/24', join(scratch, 'ref'), m),
    },
    {
      label: 'klab-bridge',
      exe: plugin,
      conf: (m) => baseConf('klab-bridge', `kbk${id}`, '10.213.78.0/24', join(scratch, 'klab'), m),
    },
    {
      label: 'klab-bridge resident',
      exe: residentPlugin,
      conf: (m) => baseConf('klab-bridge', `kbs${id}`, '10.213.79.0/24', join(scratch, 'resident'), m),
    },
  ];
  await must('ip', 'netns', 'add', NODE);
  let resident: ChildProcess | undefined;
  try {
    // Inside the node namespace with its own sysfs, as the agent runs it.
    resident = await spawnResident(['ip', 'netns', 'exec', NODE, process.execPath, KLAB_JS], socket);
    const pid = resident.pid as number;
    (plugins[2] as Plugin).resident = () => processCpuMs(pid);
    const floors: [string, number][] = [];
    for (const p of plugins) floors.push([p.label, await startupFloor(p.exe)]);
    // What no Node executable can go under, and what the resident launcher starts instead.
    floors.push(['node -e 0', await startupFloor(process.execPath, ['-e', '0'])]);
    floors.push(['perl -e 0', await startupFloor('/usr/bin/perl', ['-e', '0'])]);
    console.log(
      `CNI ADD/DEL latency, ms, ${RUNS} runs each (after 2 warm-up runs), via ip netns exec into ${NODE}`,
    );
    console.log(
      `startup floor (VERSION median): ${floors.map(([l, t]) => `${l} ${t.toFixed(1)}`).join(', ')}`,
    );
    console.log(
      `load average at start: ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}`,
    );
    console.log(
      'p50/p99: wall time per call; cpu: mean user+sys CPU per call of the plugin and all it runs\n',
    );
    console.log(
      `${'variant'.padEnd(14)}${'plugin'.padEnd(30)}${'ADD p50'.padStart(8)}${'ADD p99'.padStart(8)}${'DEL p50'.padStart(8)}${'DEL p99'.padStart(8)}${'ADD cpu'.padStart(8)}${'DEL cpu'.padStart(8)}`,
    );
    for (const ipMasq of [false, true]) {
      const variant = ipMasq ? 'ipMasq=true' : 'ipMasq=false';
      const res = await measure(plugins, ipMasq);
      for (const p of plugins) {
        const r = res.get(p.label);
        if (r)
          console.log(
            `${variant.padEnd(14)}${p.label.padEnd(30)}${f(r.add.median)}${f(r.add.p99)}${f(r.del.median)}${f(r.del.p99)}${f(r.add.cpu)}${f(r.del.cpu)}`,
          );
      }
      const ref = res.get(plugins[0]?.label ?? '');
      const ratio = (a: number, b: number): string => `${(a / b).toFixed(2)}x`.padStart(8);
      for (const p of plugins.slice(1)) {
        const klab = res.get(p.label);
        if (!ref || !klab) continue;
        const label = `ratio ${p.label.replace('klab-bridge', 'klab')}/ref`;
        console.log(
          `${variant.padEnd(14)}${label.padEnd(30)}${ratio(klab.add.median, ref.add.median)}${ratio(klab.add.p99, ref.add.p99)}${ratio(klab.del.median, ref.del.median)}${ratio(klab.del.p99, ref.del.p99)}${ratio(klab.add.cpu, ref.add.cpu)}${ratio(klab.del.cpu, ref.del.cpu)}`,
        );
      }
    }
  } finally {
    if (resident) {
      const exited = new Promise((r) => resident?.once('exit', r));
      resident.stdin?.end();
      await exited;
    }
    await run('ip', ['netns', 'del', NODE]);
    rmSync(scratch, { recursive: true, force: true });
  }
}

await main();
