/**
 * kube-proxy iptables sync benchmark: full syncs at 1k / 5k / 10k services × 10 endpoints
 * (render, restore, total) and one endpoint change at the largest size (a partial sync), with
 * a plain `iptables-restore` of the same text in a fresh namespace as the floor. Runs every
 * backend this machine has (nft, legacy) unless one is named. Everything runs in throwaway
 * network namespaces (kpx-bench-*), removed at the end; the host's tables are never touched.
 *
 * iptables commands enter the namespace with nsenter (setns + exec), as cheap as the daemon's
 * own spawns inside its node namespace; `ip netns exec` would add a mount namespace and a sysfs
 * remount to every call. The machine is shared, so next to wall-clock times the table shows
 * the CPU seconds (user + sys) iptables-restore itself used.
 *
 *   node dist/bench/proxy-sync.js [--backend nft|legacy] [sizes...]
 *   e.g. node dist/bench/proxy-sync.js 1000 5000 10000
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { EndpointSliceObject, ServiceObject } from '../proxy/objects.js';
import { hostExec, IptablesApplier } from '../proxy/iptables/apply.js';
import type { Backend, Exec } from '../proxy/iptables/apply.js';
import { JUMP_RULES, jumpRuleArgs } from '../proxy/iptables/jumps.js';
import type { JumpRule } from '../proxy/iptables/jumps.js';
import { ProxySyncEngine } from '../proxy/sync.js';

const ENDPOINTS = 10;
const node = {
  name: 'bench-node',
  ips: ['192.168.56.11'],
  clusterCIDR: '10.244.0.0/16',
  masqueradeAll: false,
  localhostNodePorts: true,
};

function service(i: number): ServiceObject {
  return {
    metadata: { namespace: 'bench', name: `svc-${i}` },
    spec: {
      clusterIP: `10.${96 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}`,
      ports: [{ name: 'http', port: 80, protocol: 'TCP' }],
    },
  };
}

function slice(i: number, variant = 0): EndpointSliceObject {
  return {
    metadata: {
      namespace: 'bench',
      name: `svc-${i}-abcde`,
      labels: { 'kubernetes.io/service-name': `svc-${i}` },
    },
    addressType: 'IPv4',
    endpoints: Array.from({ length: ENDPOINTS }, (_, e) => {
      const n = i * ENDPOINTS + e + variant;
      return { addresses: [`10.${244 + (n >> 16)}.${(n >> 8) & 255}.${n & 255}`], nodeName: `node-${e % 3}` };
    }),
    ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
  };
}

const created: string[] = [];
async function freshNs(): Promise<string> {
  const ns = `kpx-bench-${randomBytes(3).toString('hex')}`;
  const r = await hostExec('ip', ['netns', 'add', ns]);
  if (r.code !== 0) throw new Error(`ip netns add ${ns}: ${r.stderr}`);
  created.push(ns);
  return ns;
}

async function removeNs(ns: string): Promise<void> {
  await hostExec('ip', ['netns', 'del', ns]);
  created.splice(created.indexOf(ns), 1);
}

const scratch = mkdtempSync(join(tmpdir(), 'kpx-bench-'));

/**
 * Runs commands in `ns`; restores (calls with stdin) run under /usr/bin/time so their CPU
 * seconds and their input are recorded.
 */
interface Usage {
  /** user + sys ms of the last restore, its sys (kernel) part, and its input. */
  cpu: number;
  sys: number;
  input: string;
}

function benchExec(ns: string, record: Usage): Exec {
  return async (file, args, input) => {
    const inNs = ['--net=/run/netns/' + ns, file, ...args];
    if (input === undefined) return hostExec('nsenter', inNs);
    const out = join(scratch, 'time');
    const r = await hostExec('/usr/bin/time', ['-f', '%U %S', '-o', out, 'nsenter', ...inNs], input);
    const [user = 0, sys = 0] =
      readFileSync(out, 'utf8').trim().split('\n').at(-1)?.split(' ').map(Number) ?? [];
    record.cpu = 1000 * (user + sys);
    record.sys = 1000 * sys;
    record.input = input;
    return r;
  };
}

const ms = (t0: number) => performance.now() - t0;
const fmt = (v: number) => (Number.isNaN(v) ? '-' : v.toFixed(0)).padStart(9);

