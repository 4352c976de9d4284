import type { StoreError, StoreEvent, WatchHandlers, Watcher } from './types.js';

/**
 * One store watcher: events (and progress revisions) pushed by the store are delivered in order
 * on a later microtask,
 * so a handler never runs inside the store call that produced the event and can close or open
 * watches freely.
 */
export class QueuedWatcher implements Watcher {
  private queue: (StoreEvent | number)[] = [];
  private head = 0;
  private scheduled = false;
  private closed = false;

  /** `fromRevision`: events at or below it are not delivered, even when written later. */
  constructor(
    readonly prefix: string,
    private readonly fromRevision: number,
    private readonly handlers: WatchHandlers,
    private readonly onClose: (watcher: QueuedWatcher) => void,
  ) {}

  get isClosed(): boolean {
    return this.closed;
  }

  push(event: StoreEvent): void {
    if (this.closed || event.modRevision <= this.fromRevision) return;
    this.queue.push(event);
    this.schedule();
  }

  /** Progress to `revision`; only queued for handlers that listen and when it moves forward. */
  progress(revision: number): void {
    if (this.closed || !this.handlers.onProgress || revision <= this.fromRevision) return;
    const last = this.queue[this.queue.length - 1];
    if (typeof last === 'number' && this.head < this.queue.length)
      this.queue[this.queue.length - 1] = revision;
    else this.queue.push(revision);
    this.schedule();
  }

  /** Delivers what is queued, then the error, then stops. */
  fail(error: StoreError): void {
    if (this.closed) return;
    this.closed = true;
    this.onClose(this);
    queueMicrotask(() => {
      this.drain(true);
      this.handlers.onError(error);
    });
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.queue = [];
    this.head = 0;
    this.onClose(this);
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    queueMicrotask(() => {
      this.scheduled = false;
      this.drain(false);
    });
  }

  private drain(evenIfClosed: boolean): void {
    while (this.head < this.queue.length && (evenIfClosed || !this.closed)) {
      const item = this.queue[this.head] as StoreEvent | number;
      this.head += 1;
      if (typeof item === 'number') this.handlers.onProgress?.(item);
      else this.handlers.onEvent(item);
    }
    if (this.head >= this.queue.length) {
      this.queue = [];
      this.head = 0;
    }
  }
}
