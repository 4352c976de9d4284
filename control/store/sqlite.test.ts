import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { SqliteStore, checkpointDue } from './sqlite.js';
import { describeStore, svc } from './store-suite.js';
import type { StoreError } from './types.js';

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'klab-store-'));
}

describeStore('sqlite', async () => {
  const dir = tempDir();
  return {
    open: async () => new SqliteStore(join(dir, 'state.db')),
    cleanup: async () => rmSync(dir, { recursive: true, force: true }),
  };
});

describe('SqliteStore specifics', () => {
  const dirs: string[] = [];
  const stores: SqliteStore[] = [];
  afterEach(async () => {
    for (const s of stores.splice(0)) await s.close();
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  function open(path: string, replayBatch?: number, checkpointIntervalMs?: number): SqliteStore {
    const s = new SqliteStore(path, { replayBatch, checkpointIntervalMs });
    stores.push(s);
    return s;
  }

  it('starts at revision 1, so no list revision reads as the API\'s "any" (0)', async () => {
    const dir = tempDir();
    dirs.push(dir);
    expect(await open(join(dir, 's.db')).currentRevision()).toBe(1);
  });

  it('refuses a second opener of the same file with a clear error', async () => {
    const dir = tempDir();
    dirs.push(dir);
    const first = open(join(dir, 's.db'));
    await first.create('/registry/a', svc('a'));
    expect(() => open(join(dir, 's.db'))).toThrow(/s\.db.*cannot open/);
  });

  it('replays a long backlog in batches, in order', async () => {
    const dir = tempDir();
    dirs.push(dir);
    const s = open(join(dir, 's.db'), 7);
    for (let i = 0; i < 30; i++) await s.create(`/registry/p/${i}`, svc(String(i)));
    const revs: number[] = [];
    const errors: StoreError[] = [];
    const w = s.watch('/registry/p/', 1, {
      onEvent: (e) => revs.push(e.modRevision),
      onError: (e) => errors.push(e),
    });
    await new Promise((resolve) => setTimeout(resolve, 10));
    w.close();
    expect(errors).toEqual([]);
    expect(revs).toEqual([...Array(30).keys()].map((i) => i + 2));
  });

  it('commits writes of one turn together, a refused one leaving the others intact', async () => {
    const dir = tempDir();
    dirs.push(dir);
    const path = join(dir, 's.db');
    const s = open(path);
    const results = await Promise.allSettled([
      s.create('/registry/a', svc('a')),
      s.create('/registry/a', svc('again')),
      s.update('/registry/missing', svc('m')),
      s.create('/registry/b', svc('b')),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'rejected', 'fulfilled']);
    expect(
      results.map((r) => (r.status === 'rejected' ? (r.reason as StoreError).code : r.value.modRevision)),
    ).toEqual([2, 'AlreadyExists', 'NotFound', 3]);
    const pending = s.create('/registry/c', svc('c'));
    await s.close();
    expect((await pending).modRevision).toBe(4);
    const again = open(path);
    expect((await again.list('/registry/')).items.map((i) => [i.key, i.modRevision])).toEqual([
      ['/registry/a', 2],
      ['/registry/b', 3],
      ['/registry/c', 4],
    ]);
    expect(await again.currentRevision()).toBe(4);
  });

  it('checkpoints at an idle moment once the interval has passed, under steady load after four', () => {
    expect(checkpointDue(0, 60_000, 1_000, true)).toBe(false);
    expect(checkpointDue(1, 999, 1_000, true)).toBe(false);
    expect(checkpointDue(1, 1_000, 1_000, true)).toBe(true);
    expect(checkpointDue(9, 3_999, 1_000, false)).toBe(false);
    expect(checkpointDue(9, 4_000, 1_000, false)).toBe(true);
    expect(checkpointDue(1, 0, 0, false)).toBe(true);
  });

  it('checkpoints the WAL into the database file as writes come in; compaction empties the WAL', async () => {
    const dir = tempDir();
    dirs.push(dir);
    const path = join(dir, 's.db');
    const s = open(path, undefined, 0);
    const before = statSync(path).size;
    let last = 0;
    for (let i = 0; i < 50; i++)
      last = (await s.create(`/registry/k${i}`, svc(`k${i}`, { spec: 'x'.repeat(2000) }))).modRevision;
    // The next commit waits for the checkpoint, so by its acknowledgement the pages are copied.
    await s.create('/registry/last', svc('last'));
    expect(statSync(path).size).toBeGreaterThan(before + 50 * 2000);
    await s.compact(last);
    expect(statSync(`${path}-wal`).size).toBe(0);
    expect((await s.get('/registry/k49'))?.modRevision).toBe(last);
    await s.close();
    const again = open(path);
    expect(await again.count('/registry/')).toBe(51);
  });

  it('keeps the compacted revision across a restart', async () => {
    const dir = tempDir();
    dirs.push(dir);
    const path = join(dir, 's.db');
    const s = open(path);
    const a = await s.create('/registry/a', svc('a'));
    const b = await s.update('/registry/a', svc('a', { spec: 1 }));
    await s.compact(b.modRevision);
    await expect(s.compact(b.modRevision + 5)).rejects.toThrow(/newer than current revision/);
    await s.close();
    const again = open(path);
    await expect(again.list('/registry/', { revision: a.modRevision })).rejects.toMatchObject({
      code: 'Expired',
    });
    await expect(again.list('/registry/', { revision: b.modRevision + 1 })).rejects.toMatchObject({
      code: 'Unavailable',
    });
  });
});
