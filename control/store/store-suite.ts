import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { StoreError } from './types.js';
import type { JsonObject, Store, StoreEvent, Watcher } from './types.js';

/** Storage under test: `open()` gives a store over the fixture's data, again after a close. */
export interface StoreFixture {
  open(): Promise<Store>;
  cleanup(): Promise<void>;
}

export function svc(name: string, extra: JsonObject = {}): JsonObject {
  return { apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: 'default' }, ...extra };
}

export function rvOf(value: JsonObject): string | undefined {
  return (value['metadata'] as JsonObject | undefined)?.['resourceVersion'] as string | undefined;
}

/** Collects watch events and errors; `until` waits for a condition with a deadline. */
export class Collector {
  readonly events: StoreEvent[] = [];
  readonly errors: StoreError[] = [];
  readonly handlers = {
    onEvent: (event: StoreEvent) => void this.events.push(event),
    onError: (error: StoreError) => void this.errors.push(error),
  };

  async until(what: string, done: () => boolean, timeoutMs = 5000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!done()) {
      if (Date.now() > deadline) {
        throw new Error(
          `timed out waiting for ${what}: ${this.events.length} events, ${this.errors.length} errors`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  }

  async waitEvents(n: number): Promise<StoreEvent[]> {
    await this.until(`${n} events`, () => this.events.length >= n || this.errors.length > 0);
    return this.events;
  }
}

async function storeError(promise: Promise<unknown>): Promise<StoreError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof StoreError) return error;
    throw error;
  }
  throw new Error('expected a StoreError, the call succeeded');
}

