export * from './types.js';
export { prefixEnd } from './keys.js';
export { SqliteStore, openSqliteStore } from './sqlite.js';
export type { SqliteStoreOptions } from './sqlite.js';
export { WatchCache } from './watch-cache.js';
export type { CacheWatcher, WatchCacheOptions } from './watch-cache.js';
