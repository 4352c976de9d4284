import { request } from 'node:http';
import { connect } from 'node:net';
import { execa } from 'execa';
import type { ContainerSpec, Probe } from './pod.js';

/** A probe's port: a number, or the name of one of the container's ports. */
export function probePort(container: ContainerSpec, port: number | string | undefined): number {
  if (typeof port === 'number') return port;
  const named = container.ports?.find((p) => p.name === port)?.containerPort;
  const numeric = Number(port);
  if (named !== undefined) return named;
  if (Number.isInteger(numeric) && numeric > 0) return numeric;
  throw new Error(
    `probe port "${String(port)}" is not a number or a port name of container "${container.name}"`,
  );
}

/** One attempt's outcome; `message` says why it failed, in kubelet's words where it has them. */
export interface ProbeOutcome {
  readonly ok: boolean;
  readonly message: string;
}

function httpProbe(ip: string, port: number, path: string, timeoutMs: number): Promise<ProbeOutcome> {
  const url = `http://${ip}:${port}${path}`;
  return new Promise((resolve) => {
    const req = request(
      { host: ip, port, path, timeout: timeoutMs, headers: { 'User-Agent': 'kube-probe/1.32' } },
      (res) => {
        res.resume();
        const code = res.statusCode ?? 0;
        const ok = code >= 200 && code < 400;
        resolve({ ok, message: ok ? '' : `HTTP probe failed with statuscode: ${code}` });
      },
    );
    req.on('timeout', () =>
      req.destroy(new Error(`context deadline exceeded (Client.Timeout exceeded while awaiting headers)`)),
    );
    req.on('error', (e) => resolve({ ok: false, message: `Get "${url}": ${e.message}` }));
    req.end();
  });
}

function tcpProbe(ip: string, port: number, timeoutMs: number): Promise<ProbeOutcome> {
  const target = `${ip}:${port}`;
  return new Promise((resolve) => {
    const socket = connect({ host: ip, port, timeout: timeoutMs });
    socket.on('connect', () => {
      socket.destroy();
      resolve({ ok: true, message: '' });
    });
    socket.on('timeout', () => {
      socket.destroy();
      resolve({ ok: false, message: `dial tcp ${target}: i/o timeout` });
    });
    socket.on('error', (e) => resolve({ ok: false, message: `dial tcp ${target}: ${e.message}` }));
  });
}

/**
 * When the next readiness probe runs. Until the first success the probe retries quickly (100 ms,
 * doubling up to the period): a container nearly always fails its very first probe because it
 * is still starting, and waiting a whole period for the second would hold back Ready. Failures
 * before any success change nothing (the container is not ready yet), so this only brings Ready
 * forward; from the first success on, the probe runs every period, as kubelet's does.
 */
export function nextProbeDelayMs(periodMs: number, attempts: number, everSucceeded: boolean): number {
  if (everSucceeded) return periodMs;
  return Math.min(periodMs, 50 * 2 ** Math.min(attempts, 20));
}

/** One probe attempt, from the node as kubelet probes (exec runs inside the pod's namespace). */
export async function runProbe(
  probe: Probe,
  container: ContainerSpec,
  podIP: string,
  netns: string | undefined,
): Promise<ProbeOutcome> {
  const timeoutMs = Math.max(1, probe.timeoutSeconds ?? 1) * 1000;
  if (probe.httpGet) {
    return httpProbe(podIP, probePort(container, probe.httpGet.port), probe.httpGet.path ?? '/', timeoutMs);
  }
  if (probe.tcpSocket) return tcpProbe(podIP, probePort(container, probe.tcpSocket.port), timeoutMs);
  if (probe.exec?.command?.length) {
    const argv =
      netns === undefined ? probe.exec.command : ['ip', 'netns', 'exec', netns, ...probe.exec.command];
    const r = await execa(argv[0] as string, argv.slice(1), { reject: false, timeout: timeoutMs, all: true });
    if (r.timedOut) return { ok: false, message: `command timed out after ${timeoutMs / 1000}s` };
    return { ok: r.exitCode === 0, message: String(r.all ?? '').trim() };
  }
  throw new Error(`container "${container.name}": probe has no httpGet, tcpSocket or exec`);
}
