import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface EtcdProcess {
  /** Client URL on loopback. */
  readonly endpoint: string;
  /** The pid of the running etcd (changes on restart). */
  readonly pid: number;
  readonly dataDir: string;
  /** Stops etcd by its pid and starts it again on the same data and ports. */
  restart(): Promise<void>;
  /** Stops etcd by its pid and removes the data directory. */
  stop(): Promise<void>;
}

export const ETCD_BINARY = '/usr/bin/etcd';

/**
 * Starts a single-member etcd on loopback with free ports and a fresh temp data dir (for tests
 * and benchmarks). Fails loudly when etcd is not installed: the project's setup installs
 * Debian's `etcd-server`.
 */
export async function startEtcd(options: { binary?: string; dirPrefix?: string } = {}): Promise<EtcdProcess> {
  const binary = options.binary ?? ETCD_BINARY;
  if (!existsSync(binary)) {
    throw new Error(`etcd not found at ${binary}: install the Debian package etcd-server (klab setup does)`);
  }
  const dataDir = mkdtempSync(join(tmpdir(), options.dirPrefix ?? 'klab-store-etcd-'));
  const [clientPort, peerPort] = [await freePort(), await freePort()];
  const client = `http://127.0.0.1:${clientPort}`;
  const peer = `http://127.0.0.1:${peerPort}`;
  const name = 'klab-store';
  const args = [
    `--name=${name}`,
    `--data-dir=${dataDir}`,
    `--listen-client-urls=${client}`,
    `--advertise-client-urls=${client}`,
    `--listen-peer-urls=${peer}`,
    `--initial-advertise-peer-urls=${peer}`,
    `--initial-cluster=${name}=${peer}`,
    '--log-level=error',
    // Progress notifications let per-prefix watch caches follow the revision (see EtcdStore).
    '--experimental-watch-progress-notify-interval=1s',
  ];
  let child: ChildProcess;
  let stderr = '';
  const launch = async (): Promise<void> => {
    stderr = '';
    child = spawn(binary, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr = (stderr + chunk.toString()).slice(-4000);
    });
    await waitHealthy(client, child, () => stderr);
  };
  const stop = async (): Promise<void> => {
    await kill(child);
    rmSync(dataDir, { recursive: true, force: true });
  };
  try {
    await launch();
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    endpoint: client,
    get pid() {
      return child.pid as number;
    },
    dataDir,
    restart: async () => {
      await kill(child);
      await launch();
    },
    stop,
  };
}

async function waitHealthy(client: string, child: ChildProcess, stderr: () => string): Promise<void> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    if (child.exitCode !== null) {
      throw new Error(`etcd exited with code ${child.exitCode} before becoming healthy: ${stderr()}`);
    }
    try {
      const res = await fetch(`${client}/health`);
      if (res.ok) return;
    } catch {
      // Not listening yet.
    }
    if (Date.now() > deadline) throw new Error(`etcd at ${client} not healthy after 20 s: ${stderr()}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

function kill(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const force = setTimeout(() => child.kill('SIGKILL'), 5_000);
    child.once('exit', () => {
      clearTimeout(force);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}
