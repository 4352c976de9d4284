import { afterAll, beforeAll, expect, it } from 'vitest';
import type { KubeObject } from '../kube/client.js';
import { extensions } from './layers.js';
import { Registry } from './registry.js';
import { findResource } from './resources.js';
import type { SqliteStore } from './store/sqlite.js';
import { tempSqliteStore } from './testing.js';

let store: SqliteStore;
let remove: () => Promise<void>;

beforeAll(async () => {
  ({ store, remove } = await tempSqliteStore());
});

afterAll(() => remove());

it('refuses a create in a namespace it just marked for deletion, though the cache still shows it active', async () => {
  const namespaces = findResource('', 'v1', 'namespaces')!;
  const configmaps = findResource('', 'v1', 'configmaps')!;
  const active: KubeObject = { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'lab' } };
  let now = Date.now();
  // A watch cache that has not seen the deletion yet.
  const registry = new Registry(
    store,
    extensions,
    () => new Date(now),
    undefined,
    (name) => (name === 'lab' ? active : undefined),
  );
  const opts = { fieldManager: 'test', fieldValidation: 'Strict' as const };
  await registry.create(namespaces, undefined, active, opts);
  const cm = (name: string): KubeObject => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name } });
  await registry.create(configmaps, 'lab', cm('before'), opts);

  await registry.delete(namespaces, undefined, 'lab', {});
  await expect(registry.create(configmaps, 'lab', cm('after'), opts)).rejects.toMatchObject({
    code: 403,
    message: expect.stringContaining('because it is being terminated'),
  });
  now += 29_000;
  await expect(registry.create(configmaps, 'lab', cm('still'), opts)).rejects.toMatchObject({ code: 403 });
  // After kube-apiserver's 30 s the cache is trusted again (this fake one never catches up).
  now += 2_000;
  await registry.create(configmaps, 'lab', cm('later'), opts);
});
