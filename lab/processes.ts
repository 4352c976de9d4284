/**
 * The lab's process supervisor: starts long-running components (control plane, agents, echo
 * servers) inside a lab host, detached, logging to the lab's state directory, and records each in
 * lab.json so `status` can check it and `down` can stop it by pid.
 */
import { spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { LabError } from './errors.js';
import { runCommand } from './run.js';
import type { LabProvider } from './provider.js';
import { logFile, readHostEnv, readState, updateState, type LabState, type ProcessRecord } from './state.js';

const COMPONENT_RE = /^[a-z0-9][a-z0-9._-]*$/;
export const STOP_GRACE_MS = 3_000;

interface ProcStat {
  readonly state: string;
  readonly startTime: string;
}

/** Parses /proc/<pid>/stat text; the command name may hold spaces and parentheses. */
export function parseProcStat(text: string): ProcStat | undefined {
  const close = text.lastIndexOf(')');
  if (close < 0) return undefined;
  const fields = text
    .slice(close + 2)
    .trim()
    .split(' ');
  // After "pid (comm) ", field 3 (state) is index 0 and field 22 (starttime) is index 19.
  const state = fields[0];
  const startTime = fields[19];
  return state && startTime ? { state, startTime } : undefined;
}

function procStat(pid: number): ProcStat | undefined {
  try {
    return parseProcStat(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return undefined;
  }
}

/** Alive and still the process we started (a recycled pid has another start time). */
export function isRunning(record: Pick<ProcessRecord, 'pid' | 'startTime'>): boolean {
  const stat = procStat(record.pid);
  return stat !== undefined && stat.startTime === record.startTime && stat.state !== 'Z';
}

export function requireHost(state: LabState, host: string): void {
  if (!state.hosts.some((h) => h.name === host)) {
    throw new LabError(
      'UNKNOWN_HOST',
      `lab "${state.lab}" has no host "${host}"`,
      `hosts are: ${state.hosts.map((h) => h.name).join(', ')}`,
    );
  }
}

export async function requireState(lab: string): Promise<LabState> {
  const state = await readState(lab);
  if (!state) {
    throw new LabError(
      'LAB_NOT_FOUND',
      `lab "${lab}" is not up`,
      `start it with "klab lab up --name ${lab}"`,
    );
  }
  return state;
}

export interface StartOptions {
  readonly env?: Readonly<Record<string, string>>;
  /** Checked from inside the host (curl -k), e.g. http://127.0.0.1:10248/healthz. */
  readonly healthUrl?: string;
}

/** Starts `argv` on `host` of `lab`, detached, stdout+stderr appended to its log file. */
export async function startProcess(
  provider: LabProvider,
  lab: string,
  host: string,
  component: string,
  argv: readonly string[],
  options: StartOptions = {},
): Promise<ProcessRecord> {
  if (!COMPONENT_RE.test(component)) {
    throw new LabError(
      'PROCESS_FAILED',
      `component name "${component}" must be lower-case letters, digits, . _ -`,
    );
  }
  if (argv.length === 0) throw new LabError('PROCESS_FAILED', `no command given for ${host}/${component}`);
  const state = await requireState(lab);
  requireHost(state, host);
  const running = state.processes.find((p) => p.host === host && p.component === component && isRunning(p));
  if (running) {
    throw new LabError(
      'PROCESS_FAILED',
      `${component} already runs on ${host} of lab "${lab}" (pid ${running.pid})`,
      'stop it first (stopProcess) or pick another component name',
    );
  }
  const [command, ...args] = provider.hostCommand(state, host, argv);
  if (command === undefined) throw new LabError('PROCESS_FAILED', `empty host command for ${host}`);
  const log = logFile(lab, host, component);
  mkdirSync(dirname(log), { recursive: true });
  const fd = openSync(log, 'a');
  const env = { ...process.env, ...(await readHostEnv(lab, host)), ...options.env };
  let pid: number;
  try {
    const child = spawn(command, args, { detached: true, stdio: ['ignore', fd, fd], env });
    pid = await new Promise<number>((resolve, reject) => {
      child.once('error', reject);
      child.once('spawn', () => resolve(child.pid ?? -1));
    });
    child.unref();
  } catch (error) {
    throw new LabError(
      'PROCESS_FAILED',
      `could not start ${argv.join(' ')} on ${host}: ${(error as Error).message}`,
    );
  } finally {
    closeSync(fd);
  }
  const stat = procStat(pid);
  if (!stat) {
    throw new LabError('PROCESS_FAILED', `${argv.join(' ')} on ${host} exited at once`, `read ${log}`);
  }
  const record: ProcessRecord = {
    host,
    component,
    pid,
    startTime: stat.startTime,
    argv: [...argv],
    log,
    ...(options.healthUrl ? { healthUrl: options.healthUrl } : {}),
    startedAt: new Date().toISOString(),
  };
  await updateState(lab, (s) => ({
    ...s,
    processes: [...s.processes.filter((p) => !(p.host === host && p.component === component)), record],
  }));
  return record;
}

function signal(pid: number, sig: NodeJS.Signals): void {
  // Detached processes lead their own process group: signal the group to reach their children.
  try {
    process.kill(-pid, sig);
  } catch {
    try {
      process.kill(pid, sig);
    } catch {
      // already gone
    }
  }
}

async function waitGone(records: readonly ProcessRecord[], ms: number): Promise<ProcessRecord[]> {
  const deadline = Date.now() + ms;
  let alive = records.filter(isRunning);
  while (alive.length > 0 && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 25));
    alive = alive.filter(isRunning);
  }
  return alive;
}

