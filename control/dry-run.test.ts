import { afterAll, beforeAll, expect, it } from 'vitest';
import { dryRunWrites } from './dry-run.js';
import type { SqliteStore } from './store/sqlite.js';
import { tempSqliteStore } from './testing.js';

let store: SqliteStore;
let remove: () => Promise<void>;

beforeAll(async () => {
  ({ store, remove } = await tempSqliteStore());
});

afterAll(() => remove());

const code = (p: Promise<unknown>) =>
  p.then(
    () => 'ok',
    (e: { code?: string }) => e.code,
  );

it('checks writes as the store would and writes nothing', async () => {
  const dry = dryRunWrites(store);
  const live = await store.create('/registry/configmaps/default/a', { metadata: { name: 'a' } });
  const revision = await store.currentRevision();

  expect(await dry.create('/registry/configmaps/default/b', { metadata: { name: 'b' } })).toEqual({
    key: '/registry/configmaps/default/b',
    value: { metadata: { name: 'b' } },
    modRevision: 0,
  });
  expect(await code(dry.create('/registry/configmaps/default/a', { metadata: { name: 'a' } }))).toBe(
    'AlreadyExists',
  );

  const updated = await dry.update(
    '/registry/configmaps/default/a',
    { metadata: { name: 'a' }, data: { x: '1' } },
    live.modRevision,
  );
  expect(updated.value).toEqual({
    metadata: { name: 'a', resourceVersion: String(live.modRevision) },
    data: { x: '1' },
  });
  expect(await code(dry.update('/registry/configmaps/default/a', {}, live.modRevision - 1))).toBe('Conflict');
  expect(await code(dry.update('/registry/configmaps/default/gone', {}))).toBe('NotFound');

  expect((await dry.delete('/registry/configmaps/default/a', live.modRevision)).value).toEqual(live.value);
  expect(await code(dry.delete('/registry/configmaps/default/a', live.modRevision + 5))).toBe('Conflict');
  expect(await code(dry.delete('/registry/configmaps/default/gone'))).toBe('NotFound');

  expect(await store.currentRevision()).toBe(revision);
  expect(await store.get('/registry/configmaps/default/a')).toEqual(live);
  expect(await store.get('/registry/configmaps/default/b')).toBeUndefined();
});
