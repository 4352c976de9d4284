/**
 * `klab control`: opens the store, creates or reuses the PKI and admin credentials in the data
 * directory, starts one watch cache per resource, the garbage collector and the namespace
 * lifecycle, makes sure the default namespaces exist, and serves HTTPS.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import pino, { type Logger } from 'pino';
import { buildApp, type ApiApp } from './app.js';
import { ADMIN_USER, TokenAuthenticator, ensureToken } from './auth.js';
import type { Extensions } from './extensions.js';
import { GarbageCollector } from './gc.js';
import { renderKubeconfig } from './kubeconfig.js';
import { NamespaceLifecycle } from './namespace-lifecycle.js';
import type { KubeObject } from './objects.js';
import { ensurePki } from './pki.js';
import { Registry } from './registry.js';
import { RESOURCES, findResource, type ResourceInfo } from './resources.js';
import { resourcePrefix, storageKey } from './routes.js';
import { authenticateToken, cachedUidCheck, ensureSigningKey, type TokenObjectKind } from './sa-tokens.js';
import { ApiError } from './status.js';
import { WatchCache, type Store } from './store/index.js';
import { FieldsV1Interner } from './fields-intern.js';
import type { WatchSettings } from './handlers/resource.js';
import { ServiceAdmission, type ServiceNetwork } from './service-admission.js';
import { DEFAULT_LIFECYCLE, startControllers } from './controllers/manager.js';
import type { LifecycleTimings } from './controllers/node-controllers.js';

export const DEFAULT_NAMESPACES = ['default', 'kube-system', 'kube-public', 'kube-node-lease'];

export interface ServerOptions {
  readonly dataDir: string;
  readonly host: string;
  /** 0 picks a free port. */
  readonly port: number;
  readonly advertiseAddress: string;
  readonly openStore: (dataDir: string) => Promise<Store>;
  readonly ext: Extensions;
  readonly logger?: Logger;
  readonly watch?: Partial<WatchSettings>;
  /** Events each watch cache keeps for watches that resume (default 10,000). */
  readonly watchCacheWindow?: number;
  /** How often history is compacted (kube-apiserver: 5 minutes). */
  readonly compactIntervalMs?: number;
  /** Service CIDR and NodePort range (defaults 10.96.0.0/12, 30000-32767). */
  readonly serviceNetwork?: ServiceNetwork;
  /** The controllers and scheduler running in this process; false runs the API alone. */
  readonly controllers?: ControllerSettings | false;
}

export interface ControllerSettings {
  readonly clusterCidr: string;
  readonly nodeCidrMaskSize: number;
  readonly lifecycle: LifecycleTimings;
}

export const DEFAULT_CONTROLLERS: ControllerSettings = {
  clusterCidr: '10.244.0.0/16',
  nodeCidrMaskSize: 24,
  lifecycle: DEFAULT_LIFECYCLE,
};

export interface RunningServer {
  readonly url: string;
  readonly port: number;
  readonly kubeconfigPath: string;
  readonly registry: Registry;
  readonly app: ApiApp;
  close(): Promise<void>;
}

export const adminKubeconfigPath = (dataDir: string): string => join(dataDir, 'admin.kubeconfig');

/** The server URL clients put in kubeconfigs: the advertise address, bracketed for IPv6. */
export const serverUrl = (address: string, port: number): string =>
  `https://${address.includes(':') ? `[${address}]` : address}:${port}`;

