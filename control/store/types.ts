/**
 * The storage contract of the API server. Two implementations (SQLite, etcd) pass one shared
 * test suite. Keys are opaque strings such as `/registry/services/default/echo`; values are
 * whole Kubernetes objects as JSON. Revisions are one cluster-wide, strictly growing counter
 * (etcd's mod_revision); the API exposes them as `metadata.resourceVersion`.
 */
export type JsonObject = Record<string, unknown>;

export interface StoredValue {
  readonly key: string;
  /** The object as stored; its `metadata.resourceVersion` equals `String(modRevision)`. */
  readonly value: JsonObject;
  readonly modRevision: number;
}

export interface ListResult {
  readonly items: readonly StoredValue[];
  /** The store revision the list is consistent with. */
  readonly revision: number;
  /** Set when `limit` cut the list: pass it back as `continueKey` to get the rest. */
  readonly continueKey?: string;
}

export interface ListOptions {
  readonly limit?: number;
  /** Start after this key (exclusive). */
  readonly continueKey?: string;
  /**
   * List as of this revision (for consistent paging); Expired when compacted, Unavailable when
   * newer than the store's current revision.
   */
  readonly revision?: number;
}

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED';

export interface StoreEvent {
  readonly type: WatchEventType;
  readonly key: string;
  /** For DELETED: the last state, with `metadata.resourceVersion` set to the deletion revision. */
  readonly value: JsonObject;
  readonly modRevision: number;
  readonly prevValue?: JsonObject;
}

export interface Watcher {
  close(): void;
}

export interface WatchHandlers {
  onEvent(event: StoreEvent): void;
  /** The watch cannot go on (history compacted: `code` 410; store closed or failed: other). */
  onError(error: StoreError): void;
  /**
   * Optional progress notification: every event under the prefix up to `revision` has been
   * delivered (the store moved on through writes elsewhere). Lets caches of one prefix keep up
   * with the store's revision, for bookmarks and "wait until fresh" reads.
   */
  onProgress?(revision: number): void;
}

/** Errors with stable codes the API layer maps to Kubernetes Status reasons. */
export class StoreError extends Error {
  constructor(
    readonly code: 'NotFound' | 'AlreadyExists' | 'Conflict' | 'Expired' | 'Unavailable',
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'StoreError';
  }
}

export interface Store {
  get(key: string): Promise<StoredValue | undefined>;
  list(prefix: string, options?: ListOptions): Promise<ListResult>;
  count(prefix: string): Promise<number>;
  /** Fails with AlreadyExists. The stored value gets its resourceVersion set. */
  create(key: string, value: JsonObject): Promise<StoredValue>;
  /**
   * Compare-and-swap: fails with Conflict when `expectedRevision` is given and differs from
   * the current modRevision, NotFound when the key is absent.
   */
  update(key: string, value: JsonObject, expectedRevision?: number): Promise<StoredValue>;
  /**
   * Fails with NotFound, or Conflict on a stale `expectedRevision`. Returns the deleted value
   * as its DELETED event carries it: last state, `modRevision` and resourceVersion = the
   * deletion revision.
   */
  delete(key: string, expectedRevision?: number): Promise<StoredValue>;
  /**
   * Every change under `prefix` after `fromRevision` (exclusive), in revision order; history
   * older than the compacted revision fails with Expired (410).
   */
  watch(prefix: string, fromRevision: number, handlers: WatchHandlers): Watcher;
  currentRevision(): Promise<number>;
  /**
   * Drops history before `revision` (etcd semantics): afterwards, lists at a revision below it
   * and watches from a revision below `revision - 1` fail with Expired. Fails for a revision
   * newer than the current one.
   */
  compact(revision: number): Promise<void>;
  close(): Promise<void>;
}
