import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { KLAB_JS } from './klab-cli.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Stops a child by its pid: SIGTERM, then SIGKILL after `graceMs`. */
export async function stopChild(p: ChildProcess | undefined, graceMs = 5_000): Promise<void> {
  if (!p || p.exitCode !== null || p.signalCode !== null) return;
  const exited = new Promise((r) => p.once('exit', r));
  p.kill('SIGTERM');
  await Promise.race([exited, sleep(graceMs)]);
  if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
}

export interface ControlProcess {
  readonly kubeconfig: string;
  readonly process: ChildProcess;
  stop(): Promise<void>;
}

export interface ControlOptions {
  readonly dataDir: string;
  /** Extra `klab control` flags (listen, advertise address, timings). */
  readonly args: readonly string[];
  /** Run it inside this network namespace. */
  readonly netns?: string;
  /** True once the server answers what the test needs (checked after the kubeconfig exists). */
  readonly ready: () => Promise<boolean>;
  readonly timeoutMs?: number;
}

/**
 * Starts `klab control` as its own process (optionally inside a network namespace) and waits
 * until `ready` says so. The kubeconfig of an earlier run is removed first: the server rewrites
 * it once it listens, so a stale or half-written one is never read.
 */
export async function startControlProcess(o: ControlOptions): Promise<ControlProcess> {
  const kubeconfig = join(o.dataDir, 'admin.kubeconfig');
  await rm(kubeconfig, { force: true });
  const argv = [process.execPath, KLAB_JS, 'control', '--data-dir', o.dataDir, ...o.args];
  const [cmd, ...args] = o.netns ? ['ip', 'netns', 'exec', o.netns, ...argv] : argv;
  const child = spawn(cmd as string, args, { stdio: ['ignore', 'ignore', 'inherit'] });
  const control = { kubeconfig, process: child, stop: () => stopChild(child) };
  const deadline = Date.now() + (o.timeoutMs ?? 30_000);
  for (;;) {
    if (child.exitCode !== null) throw new Error(`klab control exited with ${child.exitCode}`);
    if (existsSync(kubeconfig) && (await o.ready().catch(() => false))) return control;
    if (Date.now() > deadline) {
      await control.stop();
      throw new Error(`klab control was not ready within ${o.timeoutMs ?? 30_000} ms`);
    }
    await sleep(100);
  }
}