interface Row {
  what: string;
  bytes: number;
  render: number;
  restore: number;
  restoreCpu: number;
  restoreSys: number;
  total: number;
  floor: number;
  floorCpu: number;
}

/** Plain `iptables-restore --noflush` of `text` into namespace `ns`: wall, CPU and sys ms. */
async function plainRestoreIn(ns: string, backend: Backend, text: string): Promise<[number, number, number]> {
  const record: Usage = { cpu: 0, sys: 0, input: '' };
  const t0 = performance.now();
  const r = await benchExec(ns, record)(`iptables-${backend}-restore`, ['--noflush'], text);
  const t = ms(t0);
  if (r.code !== 0) throw new Error(`plain restore: ${r.stderr}`);
  return [t, record.cpu, record.sys];
}

/** The same into a fresh namespace. */
async function plainRestore(backend: Backend, text: string): Promise<[number, number, number]> {
  const ns = await freshNs();
  try {
    return await plainRestoreIn(ns, backend, text);
  } finally {
    await removeNs(ns);
  }
}

/** The first KUBE-SEP chain of restore text `text`, rewritten with the same rules. */
function oneSepChain(text: string): string {
  const chain = /^:(KUBE-SEP-\w+) /m.exec(text)?.[1];
  if (chain === undefined) throw new Error('no KUBE-SEP chain in the change text');
  const rules = text.split('\n').filter((l) => l.startsWith(`-A ${chain} `));
  return `*nat\n:${chain} - [0:0]\n${rules.join('\n')}\nCOMMIT\n`;
}

const PROBE = 'KUBE-BENCH-PROBE';
const probe = (rule: string) => `*nat\n:${PROBE} - [0:0]\n-A ${PROBE} ${rule}\nCOMMIT\n`;
const dropProbe = `*nat\n:${PROBE} - [0:0]\n-X ${PROBE}\nCOMMIT\n`;
/** The nat jump rules that make the service chains reachable from base chains. */
const SERVICE_JUMPS = JUMP_RULES.filter((r) => r.table === 'nat' && r.to === 'KUBE-SERVICES');

/**
 * Floors in the loaded table: plain restores of the change text again, of one SEP chain, and of
 * one rule in a chain nothing jumps to, without and with a verdict (a verdict or an xt target
 * makes the kernel re-validate every rule reachable from the table's base chains at commit),
 * the last once more with the base chains' jumps into KUBE-SERVICES removed for the moment.
 */
async function floors(ns: string, backend: Backend, n: number, change: string | undefined, rows: Row[]) {
  const floor = async (what: string, text: string, after?: string) => {
    const [wall, cpu, sys] = await plainRestoreIn(ns, backend, text);
    if (after !== undefined) await plainRestoreIn(ns, backend, after);
    rows.push({
      what: `  floor at ${n}: ${what}`,
      bytes: text.length,
      render: Number.NaN,
      restore: wall,
      restoreCpu: cpu,
      restoreSys: sys,
      total: Number.NaN,
      floor: Number.NaN,
      floorCpu: Number.NaN,
    });
  };
  if (change !== undefined) {
    await floor('the change text again', change);
    await floor('one SEP chain rewritten', oneSepChain(change));
  }
  await floor('1 rule, no verdict, idle chain', probe('-s 10.0.0.1'), dropProbe);
  await floor('1 ACCEPT rule, idle chain', probe('-s 10.0.0.1 -j ACCEPT'), dropProbe);
  const iptables = (op: string, r: JumpRule) =>
    hostExec('nsenter', [
      `--net=/run/netns/${ns}`,
      `iptables-${backend}`,
      '-t',
      'nat',
      op,
      r.from,
      ...jumpRuleArgs(r),
    ]);
  for (const r of SERVICE_JUMPS) await iptables('-D', r);
  try {
    await floor('  same, no base chain jumps to it', probe('-s 10.0.0.1 -j ACCEPT'), dropProbe);
  } finally {
    for (const r of SERVICE_JUMPS) await iptables('-I', r);
  }
}

