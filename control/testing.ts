/**
 * Test support: an API server on 127.0.0.1 with a random port and a temp data dir, and the
 * real kubectl pointed at it with nothing but `--kubeconfig` (HOME is a temp dir too, so the
 * discovery cache starts empty and is never shared with the user's).
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import pino from 'pino';
import { startServer, type RunningServer } from './server.js';
import { ADMIN_USER, readTokens } from './auth.js';
import { openStoreFor, type StoreKind } from './open-store.js';
import { SqliteStore } from './store/sqlite.js';
import type { Extensions } from './extensions.js';
import type { WatchSettings } from './handlers/resource.js';

export interface TestCluster {
  readonly dataDir: string;
  readonly home: string;
  server: RunningServer;
  kubectl(args: string[], input?: string): Promise<{ stdout: string; stderr: string; exitCode: number }>;
  /** Stops the server and starts it again on the same data dir and port. */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

export interface TestClusterOptions {
  readonly ext: Extensions;
  readonly store?: StoreKind;
  readonly etcdEndpoint?: string;
  readonly watch?: Partial<WatchSettings>;
  readonly compactIntervalMs?: number;
  readonly watchCacheWindow?: number;
}

export async function startTestCluster(opts: TestClusterOptions): Promise<TestCluster> {
  const dataDir = await mkdtemp(join(tmpdir(), 'klab-api-'));
  const home = join(dataDir, 'home');
  const logger = pino({ level: 'info' }, pino.destination({ dest: join(dataDir, 'server.log'), sync: true }));
  const launch = (port: number): Promise<RunningServer> =>
    startServer({
      dataDir,
      host: '127.0.0.1',
      port,
      advertiseAddress: '127.0.0.1',
      openStore: openStoreFor(opts.store ?? 'sqlite', opts.etcdEndpoint ? [opts.etcdEndpoint] : []),
      ext: opts.ext,
      logger,
      ...(opts.watch ? { watch: opts.watch } : {}),
      ...(opts.compactIntervalMs ? { compactIntervalMs: opts.compactIntervalMs } : {}),
      ...(opts.watchCacheWindow ? { watchCacheWindow: opts.watchCacheWindow } : {}),
    });
  let server: RunningServer;
  try {
    server = await launch(0);
  } catch (err) {
    await rm(dataDir, { recursive: true, force: true });
    throw err;
  }
  const cluster: TestCluster = {
    dataDir,
    home,
    server,
    async kubectl(args, input) {
      const r = await execa('kubectl', ['--kubeconfig', server.kubeconfigPath, ...args], {
        reject: false,
        env: { HOME: home, PATH: process.env.PATH ?? '/usr/bin:/bin' },
        extendEnv: false,
        timeout: 60_000,
        ...(input !== undefined ? { input } : {}),
      });
      return { stdout: r.stdout, stderr: r.stderr, exitCode: r.exitCode ?? -1 };
    },
    async restart() {
      const port = server.port;
      await server.close();
      server = await launch(port);
      cluster.server = server;
    },
    async stop() {
      try {
        await server.close();
      } finally {
        await rm(dataDir, { recursive: true, force: true });
      }
    },
  };
  return cluster;
}

export interface ApiResponse {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly text: string;
  readonly json: Record<string, unknown>;
}

/** One HTTPS request to the test server, trusting its CA; `token: undefined` sends none. */
export async function apiRequest(
  cluster: TestCluster,
  req: {
    method?: string;
    path: string;
    token?: string;
    body?: unknown;
    contentType?: string;
    accept?: string;
  },
): Promise<ApiResponse> {
  const ca = await readFile(join(cluster.dataDir, 'pki', 'ca.crt'), 'utf8');
  const payload =
    req.body === undefined ? undefined : typeof req.body === 'string' ? req.body : JSON.stringify(req.body);
  return new Promise((resolve, reject) => {
    const r = httpsRequest(
      {
        host: '127.0.0.1',
        port: cluster.server.port,
        method: req.method ?? 'GET',
        path: req.path,
        ca,
        headers: {
          ...(req.token ? { Authorization: `Bearer ${req.token}` } : {}),
          ...(payload !== undefined
            ? {
                'Content-Type': req.contentType ?? 'application/json',
                'Content-Length': Buffer.byteLength(payload),
              }
            : {}),
          Accept: req.accept ?? 'application/json',
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let json: Record<string, unknown> = {};
          try {
            json = JSON.parse(text) as Record<string, unknown>;
          } catch {
            // not JSON (e.g. /healthz): callers read `text`
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json });
        });
      },
    );
    r.on('error', reject);
    if (payload !== undefined) r.write(payload);
    r.end();
  });
}

export async function adminToken(cluster: TestCluster): Promise<string> {
  const tokens = await readTokens(cluster.dataDir);
  const admin = tokens.find((t) => t.name === ADMIN_USER.name);
  if (!admin) throw new Error(`no admin token in ${cluster.dataDir}`);
  return admin.token;
}

export interface WatchStream {
  readonly events: { type: string; object: Record<string, unknown> }[];
  /** Resolves when the server ends the stream. */
  readonly ended: Promise<void>;
  close(): void;
}

/** Opens a watch (`path` includes `watch=true` and its parameters) and collects its events. */
export async function watchStream(cluster: TestCluster, path: string, token: string): Promise<WatchStream> {
  const ca = await readFile(join(cluster.dataDir, 'pki', 'ca.crt'), 'utf8');
  return new Promise((resolve, reject) => {
    const events: WatchStream['events'] = [];
    let buffered = '';
    let endResolve: () => void = () => undefined;
    const ended = new Promise<void>((r) => (endResolve = r));
    const r = httpsRequest(
      {
        host: '127.0.0.1',
        port: cluster.server.port,
        path,
        ca,
        headers: { Authorization: `Bearer ${token}` },
      },
      (res) => {
        if (res.statusCode !== 200) {
          reject(new Error(`watch ${path}: HTTP ${res.statusCode}`));
          res.resume();
          return;
        }
        res.on('data', (chunk: Buffer) => {
          buffered += chunk.toString('utf8');
          let nl;
          while ((nl = buffered.indexOf('\n')) >= 0) {
            const line = buffered.slice(0, nl);
            buffered = buffered.slice(nl + 1);
            if (line.trim()) events.push(JSON.parse(line) as WatchStream['events'][number]);
          }
        });
        res.on('end', endResolve);
        res.on('close', endResolve);
        resolve({ events, ended, close: () => r.destroy() });
      },
    );
    r.on('error', (err) => {
      endResolve();
      reject(err);
    });
    r.end();
  });
}

export async function waitUntil(check: () => boolean, timeoutMs = 10_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`${what} not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** A SQLite store in a fresh temp folder; `remove` closes it and deletes the folder. */
export async function tempSqliteStore(): Promise<{ store: SqliteStore; remove(): Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'klab-store-'));
  const store = new SqliteStore(join(dir, 'state.db'));
  return {
    store,
    async remove() {
      await store.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