/** SIGTERM, then SIGKILL after the grace period, for the records that still run. */
export async function stopRecords(
  records: readonly ProcessRecord[],
  graceMs = STOP_GRACE_MS,
): Promise<number> {
  const alive = records.filter(isRunning);
  for (const r of alive) signal(r.pid, 'SIGTERM');
  const stubborn = await waitGone(alive, graceMs);
  for (const r of stubborn) signal(r.pid, 'SIGKILL');
  await waitGone(stubborn, 1_000);
  return alive.length;
}

/** Stops one component of a lab and forgets it. */
export async function stopProcess(lab: string, host: string, component: string): Promise<void> {
  const state = await requireState(lab);
  await stopRecords(state.processes.filter((p) => p.host === host && p.component === component));
  await updateState(lab, (s) => ({
    ...s,
    processes: s.processes.filter((p) => !(p.host === host && p.component === component)),
  }));
}

/**
 * Stops every process of the lab: the recorded ones by pid, then whatever still runs in the lab's
 * namespaces (those can only be the lab's: pods the agents leave running, as kubelet does, and
 * strays). Those are killed outright, as powering off a machine would: a graceful SIGTERM would
 * only wait out their grace, e.g. the DNS server's 5 s lameduck. Works without state too.
 */
export async function stopProcesses(
  provider: LabProvider,
  lab: string,
  state: LabState | undefined,
  graceMs = STOP_GRACE_MS,
): Promise<number> {
  const stopped = await stopRecords(state?.processes ?? [], graceMs);
  const strays = (await provider.hostPids(lab, state)).filter((pid) => pid !== process.pid);
  for (const pid of strays) signal(pid, 'SIGKILL');
  const deadline = Date.now() + graceMs;
  let left = strays;
  while (left.length > 0 && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 25));
    left = left.filter((pid) => {
      const stat = procStat(pid);
      return stat !== undefined && stat.state !== 'Z';
    });
  }
  return stopped + strays.length;
}

export interface ProcessStatus extends ProcessRecord {
  readonly running: boolean;
  /** undefined when the process has no health URL (or is not running). */
  readonly healthy: boolean | undefined;
}

export async function processStatuses(provider: LabProvider, state: LabState): Promise<ProcessStatus[]> {
  return Promise.all(
    state.processes.map(async (p) => {
      const running = isRunning(p);
      let healthy: boolean | undefined;
      if (running && p.healthUrl) {
        const [command, ...args] = provider.hostCommand(state, p.host, [
          'curl',
          '-fsSk',
          '-m',
          '2',
          '-o',
          '/dev/null',
          p.healthUrl,
        ]);
        const result = await runCommand(command ?? 'ip', args);
        healthy = result.exitCode === 0;
      }
      return { ...p, running, healthy };
    }),
  );
}
