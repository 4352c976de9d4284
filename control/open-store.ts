/** Opens the configured storage backend for a data directory. */
import { join } from 'node:path';
import { openSqliteStore, type Store } from './store/index.js';

export type StoreKind = 'sqlite' | 'etcd';

export function openStoreFor(
  kind: StoreKind,
  etcdEndpoints: readonly string[],
): (dataDir: string) => Promise<Store> {
  return async (dataDir) => {
    if (kind === 'sqlite') return openSqliteStore(join(dataDir, 'state.db'));
    if (etcdEndpoints.length === 0) throw new Error('--store etcd needs --etcd-endpoints');
    // Loaded only here: the etcd client would otherwise sit in every server's memory.
    const { openEtcdStore } = await import('./store/etcd.js');
    return openEtcdStore({ endpoints: etcdEndpoints });
  };
}
