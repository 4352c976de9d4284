import { Etcd3 } from 'etcd3';
import type { IKeyValue, IOptions, IWatchResponse } from 'etcd3';
import {
  checkKey,
  checkLimit,
  checkPrefix,
  checkRevision,
  prefixEnd,
  withResourceVersion,
  withoutResourceVersion,
} from './keys.js';
import { QueuedWatcher } from './watch-queue.js';
import { StoreError } from './types.js';
import type {
  JsonObject,
  ListOptions,
  ListResult,
  Store,
  StoreEvent,
  StoredValue,
  WatchHandlers,
  Watcher,
} from './types.js';

export interface EtcdStoreOptions {
  /** Client URLs, e.g. `http://127.0.0.1:2379`. */
  readonly endpoints: readonly string[];
  /** A key prefix all keys live under (kube-apiserver's `--etcd-prefix` role); none by default. */
  readonly namespace?: string;
  /** How long a call waits for a connection before failing, in ms (default 5,000). */
  readonly dialTimeoutMs?: number;
}

/**
 * The store on etcd 3, mapped as kube-apiserver maps it: resourceVersion is the key's
 * mod_revision, create and update are transactions comparing mod_revision (0 for create),
 * watches start at `fromRevision + 1` with previous values, and compacted history is Expired.
 * Values are stored without `metadata.resourceVersion`; it is set from mod_revision on read.
 */
export class EtcdStore implements Store {
  private readonly client: Etcd3;
  /** Prepended to every key in etcd and stripped from every key read back. */
  private readonly ns: string;
  private readonly watchers = new Set<QueuedWatcher>();
  private closed = false;

  constructor(readonly options: EtcdStoreOptions) {
    if (options.endpoints.length === 0) throw new Error('etcd store: at least one endpoint is required');
    const clientOptions: IOptions = {
      hosts: [...options.endpoints],
      dialTimeout: options.dialTimeoutMs ?? 5_000,
      // gRPC's 4 MiB default cuts lists of a few thousand objects; kube-apiserver lifts it too.
      grpcOptions: { 'grpc.max_receive_message_length': -1 },
    };
    this.client = new Etcd3(clientOptions);
    this.ns = options.namespace ?? '';
  }

  async get(key: string): Promise<StoredValue | undefined> {
    checkKey(key);
    const res = await this.call(() => this.client.get(this.ns + key).exec());
    const kv = res.kvs[0];
    return kv && toStored(kv, this.ns);
  }

  async list(prefix: string, options: ListOptions = {}): Promise<ListResult> {
    checkPrefix(prefix);
    checkLimit(options.limit);
    if (options.revision !== undefined) checkRevision('list revision', options.revision);
    const after = options.continueKey;
    // `after + "\0"` is the smallest key greater than `after`.
    const start = after !== undefined && after >= prefix ? `${after}\0` : prefix;
    let query = this.client.getAll().inRange({ start: this.ns + start, end: this.ns + prefixEnd(prefix) });
    if (options.limit !== undefined) query = query.limit(options.limit);
    if (options.revision !== undefined) query = query.revision(options.revision);
    const res = await this.call(() => query.exec());
    const items = res.kvs.map((kv) => toStored(kv, this.ns));
    const revision = options.revision ?? Number(res.header.revision);
    const last = items[items.length - 1];
    return res.more && last ? { items, revision, continueKey: last.key } : { items, revision };
  }

  async count(prefix: string): Promise<number> {
    checkPrefix(prefix);
    return this.call(() =>
      this.client
        .getAll()
        .prefix(this.ns + prefix)
        .count(),
    );
  }

  async create(key: string, value: JsonObject): Promise<StoredValue> {
    checkKey(key);
    const body = JSON.stringify(withoutResourceVersion(key, value));
    const res = await this.call(() =>
      this.client
        .if(this.ns + key, 'Mod', '==', 0)
        .then(this.client.put(this.ns + key).value(body))
        .commit(),
    );
    if (!res.succeeded) throw new StoreError('AlreadyExists', `${key} already exists`);
    const rev = Number(res.header.revision);
    return { key, value: withResourceVersion(key, value, rev), modRevision: rev };
  }

  async update(key: string, value: JsonObject, expectedRevision?: number): Promise<StoredValue> {
    checkKey(key);
    if (expectedRevision !== undefined) checkRevision('expected revision', expectedRevision);
    const body = JSON.stringify(withoutResourceVersion(key, value));
    const res = await this.call(() =>
      this.guard(key, expectedRevision)
        .then(this.client.put(this.ns + key).value(body))
        .else(this.client.get(this.ns + key))
        .commit(),
    );
    if (!res.succeeded) throw failure(key, expectedRevision, res.responses[0]?.response_range?.kvs[0]);
    const rev = Number(res.header.revision);
    return { key, value: withResourceVersion(key, value, rev), modRevision: rev };
  }

  async delete(key: string, expectedRevision?: number): Promise<StoredValue> {
    checkKey(key);
    if (expectedRevision !== undefined) checkRevision('expected revision', expectedRevision);
    // The get inside the transaction reads the state the delete removes.
    const res = await this.call(() =>
      this.guard(key, expectedRevision)
        .then(this.client.get(this.ns + key), this.client.delete().key(this.ns + key))
        .else(this.client.get(this.ns + key))
        .commit(),
    );
    const last = res.responses[0]?.response_range?.kvs[0];
    if (!res.succeeded || !last) throw failure(key, expectedRevision, last);
    const rev = Number(res.header.revision);
    return { key, value: decode(last, this.ns, rev), modRevision: rev };
  }

