/**
 * Garbage collection by ownerReferences, as kube-controller-manager's garbage collector does:
 * dependents whose owners are all gone are deleted (background propagation), dependents of an
 * owner being deleted with `orphan` lose their reference, dependents of an owner being deleted
 * with `foregroundDeletion` are deleted first and the owner's finalizer is removed once they
 * are gone. It keeps an in-memory uid graph fed by the watch caches and always confirms an
 * owner's absence with a storage read before deleting anything.
 */
import type { Logger } from 'pino';
import type { CacheWatcher, StoreEvent, WatchCache } from './store/index.js';
import { RESOURCES, findKind, type ResourceInfo } from './resources.js';
import { metaOf, withoutFinalizer, type KubeObject, type OwnerReference } from './objects.js';
import { FOREGROUND, ORPHAN, type Registry } from './registry.js';
import { ApiError } from './status.js';

interface Node {
  readonly info: ResourceInfo;
  readonly namespace?: string;
  readonly name: string;
  readonly owners: readonly OwnerReference[];
  readonly deleting: boolean;
  readonly finalizers: readonly string[];
}

const GC_OPTS = { fieldManager: 'generic-garbage-collector', fieldValidation: 'Ignore' } as const;

export class GarbageCollector {
  private readonly nodes = new Map<string, Node>();
  private readonly dependents = new Map<string, Set<string>>();
  private readonly pending = new Set<string>();
  private watchers: CacheWatcher[] = [];
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  private stopped = false;
  private synced = false;

  constructor(
    private readonly registry: Registry,
    private readonly caches: (info: ResourceInfo) => WatchCache,
    private readonly log: Logger,
    private readonly delayMs = 50,
  ) {}

  async start(): Promise<void> {
    for (const info of RESOURCES) {
      const cache = this.caches(info);
      this.watchers.push(
        cache.watch(cache.prefix, 0, {
          onEvent: (event) => this.observe(info, event),
          onError: (error) => {
            if (!this.stopped) this.log.warn({ err: error.message, resource: info.plural }, 'gc watch ended');
          },
        }),
      );
    }
    // Snapshots are delivered on microtasks; after a macrotask every cache has reported.
    await new Promise((resolve) => setImmediate(resolve));
    this.synced = true;
    for (const uid of this.nodes.keys()) this.pending.add(uid);
    this.schedule();
  }

  stop(): void {
    this.stopped = true;
    for (const w of this.watchers) w.close();
    if (this.timer) clearTimeout(this.timer);
  }

  private observe(info: ResourceInfo, event: StoreEvent): void {
    const obj = event.value as KubeObject;
    const meta = metaOf(obj);
    const uid = meta.uid;
    if (!uid) return;
    const old = this.nodes.get(uid);
    for (const o of old?.owners ?? []) this.dependents.get(o.uid)?.delete(uid);
    if (event.type === 'DELETED') {
      this.nodes.delete(uid);
      for (const dep of this.dependents.get(uid) ?? []) this.pending.add(dep);
      for (const o of old?.owners ?? []) this.pending.add(o.uid);
    } else {
      const node: Node = {
        info,
        ...(meta.namespace ? { namespace: meta.namespace } : {}),
        name: meta.name ?? '',
        owners: meta.ownerReferences ?? [],
        deleting: meta.deletionTimestamp !== undefined,
        finalizers: meta.finalizers ?? [],
      };
      this.nodes.set(uid, node);
      for (const o of node.owners) {
        let set = this.dependents.get(o.uid);
        if (!set) this.dependents.set(o.uid, (set = new Set()));
        set.add(uid);
      }
      if (node.owners.length > 0) this.pending.add(uid);
      if (node.deleting) this.pending.add(uid);
    }
    this.schedule();
  }

