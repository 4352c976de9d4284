/**
 * List and watch semantics through HTTPS: paging, selectors, bookmarks, timeouts, 410 for
 * expired history, restart durability and resume, and an informer from
 * @kubernetes/client-node that re-lists after a 410.
 */
import * as k8s from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { extensions } from '../control/layers.js';
import { startEtcd, type EtcdProcess } from '../control/store/index.js';
import {
  adminToken,
  apiRequest,
  startTestCluster,
  waitUntil,
  watchStream,
  type TestCluster,
} from '../control/testing.js';

const CM = '/api/v1/namespaces/default/configmaps';
const rvOf = (o: Record<string, unknown>) =>
  Number((o.metadata as { resourceVersion: string }).resourceVersion);

describe.each(['sqlite', 'etcd'] as const)('list and watch (%s store)', (storeKind) => {
  let cluster: TestCluster;
  let etcd: EtcdProcess | undefined;
  let token: string;
  const create = async (name: string, labels: Record<string, string> = {}, path = CM) => {
    const r = await apiRequest(cluster, {
      method: 'POST',
      path,
      token,
      body: { metadata: { name, labels } },
    });
    expect(r.status, r.text).toBe(201);
    return r.json;
  };

  beforeAll(async () => {
    if (storeKind === 'etcd') etcd = await startEtcd({ dirPrefix: 'klab-api-etcd-' });
    cluster = await startTestCluster({
      ext: extensions,
      store: storeKind,
      ...(etcd ? { etcdEndpoint: etcd.endpoint } : {}),
      watchCacheWindow: 20,
      watch: { bookmarkIntervalMs: 200, minRequestTimeoutSeconds: 1 },
    });
    token = await adminToken(cluster);
  });

  afterAll(async () => {
    await cluster?.stop();
    await etcd?.stop();
  });

  it('pages with limit and continue and filters by labels and fields', async () => {
    for (let i = 0; i < 5; i++) await create(`page-${i}`, { tier: i % 2 ? 'odd' : 'even' });
    const first = await apiRequest(cluster, { path: `${CM}?limit=2&labelSelector=tier`, token });
    const items = (r: typeof first) =>
      (r.json.items as { metadata: { name: string } }[]).map((i) => i.metadata.name);
    expect(items(first)).toEqual(['page-0', 'page-1']);
    const cont = (first.json.metadata as { continue: string }).continue;
    const second = await apiRequest(cluster, {
      path: `${CM}?limit=2&labelSelector=tier&continue=${cont}`,
      token,
    });
    expect(items(second)).toEqual(['page-2', 'page-3']);
    const odd = await apiRequest(cluster, {
      path: `${CM}?labelSelector=${encodeURIComponent('tier in (odd)')}`,
      token,
    });
    expect(items(odd)).toEqual(['page-1', 'page-3']);
    const byName = await apiRequest(cluster, { path: `${CM}?fieldSelector=metadata.name%3Dpage-4`, token });
    expect(items(byName)).toEqual(['page-4']);
    const bad = await apiRequest(cluster, { path: `${CM}?fieldSelector=spec.nodeName%3Dx`, token });
    expect(bad.status).toBe(400);
    expect(bad.json.message).toBe('field label not supported: spec.nodeName');
  });

  it('lists every acknowledged write at once, and pages a resourceVersion=0 list', async () => {
    const names = (r: { json: Record<string, unknown> }) =>
      (r.json.items as { metadata: { name: string } }[]).map((i) => i.metadata.name);
    for (let i = 0; i < 10; i++) {
      const created = await create(`ryw-${i}`, { ryw: 'yes' });
      const list = await apiRequest(cluster, { path: `${CM}?labelSelector=ryw`, token });
      expect(names(list)).toContain(`ryw-${i}`);
      expect(rvOf(list.json)).toBeGreaterThanOrEqual(rvOf(created));
    }
    // resourceVersion=0 may come from a cache a moment behind (etcd's watch): poll until whole.
    const deadline = Date.now() + 10_000;
    const anyPath = `${CM}?labelSelector=ryw&resourceVersion=0`;
    while (names(await apiRequest(cluster, { path: anyPath, token })).length < 10) {
      expect(Date.now(), 'a resourceVersion=0 list with all 10').toBeLessThan(deadline);
      await new Promise((r) => setTimeout(r, 20));
    }
    const any = await apiRequest(cluster, {
      path: `${CM}?labelSelector=ryw&resourceVersion=0&limit=4`,
      token,
    });
    expect(any.status, any.text).toBe(200);
    const first = names(any);
    expect(first).toHaveLength(4);
    const cont = (any.json.metadata as { continue: string }).continue;
    const rest = await apiRequest(cluster, {
      path: `${CM}?labelSelector=ryw&limit=100&continue=${cont}`,
      token,
    });
    expect([...first, ...names(rest)]).toEqual(Array.from({ length: 10 }, (_, i) => `ryw-${i}`));
  });

  it('streams events after a resourceVersion, honours selectors, bookmarks and timeoutSeconds', async () => {
    const list = await apiRequest(cluster, { path: CM, token });
    const rv = (list.json.metadata as { resourceVersion: string }).resourceVersion;
    const w = await watchStream(
      cluster,
      `${CM}?watch=true&resourceVersion=${rv}&labelSelector=app%3Dw&allowWatchBookmarks=true&timeoutSeconds=1`,
      token,
    );
    await create('w-1', { app: 'w' });
    await create('other', { app: 'x' });
    await apiRequest(cluster, {
      method: 'PATCH',
      path: `${CM}/w-1`,
      token,
      body: { metadata: { labels: { app: 'gone' } } },
      contentType: 'application/merge-patch+json',
    });
    await w.ended;
    const types = w.events
      .filter((e) => e.type !== 'BOOKMARK')
      .map((e) => `${e.type} ${(e.object.metadata as { name: string }).name}`);
    expect(types).toEqual(['ADDED w-1', 'DELETED w-1']);
    const bookmarks = w.events.filter((e) => e.type === 'BOOKMARK');
    expect(bookmarks.length).toBeGreaterThan(0);
    expect(bookmarks.at(-1)?.object).toMatchObject({ kind: 'ConfigMap', apiVersion: 'v1' });
  });

  it('starts with the current state for resourceVersion 0 and answers 410 for expired history', async () => {
    const w0 = await watchStream(cluster, `${CM}?watch=true&resourceVersion=0&timeoutSeconds=1`, token);
    await w0.ended;
    expect(w0.events.filter((e) => e.type === 'ADDED').length).toBeGreaterThanOrEqual(6);
    const old = await create('old');
    for (let i = 0; i < 25; i++) await create(`churn-${i}`);
    const store = cluster.server.registry.store;
    await store.compact(await store.currentRevision());
    const w = await watchStream(cluster, `${CM}?watch=true&resourceVersion=${rvOf(old)}`, token);
    await w.ended;
    expect(w.events).toHaveLength(1);
    expect(w.events[0]).toMatchObject({
      type: 'ERROR',
      object: { kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'Expired', code: 410 },
    });
    expect(w.events[0]?.object.message).toMatch(/too old/);
  });

  it('loses nothing across a restart, keeps resourceVersions growing and resumes watches', async () => {
    const before = await create('durable');
    await cluster.restart();
    const got = await apiRequest(cluster, { path: `${CM}/durable`, token });
    expect(got.status).toBe(200);
    expect(rvOf(got.json)).toBe(rvOf(before));
    const after = await create('after-restart');
    expect(rvOf(after)).toBeGreaterThan(rvOf(before));
    const w = await watchStream(
      cluster,
      `${CM}?watch=true&resourceVersion=${rvOf(before)}&timeoutSeconds=1`,
      token,
    );
    await w.ended;
    expect(w.events.map((e) => `${e.type} ${(e.object.metadata as { name: string }).name}`)).toEqual([
      'ADDED after-restart',
    ]);
  });

  it('streams events larger than the socket buffers, resuming on drain, and ends the stream cleanly', async () => {
    const list = await apiRequest(cluster, { path: `${CM}?limit=1`, token });
    const rv = (list.json.metadata as { resourceVersion: string }).resourceVersion;
    // Written before the watch starts, so it replays them from the cache's window (20 events) as
    // fast as the socket takes them: each 900 KB event fills the socket, the watcher pauses, and
    // only the socket's drain resumes it. No timing matters but the replay within the timeout.
    const count = 10;
    const data = { blob: 'x'.repeat(900 * 1024) };
    for (let i = 0; i < count; i++) {
      const r = await apiRequest(cluster, {
        method: 'POST',
        path: CM,
        token,
        body: { metadata: { name: `big-${i}`, labels: { big: 'yes' } }, data },
      });
      expect(r.status, r.text).toBe(201);
    }
    const w = await watchStream(
      cluster,
      `${CM}?watch=true&resourceVersion=${rv}&labelSelector=big&timeoutSeconds=10`,
      token,
    );
    await w.ended;
    expect(w.events.map((e) => (e.object.metadata as { name: string }).name)).toEqual(
      Array.from({ length: count }, (_, i) => `big-${i}`),
    );
    for (let i = 0; i < count; i++)
      await apiRequest(cluster, { method: 'DELETE', path: `${CM}/big-${i}`, token });
  });

  it('feeds a client-node informer every change in order, re-listing after a 410', async () => {
    await apiRequest(cluster, {
      method: 'POST',
      path: '/api/v1/namespaces',
      token,
      body: { metadata: { name: 'inf' } },
    });
    const kc = new k8s.KubeConfig();
    kc.loadFromFile(cluster.server.kubeconfigPath);
    const core = kc.makeApiClient(k8s.CoreV1Api);
    let lists = 0;
    const informer = k8s.makeInformer(
      kc,
      '/api/v1/namespaces/inf/configmaps',
      () => {
        lists++;
        return core.listNamespacedConfigMap({ namespace: 'inf', labelSelector: 'watched=yes' });
      },
      'watched=yes',
    );
    const seen: string[] = [];
    informer.on('add', (o) => seen.push(`add ${o.metadata?.name} ${o.data?.v ?? ''}`));
    informer.on('update', (o) => seen.push(`update ${o.metadata?.name} ${o.data?.v ?? ''}`));
    informer.on('delete', (o) => seen.push(`delete ${o.metadata?.name}`));
    let errors = 0;
    informer.on('error', () => errors++);
    const path = '/api/v1/namespaces/inf/configmaps';
    const put = (name: string, v: string, method = 'POST', url = path) =>
      apiRequest(cluster, {
        method,
        path: url,
        token,
        body: { metadata: { name, labels: { watched: 'yes' } }, data: { v } },
      });
    await informer.start();
    try {
      await put('a', '1');
      await put('a', '2', 'PUT', `${path}/a`);
      await put('b', '1');
      await apiRequest(cluster, { method: 'DELETE', path: `${path}/a`, token });
      await waitUntil(() => seen.length === 4, 10_000, 'informer events');
      expect(seen).toEqual(['add a 1', 'update a 2', 'add b 1', 'delete a']);
      // Push the informer's resourceVersion out of the 20-event window while its watch is
      // closed by the 1–2 s request timeout: the next watch gets 410 and it re-lists.
      const unwatched = (name: string) =>
        apiRequest(cluster, { method: 'POST', path, token, body: { metadata: { name } } });
      for (let i = 0; i < 30; i++) await unwatched(`noise-${i}`);
      const store = cluster.server.registry.store;
      await store.compact(await store.currentRevision());
      await waitUntil(() => lists === 2, 10_000, 'informer re-list after 410');
      await put('c', '1');
      await waitUntil(() => seen.includes('add c 1'), 15_000, 'informer re-list');
      expect(
        informer
          .list('inf')
          .map((o) => o.metadata?.name)
          .sort(),
      ).toEqual(['b', 'c']);
      expect(errors).toBe(0);
      expect(lists).toBe(2);
    } finally {
      await informer.stop();
    }
  });
});