async function benchSize(backend: Backend, n: number, rows: Row[], withChange: boolean): Promise<void> {
  const ns = await freshNs();
  const record: Usage = { cpu: 0, sys: 0, input: '' };
  const exec = benchExec(ns, record);
  const engine = new ProxySyncEngine({
    node,
    exec,
    applier: new IptablesApplier(exec, backend),
    minSyncPeriodMs: 0,
    // Large-cluster mode lists chains for stale-chain clean-up once per sync period; keep that
    // out of the one-change figure, as in a steady state.
    syncPeriodMs: 3_600_000,
  });
  try {
    for (let i = 0; i < n; i++) {
      engine.setService(service(i));
      engine.setEndpointSlice(slice(i));
    }
    const t0 = performance.now();
    const full = await engine.syncNow();
    const total = ms(t0);
    if (!full.ok) throw new Error(`full sync failed: ${full.error}`);
    const { cpu: fullCpu, sys: fullSys, input } = record;
    const [floor, floorCpu] = await plainRestore(backend, input);
    rows.push({
      what: `full sync, ${n} svc × ${ENDPOINTS} ep`,
      bytes: full.bytes,
      render: full.renderMs,
      restore: full.restoreMs,
      restoreCpu: fullCpu,
      restoreSys: fullSys,
      total,
      floor,
      floorCpu,
    });

    let change: string | undefined;
    if (withChange) {
      for (let k = 1; k <= 3; k++) {
        engine.setEndpointSlice(slice(Math.floor(n / 2) + k, 1));
        const t1 = performance.now();
        const partial = await engine.syncNow();
        const totalPartial = ms(t1);
        if (!partial.ok || partial.full) throw new Error(`partial sync failed: ${partial.error}`);
        change = record.input;
        rows.push({
          what: `1 endpoint change at ${n} svc (#${k})`,
          bytes: partial.bytes,
          render: partial.renderMs,
          restore: partial.restoreMs,
          restoreCpu: record.cpu,
          restoreSys: record.sys,
          total: totalPartial,
          floor: Number.NaN,
          floorCpu: Number.NaN,
        });
      }
    }
    await floors(ns, backend, n, change, rows);
  } finally {
    await engine.stop();
    await removeNs(ns);
  }
}

async function available(backend: Backend): Promise<boolean> {
  return (await hostExec(`iptables-${backend}-restore`, ['--version']).catch(() => ({ code: 1 }))).code === 0;
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  let backends: Backend[] = ['nft', 'legacy'];
  const b = args.indexOf('--backend');
  if (b !== -1) {
    const value = args[b + 1];
    if (value !== 'nft' && value !== 'legacy') throw new Error(`--backend: "${value}" is not nft or legacy`);
    backends = [value];
    args.splice(b, 2);
  }
  const bad = args.find((a) => !/^[1-9]\d*$/.test(a));
  if (bad !== undefined) throw new Error(`size "${bad}" is not a positive integer`);
  const sizes = args.length > 0 ? args.map(Number) : [1000, 5000, 10000];
  const load = loadavg()[0]?.toFixed(1);
  try {
    for (const backend of backends) {
      if (!(await available(backend))) {
        console.log(`iptables-${backend}-restore: not on this machine, skipped`);
        continue;
      }
      const rows: Row[] = [];
      for (const [i, n] of sizes.entries()) await benchSize(backend, n, rows, i === sizes.length - 1);
      console.log(
        `\nkube-proxy iptables sync, iptables-${backend} (ms; cpu = iptables-restore user+sys, sys = its kernel part; floor = plain iptables-restore of the same text into a fresh namespace; load ${load} → ${loadavg()[0]?.toFixed(1)})`,
      );
      console.log(
        `${'case'.padEnd(48)}${'bytes'.padStart(11)}${'render'.padStart(9)}${'restore'.padStart(9)}${'cpu'.padStart(9)}${'sys'.padStart(9)}${'total'.padStart(9)}${'floor'.padStart(9)}${'floorcpu'.padStart(9)}  render/restore`,
      );
      for (const r of rows) {
        console.log(
          `${r.what.padEnd(48)}${String(r.bytes).padStart(11)}${fmt(r.render)}${fmt(r.restore)}${fmt(r.restoreCpu)}${fmt(r.restoreSys)}${fmt(r.total)}${fmt(r.floor)}${fmt(r.floorCpu)}  ${Number.isNaN(r.render) ? '' : `${((100 * r.render) / r.restore).toFixed(1)}%`}`,
        );
      }
    }
  } finally {
    for (const ns of [...created]) await hostExec('ip', ['netns', 'del', ns]);
    rmSync(scratch, { recursive: true, force: true });
  }
}

await main();
