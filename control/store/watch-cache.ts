import { checkLimit, checkPrefix, checkRevision } from './keys.js';
import { SortedKeys } from './sorted-keys.js';
import { StoreError } from './types.js';
import type {
  JsonObject,
  ListResult,
  Store,
  StoreEvent,
  StoredValue,
  WatchHandlers,
  Watcher,
} from './types.js';

export interface WatchCacheOptions {
  /** Events kept in memory for watches that resume from a revision (default 10,000). */
  readonly windowSize?: number;
  /** Live events a paused or slow watcher may have queued before it is cut off (default 1,000). */
  readonly queueLimit?: number;
  /** Wait before re-listing after the storage watch failed (default 1,000 ms). */
  readonly restartDelayMs?: number;
  /**
   * Called with each object before the cache keeps it (listed, or an event's value and previous
   * value), in place: lets the server share equal parts between the objects it holds.
   */
  readonly keep?: (value: JsonObject) => void;
}

/** A watcher of the cache; pause/resume follow the consumer's back-pressure (e.g. a socket). */
export interface CacheWatcher extends Watcher {
  /** Stop delivering; events queue up to the cache's `queueLimit`, then the watcher is cut off. */
  pause(): void;
  resume(): void;
  /**
   * The revision this watcher is complete up to, for BOOKMARK events: the cache's revision once
   * its queue is empty, else the last revision it was given.
   */
  progressRevision(): number;
}

/**
 * One storage watch for `prefix`, fanned out in memory to any number of watchers, as
 * kube-apiserver's watch cache does: the current state, a bounded window of recent events,
 * watches from revision 0 (current state as ADDED, then live) or from any revision still in
 * the window, and slow watchers cut off instead of buffered without bound.
 *
 * Event objects are shared by every watcher and the cache: treat them as read-only.
 */
export class WatchCache {
  private readonly windowSize: number;
  private readonly queueLimit: number;
  private readonly restartDelayMs: number;
  private readonly keep: ((value: JsonObject) => void) | undefined;
  private readonly state = new Map<string, StoredValue>();
  private readonly keys = new SortedKeys();
  private window: StoreEvent[] = [];
  private windowHead = 0;
  /** Every event after this revision is in the window. */
  private windowStart = 0;
  private rev = 0;
  private ready = false;
  private closed = false;
  private storeWatcher: Watcher | undefined;
  private restartTimer: NodeJS.Timeout | undefined;
  private readonly watchers = new Set<CacheWatcherImpl>();
  private waiters: { revision: number; resolve: () => void }[] = [];

  constructor(
    private readonly store: Store,
    readonly prefix: string,
    options: WatchCacheOptions = {},
  ) {
    checkPrefix(prefix);
    this.windowSize = positive('windowSize', options.windowSize ?? 10_000);
    this.queueLimit = positive('queueLimit', options.queueLimit ?? 1_000);
    this.restartDelayMs = options.restartDelayMs ?? 1_000;
    this.keep = options.keep;
  }

  /** Lists the store and starts the storage watch; resolves once the cache can serve. */
  async start(): Promise<void> {
    if (this.closed) throw new StoreError('Unavailable', `watch cache ${this.prefix} is closed`);
    const list = await this.store.list(this.prefix);
    if (this.closed) return;
    this.state.clear();
    this.keys.clear();
    for (const item of list.items) {
      this.keep?.(item.value);
      this.state.set(item.key, item);
      this.keys.add(item.key);
    }
    this.window = [];
    this.windowHead = 0;
    this.windowStart = list.revision;
    this.rev = list.revision;
    this.storeWatcher = this.store.watch(this.prefix, list.revision, {
      onEvent: (event) => this.apply(event),
      onError: (error) => this.restart(error),
      onProgress: (revision) => {
        if (revision <= this.rev) return;
        this.rev = revision;
        this.wake();
      },
    });
    this.ready = true;
    this.wake();
  }

  /** The latest revision the cache has applied. */
  get revision(): number {
    return this.rev;
  }

  get isReady(): boolean {
    return this.ready;
  }

  get(key: string): StoredValue | undefined {
    this.checkReady();
    return this.state.get(key);
  }

  /** A list at the cache's latest revision, served from memory in key order. */
  list(prefix: string, options: { limit?: number; continueKey?: string } = {}): ListResult {
    this.checkReady();
    checkPrefix(prefix);
    checkLimit(options.limit);
    const items: StoredValue[] = [];
    for (const key of this.keys.range(prefix, options.continueKey)) {
      if (options.limit !== undefined && items.length === options.limit) {
        return { items, revision: this.rev, continueKey: (items[items.length - 1] as StoredValue).key };
      }
      items.push(this.state.get(key) as StoredValue);
    }
    return { items, revision: this.rev };
  }

