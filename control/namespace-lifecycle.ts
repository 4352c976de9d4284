/**
 * Namespace deletion, as kube-controller-manager's namespace controller does it: a namespace
 * with a deletionTimestamp (phase Terminating) has everything inside deleted; once nothing is
 * left, its `kubernetes` finalizer is removed and the namespace goes away.
 */
import type { Logger } from 'pino';
import type { CacheWatcher, WatchCache } from './store/index.js';
import { RESOURCES, type ResourceInfo } from './resources.js';
import { metaOf, type KubeObject } from './objects.js';
import type { Registry } from './registry.js';
import { ApiError } from './status.js';

export class NamespaceLifecycle {
  private watcher: CacheWatcher | undefined;
  private readonly terminating = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  private stopped = false;

  constructor(
    private readonly registry: Registry,
    private readonly namespaces: ResourceInfo,
    private readonly cache: WatchCache,
    private readonly log: Logger,
    private readonly retryMs = 1000,
    /**
     * Pause before a namespace is drained: `kubectl delete -f` deletes a namespace and then
     * its objects one by one, and finds them gone (NotFound) if the drain wins the race.
     */
    private readonly startDelayMs = 1000,
  ) {}

  start(): void {
    this.watcher = this.cache.watch(this.cache.prefix, 0, {
      onEvent: (event) => {
        const meta = metaOf(event.value as KubeObject);
        if (!meta.name) return;
        if (event.type !== 'DELETED' && meta.deletionTimestamp) {
          this.terminating.add(meta.name);
          this.schedule(this.startDelayMs);
        } else {
          this.terminating.delete(meta.name);
        }
      },
      onError: (error) => {
        if (!this.stopped) this.log.warn({ err: error.message }, 'namespace lifecycle watch ended');
      },
    });
  }

  stop(): void {
    this.stopped = true;
    this.watcher?.close();
    if (this.timer) clearTimeout(this.timer);
  }

  private schedule(delay: number): void {
    if (this.stopped || this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.run();
    }, delay);
  }

  private async run(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      for (const ns of [...this.terminating]) {
        try {
          if (await this.drainNamespace(ns)) this.terminating.delete(ns);
        } catch (err) {
          if (!(err instanceof ApiError && err.code === 404)) {
            this.log.warn({ err: (err as Error).message, namespace: ns }, 'namespace deletion step failed');
          }
        }
      }
    } finally {
      this.running = false;
    }
    if (this.terminating.size > 0) this.schedule(this.retryMs);
  }

  /** Deletes what is left in `ns`; true once the namespace itself is gone. */
  private async drainNamespace(ns: string): Promise<boolean> {
    let left = 0;
    for (const info of RESOURCES.filter((r) => r.namespaced)) {
      const page = await this.registry.list(info, ns, { labels: [], fields: [] });
      for (const obj of page.items) {
        left++;
        if (metaOf(obj).deletionTimestamp) continue;
        try {
          await this.registry.delete(info, ns, metaOf(obj).name!, { propagationPolicy: 'Background' });
        } catch (err) {
          if (!(err instanceof ApiError && err.code === 404)) throw err;
        }
      }
    }
    if (left > 0) return false;
    return this.registry.finalizeNamespace(this.namespaces, ns);
  }
}
