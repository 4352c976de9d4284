/*
 * Everything but the etcd store itself, which lives in './etcd.js': its gRPC client costs
 * about 20 MB of memory, which a server on SQLite should not pay.
 */
export * from './types.js';
export { prefixEnd } from './keys.js';
export { SqliteStore, openSqliteStore } from './sqlite.js';
export type { SqliteStoreOptions } from './sqlite.js';
export { WatchCache } from './watch-cache.js';
export type { CacheWatcher, WatchCacheOptions } from './watch-cache.js';
export { startEtcd, ETCD_BINARY } from './etcd-process.js';
export type { EtcdProcess } from './etcd-process.js';
export { startCompactor, DEFAULT_COMPACT_INTERVAL_MS } from './compactor.js';
export type { Compactor } from './compactor.js';
