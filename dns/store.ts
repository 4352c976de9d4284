/**
 * The object cache DNS answers from. An informer (or a static snapshot) feeds it add, update and
 * delete events; listeners hear about every change and `synced` gates SERVFAIL → answers, as
 * CoreDNS waits for its API cache before answering.
 */
import type { DnsObject, EndpointSlice, Service } from './objects.js';
import { toDnsObject } from './objects.js';
import type { ObjectsSnapshot } from './records.js';

export type EventType = 'ADDED' | 'MODIFIED' | 'DELETED';
export type WatchedKind = DnsObject['kind'];

export class ObjectCache {
  private services = new Map<string, Service>();
  private slices = new Map<string, EndpointSlice>();
  private namespaces = new Set<string>();
  private listeners: (() => void)[] = [];
  private syncedFlag = false;
  /** Unix seconds of the last change; the SOA serial, as in CoreDNS. */
  lastChange = Math.floor(Date.now() / 1000);

  get synced(): boolean {
    return this.syncedFlag;
  }

  onChange(listener: () => void): void {
    this.listeners.push(listener);
  }

  /** Applies one watch event for an already-converted object. */
  apply(type: EventType, obj: DnsObject): void {
    const key = obj.kind === 'Namespace' ? obj.name : `${obj.namespace}/${obj.name}`;
    const del = type === 'DELETED';
    if (obj.kind === 'Service') {
      if (del) this.services.delete(key);
      else this.services.set(key, obj);
    } else if (obj.kind === 'EndpointSlice') {
      if (del) this.slices.delete(key);
      else this.slices.set(key, obj);
    } else if (del) {
      this.namespaces.delete(key);
    } else {
      this.namespaces.add(key);
    }
    this.changed();
  }

  /**
   * Applies a watch event carrying a raw Kubernetes object. Items of a list carry no `kind`, so
   * the caller names the kind it watches.
   */
  applyRaw(type: EventType, raw: unknown, kind: WatchedKind): void {
    const obj = toDnsObject(typeof raw === 'object' && raw !== null ? { ...raw, kind } : raw);
    if (obj) this.apply(type, obj);
  }

  /** Replaces everything (the initial list, or a relist after a lost watch) and marks synced. */
  replace(objects: Iterable<DnsObject>): void {
    this.services.clear();
    this.slices.clear();
    this.namespaces.clear();
    for (const o of objects) {
      if (o.kind === 'Service') this.services.set(`${o.namespace}/${o.name}`, o);
      else if (o.kind === 'EndpointSlice') this.slices.set(`${o.namespace}/${o.name}`, o);
      else this.namespaces.add(o.name);
    }
    this.syncedFlag = true;
    this.changed();
  }

  markSynced(): void {
    this.syncedFlag = true;
    this.changed();
  }

  snapshot(): ObjectsSnapshot {
    return {
      services: this.services.values(),
      slices: this.slices.values(),
      namespaces: this.namespaces.values(),
    };
  }

  private changed(): void {
    this.lastChange = Math.floor(Date.now() / 1000);
    for (const l of this.listeners) l();
  }
}
