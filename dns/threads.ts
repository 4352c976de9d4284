/**
 * The `klab dns serve` process. This thread binds the UDP socket, serves the operations
 * endpoints and starts the threads that serve DNS:
 *
 * - the primary thread (primary-thread.ts) owns the objects, the record index, the forward
 *   cache and the upstreams; it answers UDP and TCP, and whatever the front threads hand over;
 * - `workers - 1` front threads (front-thread.ts) answer UDP cache hits, ask the primary for
 *   the rest and keep the cache entries its replies came from.
 *
 * DNS runs in worker threads so every heap can be capped (`resourceLimits`): a thread's young
 * generation otherwise grows to 32 MB under load, which would break the memory budget.
 * Threads rather than processes keep one Node runtime's memory. Node 20's dgram has no
 * SO_REUSEPORT (`reusePort` arrives in 22.12), so the threads share one socket: it is bound
 * here as the cluster module binds the handle it shares, and every thread reads the same
 * descriptor.
 */
import dgram from 'node:dgram';
import net from 'node:net';
import { getSystemErrorName } from 'node:util';
import { MessageChannel, Worker } from 'node:worker_threads';
import type { MessagePort } from 'node:worker_threads';
import type { CachedAnswer } from './cache.js';
import type { DnsConfig } from './config.js';
import type { Log } from './log.js';
import type { Rendered } from './metrics.js';
import { METRICS_CONTENT_TYPE, renderMetrics } from './metrics.js';
import { startOps } from './ops.js';

/** Cache entries as they cross threads: plain bytes, copied to their own exact-size buffers. */
export type SharedWire =
  | { kind: 'zone'; key: string; bytes: Uint8Array }
  | { kind: 'forward'; key: string; entry: Omit<CachedAnswer, 'bytes'> & { bytes: Uint8Array } };

/** Between a front thread and the primary, over their own channel. */
export type FrontToPrimary = { type: 'query'; seq: number; msg: Uint8Array };
export type PrimaryToFront =
  { type: 'answer'; seq: number; out: Uint8Array | null; shared: SharedWire[] } | { type: 'invalidate' };

/** Between this thread and any DNS thread. */
export type ToThread = { type: 'metrics'; seq: number };
export type FromThread =
  | { type: 'metrics'; seq: number; snapshot: Rendered[] }
  /** Reading the socket (and, for the primary, listening on TCP). */
  | { type: 'listening' }
  /** The primary's objects have synced. */
  | { type: 'synced' }
  | { type: 'failed'; error: string };

export interface PrimarySetup {
  config: DnsConfig;
  fd: number;
  fronts: MessagePort[];
}

export interface FrontSetup {
  fd: number;
  family: 1 | 2;
  /** The `server` label of the metrics. */
  server: string;
  cacheSize: number;
  primary: MessagePort;
}

/** Young generation per DNS thread: one query's garbage at a time, plus the primary's rebuilds. */
const YOUNG_GENERATION_MB = 4;
const METRICS_TIMEOUT_MS = 2000;

/** What dgram exports for the cluster module: a bound UDP handle, or a negative errno. */
interface UdpHandle {
  fd: number;
  getsockname(out: { port?: number }): number;
}
type CreateSocketHandle = (
  address: string,
  port: number,
  type: 'udp4' | 'udp6',
  fd: number,
  flags: number,
) => UdpHandle | number;

/** A UDP socket bound here whose descriptor the DNS threads (and bench/udp-floor.ts) all read. */
export function bindShared(host: string, port: number): { handle: UdpHandle; port: number } {
  const create = (dgram as unknown as { _createSocketHandle?: CreateSocketHandle })._createSocketHandle;
  if (typeof create !== 'function') throw new Error('this Node.js has no dgram._createSocketHandle');
  // Deprecated (DEP0112) only as an undocumented export; used knowingly, so not warned about.
  const quiet = process.noDeprecation;
  process.noDeprecation = true;
  let r: UdpHandle | number;
  try {
    r = create(host, port, net.isIPv6(host) ? 'udp6' : 'udp4', -1, 0);
  } finally {
    process.noDeprecation = quiet;
  }
  if (typeof r === 'number') throw new Error(`UDP bind: ${getSystemErrorName(r)}`);
  const out: { port?: number } = {};
  const err = r.getsockname(out);
  if (err !== 0 || out.port === undefined) throw new Error(`UDP getsockname: ${getSystemErrorName(err)}`);
  return { handle: r, port: out.port };
}

export interface RunningThreads {
  port: number;
  ops: { health: number; ready: number; metrics: number };
  close(): Promise<void>;
}

/**
 * Binds the socket, starts the DNS threads and the operations endpoints, and resolves once
 * every thread listens. A thread that stops on its own ends the process (exit 1): the threads
 * share one descriptor, which a dying thread closes for all, so a restart is the only repair.
 */
