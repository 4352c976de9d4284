/**
 * The per-lab state directory: `${KLAB_STATE_DIR:-/run/klab}/labs/<lab>/` with `lab.json` (what the
 * lab created and the processes it runs), `logs/<host>/<component>.log` and `env/<host>.env`.
 * Writers take a lock file, so `klab` processes started side by side never lose an update.
 */
import { mkdir, open, readFile, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { LabError } from './errors.js';
import type { HostRole } from './plan.js';

export const STATE_VERSION = 1;

export interface HostRecord {
  readonly name: string;
  readonly role: HostRole;
  readonly netns: string;
  readonly ip: string;
  readonly ifname: string;
}

export interface ProcessRecord {
  readonly host: string;
  readonly component: string;
  readonly pid: number;
  /** /proc/<pid>/stat start time, so a recycled pid is never mistaken for ours. */
  readonly startTime: string;
  readonly argv: readonly string[];
  readonly log: string;
  readonly healthUrl?: string;
  readonly startedAt: string;
}

export interface LabState {
  readonly version: number;
  readonly lab: string;
  readonly provider: string;
  /** 'creating' until `up` finished; a lab left in 'creating' crashed during up. */
  readonly phase: 'creating' | 'up';
  readonly createdAt: string;
  readonly nodes: number;
  readonly lanNetns: string;
  readonly bridge: string;
  readonly hosts: readonly HostRecord[];
  readonly hostAccess: { readonly ifname: string; readonly ip: string } | null;
  readonly brNetfilter: boolean;
  readonly warnings: readonly string[];
  readonly processes: readonly ProcessRecord[];
}

export function stateRoot(): string {
  return join(process.env.KLAB_STATE_DIR ?? '/run/klab', 'labs');
}

export function labDir(lab: string): string {
  return join(stateRoot(), lab);
}

export function stateFile(lab: string): string {
  return join(labDir(lab), 'lab.json');
}

export function logFile(lab: string, host: string, component: string): string {
  return join(labDir(lab), 'logs', host, `${component}.log`);
}

export function envFile(lab: string, host: string): string {
  return join(labDir(lab), 'env', `${host}.env`);
}

export async function readState(lab: string): Promise<LabState | undefined> {
  let text: string;
  try {
    text = await readFile(stateFile(lab), 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  try {
    const state = JSON.parse(text) as LabState;
    if (state.version !== STATE_VERSION || state.lab !== lab) throw new Error('unexpected version or lab');
    return state;
  } catch (error) {
    throw new LabError(
      'BAD_STATE',
      `${stateFile(lab)} is not a lab state file: ${(error as Error).message}`,
      `run "klab lab down --name ${lab}" to remove the lab by its names`,
    );
  }
}

/** Labs that have a state directory. */
export async function listStateLabs(): Promise<string[]> {
  try {
    return (await readdir(stateRoot())).sort();
  } catch {
    return [];
  }
}

async function writeAtomically(path: string, text: string): Promise<void> {
  const tmp = `${path}.${process.pid}.tmp`;
  await writeFile(tmp, text);
  await rename(tmp, path);
}

export async function writeState(state: LabState): Promise<void> {
  await mkdir(labDir(state.lab), { recursive: true });
  await writeAtomically(stateFile(state.lab), `${JSON.stringify(state, null, 2)}\n`);
}

const LOCK_WAIT_MS = 10_000;
const LOCK_STALE_MS = 30_000;

async function withLock<T>(lab: string, fn: () => Promise<T>): Promise<T> {
  const lock = `${stateFile(lab)}.lock`;
  const deadline = Date.now() + LOCK_WAIT_MS;
  for (;;) {
    try {
      const handle = await open(lock, 'wx');
      await handle.close();
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      // A writer that died holding the lock must not block the lab forever.
      const age = await stat(lock).then(
        (s) => Date.now() - s.mtimeMs,
        () => 0,
      );
      if (age > LOCK_STALE_MS) await rm(lock, { force: true });
      if (Date.now() > deadline) {
        throw new LabError('BAD_STATE', `${lock} is held for more than ${LOCK_WAIT_MS} ms`, `remove ${lock}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }
  try {
    return await fn();
  } finally {
    await rm(lock, { force: true });
  }
}

/** Read-modify-write of lab.json under the lab's lock. */
export async function updateState(lab: string, change: (state: LabState) => LabState): Promise<LabState> {
  return withLock(lab, async () => {
    const state = await readState(lab);
    if (!state) {
      throw new LabError(
        'LAB_NOT_FOUND',
        `lab "${lab}" has no state`,
        `start it with "klab lab up --name ${lab}"`,
      );
    }
    const next = change(state);
    await writeState(next);
    return next;
  });
}

export async function removeLabDir(lab: string): Promise<void> {
  await rm(labDir(lab), { recursive: true, force: true });
}

/** `KEY=VALUE` lines; blank lines and `#` comments are skipped. */
export function parseEnvFile(text: string, path: string): Record<string, string> {
  const env: Record<string, string> = {};
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const eq = line.indexOf('=');
    if (eq <= 0) throw new LabError('BAD_STATE', `${path}:${i + 1}: expected KEY=VALUE, got "${line}"`);
    env[line.slice(0, eq)] = line.slice(eq + 1);
  });
  return env;
}

export function renderEnvFile(env: Readonly<Record<string, string>>): string {
  return Object.entries(env)
    .map(([key, value]) => {
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(key) || value.includes('\n')) {
        throw new LabError(
          'BAD_STATE',
          `environment entry ${JSON.stringify(key)} cannot go into an env file`,
        );
      }
      return `${key}=${value}\n`;
    })
    .join('');
}

/** The variables `lab exec` and `lab shell` set on a host (later: KUBECONFIG). */
export async function readHostEnv(lab: string, host: string): Promise<Record<string, string>> {
  const path = envFile(lab, host);
  try {
    return parseEnvFile(await readFile(path, 'utf8'), path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw error;
  }
}

/** Merges `vars` into a host's env file (later issues preset KUBECONFIG this way). */
export async function setHostEnv(
  lab: string,
  host: string,
  vars: Readonly<Record<string, string>>,
): Promise<void> {
  const path = envFile(lab, host);
  await mkdir(join(labDir(lab), 'env'), { recursive: true });
  await withLock(lab, async () => {
    const current = await readHostEnv(lab, host);
    await writeAtomically(path, renderEnvFile({ ...current, ...vars }));
  });
}
