import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EtcdStore } from './etcd.js';
import { startEtcd } from './etcd-process.js';
import type { EtcdProcess } from './etcd-process.js';
import { Collector, describeStore, svc } from './store-suite.js';
import { WatchCache } from './watch-cache.js';

// One real etcd for the whole file; each test works under its own key namespace.
let etcd: EtcdProcess | undefined;

beforeAll(async () => {
  etcd = await startEtcd({ dirPrefix: 'klab-store-' });
});

afterAll(async () => {
  await etcd?.stop();
});

function namespace(): string {
  return `/klab-store-${randomBytes(4).toString('hex')}`;
}

function endpoint(): string {
  if (!etcd) throw new Error('etcd did not start');
  return etcd.endpoint;
}

describeStore('etcd', async () => {
  const ns = namespace();
  return {
    open: async () => new EtcdStore({ endpoints: [endpoint()], namespace: ns }),
    cleanup: async () => undefined,
  };
});

describe('EtcdStore specifics', () => {
  it('stores values without resourceVersion and derives it from mod_revision', async () => {
    const ns = namespace();
    const store = new EtcdStore({ endpoints: [endpoint()], namespace: ns });
    const raw = new EtcdStore({ endpoints: [endpoint()] });
    try {
      const created = await store.create(
        '/registry/a',
        svc('a', { metadata: { name: 'a', resourceVersion: '42' } }),
      );
      const stored = (await raw.list(`${ns}/registry/`)).items[0];
      expect(stored?.key).toBe(`${ns}/registry/a`);
      expect(stored?.modRevision).toBe(created.modRevision);
      expect(created.value['metadata']).toEqual({ name: 'a', resourceVersion: String(created.modRevision) });
    } finally {
      await store.close();
      await raw.close();
    }
  });

  it("lists more than gRPC's default 4 MiB message in one call", async () => {
    const store = new EtcdStore({ endpoints: [endpoint()], namespace: namespace() });
    try {
      const big = 'x'.repeat(1_000_000);
      for (let i = 0; i < 5; i++)
        await store.create(`/registry/configmaps/default/c${i}`, svc(`c${i}`, { data: { big } }));
      const list = await store.list('/registry/configmaps/');
      expect(list.items).toHaveLength(5);
    } finally {
      await store.close();
    }
  });

  it('keeps a watch going across an etcd restart, losing no event', async () => {
    const store = new EtcdStore({ endpoints: [endpoint()], namespace: namespace() });
    try {
      const a = await store.create('/registry/pods/a', svc('a'));
      const collector = new Collector();
      const w = store.watch('/registry/pods/', a.modRevision, collector.handlers);
      const b = await store.create('/registry/pods/b', svc('b'));
      await collector.waitEvents(1);
      await etcd?.restart();
      const c = await store.update('/registry/pods/a', svc('a', { spec: 1 }));
      const events = await collector.waitEvents(2);
      expect(collector.errors).toEqual([]);
      expect(events.map((e) => [e.type, e.modRevision])).toEqual([
        ['ADDED', b.modRevision],
        ['MODIFIED', c.modRevision],
      ]);
      expect((await store.get('/registry/pods/b'))?.modRevision).toBe(b.modRevision);
      w.close();
    } finally {
      await store.close();
    }
  });

  it('feeds a watch cache that fans out to several watchers', async () => {
    const store = new EtcdStore({ endpoints: [endpoint()], namespace: namespace() });
    const cache = new WatchCache(store, '/registry/');
    try {
      await store.create('/registry/services/default/a', svc('a'));
      await cache.start();
      const watchers = [0, 1, 2].map(() => new Collector());
      const handles = watchers.map((c) => cache.watch('/registry/services/', 0, c.handlers));
      const b = await store.create('/registry/services/default/b', svc('b'));
      await store.delete('/registry/services/default/a');
      for (const c of watchers) {
        const events = await c.waitEvents(3);
        expect(events.map((e) => [e.type, e.key])).toEqual([
          ['ADDED', '/registry/services/default/a'],
          ['ADDED', '/registry/services/default/b'],
          ['DELETED', '/registry/services/default/a'],
        ]);
      }
      await cache.waitForRevision(b.modRevision + 1);
      expect(cache.list('/registry/services/').items.map((i) => i.key)).toEqual([
        '/registry/services/default/b',
      ]);
      for (const h of handles) h.close();
      // A cache of one prefix reaches a revision written elsewhere through progress notifications.
      const services = new WatchCache(store, '/registry/services/');
      try {
        await services.start();
        const pod = await store.create('/registry/pods/default/p', svc('p'));
        await services.waitForRevision(pod.modRevision, 5000);
        expect(services.revision).toBeGreaterThanOrEqual(pod.modRevision);
      } finally {
        services.close();
      }
    } finally {
      cache.close();
      await store.close();
    }
  });
});
