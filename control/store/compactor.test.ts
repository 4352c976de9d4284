import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { startCompactor } from './compactor.js';
import type { Compactor } from './compactor.js';
import { SqliteStore } from './sqlite.js';
import { Collector, svc } from './store-suite.js';

const dir = mkdtempSync(join(tmpdir(), 'klab-store-'));
let store: SqliteStore | undefined;
let compactor: Compactor | undefined;

afterEach(async () => {
  compactor?.stop();
  await store?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** A SqliteStore that records the revisions it is compacted to. */
class RecordingStore extends SqliteStore {
  readonly compactions: number[] = [];
  override async compact(revision: number): Promise<void> {
    this.compactions.push(revision);
    await super.compact(revision);
  }
}

it('compacts to the revision seen one tick earlier, so one interval of history survives', async () => {
  const s = new RecordingStore(join(dir, 'state.db'));
  store = s;
  const a = await s.create('/registry/pods/a', svc('a'));
  const errors: unknown[] = [];
  compactor = startCompactor(s, { intervalMs: 30, onError: (e) => errors.push(e) });
  const wait = new Collector();
  await wait.until('the first compaction', () => s.compactions.length > 0);
  expect(s.compactions[0]).toBe(a.modRevision);
  const b = await s.update('/registry/pods/a', svc('a', { spec: 1 }));
  await wait.until('a compaction past the update', () => s.compactions.some((r) => r >= b.modRevision));
  const old = new Collector();
  s.watch('/registry/', a.modRevision - 1, old.handlers);
  await old.until('the Expired error', () => old.errors.length > 0);
  expect(old.errors[0]?.code).toBe('Expired');
  expect(errors).toEqual([]);
});

it('rejects a bad interval', () => {
  expect(() => startCompactor({} as SqliteStore, { intervalMs: 0 })).toThrow(/intervalMs/);
});
