/**
 * DNS benchmark: dnsperf against klab's DNS server and against unbound serving an equivalent
 * local zone, side by side in one run, for cluster names and for cached external names.
 * Everything runs on loopback: the "internet" is a dns2 stub on 127.0.0.1, unbound runs from
 * its own config in a temp dir (never the system's), and every process started is stopped.
 * Neither server is pinned to CPUs; the measured runs alternate klab, unbound, klab, … so a
 * change in the machine's load hits both, and the table reports the median of each. A third
 * server, the Node dgram floor (udp-floor.ts: the same threads on one shared socket, but no DNS
 * work), shows what the runtime's per-datagram path alone reaches against unbound.
 * dnsperf and unbound are Debian packages; when missing they are installed with apt-get.
 *
 *   node dist/bench/dns.js [--services 10000] [--duration 5] [--rounds 3] [--workers 2]
 */
import type { ChildProcess } from 'node:child_process';
import { execFile, spawn } from 'node:child_process';
import dgram from 'node:dgram';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { Command } from 'commander';
import { spawnDnsServe } from '../dns/spawn.js';
import { startUpstreamStub } from '../dns/upstream-stub.js';
import { CLASS_IN, Encoder, FLAG, TYPE, nameToWire } from '../dns/wire.js';

const run = promisify(execFile);
const KLAB = fileURLToPath(new URL('../klab.js', import.meta.url));
const FLOOR = fileURLToPath(new URL('./udp-floor.js', import.meta.url));
const EXTERNAL_NAMES = 200;

interface Options {
  services: number;
  duration: number;
  rounds: number;
  workers: number;
  outstanding: number;
  clients: number;
}

interface Result {
  qps: number;
  avgMs: number;
  p99Ms: number;
  lost: number;
  /** Server CPU time (user + system, all threads) per answered query. */
  cpuUs: number;
}

type Run = Omit<Result, 'p99Ms'>;

/** CPU seconds (user + system, every thread) a process has used so far. */
function cpuSeconds(pid: number, ticksPerSecond: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name, which is in parentheses and may contain spaces.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / ticksPerSecond;
}

function serviceIP(i: number): string {
  // 10.100.0.0/16 sits inside the default service CIDR 10.96.0.0/12.
  return `10.100.${Math.floor(i / 250)}.${(i % 250) + 1}`;
}

/** JSON, not YAML: the snapshot loader parses JSON far faster for thousands of objects. */
function objectsJson(services: number): string {
  const items = [];
  for (let i = 0; i < services; i++) {
    items.push({
      kind: 'Service',
      metadata: { name: `svc-${i}`, namespace: 'bench' },
      spec: { clusterIP: serviceIP(i), ports: [{ name: 'http', port: 80, protocol: 'TCP' }] },
    });
  }
  return JSON.stringify({ kind: 'List', items });
}

/** The cluster workload: A, SRV and PTR hits, plus NXDOMAIN and NODATA, as in the reference. */
function clusterQueries(services: number): { lines: string[]; unboundData: string[] } {
  const lines: string[] = [];
  const data: string[] = [];
  const picked = Math.min(services, 1000);
  for (let k = 0; k < picked; k++) {
    const i = Math.floor((k * services) / picked);
    const name = `svc-${i}.bench.svc.cluster.local`;
    lines.push(`${name} A`);
    if (k % 4 === 0) lines.push(`_http._tcp.${name} SRV`);
    if (k % 4 === 1) lines.push(`${serviceIP(i).split('.').reverse().join('.')}.in-addr.arpa PTR`);
    if (k % 4 === 2) lines.push(`missing-${i}.bench.svc.cluster.local A`);
    if (k % 4 === 3) lines.push(`${name} AAAA`);
  }
  for (let i = 0; i < services; i++) {
    const name = `svc-${i}.bench.svc.cluster.local`;
    data.push(`local-data: "${name}. 30 IN A ${serviceIP(i)}"`);
    data.push(`local-data: "_http._tcp.${name}. 30 IN SRV 0 100 80 ${name}."`);
    data.push(`local-data-ptr: "${serviceIP(i)} 30 ${name}."`);
  }
  return { lines, unboundData: data };
}

