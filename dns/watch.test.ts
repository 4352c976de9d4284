import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnDnsServe } from './spawn.js';
import { KLAB_JS } from '../test/support/klab-cli.js';
import { stopChild } from '../test/support/control.js';
import { extensions } from '../control/layers.js';
import { startTestCluster, type TestCluster } from '../control/testing.js';
import { loadKubeconfig } from '../kube/kubeconfig.js';
import { buildZone, lookup } from './records.js';
import { ObjectCache } from './store.js';
import { feedFromApi } from './watch.js';
import { TYPE } from './wire.js';

/** The real API server (klab control on loopback) feeding the DNS object cache. */
let cluster: TestCluster;
let stop: () => Promise<void> = async () => undefined;
const objects = new ObjectCache();
const logs: string[] = [];

beforeAll(async () => {
  cluster = await startTestCluster({ ext: extensions });
  const created = await cluster.kubectl(
    ['apply', '-f', '-'],
    `apiVersion: v1
kind: Service
metadata: {name: web, namespace: default}
spec:
  clusterIP: 10.96.0.20
  ports: [{port: 80}]
---
apiVersion: v1
kind: Namespace
metadata: {name: quiet}
`,
  );
  if (created.exitCode !== 0) throw new Error(created.stderr);
  stop = feedFromApi(loadKubeconfig(cluster.server.kubeconfigPath), objects, (_l, msg) => logs.push(msg));
}, 60_000);

afterAll(async () => {
  await stop();
  await cluster?.stop();
});

async function until(check: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`condition not met; logs: ${logs.join('; ')}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

function answers(name: string): string[] {
  const z = buildZone(objects.snapshot(), { zone: 'cluster.local', ttl: 30, pods: 'insecure', serial: 1 });
  const r = lookup(z, name, TYPE.A);
  return r.kind === 'answer'
    ? r.answers.map((a) => (a.data.kind === 'raw' ? [...a.data.bytes].join('.') : ''))
    : [];
}

describe('feeding DNS from the API', () => {
  it('is synced after the three initial lists and serves what they held', async () => {
    await until(() => objects.synced);
    expect(answers('web.default.svc.cluster.local')).toEqual(['10.96.0.20']);
    const z = buildZone(objects.snapshot(), { zone: 'cluster.local', ttl: 30, pods: 'insecure', serial: 1 });
    expect(z.namespaces.has('quiet')).toBe(true);
  });

  it('follows creations and deletions within a second', async () => {
    const add = await cluster.kubectl([
      '-n',
      'default',
      'create',
      'service',
      'clusterip',
      'new',
      '--tcp=80',
      '--clusterip=10.96.1.1',
    ]);
    expect(add.exitCode, add.stderr).toBe(0);
    const start = Date.now();
    await until(() => answers('new.default.svc.cluster.local').length === 1);
    expect(answers('new.default.svc.cluster.local')).toEqual(['10.96.1.1']);
    await cluster.kubectl(['-n', 'default', 'delete', 'service', 'new']);
    await until(() => answers('new.default.svc.cluster.local').length === 0);
    expect(Date.now() - start).toBeLessThan(5_000);
  });
});

describe('klab dns serve --kubeconfig', () => {
  it('answers from the API in its DNS threads', async () => {
    const dns = spawnDnsServe(KLAB_JS, [
      '--kubeconfig',
      cluster.server.kubeconfigPath,
      '--workers',
      '2',
      '--listen',
      '127.0.0.1:0',
      '--upstream',
      '127.0.0.1:9',
    ]);
    try {
      const { port } = await dns.serving;
      const dig = async (): Promise<string> =>
        (
          await promisify(execFile)('dig', [
            '-p',
            String(port),
            '@127.0.0.1',
            '+short',
            'web.default.svc.cluster.local',
          ])
        ).stdout.trim();
      const deadline = Date.now() + 30_000;
      while ((await dig()) !== '10.96.0.20' && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 200));
      expect(await dig(), dns.stderr()).toBe('10.96.0.20');
    } finally {
      await stopChild(dns.process);
    }
  }, 60_000);

  it('waits up to 5 s for its first sync before answering, so early queries get no SERVFAIL', async () => {
    // The same credentials, but an API server that never answers: the sync cannot happen.
    const dir = mkdtempSync(join(tmpdir(), 'klab-dns-nosync-'));
    const kubeconfig = join(dir, 'kubeconfig');
    writeFileSync(
      kubeconfig,
      readFileSync(cluster.server.kubeconfigPath, 'utf8').replace(
        /server: \S+/,
        'server: https://127.0.0.1:9',
      ),
    );
    const port = 20_000 + Math.floor(Math.random() * 20_000);
    const started = Date.now();
    const dns = spawnDnsServe(KLAB_JS, [
      '--kubeconfig',
      kubeconfig,
      '--listen',
      `127.0.0.1:${port}`,
      '--upstream',
      '127.0.0.1:9',
    ]);
    try {
      let answer = '';
      while (!answer.includes('status:') && Date.now() - started < 20_000) {
        answer = await promisify(execFile)('dig', [
          '-p',
          String(port),
          '@127.0.0.1',
          '+tries=1',
          '+time=10',
          'web.default.svc.cluster.local',
        ]).then(
          (r) => r.stdout,
          () => '',
        );
        if (!answer.includes('status:')) await new Promise((r) => setTimeout(r, 100));
      }
      expect(answer).toContain('status: SERVFAIL');
      expect(Date.now() - started).toBeGreaterThanOrEqual(4_500);
    } finally {
      await stopChild(dns.process);
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
