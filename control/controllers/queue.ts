/**
 * A controller work queue as client-go's: a key is queued at most once, a key being processed
 * and added again runs once more afterwards (never twice at the same time), and a failed key
 * is retried with per-key exponential back-off.
 */
export interface WorkQueueOptions {
  readonly name: string;
  readonly concurrency?: number;
  readonly baseDelayMs?: number;
  readonly maxDelayMs?: number;
  readonly log?: (line: string, error?: unknown) => void;
}

export class WorkQueue {
  private readonly pending = new Set<string>();
  private readonly order: string[] = [];
  private readonly active = new Set<string>();
  private readonly dirtyWhileActive = new Set<string>();
  private readonly failures = new Map<string, number>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private running = 0;
  private stopped = false;
  private idleWaiters: (() => void)[] = [];

  constructor(
    private readonly handler: (key: string) => Promise<void>,
    private readonly options: WorkQueueOptions,
  ) {}

  add(key: string): void {
    if (this.stopped) return;
    if (this.active.has(key)) {
      this.dirtyWhileActive.add(key);
      return;
    }
    if (this.pending.has(key)) return;
    this.pending.add(key);
    this.order.push(key);
    this.pump();
  }

  addAfter(key: string, delayMs: number): void {
    if (this.stopped || this.timers.has(key)) return;
    this.timers.set(
      key,
      setTimeout(() => {
        this.timers.delete(key);
        this.add(key);
      }, delayMs).unref(),
    );
  }

  get length(): number {
    return this.order.length;
  }

  /** Resolves when nothing is queued or running (tests and orderly shutdown). */
  idle(): Promise<void> {
    if (this.order.length === 0 && this.running === 0) return Promise.resolve();
    return new Promise((r) => this.idleWaiters.push(r));
  }

  stop(): void {
    this.stopped = true;
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
    this.order.length = 0;
    this.pending.clear();
  }

  private pump(): void {
    const limit = this.options.concurrency ?? 1;
    while (!this.stopped && this.running < limit && this.order.length > 0) {
      const key = this.order.shift() as string;
      this.pending.delete(key);
      this.active.add(key);
      this.running++;
      void this.process(key);
    }
    if (this.order.length === 0 && this.running === 0) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      waiters.forEach((w) => w());
    }
  }

  private async process(key: string): Promise<void> {
    try {
      await this.handler(key);
      this.failures.delete(key);
    } catch (error) {
      const n = (this.failures.get(key) ?? 0) + 1;
      this.failures.set(key, n);
      const delay = Math.min(
        (this.options.baseDelayMs ?? 50) * 2 ** (n - 1),
        this.options.maxDelayMs ?? 30_000,
      );
      this.options.log?.(
        `${this.options.name} ${key}: ${(error as Error).message}; retry in ${delay} ms`,
        error,
      );
      this.addAfter(key, delay);
    } finally {
      this.active.delete(key);
      this.running--;
      if (this.dirtyWhileActive.delete(key)) this.add(key);
      this.pump();
    }
  }
}
