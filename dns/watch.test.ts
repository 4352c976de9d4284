import { execFile, spawn } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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
    const server = spawn(
      process.execPath,
      [
        KLAB_JS,
        'dns',
        'serve',
        '--kubeconfig',
        cluster.server.kubeconfigPath,
        '--workers',
        '2',
        '--listen',
        '127.0.0.1:0',
        '--upstream',
        '127.0.0.1:9',
        '--ops-host',
        '127.0.0.1',
        '--health-port',
        '0',
        '--ready-port',
        '0',
        '--metrics-port',
        '0',
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let stderr = '';
    server.stderr?.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    try {
      let port = 0;
      await until(() => {
        const line = stderr.split('\n').find((l) => l.includes('"msg":"serving"'));
        if (line) port = Number((JSON.parse(line) as { listen: string }).listen.split(':').pop());
        return port > 0;
      }, 30_000);
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
      expect(await dig(), stderr).toBe('10.96.0.20');
    } finally {
      await stopChild(server);
    }
  }, 60_000);
});
