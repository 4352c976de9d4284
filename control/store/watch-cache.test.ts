import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SqliteStore } from './sqlite.js';
import { Collector, svc } from './store-suite.js';
import { WatchCache } from './watch-cache.js';
import type { WatchCacheOptions } from './watch-cache.js';
import { StoreError } from './types.js';
import type { Store, Watcher } from './types.js';

describe('WatchCache over SqliteStore', () => {
  let dir: string;
  let store: SqliteStore;
  const caches: WatchCache[] = [];
  const watchers: Watcher[] = [];

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'klab-store-'));
    store = new SqliteStore(join(dir, 'state.db'));
  });

  afterEach(async () => {
    for (const w of watchers.splice(0)) w.close();
    for (const c of caches.splice(0)) c.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function cache(options?: WatchCacheOptions): Promise<WatchCache> {
    const c = new WatchCache(store, '/registry/', options);
    caches.push(c);
    await c.start();
    return c;
  }

  function watch(
    c: WatchCache,
    prefix: string,
    from: number,
  ): { collector: Collector; watcher: ReturnType<WatchCache['watch']> } {
    const collector = new Collector();
    const watcher = c.watch(prefix, from, collector.handlers);
    watchers.push(watcher);
    return { collector, watcher };
  }

  it('serves revision 0 as the current state in key order, then live events', async () => {
    await store.create('/registry/services/default/b', svc('b'));
    await store.create('/registry/services/default/a', svc('a'));
    await store.create('/registry/pods/default/p', svc('p'));
    const c = await cache();
    const { collector, watcher } = watch(c, '/registry/services/', 0);
    const snapshot = c.revision;
    expect(watcher.progressRevision()).toBe(0);
    const d = await store.create('/registry/services/default/d', svc('d'));
    await store.create('/registry/pods/default/q', svc('q'));
    const events = await collector.waitEvents(3);
    expect(events.map((e) => [e.type, e.key])).toEqual([
      ['ADDED', '/registry/services/default/a'],
      ['ADDED', '/registry/services/default/b'],
      ['ADDED', '/registry/services/default/d'],
    ]);
    expect(events[2]?.modRevision).toBe(d.modRevision);
    expect(d.modRevision).toBeGreaterThan(snapshot);
    await collector.until('the cache to apply the pod', () => c.revision === d.modRevision + 1);
    expect(watcher.progressRevision()).toBe(c.revision);
  });

  it('hands every object it keeps to `keep` first: listed ones, event values and previous values', async () => {
    await store.create('/registry/services/default/a', svc('a'));
    const kept: string[] = [];
    const c = await cache({
      keep: (value) => {
        kept.push(`${(value.metadata as { name: string }).name}@${String(value.spec ?? '-')}`);
        value.kept = true;
      },
    });
    expect(kept).toEqual(['a@-']);
    await store.update('/registry/services/default/a', svc('a', { spec: 1 }));
    await store.create('/registry/services/default/b', svc('b'));
    const last = await store.currentRevision();
    await new Collector().until('the cache to catch up', () => c.revision === last);
    expect(kept).toEqual(['a@-', 'a@1', 'a@-', 'b@-']);
    const { collector } = watch(c, '/registry/services/', 0);
    const events = await collector.waitEvents(2);
    expect(events.every((e) => e.value.kept === true)).toBe(true);
    expect(c.get('/registry/services/default/a')?.value.kept).toBe(true);
  });

  it('resumes from a revision in the window, filtered by prefix, without duplicates', async () => {
    const c = await cache();
    await store.create('/registry/services/default/a', svc('a'));
    const from = await store.currentRevision();
    await store.update('/registry/services/default/a', svc('a', { spec: 1 }));
    await store.create('/registry/pods/default/p', svc('p'));
    await store.delete('/registry/services/default/a');
    await new Collector().until('the cache to catch up', () => c.revision === from + 3);
    const { collector } = watch(c, '/registry/services/', from);
    await store.create('/registry/services/default/b', svc('b'));
    const events = await collector.waitEvents(3);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(collector.events.map((e) => [e.type, e.key, e.modRevision])).toEqual([
      ['MODIFIED', '/registry/services/default/a', from + 1],
      ['DELETED', '/registry/services/default/a', from + 3],
      ['ADDED', '/registry/services/default/b', from + 4],
    ]);
    expect(events[0]?.prevValue?.['spec']).toBeUndefined();
  });

  it('answers a revision older than its window with Expired', async () => {
    const c = await cache({ windowSize: 3 });
    const first = await store.create('/registry/pods/a', svc('a'));
    for (let i = 0; i < 5; i++) await store.update('/registry/pods/a', svc('a', { spec: i }));
    await new Collector().until('the cache to catch up', () => c.revision === first.modRevision + 5);
    const { collector } = watch(c, '/registry/', first.modRevision);
    await collector.until('the error', () => collector.errors.length > 0);
    expect(collector.errors[0]?.code).toBe('Expired');
    expect(collector.errors[0]?.message).toMatch(/too old resource version/);
    expect(collector.events).toEqual([]);
    const { collector: ok } = watch(c, '/registry/', first.modRevision + 2);
    expect((await ok.waitEvents(3)).map((e) => e.modRevision)).toEqual(
      [3, 4, 5].map((i) => first.modRevision + i),
    );
  });

  it('cuts off a slow watcher without holding up the others', async () => {
    const c = await cache({ queueLimit: 5 });
    const slow = watch(c, '/registry/', c.revision);
    const fast = watch(c, '/registry/', c.revision);
    slow.watcher.pause();
    for (let i = 0; i < 6; i++) await store.create(`/registry/pods/p${i}`, svc(`p${i}`));
    await fast.collector.waitEvents(6);
    await slow.collector.until('the cut-off', () => slow.collector.errors.length > 0);
    expect(slow.collector.errors[0]?.code).toBe('Unavailable');
    expect(slow.collector.errors[0]?.message).toMatch(/too slow/);
    expect(slow.collector.events).toEqual([]);
    expect(fast.collector.errors).toEqual([]);
    expect(c.watcherCount).toBe(1);
  });

  it('holds events while paused and delivers them in order on resume', async () => {
    const c = await cache({ queueLimit: 10 });
    const { collector, watcher } = watch(c, '/registry/', c.revision);
    watcher.pause();
    for (let i = 0; i < 4; i++) await store.create(`/registry/pods/p${i}`, svc(`p${i}`));
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(collector.events).toEqual([]);
    expect(watcher.progressRevision()).toBe(c.revision - 4);
    watcher.resume();
    expect(collector.events.map((e) => e.key)).toEqual([0, 1, 2, 3].map((i) => `/registry/pods/p${i}`));
    expect(watcher.progressRevision()).toBe(c.revision);
  });

  it('lists, counts and gets from memory, consistent with the store', async () => {
    for (const name of ['c', 'a', 'b', 'd']) await store.create(`/registry/services/ns/${name}`, svc(name));
    await store.create('/registry/servicesx/ns/x', svc('x'));
    const c = await cache();
    await store.delete('/registry/services/ns/b');
    await new Collector().until('the delete', () => c.revision === 7);
    const page = c.list('/registry/services/', { limit: 2 });
    expect(page.items.map((i) => i.key)).toEqual(['/registry/services/ns/a', '/registry/services/ns/c']);
    expect(page.revision).toBe(7);
    const rest = c.list('/registry/services/', { limit: 2, continueKey: page.continueKey });
    expect(rest.items.map((i) => i.key)).toEqual(['/registry/services/ns/d']);
    expect(rest.continueKey).toBeUndefined();
    expect(c.count('/registry/services/')).toBe(await store.count('/registry/services/'));
    expect(c.get('/registry/services/ns/a')).toEqual(await store.get('/registry/services/ns/a'));
    expect(c.list('/registry/services/').items).toEqual((await store.list('/registry/services/')).items);
  });

  it('waits for a revision it has not applied yet, or times out with Unavailable', async () => {
    const c = await cache();
    const waiting = c.waitForRevision(c.revision + 1);
    await store.create('/registry/pods/a', svc('a'));
    await waiting;
    await expect(c.waitForRevision(c.revision + 5, 30)).rejects.toMatchObject({ code: 'Unavailable' });
  });

  it('follows the store revision through writes outside its prefix', async () => {
    const c = new WatchCache(store, '/registry/services/');
    caches.push(c);
    await c.start();
    const { collector, watcher } = watch(c, '/registry/services/', c.revision);
    const pod = await store.create('/registry/pods/default/p', svc('p'));
    await c.waitForRevision(pod.modRevision, 1000);
    expect(c.revision).toBe(pod.modRevision);
    expect(watcher.progressRevision()).toBe(pod.modRevision);
    const late = watch(c, '/registry/services/', pod.modRevision);
    const a = await store.create('/registry/services/default/a', svc('a'));
    expect((await late.collector.waitEvents(1)).map((e) => e.modRevision)).toEqual([a.modRevision]);
    expect((await collector.waitEvents(1)).map((e) => e.modRevision)).toEqual([a.modRevision]);
  });

  it('fans one storage watch out to 100 watchers, each seeing every event in order', async () => {
    const c = await cache();
    const all = [...Array(100).keys()].map(() => watch(c, '/registry/', c.revision).collector);
    for (let i = 0; i < 20; i++) await store.create(`/registry/pods/p${i}`, svc(`p${i}`));
    for (const collector of all) {
      const events = await collector.waitEvents(20);
      expect(events.map((e) => e.key)).toEqual([...Array(20).keys()].map((i) => `/registry/pods/p${i}`));
    }
  });

  it('ends its watchers when the storage watch fails, and stops serving until it re-lists', async () => {
    const c = await cache({ restartDelayMs: 10 });
    const { collector } = watch(c, '/registry/', c.revision);
    await store.close();
    await collector.until('the termination', () => collector.errors.length > 0);
    expect(collector.errors[0]?.message).toMatch(/restarting/);
    expect(c.isReady).toBe(false);
    expect(() => c.list('/registry/')).toThrow(/not ready/);
  });

  it('re-lists and serves again after its storage watch fails', async () => {
    // The real store, with a handle to fail its watch the way a compacted etcd watch fails.
    let failWatch: ((error: StoreError) => void) | undefined;
    const flaky: Store = Object.create(store) as Store;
    flaky.watch = (prefix, from, handlers) => {
      const inner = store.watch(prefix, from, handlers);
      failWatch = (error) => {
        inner.close();
        handlers.onError(error);
      };
      return inner;
    };
    const c = new WatchCache(flaky, '/registry/', { restartDelayMs: 10 });
    caches.push(c);
    await store.create('/registry/pods/a', svc('a'));
    await c.start();
    const before = c.revision;
    const { collector } = watch(c, '/registry/', before);
    failWatch?.(new StoreError('Expired', 'too old resource version'));
    await collector.until('the termination', () => collector.errors.length > 0);
    expect(collector.errors[0]?.message).toMatch(/restarting: too old resource version/);
    const b = await store.create('/registry/pods/b', svc('b'));
    await collector.until('the cache to be ready again', () => c.isReady);
    await c.waitForRevision(b.modRevision, 2000);
    expect(c.list('/registry/pods/').items.map((i) => i.key)).toEqual([
      '/registry/pods/a',
      '/registry/pods/b',
    ]);
    const resumed = watch(c, '/registry/', c.revision);
    const d = await store.create('/registry/pods/d', svc('d'));
    expect((await resumed.collector.waitEvents(1)).map((e) => e.modRevision)).toEqual([d.modRevision]);
  });

  it('rejects bad options and arguments clearly', async () => {
    expect(() => new WatchCache(store, '/registry/', { queueLimit: 0 })).toThrow(/queueLimit/);
    const c = await cache();
    expect(() => c.watch('/registry/', -1, new Collector().handlers)).toThrow(/watch revision/);
  });
});