export async function startServer(opts: ServerOptions): Promise<RunningServer> {
  // Asynchronous: on ext4 a log write waits while another file's fsync commits the journal, and
  // with a line per request that wait would land on the event loop. Flushed on exit.
  const logger =
    opts.logger ?? pino({ base: { component: 'control' } }, pino.destination({ dest: 1, sync: false }));
  await mkdir(opts.dataDir, { recursive: true, mode: 0o700 });
  const pki = await ensurePki(opts.dataDir, opts.advertiseAddress);
  const adminToken = await ensureToken(opts.dataDir, ADMIN_USER);
  const store = await opts.openStore(opts.dataDir);

  const caches = new Map<string, WatchCache>();
  const cacheOf = (info: ResourceInfo): WatchCache => {
    const cache = caches.get(resourcePrefix(info));
    if (!cache) throw new Error(`no watch cache for ${info.plural}`);
    return cache;
  };
  const cleanup: (() => void | Promise<void>)[] = [() => store.close()];
  const stopAll = async (): Promise<void> => {
    for (const step of cleanup.reverse()) await step();
  };
  const fieldsV1 = new FieldsV1Interner();
  try {
    for (const info of RESOURCES) {
      const cache = new WatchCache(store, resourcePrefix(info), {
        ...(opts.watchCacheWindow ? { windowSize: opts.watchCacheWindow } : {}),
        keep: (value) => fieldsV1.intern(value),
      });
      caches.set(resourcePrefix(info), cache);
      cleanup.push(() => cache.close());
      await cache.start();
    }
    const admission = new ServiceAdmission(
      opts.serviceNetwork ?? { serviceCidr: '10.96.0.0/12', nodePortRange: '30000-32767' },
    );
    const services = findResource('', 'v1', 'services')!;
    admission.follow(cacheOf(services), resourcePrefix(services));
    cleanup.push(() => admission.stop());
    const namespaces = findResource('', 'v1', 'namespaces')!;
    const namespaceCache = cacheOf(namespaces);
    const registry = new Registry(
      store,
      opts.ext,
      () => new Date(),
      admission,
      (name) =>
        namespaceCache.isReady
          ? (namespaceCache.get(storageKey(namespaces, undefined, name))?.value as KubeObject | undefined)
          : undefined,
    );
    const gc = new GarbageCollector(registry, cacheOf, logger);
    cleanup.push(() => gc.stop());
    for (const name of DEFAULT_NAMESPACES) {
      try {
        await registry.create(
          namespaces,
          undefined,
          { metadata: { name } },
          { fieldManager: 'kube-apiserver', fieldValidation: 'Ignore' },
        );
      } catch (err) {
        if (!(err instanceof ApiError && err.code === 409)) throw err;
      }
    }
    await gc.start();
    const lifecycle = new NamespaceLifecycle(registry, namespaces, cacheOf(namespaces), logger);
    lifecycle.start();
    cleanup.push(() => lifecycle.stop());

    const compactor = startCompactor(store, opts.compactIntervalMs ?? 5 * 60_000, logger);
    cleanup.push(() => clearInterval(compactor));

    const authenticator = new TokenAuthenticator(opts.dataDir);
    const serviceAccountKey = await ensureSigningKey(opts.dataDir);
    const pods = findResource('', 'v1', 'pods')!;
    const serviceAccounts = findResource('', 'v1', 'serviceaccounts')!;
    const infoOf = (kind: TokenObjectKind) => (kind === 'Pod' ? pods : serviceAccounts);
    const tokenObjectExists = cachedUidCheck(
      (kind, namespace, name) => {
        const cache = cacheOf(infoOf(kind));
        if (!cache.isReady) return undefined;
        return cache.get(storageKey(infoOf(kind), namespace, name))?.value as KubeObject | undefined;
      },
      (kind, namespace, name) => registry.find(infoOf(kind), namespace, name),
    );
    // Service-account JWTs are verified first: they are never in the tokens file, and trying the
    // file first would re-check it on every such request.
    const authenticate = async (header: string | undefined) => {
      const jwt = /^Bearer\s+([\w-]+\.[\w-]+\.[\w-]+)\s*$/i.exec(header ?? '')?.[1];
      const account =
        jwt === undefined
          ? undefined
          : await authenticateToken(jwt, serviceAccountKey, Math.floor(Date.now() / 1000), tokenObjectExists);
      return account ?? authenticator.authenticate(header);
    };
    let address = `${opts.advertiseAddress}:${opts.port}`;
    const app = buildApp({
      registry,
      watchCache: cacheOf,
      ext: opts.ext,
      authenticate,
      serviceAccountKey,
      logger,
      https: { key: pki.keyPem, cert: pki.certPem },
      get serverAddress() {
        return address;
      },
      ...(opts.watch ? { watch: opts.watch } : {}),
      ready: async () => {
        try {
          await store.currentRevision();
          return true;
        } catch {
          return false;
        }
      },
    });
    cleanup.push(() => app.close());
    await app.listen({ host: opts.host, port: opts.port });
    const port = (app.server.address() as { port: number }).port;
    address = `${opts.advertiseAddress}:${port}`;
    const url = serverUrl(opts.advertiseAddress, port);
    const kubeconfigPath = adminKubeconfigPath(opts.dataDir);
    await writeFile(
      kubeconfigPath,
      renderKubeconfig({
        server: url,
        caCertPem: pki.caCertPem,
        user: 'kubernetes-admin',
        token: adminToken,
      }),
      { mode: 0o600 },
    );
    logger.info({ url, dataDir: opts.dataDir }, 'API server listening');
    const settings = opts.controllers === undefined ? DEFAULT_CONTROLLERS : opts.controllers;
    if (settings !== false) {
      // The controllers are ordinary clients of this server, over loopback unless it listens elsewhere.
      const local =
        opts.host === '0.0.0.0' || opts.host === '' || opts.host === '::' ? '127.0.0.1' : opts.host;
      const controllers = await startControllers({
        connection: {
          server: serverUrl(local, port),
          ca: pki.caCertPem,
          token: adminToken,
          insecureSkipTlsVerify: false,
        },
        apiServer: { address: opts.advertiseAddress, port },
        clusterCidr: settings.clusterCidr,
        nodeCidrMaskSize: settings.nodeCidrMaskSize,
        lifecycle: settings.lifecycle,
        log: (fields) => logger.info({ ...fields, component: 'controller-manager' }),
      });
      cleanup.push(() => controllers.stop());
    }
    return { url, port, kubeconfigPath, registry, app, close: stopAll };
  } catch (err) {
    await stopAll();
    throw err;
  }
}

/** Every interval, compacts history up to the revision seen at the previous tick, as kube-apiserver does. */
function startCompactor(store: Store, intervalMs: number, logger: Logger): NodeJS.Timeout {
  let previous = 0;
  const timer = setInterval(() => {
    void (async () => {
      try {
        if (previous > 0) await store.compact(previous);
        previous = await store.currentRevision();
      } catch (err) {
        logger.warn({ err: (err as Error).message }, 'compaction failed');
      }
    })();
  }, intervalMs);
  timer.unref();
  return timer;
}
