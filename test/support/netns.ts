import { readFileSync } from 'node:fs';
import { execa } from 'execa';

/** What a finished command left; `exitCode` is undefined when it was killed or timed out. */
export interface Ran {
  readonly exitCode: number | undefined;
  readonly stdout: string;
  readonly stderr: string;
}

export interface RunOptions {
  readonly input?: string;
  readonly env?: Readonly<Record<string, string>>;
  readonly timeoutMs?: number;
}

/** Runs argv without throwing; check `exitCode` yourself. */
export async function run(argv: readonly string[], options: RunOptions = {}): Promise<Ran> {
  const [command, ...args] = argv;
  const result = await execa(command ?? 'false', args, {
    reject: false,
    input: options.input,
    env: options.env,
    timeout: options.timeoutMs ?? 60_000,
  });
  return { exitCode: result.exitCode, stdout: String(result.stdout), stderr: String(result.stderr) };
}

/** Runs argv inside network namespace `netns`. */
export function inNetns(netns: string, argv: readonly string[], timeoutMs = 20_000): Promise<Ran> {
  return run(['ip', 'netns', 'exec', netns, ...argv], { timeoutMs });
}

/** Runs argv on `host` (node-N, ext) of lab `lab` of the netns provider. */
export function onLabHost(
  lab: string,
  host: string,
  argv: readonly string[],
  timeoutMs?: number,
): Promise<Ran> {
  return inNetns(`klab-${lab}-${host}`, argv, timeoutMs);
}

/** True when the host can ping `ip` (1 s timeout, one retry for a cold ARP cache). */
export async function pings(lab: string, host: string, ip: string): Promise<boolean> {
  const result = await onLabHost(lab, host, ['ping', '-c', '1', '-W', '1', ip]);
  if (result.exitCode === 0) return true;
  return (await onLabHost(lab, host, ['ping', '-c', '1', '-W', '2', ip])).exitCode === 0;
}

/** Polls `check` every 100 ms until it returns a value or `timeoutMs` passes. */
export async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined>,
  timeoutMs = 15_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** A process that exists and is not a zombie (an orphan's zombie may wait long for its reaper). */
export function processAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0];
    return state !== 'Z';
  } catch {
    return false;
  }
}