/** The behaviour every Store must have; run by each implementation's test file. */
export function describeStore(name: string, makeFixture: () => Promise<StoreFixture>): void {
  describe(`Store contract: ${name}`, () => {
    let fixture: StoreFixture;
    let store: Store;
    const watchers: Watcher[] = [];
    const opened: Store[] = [];

    async function open(): Promise<Store> {
      const s = await fixture.open();
      opened.push(s);
      return s;
    }

    function watch(s: Store, prefix: string, from: number): Collector {
      const collector = new Collector();
      watchers.push(s.watch(prefix, from, collector.handlers));
      return collector;
    }

    beforeEach(async () => {
      fixture = await makeFixture();
      store = await open();
    });

    afterEach(async () => {
      for (const w of watchers.splice(0)) w.close();
      for (const s of opened.splice(0)) await s.close();
      await fixture.cleanup();
    });

    it('creates, reads, updates and deletes, stamping resourceVersion with the revision', async () => {
      const created = await store.create('/registry/services/default/a', svc('a'));
      expect(rvOf(created.value)).toBe(String(created.modRevision));
      expect(created.key).toBe('/registry/services/default/a');

      const got = await store.get('/registry/services/default/a');
      expect(got).toEqual(created);
      expect(await store.get('/registry/services/default/missing')).toBeUndefined();

      const updated = await store.update('/registry/services/default/a', svc('a', { spec: { x: 1 } }));
      expect(updated.modRevision).toBeGreaterThan(created.modRevision);
      expect(rvOf(updated.value)).toBe(String(updated.modRevision));
      expect((await store.get('/registry/services/default/a'))?.value['spec']).toEqual({ x: 1 });

      const deleted = await store.delete('/registry/services/default/a', updated.modRevision);
      expect(deleted.modRevision).toBeGreaterThan(updated.modRevision);
      expect(deleted.value['spec']).toEqual({ x: 1 });
      expect(rvOf(deleted.value)).toBe(String(deleted.modRevision));
      expect(await store.get('/registry/services/default/a')).toBeUndefined();
      expect(await store.currentRevision()).toBe(deleted.modRevision);
    });

    it('refuses duplicates, missing keys and stale revisions without changing anything', async () => {
      const a = await store.create('/registry/services/default/a', svc('a'));
      expect((await storeError(store.create('/registry/services/default/a', svc('a')))).code).toBe(
        'AlreadyExists',
      );
      expect((await storeError(store.update('/registry/services/default/b', svc('b')))).code).toBe(
        'NotFound',
      );
      expect((await storeError(store.delete('/registry/services/default/b'))).code).toBe('NotFound');
      const b = await store.update('/registry/services/default/a', svc('a', { spec: 1 }), a.modRevision);
      const stale = await storeError(
        store.update('/registry/services/default/a', svc('a', { spec: 2 }), a.modRevision),
      );
      expect(stale.code).toBe('Conflict');
      expect((await storeError(store.delete('/registry/services/default/a', a.modRevision))).code).toBe(
        'Conflict',
      );
      expect(await store.get('/registry/services/default/a')).toEqual(b);
      expect(await store.currentRevision()).toBe(b.modRevision);
    });

    it('rejects bad input with errors naming the problem', async () => {
      await expect(store.create('', svc('a'))).rejects.toThrow(/key/);
      await expect(store.list('/registry/', { limit: 0 })).rejects.toThrow(/limit/);
      await expect(store.create('/registry/x', [] as unknown as JsonObject)).rejects.toThrow(
        /\/registry\/x.*object/,
      );
      await expect(store.create('/registry/y', { metadata: 'no' })).rejects.toThrow(/metadata/);
      expect(await store.get('/registry/x')).toBeUndefined();
    });

    it('keeps one strictly growing revision across keys', async () => {
      const start = await store.currentRevision();
      const revs: number[] = [];
      for (const key of ['/registry/pods/a', '/registry/services/b', '/registry/pods/c']) {
        revs.push((await store.create(key, svc(key))).modRevision);
      }
      revs.push((await store.update('/registry/pods/a', svc('a2'))).modRevision);
      revs.push((await store.delete('/registry/services/b')).modRevision);
      expect(revs[0]).toBeGreaterThan(start);
      for (let i = 1; i < revs.length; i++) expect(revs[i]).toBeGreaterThan(revs[i - 1] as number);
      const list = await store.list('/registry/pods/');
      expect(list.revision).toBe(revs[revs.length - 1]);
    });

    it('lists and counts by prefix without leaking into neighbouring prefixes', async () => {
      await store.create('/registry/services/default/a', svc('a'));
      await store.create('/registry/services/kube-system/b', svc('b'));
      await store.create('/registry/servicesx/default/c', svc('c'));
      await store.create('/registry/service/d', svc('d'));
      const list = await store.list('/registry/services/');
      expect(list.items.map((i) => i.key)).toEqual([
        '/registry/services/default/a',
        '/registry/services/kube-system/b',
      ]);
      expect(list.continueKey).toBeUndefined();
      expect(await store.count('/registry/services/')).toBe(2);
      expect(await store.count('/registry/servicesx/')).toBe(1);
      expect((await store.list('/registry/services/default/')).items).toHaveLength(1);
      expect(await store.count('/registry/nothing/')).toBe(0);
    });

    it('pages with limit/continue at one revision even while others write', async () => {
      for (let i = 0; i < 10; i++)
        await store.create(`/registry/pods/ns/p${i}`, svc(`p${i}`, { spec: { v: 0 } }));
      const first = await store.list('/registry/pods/', { limit: 4 });
      expect(first.items.map((i) => i.key)).toEqual(
        ['p0', 'p1', 'p2', 'p3'].map((n) => `/registry/pods/ns/${n}`),
      );
      expect(first.continueKey).toBe('/registry/pods/ns/p3');

      await store.update('/registry/pods/ns/p5', svc('p5', { spec: { v: 1 } }));
      await store.delete('/registry/pods/ns/p6');
      await store.create('/registry/pods/ns/p45', svc('p45'));
      await store.create('/registry/pods/ns/p7x', svc('p7x'));
      await store.delete('/registry/pods/ns/p8');
      await store.create('/registry/pods/ns/p8', svc('p8', { spec: { v: 2 } }));

      const keys = first.items.map((i) => i.key);
      let page = first;
      while (page.continueKey !== undefined) {
        page = await store.list('/registry/pods/', {
          limit: 4,
          continueKey: page.continueKey,
          revision: first.revision,
        });
        expect(page.revision).toBe(first.revision);
        for (const item of page.items) {
          expect(item.value['spec']).toEqual({ v: 0 });
          expect(item.modRevision).toBeLessThanOrEqual(first.revision);
          expect(rvOf(item.value)).toBe(String(item.modRevision));
        }
        keys.push(...page.items.map((i) => i.key));
      }
      expect(keys).toEqual([...Array(10).keys()].map((i) => `/registry/pods/ns/p${i}`));

      const now = await store.list('/registry/pods/');
      expect(now.items.map((i) => i.key)).toEqual(
        ['p0', 'p1', 'p2', 'p3', 'p4', 'p45', 'p5', 'p7', 'p7x', 'p8', 'p9'].map(
          (n) => `/registry/pods/ns/${n}`,
        ),
      );
    });

    it('watches from a revision in order, with prevValue, filtered by prefix', async () => {
      await store.create('/registry/services/default/old', svc('old'));
      const from = await store.currentRevision();
      const a = await store.create('/registry/services/default/a', svc('a'));
      await store.create('/registry/servicesx/default/x', svc('x'));
      const live = watch(store, '/registry/services/', from);
      const a2 = await store.update('/registry/services/default/a', svc('a', { spec: 2 }));
      const gone = await store.delete('/registry/services/default/a');
      await store.create('/registry/services/default/b', svc('b'));

      const events = await live.waitEvents(4);
      expect(live.errors).toEqual([]);
      expect(events.map((e) => [e.type, e.key])).toEqual([
        ['ADDED', '/registry/services/default/a'],
        ['MODIFIED', '/registry/services/default/a'],
        ['DELETED', '/registry/services/default/a'],
        ['ADDED', '/registry/services/default/b'],
      ]);
      const [added, modified, deleted] = events as [StoreEvent, StoreEvent, StoreEvent];
      expect(added.value).toEqual(a.value);
      expect(added.prevValue).toBeUndefined();
      expect(modified.value).toEqual(a2.value);
      expect(modified.prevValue).toEqual(a.value);
      expect(deleted.modRevision).toBe(gone.modRevision);
      expect(rvOf(deleted.value)).toBe(String(gone.modRevision));
      expect(deleted.value['spec']).toBe(2);
      expect(deleted.prevValue).toEqual(a2.value);
      for (let i = 1; i < events.length; i++) {
        expect(events[i]?.modRevision).toBeGreaterThan(events[i - 1]?.modRevision as number);
      }
    });

    it('skips writes up to a watch revision that was still in the future', async () => {
      const now = await store.currentRevision();
      const ahead = watch(store, '/registry/', now + 2);
      for (const name of ['a', 'b', 'c', 'd']) await store.create(`/registry/${name}`, svc(name));
      const events = await ahead.waitEvents(2);
      await new Promise((resolve) => setTimeout(resolve, 20));
      expect(events.map((e) => e.modRevision)).toEqual([now + 3, now + 4]);
    });

    it('stops delivering after close', async () => {
      const from = await store.currentRevision();
      const collector = new Collector();
      const w = store.watch('/registry/', from, collector.handlers);
      await store.create('/registry/a', svc('a'));
      await collector.waitEvents(1);
      w.close();
      await store.create('/registry/b', svc('b'));
      const other = watch(store, '/registry/', from);
      await other.waitEvents(2);
      expect(collector.events).toHaveLength(1);
      expect(collector.errors).toEqual([]);
    });

    it('loses nothing acknowledged across a restart and resumes watches and revisions', async () => {
      const a = await store.create('/registry/services/default/a', svc('a'));
      const seen = await store.currentRevision();
      const b = await store.update('/registry/services/default/a', svc('a', { spec: 'b' }));
      await store.close();

      const again = await open();
      expect(await again.get('/registry/services/default/a')).toEqual(b);
      expect(await again.currentRevision()).toBe(b.modRevision);
      const resumed = watch(again, '/registry/services/', seen);
      const c = await again.create('/registry/services/default/c', svc('c'));
      expect(c.modRevision).toBeGreaterThan(b.modRevision);
      const events = await resumed.waitEvents(2);
      expect(events.map((e) => [e.type, e.modRevision])).toEqual([
        ['MODIFIED', b.modRevision],
        ['ADDED', c.modRevision],
      ]);
      expect(events[0]?.prevValue).toEqual(a.value);
    });

    it('fails watches and lists from compacted history with Expired', async () => {
      const a = await store.create('/registry/pods/a', svc('a'));
      await store.update('/registry/pods/a', svc('a', { spec: 1 }));
      const b = await store.update('/registry/pods/a', svc('a', { spec: 2 }));
      const c = await store.update('/registry/pods/a', svc('a', { spec: 3 }));
      await store.compact(b.modRevision);

      const old = watch(store, '/registry/pods/', a.modRevision);
      await old.until('the Expired error', () => old.errors.length > 0);
      expect(old.errors[0]?.code).toBe('Expired');
      expect(old.events).toEqual([]);
      expect((await storeError(store.list('/registry/pods/', { revision: a.modRevision }))).code).toBe(
        'Expired',
      );

      const ok = watch(store, '/registry/pods/', b.modRevision);
      expect((await ok.waitEvents(1)).map((e) => e.modRevision)).toEqual([c.modRevision]);
      expect(ok.errors).toEqual([]);
      const atB = await store.list('/registry/pods/', { revision: b.modRevision });
      expect(atB.items.map((i) => i.value['spec'])).toEqual([2]);
      const future = await storeError(store.list('/registry/pods/', { revision: c.modRevision + 100 }));
      expect(future.code).toBe('Unavailable');
      await expect(store.compact(c.modRevision + 100)).rejects.toThrow(/newer than current revision/);
    });

    it('serializes concurrent writers: distinct revisions, exactly one CAS winner', async () => {
      const creates = await Promise.all(
        [...Array(20).keys()].map((i) => store.create(`/registry/pods/p${i}`, svc(`p${i}`))),
      );
      expect(new Set(creates.map((c) => c.modRevision)).size).toBe(20);

      const base = creates[0] as (typeof creates)[number];
      const results = await Promise.allSettled(
        [...Array(10).keys()].map((i) => store.update(base.key, svc('p0', { spec: i }), base.modRevision)),
      );
      const won = results.filter((r) => r.status === 'fulfilled');
      const lost = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
      expect(won).toHaveLength(1);
      expect(lost).toHaveLength(9);
      for (const r of lost) expect((r.reason as StoreError).code).toBe('Conflict');
      expect(await store.count('/registry/pods/')).toBe(20);
    });

    it('ends open watches with Unavailable when the store closes', async () => {
      const w = watch(store, '/registry/', await store.currentRevision());
      await store.close();
      await w.until('the close error', () => w.errors.length > 0);
      expect(w.errors[0]?.code).toBe('Unavailable');
      await expect(store.get('/registry/a')).rejects.toThrow(StoreError);
    });
  });
}
