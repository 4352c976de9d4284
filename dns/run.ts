/**
 * Process wiring: one DNS server (sockets + handler + metrics) fed by an object source, and
 * `runDns`, which also serves the operations endpoints and, with several workers, forks cluster
 * workers that share the primary's UDP socket and TCP listener so both cores answer on one port
 * (Node 20's dgram has no SO_REUSEPORT option).
 */
import cluster from 'node:cluster';
import { readFileSync, watchFile, unwatchFile } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { AggregatorRegistry } from 'prom-client';
import type { DnsConfig } from './config.js';
import { DnsHandler } from './handler.js';
import { DnsMetrics } from './metrics.js';
import { parseObjects } from './objects.js';
import type { RunningOps } from './ops.js';
import { startOps } from './ops.js';
import { startServer } from './server.js';
import { feedFromApi } from './watch.js';
import { loadKubeconfig } from '../kube/kubeconfig.js';
import { ObjectCache } from './store.js';

export type Log = (level: 'info' | 'warn' | 'error', msg: string, fields?: Record<string, unknown>) => void;

export const jsonLog: Log = (level, msg, fields) => {
  process.stderr.write(
    `${JSON.stringify({ time: new Date().toISOString(), level, component: 'dns', msg, ...fields })}\n`,
  );
};

export interface RunningDns {
  port: number;
  objects: ObjectCache;
  metrics: DnsMetrics;
  ops: RunningOps | null;
  close(): Promise<void>;
}

/** Starts one server. `objects` lets the caller (a test, an informer) own the object cache. */
export async function startDns(
  config: DnsConfig,
  opts: { objects?: ObjectCache; ops?: boolean; exclusive?: boolean } = {},
): Promise<RunningDns> {
  const objects = opts.objects ?? new ObjectCache();
  const metrics = new DnsMetrics(`dns://${config.listen.host}:${config.listen.port}`);
  const handler = new DnsHandler(objects, config, metrics);
  let server;
  try {
    server = await startServer(handler, config.listen, opts.exclusive ?? true);
  } catch (e) {
    handler.close();
    throw new Error(`cannot listen on ${config.listen.host}:${config.listen.port}: ${(e as Error).message}`);
  }
  let ops: RunningOps | null = null;
  if (opts.ops) {
    try {
      ops = await startOps(
        {
          host: config.opsHost,
          healthPort: config.healthPort,
          readyPort: config.readyPort,
          metricsPort: config.metricsPort,
        },
        {
          notReady: () => (objects.synced ? [] : ['kubernetes']),
          metrics: async () => ({
            contentType: metrics.registry.contentType,
            body: await metrics.registry.metrics(),
          }),
        },
      );
    } catch (e) {
      await server.close();
      handler.close();
      throw e;
    }
  }
  const running = server;
  return {
    port: running.port,
    objects,
    metrics,
    ops,
    close: async () => {
      await ops?.close();
      await running.close();
      handler.close();
    },
  };
}

/**
 * Loads a snapshot file into the cache and reloads it when it changes (the `reload` plugin's
 * role for offline use). A broken edit is logged and the previous objects stay served.
 */
export function feedFromFile(path: string, objects: ObjectCache, log: Log): () => void {
  const load = (): void => {
    const list = parseObjects(readFileSync(path, 'utf8'), path);
    objects.replace(list);
    log('info', 'objects loaded', { path, objects: list.length });
  };
  load();
  watchFile(path, { interval: 500 }, (cur, prev) => {
    if (cur.mtimeMs === prev.mtimeMs) return;
    try {
      load();
    } catch (e) {
      log('error', 'objects file rejected; keeping the previous objects', {
        path,
        error: (e as Error).message,
      });
    }
  });
  return () => unwatchFile(path);
}

function onSignals(stop: () => Promise<void>): void {
  let stopping = false;
  const handler = (): void => {
    if (stopping) return;
    stopping = true;
    void stop().finally(() => process.exit(0));
  };
  process.on('SIGTERM', handler);
  process.on('SIGINT', handler);
}

const READY_MESSAGE = 'klab-dns-ready';
/** The primary hands its resolved configuration to workers through this variable. */
export const WORKER_CONFIG_ENV = 'KLAB_DNS_WORKER_CONFIG';

