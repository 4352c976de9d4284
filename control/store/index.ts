export * from './types.js';
export { prefixEnd } from './keys.js';
export { SqliteStore, openSqliteStore } from './sqlite.js';
export type { SqliteStoreOptions } from './sqlite.js';