  watch(prefix: string, fromRevision: number, handlers: WatchHandlers): Watcher {
    checkPrefix(prefix);
    checkRevision('watch revision', fromRevision);
    if (this.closed) {
      const failed = new QueuedWatcher(prefix, fromRevision, handlers, () => undefined);
      failed.fail(new StoreError('Unavailable', 'etcd store is closed'));
      return failed;
    }
    const etcdWatcher = this.client
      .watch()
      .prefix(this.ns + prefix)
      .startRevision(String(fromRevision + 1))
      .withPreviousKV()
      .watcher();
    const watcher = new QueuedWatcher(prefix, fromRevision, handlers, (w) => {
      this.watchers.delete(w);
      etcdWatcher.cancel().catch(() => undefined);
    });
    this.watchers.add(watcher);
    // The next revision this watch still owes, to tell a compaction from other cancellations.
    let next = fromRevision + 1;
    etcdWatcher.on('data', (res: IWatchResponse) => {
      // Only an empty response is a progress notification: etcd sends those to synced watchers,
      // at the interval of etcd's --experimental-watch-progress-notify-interval.
      if (res.events.length === 0 && !res.created && !res.canceled) {
        watcher.progress(Number(res.header.revision));
        return;
      }
      try {
        for (const event of res.events) {
          const storeEvent = toEvent(event.type, event.kv, event.prev_kv, this.ns);
          next = storeEvent.modRevision + 1;
          watcher.push(storeEvent);
        }
      } catch (error) {
        watcher.fail(error instanceof StoreError ? error : new StoreError('Unavailable', String(error)));
      }
    });
    // etcd3 reports a cancelled watch (compaction among other causes) only as an error with
    // an empty reason, so a range at the watch's next revision tells whether it was compaction.
    etcdWatcher.on('error', (error: Error) => {
      this.client
        .get(this.ns + prefix)
        .revision(next)
        .exec()
        .then(
          () =>
            new StoreError('Unavailable', `etcd watch of ${prefix} failed: ${error.message}`, {
              cause: error,
            }),
          (probe: unknown) => mapError(probe),
        )
        .then((storeError) => watcher.fail(storeError));
    });
    return watcher;
  }

  async currentRevision(): Promise<number> {
    const res = await this.call(() => this.client.get(`${this.ns}\0`).exec());
    return Number(res.header.revision);
  }

  async compact(revision: number): Promise<void> {
    checkRevision('compact revision', revision);
    try {
      await this.call(() => this.client.kv.compact({ revision: String(revision), physical: true }));
    } catch (error) {
      // Compacting to an already compacted revision is a no-op, as in the SQLite store.
      if (error instanceof StoreError && error.code === 'Expired') return;
      if (error instanceof StoreError && /future revision/.test(error.message)) {
        throw new Error(`store: cannot compact to revision ${revision}, newer than current revision`, {
          cause: error,
        });
      }
      throw error;
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const error = new StoreError('Unavailable', 'etcd store is closed');
    for (const watcher of [...this.watchers]) watcher.fail(error);
    this.client.close();
  }

  private guard(key: string, expectedRevision: number | undefined) {
    return expectedRevision === undefined
      ? this.client.if(this.ns + key, 'Version', '>', 0)
      : this.client.if(this.ns + key, 'Mod', '==', expectedRevision);
  }

  private async call<T>(operation: () => Promise<T>): Promise<T> {
    if (this.closed) throw new StoreError('Unavailable', 'etcd store is closed');
    try {
      return await operation();
    } catch (error) {
      throw mapError(error);
    }
  }
}

export function openEtcdStore(options: EtcdStoreOptions): EtcdStore {
  return new EtcdStore(options);
}

function failure(
  key: string,
  expectedRevision: number | undefined,
  current: IKeyValue | undefined,
): StoreError {
  if (!current) return new StoreError('NotFound', `${key} not found`);
  return new StoreError(
    'Conflict',
    `${key} has revision ${current.mod_revision}, not the expected ${String(expectedRevision)}: the object has been modified`,
  );
}

function mapError(error: unknown): StoreError {
  if (error instanceof StoreError) return error;
  const message = error instanceof Error ? error.message : String(error);
  if (/required revision has been compacted/.test(message)) {
    return new StoreError('Expired', `The resourceVersion for the provided watch is too old: ${message}`, {
      cause: error,
    });
  }
  return new StoreError('Unavailable', `etcd: ${message}`, { cause: error });
}

function decode(kv: IKeyValue, ns: string, revision: number): JsonObject {
  const key = kv.key.toString().slice(ns.length);
  let value: unknown;
  try {
    value = JSON.parse(kv.value.toString());
  } catch (error) {
    throw new StoreError('Unavailable', `etcd value of ${key} is not JSON`, { cause: error });
  }
  return withResourceVersion(key, value as JsonObject, revision);
}

function toStored(kv: IKeyValue, ns: string): StoredValue {
  const modRevision = Number(kv.mod_revision);
  return { key: kv.key.toString().slice(ns.length), value: decode(kv, ns, modRevision), modRevision };
}

function toEvent(type: 'Put' | 'Delete', kv: IKeyValue, prev: IKeyValue | undefined, ns: string): StoreEvent {
  const key = kv.key.toString().slice(ns.length);
  const modRevision = Number(kv.mod_revision);
  const prevValue = prev && decode(prev, ns, Number(prev.mod_revision));
  if (type === 'Put') {
    const event: StoreEvent = {
      type: kv.create_revision === kv.mod_revision ? 'ADDED' : 'MODIFIED',
      key,
      value: decode(kv, ns, modRevision),
      modRevision,
    };
    return prevValue ? { ...event, prevValue } : event;
  }
  if (!prev || !prevValue) {
    throw new StoreError(
      'Unavailable',
      `etcd delete event of ${key} at ${modRevision} came without its previous value`,
    );
  }
  return { type: 'DELETED', key, value: decode(prev, ns, modRevision), modRevision, prevValue };
}