  count(prefix: string): number {
    this.checkReady();
    let n = 0;
    for (const _ of this.keys.range(prefix)) n += 1;
    return n;
  }

  /**
   * Resolves once the cache has applied `revision`; fails with Unavailable after `timeoutMs`
   * (kube-apiserver holds such requests for 3 s, then answers "Too large resource version").
   */
  waitForRevision(revision: number, timeoutMs = 3_000): Promise<void> {
    if (this.ready && this.rev >= revision) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const waiter = {
        revision,
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
      };
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        reject(
          new StoreError('Unavailable', `Too large resource version: ${revision}, current: ${this.rev}`),
        );
      }, timeoutMs);
      this.waiters.push(waiter);
    });
  }

  /**
   * Events under `prefix` after `fromRevision`; 0 means the current state as ADDED events, then
   * live ones. A revision older than the window fails with Expired.
   */
  watch(prefix: string, fromRevision: number, handlers: WatchHandlers): CacheWatcher {
    checkPrefix(prefix);
    checkRevision('watch revision', fromRevision);
    const watcher = new CacheWatcherImpl(this, prefix, handlers, this.queueLimit);
    if (!this.ready) {
      watcher.startWith([], fromRevision, false);
      watcher.fail(new StoreError('Unavailable', `watch cache ${this.prefix} is not ready`));
      return watcher;
    }
    if (fromRevision === 0) {
      const initial: StoreEvent[] = [];
      for (const key of this.keys.range(prefix)) {
        const item = this.state.get(key) as StoredValue;
        initial.push({ type: 'ADDED', key, value: item.value, modRevision: item.modRevision });
      }
      watcher.startWith(initial, this.rev, true);
    } else if (fromRevision < this.windowStart) {
      watcher.startWith([], fromRevision, false);
      watcher.fail(
        new StoreError('Expired', `too old resource version: ${fromRevision} (${this.windowStart})`),
      );
      return watcher;
    } else {
      const backlog: StoreEvent[] = [];
      for (let i = this.firstAfter(fromRevision); i < this.window.length; i++) {
        const event = this.window[i] as StoreEvent;
        if (event.key.startsWith(prefix)) backlog.push(event);
      }
      watcher.startWith(backlog, fromRevision, false);
    }
    this.watchers.add(watcher);
    return watcher;
  }

  /** How many watchers are attached (for metrics and tests). */
  get watcherCount(): number {
    return this.watchers.size;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.ready = false;
    clearTimeout(this.restartTimer);
    this.storeWatcher?.close();
    this.terminateAll(new StoreError('Unavailable', `watch cache ${this.prefix} is closed`));
  }

  /** @internal */
  detach(watcher: CacheWatcherImpl): void {
    this.watchers.delete(watcher);
  }

  private apply(event: StoreEvent): void {
    if (this.keep) {
      this.keep(event.value);
      if (event.prevValue) this.keep(event.prevValue);
    }
    if (event.type === 'DELETED') {
      this.state.delete(event.key);
      this.keys.delete(event.key);
    } else {
      if (!this.state.has(event.key)) this.keys.add(event.key);
      this.state.set(event.key, { key: event.key, value: event.value, modRevision: event.modRevision });
    }
    this.window.push(event);
    if (this.window.length - this.windowHead > this.windowSize) {
      this.windowStart = (this.window[this.windowHead] as StoreEvent).modRevision;
      this.windowHead += 1;
      // Shift the array only now and then, so eviction stays O(1) amortized.
      if (this.windowHead >= this.windowSize) {
        this.window = this.window.slice(this.windowHead);
        this.windowHead = 0;
      }
    }
    this.rev = event.modRevision;
    for (const watcher of [...this.watchers]) {
      if (event.key.startsWith(watcher.prefix)) watcher.push(event);
    }
    this.wake();
  }

  /** Index in the window of the first event after `revision`. */
  private firstAfter(revision: number): number {
    let lo = this.windowHead;
    let hi = this.window.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((this.window[mid] as StoreEvent).modRevision <= revision) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  private wake(): void {
    if (this.waiters.length === 0) return;
    const due = this.waiters.filter((w) => w.revision <= this.rev);
    this.waiters = this.waiters.filter((w) => w.revision > this.rev);
    for (const w of due) w.resolve();
  }

  /** Like kube's cacher: drop every watcher (they re-watch from their last revision), re-list. */
  private restart(cause: StoreError): void {
    if (this.closed) return;
    this.ready = false;
    this.storeWatcher = undefined;
    this.terminateAll(
      new StoreError('Unavailable', `watch cache ${this.prefix} restarting: ${cause.message}`),
    );
    const retry = (): void => {
      // Unref'd: a cache retrying against a store that is gone must not keep the process alive.
      this.restartTimer = setTimeout(() => {
        this.start().catch(retry);
      }, this.restartDelayMs).unref();
    };
    retry();
  }

  private terminateAll(error: StoreError): void {
    for (const watcher of [...this.watchers]) watcher.fail(error);
  }

  private checkReady(): void {
    if (!this.ready) throw new StoreError('Unavailable', `watch cache ${this.prefix} is not ready`);
  }
}

