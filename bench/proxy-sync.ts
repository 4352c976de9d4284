/**
 * kube-proxy iptables sync benchmark: full syncs at 1k / 5k / 10k services × 10 endpoints
 * (render, restore, total) and one endpoint change at 10k services (a partial sync), with a
 * plain `iptables-restore` of the same text as the floor. Everything runs in throwaway network
 * namespaces (kpx-bench-*), removed at the end; the host's tables are never touched.
 *
 *   node dist/bench/proxy-sync.js [--backend nft|legacy] [sizes...]
 *   e.g. node dist/bench/proxy-sync.js 1000 5000 10000
 */
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { EndpointSliceObject, ServiceObject } from '../proxy/objects.js';
import { buildModel } from '../proxy/model.js';
import { renderIptables } from '../proxy/iptables/render.js';
import { hostExec, IptablesApplier, netnsExec } from '../proxy/iptables/apply.js';
import type { Backend } from '../proxy/iptables/apply.js';
import { ProxySyncEngine } from '../proxy/sync.js';

const ENDPOINTS = 10;
let backend: Backend = 'nft';
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
      clusterIP: `10.96.${(i >> 8) & 255}.${i & 255}`.replace(/^10\.96\./, `10.${96 + (i >> 16)}.`),
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

async function sh(args: string[], input?: string): Promise<void> {
  const r = await hostExec(args[0] as string, args.slice(1), input);
  if (r.code !== 0) throw new Error(`${args.join(' ')}: ${r.stderr}`);
}

const created: string[] = [];
async function freshNs(): Promise<string> {
  const ns = `kpx-bench-${randomBytes(3).toString('hex')}`;
  await sh(['ip', 'netns', 'add', ns]);
  created.push(ns);
  return ns;
}

const ms = (t0: number) => performance.now() - t0;
const fmt = (v: number) => v.toFixed(0).padStart(8);

interface Row {
  what: string;
  bytes: number;
  render: number;
  restore: number;
  total: number;
  floor: number;
}

async function plainRestore(text: string): Promise<number> {
  const ns = await freshNs();
  const t0 = performance.now();
  await sh(['ip', 'netns', 'exec', ns, `iptables-${backend}-restore`, '--noflush'], text);
  const t = ms(t0);
  await sh(['ip', 'netns', 'del', ns]);
  created.splice(created.indexOf(ns), 1);
  return t;
}

async function benchSize(n: number, rows: Row[], withChange: boolean): Promise<void> {
  const services = Array.from({ length: n }, (_, i) => service(i));
  const slices = Array.from({ length: n }, (_, i) => slice(i));

  // The renderer alone, as the engine's full sync calls it.
  const r0 = performance.now();
  const text = renderIptables(buildModel({ services, endpointSlices: slices }, node)).text;
  const renderOnly = ms(r0);

  const ns = await freshNs();
  const exec = netnsExec(ns);
  const engine = new ProxySyncEngine({
    node,
    exec,
    applier: new IptablesApplier(exec, backend),
    minSyncPeriodMs: 0,
    // Large-cluster mode lists chains for stale-chain clean-up once per sync period; keep that
    // out of the one-change figure, as in a steady state.
    syncPeriodMs: 3_600_000,
  });
  services.forEach((s) => engine.setService(s));
  slices.forEach((s) => engine.setEndpointSlice(s));
  const t0 = performance.now();
  const full = await engine.syncNow();
  const total = ms(t0);
  if (!full.ok) throw new Error(`full sync failed: ${full.error}`);
  rows.push({
    what: `full sync, ${n} svc × ${ENDPOINTS} ep`,
    bytes: full.bytes,
    render: Math.min(full.renderMs, renderOnly),
    restore: full.restoreMs,
    total,
    floor: await plainRestore(text),
  });

  if (withChange) {
    const changed = slice(Math.floor(n / 2), 1);
    engine.setEndpointSlice(changed);
    const t1 = performance.now();
    const partial = await engine.syncNow();
    const totalPartial = ms(t1);
    if (!partial.ok || partial.full) throw new Error(`partial sync failed: ${partial.error}`);
    rows.push({
      what: `1 endpoint change at ${n} svc`,
      bytes: partial.bytes,
      render: partial.renderMs,
      restore: partial.restoreMs,
      total: totalPartial,
      floor: Number.NaN,
    });
  }
  await engine.stop();
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const b = args.indexOf('--backend');
  if (b !== -1) {
    const value = args[b + 1];
    if (value !== 'nft' && value !== 'legacy') throw new Error(`--backend: "${value}" is not nft or legacy`);
    backend = value;
    args.splice(b, 2);
  }
  const sizes = args.map(Number);
  const bad = args.find((a) => !/^[1-9]\d*$/.test(a));
  if (bad !== undefined) throw new Error(`size "${bad}" is not a positive integer`);
  const list = sizes.length > 0 ? sizes : [1000, 5000, 10000];
  const rows: Row[] = [];
  try {
    for (const [i, n] of list.entries()) await benchSize(n, rows, i === list.length - 1);
  } finally {
    for (const ns of created) await hostExec('ip', ['netns', 'del', ns]);
  }
  console.log(
    `kube-proxy iptables sync (iptables-${backend}, ms; floor = plain iptables-restore of the same text)`,
  );
  console.log(
    `${'case'.padEnd(34)}${'bytes'.padStart(11)}  ${'render'.padStart(8)}${'restore'.padStart(8)}${'total'.padStart(8)}${'floor'.padStart(8)}  render/restore`,
  );
  for (const r of rows) {
    console.log(
      `${r.what.padEnd(34)}${String(r.bytes).padStart(11)}  ${fmt(r.render)}${fmt(r.restore)}${fmt(r.total)}${Number.isNaN(r.floor) ? '       -' : fmt(r.floor)}  ${((100 * r.render) / r.restore).toFixed(1)}%`,
    );
  }
}

await main();
