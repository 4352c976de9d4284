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

/** `ip -batch -` in this process's namespace, or in the one at `netnsPath` via nsenter. */
export function ipBatch(lines: string[], netnsPath?: string, json = false): Promise<Output> {
  const ipArgs = [...(json ? ['-j'] : []), '-batch', '-'];
  const input = lines.join('\n') + '\n';
  return netnsPath === undefined
    ? run('ip', ipArgs, input)
    : run('nsenter', [`--net=${netnsPath}`, 'ip', ...ipArgs], input);
}