class CacheWatcherImpl implements CacheWatcher {
  private queue: StoreEvent[] = [];
  private head = 0;
  private started = false;
  private paused = false;
  private delivering = false;
  private closed = false;
  private failure: StoreError | undefined;
  /** Events up to here are delivered or queued; live events at or below it are skipped. */
  private queuedUpTo = 0;
  private deliveredUpTo = 0;
  /** How many queued events came from the start (state or backlog) and do not count as lag. */
  private initialLeft = 0;
  private snapshotRevision = 0;

  constructor(
    private readonly cache: WatchCache,
    readonly prefix: string,
    private readonly handlers: WatchHandlers,
    private readonly queueLimit: number,
  ) {}

  /**
   * @internal `initial` is either a snapshot of the state (`snapshot` true: in key order, so
   * its revisions mean nothing until all are delivered) or a backlog of events after `revision`.
   */
  startWith(initial: StoreEvent[], revision: number, snapshot: boolean): void {
    this.queue = initial;
    this.initialLeft = initial.length;
    this.snapshotRevision = snapshot ? revision : 0;
    this.queuedUpTo = revision;
    for (const event of initial) this.queuedUpTo = Math.max(this.queuedUpTo, event.modRevision);
    this.deliveredUpTo = snapshot && initial.length > 0 ? 0 : revision;
    // Delivery begins on a later microtask, after the caller holds this watcher.
    queueMicrotask(() => {
      this.started = true;
      this.deliver();
    });
  }

  /** @internal */
  push(event: StoreEvent): void {
    if (this.closed || event.modRevision <= this.queuedUpTo) return;
    this.queue.push(event);
    this.queuedUpTo = event.modRevision;
    const lag = this.queue.length - this.head - this.initialLeft;
    if (lag > this.queueLimit) {
      this.fail(
        new StoreError(
          'Unavailable',
          `watcher of ${this.prefix} is too slow: more than ${this.queueLimit} events queued, closing it`,
        ),
      );
      return;
    }
    this.deliver();
  }

  /**
   * @internal Ends the watcher with `error`. Queued events are dropped: the consumer resumes
   * from `progressRevision()` (or re-lists), as with kube-apiserver's terminated watchers.
   */
  fail(error: StoreError): void {
    if (this.closed || this.failure) return;
    this.failure = error;
    this.cache.detach(this);
    this.queue = [];
    this.head = 0;
    this.deliver();
  }

  pause(): void {
    this.paused = true;
  }

  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    this.deliver();
  }

  progressRevision(): number {
    return this.head >= this.queue.length
      ? Math.max(this.deliveredUpTo, this.cache.revision)
      : this.deliveredUpTo;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.queue = [];
    this.head = 0;
    this.cache.detach(this);
  }

  private deliver(): void {
    if (!this.started || this.delivering) return;
    this.delivering = true;
    try {
      while (!this.closed && !this.paused && this.head < this.queue.length) {
        const event = this.queue[this.head] as StoreEvent;
        this.head += 1;
        if (this.initialLeft > 0) {
          this.initialLeft -= 1;
          if (this.snapshotRevision === 0) this.deliveredUpTo = event.modRevision;
          else if (this.initialLeft === 0) this.deliveredUpTo = this.snapshotRevision;
        } else {
          this.deliveredUpTo = event.modRevision;
        }
        this.handlers.onEvent(event);
      }
      if (this.head >= this.queue.length) {
        this.queue = [];
        this.head = 0;
      }
      if (this.failure && !this.closed && this.head >= this.queue.length) {
        this.closed = true;
        this.handlers.onError(this.failure);
      }
    } finally {
      this.delivering = false;
    }
  }
}

function positive(name: string, value: number): number {
  if (!Number.isSafeInteger(value) || value <= 0) {
    throw new Error(`watch cache: ${name} must be a positive integer, got ${String(value)}`);
  }
  return value;
}