export async function startThreads(config: DnsConfig, log: Log): Promise<RunningThreads> {
  const { host } = config.listen;
  let bound: { handle: UdpHandle; port: number };
  try {
    bound = bindShared(host, config.listen.port);
  } catch (e) {
    throw new Error(`cannot listen on ${host}:${config.listen.port}: ${(e as Error).message}`);
  }
  const port = bound.port;
  const server = `dns://${host}:${port}`;
  const fd = bound.handle.fd;
  const resourceLimits = { maxYoungGenerationSizeMb: YOUNG_GENERATION_MB };
  const channels = Array.from({ length: config.workers - 1 }, () => new MessageChannel());
  const primarySetup: PrimarySetup = {
    config: { ...config, listen: { host, port } },
    fd,
    fronts: channels.map((c) => c.port1),
  };
  const threads: Worker[] = [
    new Worker(new URL('./primary-thread.js', import.meta.url), {
      workerData: primarySetup,
      transferList: primarySetup.fronts,
      resourceLimits,
    }),
    ...channels.map((c) => {
      const setup: FrontSetup = {
        fd,
        family: net.isIPv6(host) ? 2 : 1,
        server,
        cacheSize: config.cacheSize,
        primary: c.port2,
      };
      return new Worker(new URL('./front-thread.js', import.meta.url), {
        workerData: setup,
        transferList: [c.port2],
        resourceLimits,
      });
    }),
  ];

  let stopping = false;
  let synced = false;
  const listening = new Set<Worker>();
  const metricWaiters = new Map<number, (snapshot: Rendered[]) => void>();
  let metricSeq = 0;
  let failStartup: (e: Error) => void = () => undefined;
  let started: () => void = () => undefined;
  const startup = new Promise<void>((resolve, reject) => {
    started = resolve;
    failStartup = reject;
  });
  const fail = (error: string): void => {
    if (stopping) return;
    log('error', error);
    failStartup(new Error(error));
    process.exit(1);
  };
  for (const w of threads) {
    w.on('message', (m: FromThread) => {
      if (m.type === 'metrics') metricWaiters.get(m.seq)?.(m.snapshot);
      else if (m.type === 'synced') synced = true;
      else if (m.type === 'failed') fail(m.error);
      else {
        listening.add(w);
        if (listening.size === threads.length) started();
      }
    });
    w.on('error', (e) => fail(`dns thread failed: ${e.message}`));
    w.on('exit', (code) => fail(`dns thread exited with code ${code}`));
  }

  const snapshot = (w: Worker): Promise<Rendered[]> =>
    new Promise((resolve) => {
      const seq = ++metricSeq;
      const timer = setTimeout(() => {
        metricWaiters.delete(seq);
        resolve([]);
      }, METRICS_TIMEOUT_MS);
      metricWaiters.set(seq, (s) => {
        clearTimeout(timer);
        metricWaiters.delete(seq);
        resolve(s);
      });
      w.postMessage({ type: 'metrics', seq } satisfies ToThread);
    });

  await startup;
  const ops = await startOps(
    {
      host: config.opsHost,
      healthPort: config.healthPort,
      readyPort: config.readyPort,
      metricsPort: config.metricsPort,
    },
    {
      notReady: () => (synced ? [] : ['kubernetes']),
      metrics: async () => ({
        contentType: METRICS_CONTENT_TYPE,
        body: renderMetrics(await Promise.all(threads.map(snapshot))),
      }),
    },
  );
  return {
    port,
    ops: { health: ops.health, ready: ops.ready, metrics: ops.metrics },
    // The threads and the shared descriptor end with the process: each thread closing the
    // same descriptor number would close it more than once.
    close: async () => {
      stopping = true;
      await ops.close();
    },
  };
}

/**
 * `klab dns serve`: runs until SIGTERM, which it answers through the lameduck period first, or
 * SIGINT (or a second signal), which stops it at once.
 */
export async function runDns(config: DnsConfig, log: Log): Promise<void> {
  const threads = await startThreads(config, log);
  log('info', 'serving', {
    listen: `${config.listen.host}:${threads.port}`,
    zone: config.zone,
    upstreams: config.upstreams.map((u) => `${u.host}:${u.port}`),
    threads: config.workers,
    ops: threads.ops,
  });
  let stopping = false;
  const stop = (): void => {
    if (stopping) return;
    stopping = true;
    void threads.close().finally(() => process.exit(0));
  };
  let lameduck: NodeJS.Timeout | undefined;
  process.on('SIGTERM', () => {
    if (lameduck !== undefined || config.lameduckMs === 0) return stop();
    log('info', 'going into lameduck mode', { lameduckMs: config.lameduckMs });
    lameduck = setTimeout(stop, config.lameduckMs);
  });
  process.on('SIGINT', stop);
}