function unboundConf(dir: string, port: number, upstreamPort: number, data: string[]): string {
  return [
    'server:',
    `  interface: 127.0.0.1@${port}`,
    `  port: ${port}`,
    '  num-threads: 2',
    '  do-daemonize: no',
    '  do-ip6: no',
    '  username: ""',
    '  chroot: ""',
    `  directory: "${dir}"`,
    '  pidfile: ""',
    '  use-syslog: no',
    '  logfile: ""',
    '  verbosity: 0',
    '  module-config: "iterator"',
    '  access-control: 127.0.0.0/8 allow',
    '  do-not-query-localhost: no',
    '  msg-cache-size: 32m',
    '  rrset-cache-size: 32m',
    '  local-zone: "cluster.local." static',
    '  local-data: "cluster.local. 30 IN SOA ns.dns.cluster.local. hostmaster.cluster.local. 1 7200 1800 86400 30"',
    '  local-zone: "100.10.in-addr.arpa." static',
    ...data.map((d) => `  ${d}`),
    'forward-zone:',
    '  name: "."',
    `  forward-addr: 127.0.0.1@${upstreamPort}`,
    'remote-control:',
    '  control-enable: no',
    '',
  ].join('\n');
}

/** A free UDP port on loopback (bound and released; good enough for a benchmark). */
async function freePort(): Promise<number> {
  const s = dgram.createSocket('udp4');
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
  const port = s.address().port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

async function answers(port: number, name: string): Promise<boolean> {
  const s = dgram.createSocket('udp4');
  try {
    const q = new Encoder().encode({
      id: 99,
      flags: FLAG.RD,
      question: { wire: nameToWire(name), name, type: TYPE.A, class: CLASS_IN },
      answers: [],
      authority: [],
      additional: [],
      opt: null,
    });
    return await new Promise<boolean>((resolve) => {
      const t = setTimeout(() => resolve(false), 300);
      s.on('message', (m) => {
        clearTimeout(t);
        resolve(((m[3] as number) & 0xf) === 0);
      });
      s.send(q, port, '127.0.0.1');
    });
  } finally {
    s.close();
  }
}

async function waitAnswering(port: number, name: string, what: string, proc: ChildProcess): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (proc.exitCode !== null) throw new Error(`${what} exited with code ${proc.exitCode}`);
    if (await answers(port, name)) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${what} did not answer ${name} within 60 s`);
}

async function dnsperf(port: number, file: string, opts: Options, seconds: number, verbose: boolean) {
  const args = ['-s', '127.0.0.1', '-p', String(port), '-d', file, '-l', String(seconds)];
  args.push('-c', String(opts.clients), '-T', '1', '-q', String(opts.outstanding));
  if (verbose) args.push('-v');
  const { stdout } = await run('dnsperf', args, { maxBuffer: 1024 * 1024 * 1024 });
  return stdout;
}

interface Server {
  port: number;
  pid: number;
}

/** One dnsperf run: QPS, average latency, lost queries and the server's CPU per query. */
async function throughput(server: Server, file: string, opts: Options, ticks: number): Promise<Run> {
  const cpuBefore = cpuSeconds(server.pid, ticks);
  const out = await dnsperf(server.port, file, opts, opts.duration, false);
  const cpu = cpuSeconds(server.pid, ticks) - cpuBefore;
  const qps = Number(/Queries per second:\s+([\d.]+)/.exec(out)?.[1] ?? NaN);
  const avg = Number(/Average Latency \(s\):\s+([\d.]+)/.exec(out)?.[1] ?? NaN);
  const lost = Number(/Queries lost:\s+(\d+)/.exec(out)?.[1] ?? NaN);
  const completed = Number(/Queries completed:\s+(\d+)/.exec(out)?.[1] ?? NaN);
  return { qps, avgMs: avg * 1000, lost, cpuUs: (cpu * 1e6) / completed };
}

/** p99 latency from a shorter verbose run: dnsperf prints one line per query with its latency. */
async function p99Latency(port: number, file: string, opts: Options): Promise<number> {
  const verbose = await dnsperf(port, file, opts, Math.max(2, Math.round(opts.duration / 2)), true);
  const lat: number[] = [];
  for (const m of verbose.matchAll(/^> \S+ .* ([\d.]+)$/gm)) lat.push(Number(m[1]));
  lat.sort((a, b) => a - b);
  const p99 = lat.length > 0 ? (lat[Math.min(lat.length - 1, Math.floor(lat.length * 0.99))] as number) : NaN;
  return p99 * 1000;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2
    ? (s[(s.length - 1) / 2] as number)
    : ((s[s.length / 2 - 1] as number) + (s[s.length / 2] as number)) / 2;
}

/**
 * Alternates the servers (klab, unbound, the Node floor) `rounds` times on one query file; each
 * server's row is the run with its median QPS, plus a p99 from a verbose run.
 */
async function compare(servers: Server[], file: string, opts: Options, ticks: number): Promise<Result[]> {
  const runs: Run[][] = servers.map(() => []);
  for (let r = 0; r < opts.rounds; r++) {
    for (const [i, server] of servers.entries())
      (runs[i] as Run[]).push(await throughput(server, file, opts, ticks));
  }
  const results: Result[] = [];
  for (const [i, server] of servers.entries()) {
    const list = runs[i] as Run[];
    const mid = median(list.map((x) => x.qps));
    const row = list.reduce((a, b) => (Math.abs(b.qps - mid) < Math.abs(a.qps - mid) ? b : a));
    results.push({
      ...row,
      qps: mid,
      cpuUs: median(list.map((x) => x.cpuUs)),
      p99Ms: await p99Latency(server.port, file, opts),
    });
  }
  return results;
}

/** dnsperf and unbound come from Debian packages; install the missing ones (needs root). */
async function ensureTools(): Promise<void> {
  const missing: string[] = [];
  for (const [tool, pkg] of [
    ['dnsperf', 'dnsperf'],
    ['unbound', 'unbound'],
  ] as const) {
    const found = await run('sh', ['-c', `command -v ${tool}`]).then(
      () => true,
      () => false,
    );
    if (!found) missing.push(pkg);
  }
  if (missing.length === 0) return;
  console.log(`installing ${missing.join(' ')} with apt-get (the benchmark needs them)`);
  try {
    await run('apt-get', ['install', '-y', '--no-install-recommends', ...missing], {
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    });
  } catch (e) {
    throw new Error(
      `the DNS benchmark needs the Debian packages ${missing.join(' ')}; apt-get install failed ` +
        `(run as root, or install them by hand): ${(e as Error).message}`,
    );
  }
  // unbound's package starts a system resolver on port 53; the benchmark runs its own copy.
  await run('systemctl', ['disable', '--now', 'unbound']).catch(() => undefined);
}

async function versions(): Promise<string> {
  const first = async (cmd: string, args: string[], re: RegExp): Promise<string> => {
    const r = await run(cmd, args).catch((e: { stdout?: string; stderr?: string }) => e);
    return re.exec(`${r.stdout ?? ''}${r.stderr ?? ''}`)?.[1] ?? '?';
  };
  const dnsperfV = await first('dnsperf', ['-h'], /Version:?\s*([\d.]+)/);
  const unboundV = await first('unbound', ['-V'], /Version ([\d.]+)/);
  return `node ${process.versions.node}, unbound ${unboundV}, dnsperf ${dnsperfV}`;
}

/**
 * A server's memory (one process; its threads share it): RSS, and the anonymous part of it
 * (heaps, stacks, malloc) without the pages of the executable and libraries.
 */
function memoryMB(pid: number): { rss: number; anon: number } {
  const rollup = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
  const kb = (field: string): number =>
    Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(rollup)?.[1] ?? NaN);
  return { rss: kb('Rss') / 1024, anon: kb('Anonymous') / 1024 };
}

/** The port a helper process prints as "port N" once it serves. */
function announcedPort(proc: ChildProcess, name: string): Promise<number> {
  return new Promise((resolve, reject) => {
    let out = '';
    const failed = (why: string): void => reject(new Error(`${name} did not start: ${why}`));
    proc.once('exit', (code) => failed(`exit ${code}`));
    proc.stdout?.on('data', (c: Buffer) => {
      out += c.toString();
      const m = /port (\d+)/.exec(out);
      if (m) resolve(Number(m[1]));
    });
  });
}

function stop(proc: ChildProcess | undefined): Promise<void> {
  if (!proc || proc.exitCode !== null || proc.pid === undefined) return Promise.resolve();
  return new Promise((resolve) => {
    const t = setTimeout(() => {
      proc.kill('SIGKILL');
      resolve();
    }, 5000);
    proc.once('exit', () => {
      clearTimeout(t);
      resolve();
    });
    proc.kill('SIGTERM');
  });
}

async function main(opts: Options): Promise<void> {
  await ensureTools();
  const ticks = Number((await run('getconf', ['CLK_TCK'])).stdout.trim()) || 100;
  const loadBefore = loadavg()[0] as number;
  const dir = mkdtempSync(join(tmpdir(), 'klab-dns-bench-'));
  const externals: Record<string, string[]> = {};
  for (let i = 0; i < EXTERNAL_NAMES; i++) externals[`ext-${i}.example.test`] = [`192.0.2.${(i % 250) + 1}`];
  const stub = await startUpstreamStub({ origin: 'example.test', a: externals, ttl: 3600, negativeTtl: 300 });
  let klab: ChildProcess | undefined;
  let unbound: ChildProcess | undefined;
  let floor: ChildProcess | undefined;
  try {
    const objects = join(dir, 'objects.json');
    writeFileSync(objects, objectsJson(opts.services));
    const cluster = clusterQueries(opts.services);
    const clusterFile = join(dir, 'cluster.txt');
    writeFileSync(clusterFile, `${cluster.lines.join('\n')}\n`);
    const externalFile = join(dir, 'external.txt');
    writeFileSync(
      externalFile,
      `${Object.keys(externals)
        .map((n) => `${n} A`)
        .join('\n')}\n`,
    );

    const dns = spawnDnsServe(KLAB, [
      '--listen',
      '127.0.0.1:0',
      '--objects',
      objects,
      '--upstream',
      `127.0.0.1:${stub.port}`,
      '--workers',
      String(opts.workers),
      '--lameduck',
      '0',
    ]);
    klab = dns.process;
    const klabPort = (await dns.serving).port;
    const unboundPort = await freePort();
    const conf = join(dir, 'unbound.conf');
    writeFileSync(conf, unboundConf(dir, unboundPort, stub.port, cluster.unboundData));
    unbound = spawn('unbound', ['-d', '-c', conf], { stdio: ['ignore', 'ignore', 'inherit'] });
    floor = spawn(process.execPath, [FLOOR, String(opts.workers)], { stdio: ['ignore', 'pipe', 'inherit'] });
    const floorPort = await announcedPort(floor, 'udp-floor');
    await waitAnswering(klabPort, 'svc-0.bench.svc.cluster.local', 'klab dns', klab);
    await waitAnswering(unboundPort, 'svc-0.bench.svc.cluster.local', 'unbound', unbound);
    // Warm both caches with every external name once, so the external run measures cache hits.
    for (const port of [klabPort, unboundPort]) {
      await run('dnsperf', [
        '-s',
        '127.0.0.1',
        '-p',
        String(port),
        '-d',
        externalFile,
        '-n',
        '1',
        '-q',
        '10',
      ]);
    }
    const servers: Server[] = [
      { pid: klab.pid as number, port: klabPort },
      { pid: unbound.pid as number, port: unboundPort },
      { pid: floor.pid as number, port: floorPort },
    ];
    const rows: [string, [Result, Result, Result]][] = [];
    for (const [label, file] of [
      ['cluster names', clusterFile],
      ['cached external names', externalFile],
    ] as const) {
      // One result per server, in the order given.
      rows.push([label, (await compare(servers, file, opts, ticks)) as [Result, Result, Result]]);
    }
    const loadAfter = loadavg()[0] as number;
    const klabMem = memoryMB(klab.pid as number);
    const unboundMem = memoryMB(unbound.pid as number);

    const f = (n: number, d = 0): string => (Number.isFinite(n) ? n.toFixed(d) : 'n/a');
    console.log(
      `\nklab dns (${opts.workers} thread${opts.workers > 1 ? 's' : ''}) vs unbound (2 threads); ` +
        `${opts.services} services; dnsperf -c ${opts.clients} -T 1 -q ${opts.outstanding} -l ${opts.duration}, ` +
        `median of ${opts.rounds} alternating runs; loopback, no CPU pinning; ${cpus().length} CPUs, ` +
        `load ${loadBefore.toFixed(1)} before, ${loadAfter.toFixed(1)} after; ${await versions()}\n`,
    );
    const header = ['workload', 'server', 'QPS', 'avg ms', 'p99 ms', 'lost', 'CPU µs/query', 'QPS ratio'];
    const table: string[][] = [header];
    for (const [label, [k, u, fl]] of rows) {
      const row = (name: string, r: Result, ratio: string): string[] => [
        label,
        name,
        f(r.qps),
        f(r.avgMs, 2),
        f(r.p99Ms, 2),
        f(r.lost),
        f(r.cpuUs, 1),
        ratio,
      ];
      table.push(
        row('klab', k, f(k.qps / u.qps, 2)),
        row('unbound', u, '1.00'),
        row('node dgram floor', fl, f(fl.qps / u.qps, 2)),
      );
    }
    const widths = header.map((_, i) => Math.max(...table.map((r) => (r[i] as string).length)));
    for (const r of table) console.log(r.map((c, i) => c.padEnd(widths[i] as number)).join('  '));
    console.log(
      `\nRSS after the runs: klab ${f(klabMem.rss, 1)} MB (anonymous ${f(klabMem.anon, 1)} MB), ` +
        `unbound ${f(unboundMem.rss, 1)} MB (anonymous ${f(unboundMem.anon, 1)} MB)`,
    );
    console.log(
      'Anchors: CoreDNS ~33.7k QPS on 2 vCPUs; goal >= 0.8x unbound QPS, RSS <= 100 MB at 10k services.',
    );
    console.log(
      `node dgram floor: ${opts.workers} thread(s) on one shared socket, as klab runs, answering each query with ` +
        'itself (QR set) and no DNS work; what any server on Node.js ' +
        `${process.versions.node}'s dgram can reach here.`,
    );
  } finally {
    await stop(klab);
    await stop(unbound);
    await stop(floor);
    await stub.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

const program = new Command('dns-bench')
  .option('--services <n>', 'services in the cluster zone', '10000')
  .option('--duration <s>', 'seconds per measured dnsperf run', '5')
  .option('--rounds <n>', 'measured runs per server and workload, alternating servers', '3')
  .option('--workers <n>', 'klab dns threads (--workers of klab dns serve)', '2')
  .option('--outstanding <n>', 'dnsperf outstanding queries (-q)', '200')
  .option('--clients <n>', 'dnsperf clients (-c)', '4')
  .action(async (o: Record<string, string>) => {
    const num = (k: string): number => {
      const n = Number(o[k]);
      if (!Number.isInteger(n) || n < 1) throw new Error(`--${k} must be a positive integer, got ${o[k]}`);
      return n;
    };
    await main({
      services: num('services'),
      duration: num('duration'),
      rounds: num('rounds'),
      workers: num('workers'),
      outstanding: num('outstanding'),
      clients: num('clients'),
    });
  });

await program.parseAsync(process.argv);
