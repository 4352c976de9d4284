/**
 * One DNS server (sockets + handler + metrics, optionally the operations endpoints) and the
 * object sources that feed it. `klab dns serve` runs it in a worker thread (threads.ts); tests
 * run it in-process.
 */
import { readFileSync, watchFile, unwatchFile } from 'node:fs';
import type { DnsConfig } from './config.js';
import type { Log } from './log.js';
import { DnsHandler } from './handler.js';
import { DnsMetrics } from './metrics.js';
import { parseObjects } from './objects.js';
import type { RunningOps } from './ops.js';
import { startOps } from './ops.js';
import { startServer } from './server.js';
import { ObjectCache } from './store.js';

export interface RunningDns {
  port: number;
  objects: ObjectCache;
  metrics: DnsMetrics;
  handler: DnsHandler;
  ops: RunningOps | null;
  close(): Promise<void>;
}

/** Starts one server. `objects` lets the caller (a test, an informer) own the object cache. */
export async function startDns(
  config: DnsConfig,
  opts: { objects?: ObjectCache; ops?: boolean; udpFd?: number } = {},
): Promise<RunningDns> {
  const objects = opts.objects ?? new ObjectCache();
  const metrics = new DnsMetrics(`dns://${config.listen.host}:${config.listen.port}`);
  const handler = new DnsHandler(objects, config, metrics);
  let server;
  try {
    server = await startServer(handler, config.listen, opts.udpFd);
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
          metrics: async () => metrics.render(),
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
    handler,
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

export type ObjectSource = (objects: ObjectCache, log: Log) => () => void | Promise<void>;

/**
 * Where objects come from: a snapshot file, or the API server through the kubeconfig. The API
 * client loads only when it is used.
 */
export async function objectSource(config: DnsConfig): Promise<ObjectSource> {
  const { objects: file, kubeconfig } = config;
  if (file) return (objects, log) => feedFromFile(file, objects, log);
  if (kubeconfig) {
    const { loadKubeconfig } = await import('../kube/kubeconfig.js');
    const { feedFromApi } = await import('./watch.js');
    const connection = loadKubeconfig(kubeconfig);
    return (objects, log) => feedFromApi(connection, objects, log);
  }
  throw new Error('klab dns serve needs --kubeconfig FILE (watch the API) or --objects FILE (a snapshot)');
}