  private schedule(): void {
    if (!this.synced || this.stopped || this.timer || this.pending.size === 0) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.drain();
    }, this.delayMs);
  }

  private async drain(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      while (this.pending.size > 0 && !this.stopped) {
        const uid = this.pending.values().next().value as string;
        this.pending.delete(uid);
        try {
          await this.process(uid);
        } catch (err) {
          if (!(err instanceof ApiError && (err.code === 404 || err.code === 409))) {
            this.log.warn({ err: (err as Error).message, uid }, 'garbage collection step failed');
          }
        }
      }
    } finally {
      this.running = false;
    }
    this.schedule();
  }

  private async process(uid: string): Promise<void> {
    const node = this.nodes.get(uid);
    if (!node) return;
    if (node.deleting && node.finalizers.includes(ORPHAN)) return this.orphanDependents(uid, node);
    if (node.deleting && node.finalizers.includes(FOREGROUND)) return this.deleteDependentsFirst(uid, node);
    if (node.owners.length > 0 && !node.deleting) return this.checkOwners(uid, node);
  }

  private async ownerExists(dependent: Node, ref: OwnerReference): Promise<boolean> {
    const [group, version] = ref.apiVersion.includes('/') ? ref.apiVersion.split('/') : ['', ref.apiVersion];
    const info =
      findKind(ref.apiVersion, ref.kind) ?? RESOURCES.find((r) => r.group === group && r.kind === ref.kind);
    if (!info || version === undefined) return true; // unknown kinds are never collected
    const owner = await this.registry.find(info, info.namespaced ? dependent.namespace : undefined, ref.name);
    return owner !== undefined && metaOf(owner).uid === ref.uid;
  }

  private async checkOwners(uid: string, node: Node): Promise<void> {
    // The graph may lag behind storage (an orphaning may just have removed the reference), so
    // decide on the object as stored now.
    const live = await this.registry.find(node.info, node.namespace, node.name);
    const meta = live ? metaOf(live) : undefined;
    if (!meta || meta.uid !== uid || meta.deletionTimestamp) return;
    const owners = meta.ownerReferences ?? [];
    const absent: string[] = [];
    for (const ref of owners) if (!(await this.ownerExists(node, ref))) absent.push(ref.uid);
    if (absent.length === 0) return;
    if (absent.length === owners.length) {
      await this.registry.delete(node.info, node.namespace, node.name, {
        propagationPolicy: 'Background',
        preconditions: { uid, resourceVersion: meta.resourceVersion },
      });
      return;
    }
    await this.registry.mutate(
      node.info,
      node.namespace,
      node.name,
      (current) => {
        const m = metaOf(current!);
        return {
          ...current!,
          metadata: {
            ...m,
            ownerReferences: (m.ownerReferences ?? []).filter((r) => !absent.includes(r.uid)),
          },
        };
      },
      GC_OPTS,
    );
  }

  private async orphanDependents(uid: string, node: Node): Promise<void> {
    for (const dep of [...(this.dependents.get(uid) ?? [])]) {
      const d = this.nodes.get(dep);
      if (!d) continue;
      await this.registry.mutate(
        d.info,
        d.namespace,
        d.name,
        (live) => {
          const meta = metaOf(live!);
          const ownerReferences = (meta.ownerReferences ?? []).filter((r) => r.uid !== uid);
          const next = { ...meta, ownerReferences };
          if (ownerReferences.length === 0) delete (next as { ownerReferences?: unknown }).ownerReferences;
          return { ...live!, metadata: next };
        },
        GC_OPTS,
      );
    }
    await this.removeFinalizer(node, ORPHAN);
  }

  private async deleteDependentsFirst(uid: string, node: Node): Promise<void> {
    const remaining = [...(this.dependents.get(uid) ?? [])].filter((d) => this.nodes.has(d));
    for (const dep of remaining) {
      const d = this.nodes.get(dep)!;
      if (!d.deleting) {
        await this.registry.delete(d.info, d.namespace, d.name, {
          propagationPolicy: 'Foreground',
          preconditions: { uid: dep },
        });
      }
    }
    if (remaining.length === 0) await this.removeFinalizer(node, FOREGROUND);
  }

  private async removeFinalizer(node: Node, finalizer: string): Promise<void> {
    await this.registry.mutate(
      node.info,
      node.namespace,
      node.name,
      (live) => withoutFinalizer(live!, finalizer),
      GC_OPTS,
    );
  }
}
