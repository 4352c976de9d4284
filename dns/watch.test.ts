import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildZone, lookup } from './records.js';
import { ObjectCache } from './store.js';
import { feedFromApi } from './watch.js';
import { TYPE } from './wire.js';

/**
 * A minimal API server: lists (items without kind, as the real API sends them) and watch streams
 * that stay open so the test can push events.
 */
const lists: Record<string, unknown[]> = {
  '/api/v1/services': [
    {
      metadata: { name: 'web', namespace: 'default', resourceVersion: '5' },
      spec: { clusterIP: '10.96.0.20' },
    },
  ],
  '/apis/discovery.k8s.io/v1/endpointslices': [],
  '/api/v1/namespaces': [{ metadata: { name: 'quiet', resourceVersion: '3' } }],
};
const watchers = new Map<string, http.ServerResponse>();
const server = http.createServer((req, res) => {
  const url = new URL(req.url ?? '/', 'http://x');
  const items = lists[url.pathname];
  if (!items) {
    res.writeHead(404).end();
    return;
  }
  res.writeHead(200, { 'content-type': 'application/json' });
  if (url.searchParams.get('watch') === 'true') {
    watchers.set(url.pathname, res);
    res.write('');
    return;
  }
  res.end(JSON.stringify({ kind: 'List', metadata: { resourceVersion: '10' }, items }));
});

let stop: () => Promise<void> = async () => undefined;
const objects = new ObjectCache();
const logs: string[] = [];

beforeAll(async () => {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as { port: number }).port;
  stop = feedFromApi(
    { server: `http://127.0.0.1:${port}`, insecureSkipTlsVerify: false },
    objects,
    (_l, msg) => logs.push(msg),
  );
});

afterAll(async () => {
  await stop();
  for (const w of watchers.values()) w.destroy();
  server.closeAllConnections();
  await new Promise<void>((r) => server.close(() => r()));
});

async function until(check: () => boolean): Promise<void> {
  const deadline = Date.now() + 5000;
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

  it('applies watch events as they arrive', async () => {
    await until(() => watchers.size === 3);
    const svc = {
      metadata: { name: 'new', namespace: 'default', resourceVersion: '11' },
      spec: { clusterIP: '10.96.1.1' },
    };
    watchers
      .get('/api/v1/services')
      ?.write(`${JSON.stringify({ type: 'ADDED', object: { kind: 'Service', ...svc } })}\n`);
    await until(() => answers('new.default.svc.cluster.local').length === 1);
    watchers.get('/api/v1/services')?.write(`${JSON.stringify({ type: 'DELETED', object: svc })}\n`);
    await until(() => answers('new.default.svc.cluster.local').length === 0);
  });

  it('logs and skips a malformed object instead of stopping the watch', async () => {
    const bad = {
      metadata: { name: 'bad', namespace: 'default', resourceVersion: '12' },
      spec: { ports: [{ port: 0 }] },
    };
    watchers.get('/api/v1/services')?.write(`${JSON.stringify({ type: 'ADDED', object: bad })}\n`);
    await until(() => logs.includes('object ignored'));
    expect(answers('web.default.svc.cluster.local')).toEqual(['10.96.0.20']);
  });
});
