/** Pure helpers for object metadata: names, uids, generation, finalizers, owner references. */
import { randomBytes, randomUUID } from 'node:crypto';
import type { JsonObject } from './store/types.js';

export interface ObjectMeta {
  name?: string;
  generateName?: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  deletionGracePeriodSeconds?: number;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  finalizers?: string[];
  ownerReferences?: OwnerReference[];
  managedFields?: unknown[];
  [key: string]: unknown;
}

export interface OwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller?: boolean;
  blockOwnerDeletion?: boolean;
}

export interface KubeObject extends JsonObject {
  apiVersion?: string;
  kind?: string;
  metadata?: ObjectMeta;
}

export const metaOf = (obj: KubeObject): ObjectMeta => obj.metadata ?? {};

export const clone = <T>(value: T): T => structuredClone(value);

/** kube's `SimpleNameGenerator`: 5 characters from an alphabet without vowels or look-alikes. */
const ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';
export function generateSuffix(): string {
  const bytes = randomBytes(5);
  return [...bytes].map((b) => ALPHABET[b % ALPHABET.length]).join('');
}

export const newUid = (): string => randomUUID();

export { timestamp } from '../kube/time.js';

/** Everything but metadata and status: a change there bumps metadata.generation. */
export function specChanged(a: KubeObject, b: KubeObject): boolean {
  const strip = (o: KubeObject): string => {
    const rest: Record<string, unknown> = { ...o };
    delete rest.metadata;
    delete rest.status;
    return stableStringify(rest);
  };
  return strip(a) !== strip(b);
}

export function stableStringify(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableStringify).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${stableStringify(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

export const hasFinalizer = (obj: KubeObject, f: string): boolean =>
  (metaOf(obj).finalizers ?? []).includes(f);

export function withoutFinalizer(obj: KubeObject, f: string): KubeObject {
  const meta = metaOf(obj);
  const finalizers = (meta.finalizers ?? []).filter((x) => x !== f);
  const next: ObjectMeta = { ...meta, finalizers };
  if (finalizers.length === 0) delete next.finalizers;
  return { ...obj, metadata: next };
}

export function withFinalizer(obj: KubeObject, f: string): KubeObject {
  if (hasFinalizer(obj, f)) return obj;
  const meta = metaOf(obj);
  return { ...obj, metadata: { ...meta, finalizers: [...(meta.finalizers ?? []), f] } };
}

/** Metadata fields clients cannot set or change; the server keeps the stored values. */
export const SYSTEM_FIELDS = [
  'uid',
  'creationTimestamp',
  'deletionTimestamp',
  'deletionGracePeriodSeconds',
] as const;
