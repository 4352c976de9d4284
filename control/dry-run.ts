/**
 * The writes of a `dryRun=All` request: checked against storage exactly as a real write would
 * be (exists, not found, stale resourceVersion), answered with what the store would return, and
 * never written — kube-apiserver's DryRunnableStorage does the same below its registry, so the
 * registry itself has one write path for both.
 */
import { withResourceVersion } from './store/keys.js';
import { StoreError, type JsonObject, type Store, type StoredValue } from './store/types.js';

export type StoreWrites = Pick<Store, 'create' | 'update' | 'delete'>;

export function dryRunWrites(store: Store): StoreWrites {
  const current = async (key: string, expectedRevision: number | undefined): Promise<StoredValue> => {
    const live = await store.get(key);
    if (!live) throw new StoreError('NotFound', `${key} not found`);
    if (expectedRevision !== undefined && live.modRevision !== expectedRevision) {
      throw new StoreError(
        'Conflict',
        `${key} has revision ${live.modRevision}, not the expected ${expectedRevision}: the object has been modified`,
      );
    }
    return live;
  };
  return {
    // A dry-run create has no resourceVersion, as in kube: nothing was stored at any revision.
    async create(key: string, value: JsonObject): Promise<StoredValue> {
      if (await store.get(key)) throw new StoreError('AlreadyExists', `${key} already exists`);
      return { key, value, modRevision: 0 };
    },
    // The answer keeps the live resourceVersion: the object was not written at a new one.
    async update(key: string, value: JsonObject, expectedRevision?: number): Promise<StoredValue> {
      const live = await current(key, expectedRevision);
      return { key, value: withResourceVersion(key, value, live.modRevision), modRevision: live.modRevision };
    },
    async delete(key: string, expectedRevision?: number): Promise<StoredValue> {
      return current(key, expectedRevision);
    },
  };
}
