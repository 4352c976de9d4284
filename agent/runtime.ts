import { spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseProcStat } from '../lab/processes.js';
import type { PodRuntime } from './status.js';

/** Per-pod state files, so a restarted agent adopts its pods instead of restarting them. */
export class PodStore {
  private writes = 0;
  constructor(private readonly dir: string) {}

  private file(uid: string): string {
    return join(this.dir, 'pods', `${uid}.json`);
  }

  logDir(uid: string): string {
    return join(this.dir, 'pods', uid);
  }

  async save(rt: PodRuntime): Promise<void> {
    await mkdir(join(this.dir, 'pods'), { recursive: true });
    const path = this.file(rt.uid);
    // Saves of one pod may overlap (an exit handler and a reconcile pass): one temp file each.
    const tmp = `${path}.${++this.writes}.tmp`;
    await writeFile(tmp, JSON.stringify(rt, null, 2));
    await rename(tmp, path);
  }

  async remove(uid: string): Promise<void> {
    await rm(this.file(uid), { force: true });
    await rm(this.logDir(uid), { recursive: true, force: true });
  }

  async loadAll(): Promise<PodRuntime[]> {
    let names: string[];
    try {
      names = await readdir(join(this.dir, 'pods'));
    } catch {
      return [];
    }
    const out: PodRuntime[] = [];
    for (const name of names.filter((n) => n.endsWith('.json'))) {
      const path = join(this.dir, 'pods', name);
      try {
        out.push(JSON.parse(await readFile(path, 'utf8')) as PodRuntime);
      } catch (error) {
        throw new Error(`pod state file ${path} is unreadable: ${(error as Error).message}`);
      }
    }
    return out;
  }
}

/** The process's start time (/proc/<pid>/stat), which tells a recycled pid from the one we started. */
export function processStartTime(pid: number): string | undefined {
  try {
    return parseProcStat(readFileSync(`/proc/${pid}/stat`, 'utf8'))?.startTime;
  } catch {
    return undefined;
  }
}

/**
 * Whether a container process this agent did not spawn (one adopted across a restart) still
 * runs. Its exit is not reported to us: once it exits it stays a zombie until whatever reaps
 * orphans on this machine gets to it, so a zombie counts as exited, and a pid that now has
 * another start time was recycled.
 */
export function adoptedRunning(pid: number, startTime: string | undefined): boolean {
  let stat;
  try {
    stat = parseProcStat(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
  if (!stat || stat.state === 'Z' || stat.state === 'X') return false;
  return startTime === undefined || stat.startTime === startTime;
}

/**
 * Starts a container process in the pod's namespace, in its own session so it outlives the
 * agent and can be signalled as a group. `onExit` fires only while this agent is its parent.
 */
export async function startContainer(
  netns: string | undefined,
  argv: readonly string[],
  env: Record<string, string>,
  logFile: string,
  onExit: (code: number | null, signal: NodeJS.Signals | null) => void,
): Promise<number> {
  await mkdir(join(logFile, '..'), { recursive: true });
  const fd = openSync(logFile, 'a');
  try {
    const full = netns === undefined ? [...argv] : ['ip', 'netns', 'exec', netns, ...argv];
    const child = spawn(full[0] as string, full.slice(1), {
      detached: true,
      stdio: ['ignore', fd, fd],
      env: { PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin', ...env },
    });
    const pid = await new Promise<number>((resolve, reject) => {
      child.once('spawn', () => resolve(child.pid as number));
      child.once('error', reject);
    });
    child.once('exit', onExit);
    child.unref();
    return pid;
  } finally {
    closeSync(fd);
  }
}

export function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // already gone
  }
}