/** Runs the server until SIGTERM/SIGINT, in one process or as a primary with cluster workers. */
export async function runDns(config: DnsConfig, log: Log): Promise<void> {
  const source = objectSource(config);
  if (config.workers > 1) {
    // Fail here with the input's error rather than in every worker, forever re-forked.
    if (config.objects) parseObjects(readFileSync(config.objects, 'utf8'), config.objects);
    if (config.kubeconfig) loadKubeconfig(config.kubeconfig);
    await runPrimary(config, log);
    return;
  }
  const dns = await startDns(config, { ops: true });
  const stopFeed = source(dns.objects, log);
  logServing(config, dns.port, log);
  onSignals(async () => {
    await stopFeed();
    await dns.close();
  });
}

/** A cluster worker: the sockets are the primary's (shared), the ops endpoints are the primary's. */
export async function runWorker(config: DnsConfig, log: Log): Promise<void> {
  const source = objectSource(config);
  const dns = await startDns(config, { ops: false, exclusive: false });
  AggregatorRegistry.setRegistries([dns.metrics.registry]);
  // prom-client installs the worker's reply to the primary's scrape only when one is constructed.
  new AggregatorRegistry();
  let announced = false;
  dns.objects.onChange(() => {
    if (announced || !dns.objects.synced) return;
    announced = true;
    process.send?.(READY_MESSAGE);
  });
  const stopFeed = source(dns.objects, log);
  logServing(config, dns.port, log);
  onSignals(async () => {
    await stopFeed();
    await dns.close();
  });
}

/** Where objects come from: a snapshot file, or the API server through the kubeconfig. */
function objectSource(config: DnsConfig): (objects: ObjectCache, log: Log) => () => void | Promise<void> {
  const { objects: file, kubeconfig } = config;
  if (file) return (objects, log) => feedFromFile(file, objects, log);
  if (kubeconfig) {
    const connection = loadKubeconfig(kubeconfig);
    return (objects, log) => feedFromApi(connection, objects, log);
  }
  throw new Error('klab dns serve needs --kubeconfig FILE (watch the API) or --objects FILE (a snapshot)');
}

function logServing(config: DnsConfig, port: number, log: Log): void {
  log('info', 'serving', {
    listen: `${config.listen.host}:${port}`,
    zone: config.zone,
    upstreams: config.upstreams.map((u) => `${u.host}:${u.port}`),
    worker: cluster.worker?.id,
  });
}

async function runPrimary(config: DnsConfig, log: Log): Promise<void> {
  const ready = new Set<number>();
  const aggregator = new AggregatorRegistry();
  let stopping = false;
  // Workers start from a small entry that loads only dns/, not the whole klab CLI.
  cluster.setupPrimary({ exec: fileURLToPath(new URL('./worker.js', import.meta.url)), args: [] });
  const fork = (): void => {
    const w = cluster.fork({ [WORKER_CONFIG_ENV]: JSON.stringify(config) });
    w.on('message', (m) => {
      if (m === READY_MESSAGE) ready.add(w.id);
    });
  };
  cluster.on('exit', (w, code, signal) => {
    ready.delete(w.id);
    if (stopping) return;
    log('warn', 'worker exited; starting another', { worker: w.id, code, signal });
    setTimeout(fork, 1000);
  });
  const ops = await startOps(
    {
      host: config.opsHost,
      healthPort: config.healthPort,
      readyPort: config.readyPort,
      metricsPort: config.metricsPort,
    },
    {
      notReady: () => (ready.size >= config.workers ? [] : ['kubernetes']),
      metrics: async () => ({ contentType: aggregator.contentType, body: await aggregator.clusterMetrics() }),
    },
  );
  for (let i = 0; i < config.workers; i++) fork();
  log('info', 'primary started', { workers: config.workers });
  onSignals(async () => {
    stopping = true;
    await ops.close();
    const workers = Object.values(cluster.workers ?? {}).filter((w) => w !== undefined);
    await Promise.all(
      workers.map(
        (w) =>
          new Promise<void>((resolve) => {
            w.once('exit', () => resolve());
            w.kill('SIGTERM');
          }),
      ),
    );
  });
}
