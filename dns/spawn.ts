import { type ChildProcess, spawn } from 'node:child_process';

export interface DnsServeProcess {
  readonly process: ChildProcess;
  /** Everything the server has logged so far (JSON lines on stderr). */
  stderr(): string;
  /** Resolves with the bound port and ops ports once the server logs "serving". */
  readonly serving: Promise<{ port: number; ops: { health: number; ready: number; metrics: number } }>;
}

/**
 * Runs `klab dns serve` from the built `klabJs` as a child process, with its operations endpoints
 * on loopback ephemeral ports, plus `args` (object source, listen address, upstreams, threads),
 * for tests and the benchmark. The caller stops it by pid.
 */
export function spawnDnsServe(klabJs: string, args: readonly string[], timeoutMs = 30_000): DnsServeProcess {
  const child = spawn(
    process.execPath,
    [
      klabJs,
      'dns',
      'serve',
      '--ops-host',
      '127.0.0.1',
      '--health-port',
      '0',
      '--ready-port',
      '0',
      '--metrics-port',
      '0',
      ...args,
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let log = '';
  const serving = new Promise<{ port: number; ops: { health: number; ready: number; metrics: number } }>(
    (resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`klab dns serve did not serve within ${timeoutMs} ms:\n${log}`)),
        timeoutMs,
      );
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`klab dns serve exited with ${code}:\n${log}`));
      });
      child.stderr?.on('data', (d: Buffer) => {
        log += d.toString();
        const line = log.split('\n').find((l) => l.includes('"msg":"serving"'));
        if (!line) return;
        clearTimeout(timer);
        const parsed = JSON.parse(line) as {
          listen: string;
          ops: { health: number; ready: number; metrics: number };
        };
        resolve({ port: Number(parsed.listen.split(':').pop()), ops: parsed.ops });
      });
    },
  );
  // A caller that never awaits `serving` must not see an unhandled rejection when it stops the server.
  serving.catch(() => undefined);
  return { process: child, stderr: () => log, serving };
}
