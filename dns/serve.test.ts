/**
 * `klab dns serve` as a process (the built CLI): a primary and two front threads sharing one UDP
 * socket, fed by an objects file that changes under it, forwarding to a loopback stub.
 */
import type { ChildProcess } from 'node:child_process';
import { execFile } from 'node:child_process';
import dgram from 'node:dgram';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KLAB_JS } from '../test/support/klab-cli.js';
import { spawnDnsServe } from './spawn.js';
import type { RunningStub } from './upstream-stub.js';
import { startUpstreamStub } from './upstream-stub.js';
import { CLASS_IN, Encoder, FLAG, TYPE, nameToWire, walkMessage } from './wire.js';

const execFileAsync = promisify(execFile);
const fixture = readFileSync(new URL('./testdata/objects.yaml', import.meta.url), 'utf8');
const fresh = `---
apiVersion: v1
kind: Service
metadata:
  name: fresh
  namespace: default
spec:
  clusterIP: 10.96.7.7
  clusterIPs: [10.96.7.7]
`;

let dir: string;
let stub: RunningStub;
let server: ChildProcess | undefined;
let stderr = (): string => '';
let port = 0;
let ops = { ready: 0, metrics: 0 };

/** Sends `count` queries for one name from one socket and returns each reply's rcode and A addresses. */
async function ask(name: string, count: number): Promise<{ rcode: number; addresses: string[] }[]> {
  const socket = dgram.createSocket('udp4');
  const replies = new Map<number, { rcode: number; addresses: string[] }>();
  try {
    await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', () => resolve()));
    const done = new Promise<void>((resolve) => {
      socket.on('message', (m) => {
        const walked = walkMessage(m);
        if (!walked) return;
        const addresses = walked.records
          .filter((r) => r.section === 'answer' && r.type === TYPE.A)
          .map((r) => Array.from(m.subarray(r.end - 4, r.end)).join('.'));
        replies.set(m.readUInt16BE(0), { rcode: walked.rcode & 0xf, addresses });
        if (replies.size === count) resolve();
      });
    });
    const encoder = new Encoder();
    for (let id = 1; id <= count; id++) {
      const q = encoder.encode({
        id,
        flags: FLAG.RD,
        question: { wire: nameToWire(name), name, type: TYPE.A, class: CLASS_IN },
        answers: [],
        authority: [],
        additional: [],
        opt: null,
      });
      socket.send(q, port, '127.0.0.1');
    }
    await Promise.race([done, new Promise((r) => setTimeout(r, 5000))]);
  } finally {
    socket.close();
  }
  return [...replies.values()];
}

async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}; server stderr:\n${stderr()}`);
}

function exited(proc: ChildProcess): Promise<number | null> {
  if (proc.exitCode !== null) return Promise.resolve(proc.exitCode);
  return new Promise((resolve) => proc.once('exit', (code) => resolve(code)));
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'klab-dns-serve-'));
  writeFileSync(join(dir, 'objects.yaml'), fixture);
  stub = await startUpstreamStub({
    origin: 'example.test',
    a: { 'www.example.test': ['192.0.2.2'] },
    ttl: 60,
    negativeTtl: 20,
  });
  const dns = spawnDnsServe(KLAB_JS, [
    '--workers',
    '3',
    '--lameduck',
    '1s',
    '--listen',
    '127.0.0.1:0',
    '--objects',
    join(dir, 'objects.yaml'),
    '--upstream',
    `127.0.0.1:${stub.port}`,
  ]);
  server = dns.process;
  stderr = dns.stderr;
  ({ port, ops } = await dns.serving);
}, 60_000);

afterAll(async () => {
  if (server && server.exitCode === null) {
    server.kill('SIGKILL');
    await exited(server);
  }
  await stub?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('klab dns serve --workers 3', () => {
  it('is ready and answers every query, whichever thread reads it', async () => {
    expect((await fetch(`http://127.0.0.1:${ops.ready}/ready`)).status).toBe(200);
    for (let round = 0; round < 3; round++) {
      const replies = await ask('web.default.svc.cluster.local', 50);
      expect(replies).toHaveLength(50);
      for (const r of replies) expect(r).toEqual({ rcode: 0, addresses: ['10.96.0.20'] });
    }
    const { stdout } = await execFileAsync('dig', [
      '-p',
      String(port),
      '@127.0.0.1',
      '+tcp',
      '+short',
      'web.default.svc.cluster.local',
    ]);
    expect(stdout.trim()).toBe('10.96.0.20');
  });

  it('no thread keeps a stale answer after the objects change', async () => {
    for (const r of await ask('fresh.default.svc.cluster.local', 50)) expect(r.rcode).toBe(3);
    writeFileSync(join(dir, 'objects.yaml'), `${fixture}${fresh}`);
    await waitFor('the new service', async () =>
      (await ask('fresh.default.svc.cluster.local', 1)).some((r) => r.rcode === 0),
    );
    for (let round = 0; round < 3; round++) {
      for (const r of await ask('fresh.default.svc.cluster.local', 50)) {
        expect(r).toEqual({ rcode: 0, addresses: ['10.96.7.7'] });
      }
    }
  });

  it('forwards once and answers repeats from the threads’ caches', async () => {
    for (let round = 0; round < 3; round++) {
      for (const r of await ask('www.example.test', 50))
        expect(r).toEqual({ rcode: 0, addresses: ['192.0.2.2'] });
    }
    expect(stub.queries.get('www.example.test|1')).toBe(1);
  });

  it('sums the threads’ metrics', async () => {
    const body = await (await fetch(`http://127.0.0.1:${ops.metrics}/metrics`)).text();
    const requests = [...body.matchAll(/^coredns_dns_requests_total\{[^}]*proto="udp"[^}]*\} (\d+)$/gm)];
    const total = requests.reduce((n, m) => n + Number(m[1]), 0);
    expect(total).toBeGreaterThanOrEqual(150 + 150 + 150 + 50);
    expect(body).toMatch(/^coredns_cache_hits_total\{[^}]*type="success"\} [1-9]\d*$/m);
  });

  it('keeps answering through the lameduck period after SIGTERM, then exits', async () => {
    const proc = server as ChildProcess;
    const signalled = Date.now();
    proc.kill('SIGTERM');
    await new Promise((resolve) => setTimeout(resolve, 200));
    for (const r of await ask('web.default.svc.cluster.local', 20)) expect(r.rcode).toBe(0);
    expect(proc.exitCode).toBeNull();
    expect(await exited(proc)).toBe(0);
    expect(Date.now() - signalled).toBeGreaterThanOrEqual(1_000);
    expect(stderr()).toContain('going into lameduck mode');
  });
});

describe('klab dns serve without an object source', () => {
  it('exits 1 naming the missing flags', async () => {
    const r = await execFileAsync(process.execPath, [KLAB_JS, 'dns', 'serve', '--listen', '127.0.0.1:0'], {
      timeout: 30_000,
    }).then(
      () => ({ code: 0, stderr: '' }),
      (e: { code: number; stderr: string }) => ({ code: e.code, stderr: e.stderr }),
    );
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/needs --kubeconfig FILE .* or --objects FILE/);
  });
});
