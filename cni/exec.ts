import { spawn } from 'node:child_process';

export interface Output {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a command with `input` on stdin; never throws for a non-zero exit. */
export function run(cmd: string, args: string[], input = ''): Promise<Output> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', (err) => reject(new Error(`cannot run ${cmd}: ${err.message}`)));
    child.on('close', (code) => resolve({ code: code ?? 1, stdout, stderr }));
    child.stdin.on('error', () => undefined);
    child.stdin.end(input);
  });
}

/** A netns `ip -n` can open by name (it only looks in /run/netns). */
export function namedNetns(path: string): string | undefined {
  return /^\/(?:var\/)?run\/netns\/([^/]+)$/.exec(path)?.[1];
}

/**
 * `ip -batch -` in this process's namespace, or in the one at `netnsPath`: `ip -n` for named
 * namespaces (one exec), nsenter for any other path such as /proc/PID/ns/net.
 */
export function ipBatch(lines: string[], netnsPath?: string, json = false): Promise<Output> {
  const ipArgs = [...(json ? ['-j'] : []), '-batch', '-'];
  const input = lines.join('\n') + '\n';
  if (netnsPath === undefined) return run('ip', ipArgs, input);
  const name = namedNetns(netnsPath);
  if (name !== undefined) return run('ip', ['-n', name, ...ipArgs], input);
  return run('nsenter', [`--net=${netnsPath}`, 'ip', ...ipArgs], input);
}
