/**
 * A small promise wrapper around child_process.spawn for the lab's `ip` calls. The lab CLI is on
 * the path of every `lab up`; execa's import alone costs more than a 3-node lab's kernel work.
 */
import { spawn } from 'node:child_process';

export interface RunResult {
  /** undefined when the command could not start or was killed by a signal. */
  readonly exitCode: number | undefined;
  readonly signal: NodeJS.Signals | undefined;
  readonly stdout: string;
  readonly stderr: string;
  /** Set when the process could not be started (e.g. ENOENT). */
  readonly spawnError: Error | undefined;
  /** Stopped through options.signal. */
  readonly canceled: boolean;
}

export interface RunOptions {
  readonly input?: string;
  readonly signal?: AbortSignal;
}

export function runCommand(
  command: string,
  args: readonly string[],
  options: RunOptions = {},
): Promise<RunResult> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'], signal: options.signal });
    let stdout = '';
    let stderr = '';
    let spawnError: Error | undefined;
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    // The child may exit before reading its input; that is its answer, not ours to report.
    child.stdin.on('error', () => undefined);
    child.stdin.end(options.input ?? '');
    child.once('error', (error) => (spawnError = error));
    child.once('close', (code, signal) =>
      resolve({
        // A start failure closes with a negative errno as its "code".
        exitCode: spawnError || code === null ? undefined : code,
        signal: signal ?? undefined,
        stdout,
        stderr,
        spawnError: spawnError?.name === 'AbortError' ? undefined : spawnError,
        canceled: options.signal?.aborted === true,
      }),
    );
  });
}

/** The first lines of what went wrong, for an error message. */
export function failureDetail(result: RunResult): string {
  if (result.spawnError) return result.spawnError.message;
  const text = result.stderr.trim() || result.stdout.trim();
  const how =
    result.exitCode !== undefined ? `exit code ${result.exitCode}` : `killed by ${result.signal ?? '?'}`;
  return text ? text.split('\n').slice(0, 6).join('\n    ') : how;
}
