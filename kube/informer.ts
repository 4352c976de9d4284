import { ApiError, type KubeClient, type KubeObject, type Query, type WatchEvent } from './client.js';
import { keyOf } from './keys.js';

export interface InformerHandlers<T extends KubeObject> {
  onAdd?(object: T): void;
  onUpdate?(previous: T, object: T): void;
  onDelete?(object: T): void;
}

export interface InformerOptions {
  labelSelector?: string;
  fieldSelector?: string;
  /** Page size of the initial list (and of every relist). */
  pageSize?: number;
  /** Longest pause between reconnect attempts. */
  maxBackoffMs?: number;
  log?: (line: string, error?: unknown) => void;
}

class WatchExpired extends Error {}

/**
 * List-then-watch of one resource collection, kept as an in-memory cache. Resumes the watch
 * from the last resourceVersion it saw (bookmarks included) after a dropped connection, and
 * relists when the server says that history is gone (410), turning the difference into events,
 * so a consumer always converges on the server's state.
 */
export class Informer<T extends KubeObject> {
  private readonly cache = new Map<string, T>();
  private resourceVersion: string | undefined;
  private abort = new AbortController();
  private stopped = false;
  private running: Promise<void> | undefined;
  private resolveSynced!: () => void;
  private hasSynced = false;
  /** Resolves once the first complete list has been delivered to the handlers. */
  readonly synced: Promise<void>;

  private readonly subscribers: InformerHandlers<T>[] = [];
  /** Every subscriber's handlers, called in subscription order. */
  private readonly handlers: Required<InformerHandlers<T>> = {
    onAdd: (o) => this.subscribers.forEach((h) => h.onAdd?.(o)),
    onUpdate: (p, o) => this.subscribers.forEach((h) => h.onUpdate?.(p, o)),
    onDelete: (o) => this.subscribers.forEach((h) => h.onDelete?.(o)),
  };

  constructor(
    private readonly client: KubeClient,
    private readonly path: string,
    handlers?: InformerHandlers<T>,
    private readonly options: InformerOptions = {},
  ) {
    this.synced = new Promise((r) => (this.resolveSynced = r));
    if (handlers !== undefined) this.subscribers.push(handlers);
  }

  /** Adds a consumer; objects already cached are replayed to it as additions. */
  subscribe(handlers: InformerHandlers<T>): this {
    this.subscribers.push(handlers);
    for (const object of this.cache.values()) handlers.onAdd?.(object);
    return this;
  }

  get isSynced(): boolean {
    return this.hasSynced;
  }

  list(): T[] {
    return [...this.cache.values()];
  }

  get(key: string): T | undefined {
    return this.cache.get(key);
  }

  start(): this {
    this.running ??= this.run();
    return this;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.abort.abort();
    await this.running;
  }

  private selectors(): Query {
    return { labelSelector: this.options.labelSelector, fieldSelector: this.options.fieldSelector };
  }

  private async run(): Promise<void> {
    let backoff = 100;
    const maxBackoff = this.options.maxBackoffMs ?? 5_000;
    while (!this.stopped) {
      try {
        if (this.resourceVersion === undefined) await this.relist();
        this.abort = new AbortController();
        await this.client.watch<T>(
          this.path,
          {
            ...this.selectors(),
            resourceVersion: this.resourceVersion,
            allowWatchBookmarks: true,
            // Spread reconnects over time like client-go's reflector (5–10 minutes).
            timeoutSeconds: 300 + Math.floor(Math.random() * 300),
          },
          (event) => this.apply(event),
          this.abort.signal,
        );
        backoff = 100;
      } catch (error) {
        if (this.stopped) break;
        if (error instanceof WatchExpired || (error instanceof ApiError && error.status === 410)) {
          this.resourceVersion = undefined;
          continue;
        }
        this.options.log?.(
          `informer ${this.path}: ${(error as Error).message}; retrying in ${backoff} ms`,
          error,
        );
        await new Promise((r) => setTimeout(r, backoff));
        backoff = Math.min(backoff * 2, maxBackoff);
      }
    }
  }

  private async relist(): Promise<void> {
    const fresh = new Map<string, T>();
    let continueToken: string | undefined;
    let listVersion: string | undefined;
    do {
      const page = await this.client.list<T>(this.path, {
        ...this.selectors(),
        limit: this.options.pageSize ?? 500,
        continue: continueToken,
      });
      for (const item of page.items) fresh.set(keyOf(item), item);
      continueToken = page.metadata.continue || undefined;
      listVersion = page.metadata.resourceVersion;
    } while (continueToken !== undefined && !this.stopped);
    for (const [key, old] of this.cache) {
      if (!fresh.has(key)) {
        this.cache.delete(key);
        this.handlers.onDelete(old);
      }
    }
    for (const [key, object] of fresh) {
      const old = this.cache.get(key);
      this.cache.set(key, object);
      if (old === undefined) this.handlers.onAdd(object);
      else if (old.metadata?.resourceVersion !== object.metadata?.resourceVersion)
        this.handlers.onUpdate(old, object);
    }
    this.resourceVersion = listVersion;
    if (!this.hasSynced) {
      this.hasSynced = true;
      this.resolveSynced();
    }
  }

  private apply(event: WatchEvent<T>): void {
    const object = event.object;
    switch (event.type) {
      case 'BOOKMARK':
        this.resourceVersion = object.metadata?.resourceVersion ?? this.resourceVersion;
        return;
      case 'ERROR': {
        const status = object as { code?: number; message?: string };
        if (status.code === 410) throw new WatchExpired(status.message ?? 'expired');
        throw new Error(
          `watch ${this.path}: server sent an error: ${status.message ?? JSON.stringify(object)}`,
        );
      }
      case 'ADDED':
      case 'MODIFIED': {
        const key = keyOf(object);
        const old = this.cache.get(key);
        this.cache.set(key, object);
        if (old === undefined) this.handlers.onAdd(object);
        else this.handlers.onUpdate(old, object);
        break;
      }
      case 'DELETED': {
        const key = keyOf(object);
        const old = this.cache.get(key);
        this.cache.delete(key);
        this.handlers.onDelete(old ?? object);
        break;
      }
    }
    this.resourceVersion = object.metadata?.resourceVersion ?? this.resourceVersion;
  }
}
