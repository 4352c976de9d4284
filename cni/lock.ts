import { existsSync, linkSync, readFileSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { CniCode, CniError } from './errors.js';

/**
 * A cross-process lock file, taken by hard-linking a fully written private file onto the lock
 * path (link(2) fails with EEXIST atomically, and the lock never exists half-written). The body
 * names the holder by pid and start time, so a lock left by a killed process is recognised and
 * broken; breaking is itself guarded so two waiters never both break and both win.
 */

function startTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

export function pidAlive(pid: number): boolean {
  return existsSync(`/proc/${pid}`);
}

export function ownerToken(pid = process.pid): string {
  return `${pid} ${startTime(pid) ?? ''}`;
}

export function holderAlive(token: string): boolean {
  const [pid, start = ''] = token.trim().split(' ');
  const n = Number(pid);
  if (!Number.isInteger(n) || n <= 0) return false;
  return startTime(n) === start;
}

function readOrUndefined(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

/** Creates `path` with `body` atomically; false when it already exists. */
export function createExclusive(path: string, body: string): boolean {
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, body);
  try {
    linkSync(tmp, path);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  } finally {
    unlinkSync(tmp);
  }
}

export function unlinkQuiet(path: string): void {
  try {
    unlinkSync(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
}

/** A breaker killed mid-break leaves its guard behind; breaking takes microseconds. */
const BREAK_GUARD_STALE_MS = 2000;

function breakStale(path: string, staleBody: string): void {
  const guard = `${path}.break`;
  if (!createExclusive(guard, ownerToken())) {
    try {
      if (Date.now() - statSync(guard).mtimeMs > BREAK_GUARD_STALE_MS) unlinkQuiet(guard);
    } catch {
      // the guard went away meanwhile: the next round retries
    }
    return;
  }
  try {
    if (readOrUndefined(path) === staleBody) unlinkQuiet(path);
  } finally {
    unlinkQuiet(guard);
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export async function withLock<T>(path: string, fn: () => T | Promise<T>, timeoutMs = 15_000): Promise<T> {
  // The nonce keeps two holders in one process apart when releasing.
  const token = `${ownerToken()} ${Math.random().toString(36).slice(2)}`;
  const deadline = Date.now() + timeoutMs;
  let wait = 1;
  while (!createExclusive(path, token)) {
    const body = readOrUndefined(path);
    if (body !== undefined && !holderAlive(body)) {
      breakStale(path, body);
      continue;
    }
    if (Date.now() > deadline) {
      throw new CniError(
        CniCode.TryAgainLater,
        `timed out waiting for lock ${path} (held by pid ${body?.split(' ')[0]})`,
      );
    }
    await sleep(wait);
    wait = Math.min(wait * 2, 20);
  }
  try {
    return await fn();
  } finally {
    if (readOrUndefined(path) === token) unlinkQuiet(path);
  }
}
