/**
 * core/v1 Events as client-go's event recorder writes them for kubelet and the controllers:
 * a repeat of the same type, reason and message about the same object from the same source
 * within 10 minutes is folded into the Event already written (its `count` and `lastTimestamp`
 * PATCHed), so `kubectl describe` says "(x3 over 40s)" instead of listing each retry.
 */
import type { KubeClient } from './client.js';
import { timestamp } from './time.js';

export interface InvolvedObject {
  apiVersion?: string;
  kind?: string;
  metadata?: { name?: string; namespace?: string; uid?: string; resourceVersion?: string };
}

export interface EventSource {
  /** `kubelet`, `default-scheduler`, … */
  readonly component: string;
  /** The node, for a node's agent. */
  readonly host?: string;
}

/** client-go's EventCorrelator window for folding repeats into one Event. */
const FOLD_WINDOW_MS = 10 * 60_000;
/** Repeats remembered; the oldest is forgotten first. */
const REMEMBERED = 4096;

export class EventRecorder {
  private readonly recent = new Map<string, { name: string; count: number; at: number }>();

  constructor(
    private readonly client: KubeClient,
    /** Events are best effort, as in Kubernetes: a lost one is reported here, never thrown. */
    private readonly lost: (reason: string, error: Error) => void,
    private readonly now: () => Date = () => new Date(),
  ) {}

  async record(
    object: InvolvedObject,
    type: 'Normal' | 'Warning',
    reason: string,
    message: string,
    source: EventSource,
  ): Promise<void> {
    const namespace = object.metadata?.namespace ?? 'default';
    const key = JSON.stringify([
      source.component,
      source.host,
      object.kind,
      namespace,
      object.metadata?.name,
      object.metadata?.uid,
      type,
      reason,
      message,
    ]);
    const now = this.now();
    const stamp = timestamp(now);
    const seen = this.recent.get(key);
    const path = `/api/v1/namespaces/${encodeURIComponent(namespace)}/events`;
    try {
      if (seen !== undefined && now.getTime() - seen.at < FOLD_WINDOW_MS) {
        try {
          await this.client.patch(`${path}/${seen.name}`, { count: seen.count + 1, lastTimestamp: stamp });
          seen.count++;
          seen.at = now.getTime();
          return;
        } catch {
          // Gone (deleted, say, with its namespace) or unreachable: a new Event starts over.
        }
      }
      const name = `${object.metadata?.name ?? 'object'}.${now.getTime().toString(16)}${Math.floor(Math.random() * 0xfff).toString(16)}`;
      await this.client.create(path, {
        apiVersion: 'v1',
        kind: 'Event',
        metadata: { name, namespace },
        involvedObject: {
          apiVersion: object.apiVersion,
          kind: object.kind,
          name: object.metadata?.name,
          namespace: object.metadata?.namespace,
          uid: object.metadata?.uid,
          resourceVersion: object.metadata?.resourceVersion,
        },
        reason,
        message,
        type,
        source: { component: source.component, ...(source.host ? { host: source.host } : {}) },
        reportingComponent: source.component,
        reportingInstance: source.host ?? source.component,
        firstTimestamp: stamp,
        lastTimestamp: stamp,
        count: 1,
      });
      this.recent.delete(key);
      this.recent.set(key, { name, count: 1, at: now.getTime() });
      if (this.recent.size > REMEMBERED) this.recent.delete(this.recent.keys().next().value as string);
    } catch (error) {
      this.lost(reason, error as Error);
    }
  }
}
