/**
 * `metadata.managedFields`: decoding into per-manager field sets and encoding back in
 * kube-apiserver's order (Apply before Update, then by time, manager, apiVersion, subresource).
 */
import type { JsonObject } from '../store/types.js';
import { FieldSet } from './fieldset.js';
import { isObject } from './json.js';
import { timestamp } from '../../kube/time.js';

export type Operation = 'Apply' | 'Update';

export interface ManagerEntry {
  manager: string;
  operation: Operation;
  apiVersion: string;
  time: string | undefined;
  subresource: string | undefined;
  set: FieldSet;
}

/**
 * Who an entry belongs to. As in kube-apiserver, an applier is the same manager whatever
 * apiVersion it applies with; an updater is one per apiVersion.
 */
export function identity(
  e: Pick<ManagerEntry, 'manager' | 'operation' | 'apiVersion' | 'subresource'>,
): string {
  return JSON.stringify([
    e.manager,
    e.operation,
    e.operation === 'Update' ? e.apiVersion : '',
    e.subresource ?? '',
  ]);
}

/** The entries of a managedFields list, or undefined when it is not a valid one. */
export function decodeManagedFields(value: unknown): ManagerEntry[] | undefined {
  if (!Array.isArray(value)) return undefined;
  const entries: ManagerEntry[] = [];
  for (const raw of value) {
    if (!isObject(raw)) return undefined;
    const { manager, operation, apiVersion, time, subresource, fieldsType, fieldsV1 } = raw;
    if (typeof manager !== 'string' || (operation !== 'Apply' && operation !== 'Update')) return undefined;
    if (fieldsType !== undefined && fieldsType !== 'FieldsV1') return undefined;
    let set: FieldSet;
    try {
      set = fieldsV1 === undefined ? new FieldSet() : FieldSet.fromFieldsV1(fieldsV1);
    } catch {
      return undefined;
    }
    entries.push({
      manager,
      operation,
      apiVersion: typeof apiVersion === 'string' ? apiVersion : '',
      time: typeof time === 'string' ? time : undefined,
      subresource: typeof subresource === 'string' && subresource !== '' ? subresource : undefined,
      set,
    });
  }
  return entries;
}

/** The managedFields of a stored object; an unreadable list is dropped, as kube does. */
export function managersOf(object: JsonObject | undefined): ManagerEntry[] {
  const metadata = object?.metadata;
  return (isObject(metadata) && decodeManagedFields(metadata.managedFields)) || [];
}

export function encodeManagedFields(entries: readonly ManagerEntry[]): JsonObject[] {
  const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
  const seconds = (t: string | undefined) => (t ? Math.floor(Date.parse(t) / 1000) || 0 : 0);
  return [...entries]
    .filter((e) => !e.set.isEmpty())
    .sort(
      (a, b) =>
        cmp(a.operation, b.operation) ||
        seconds(a.time) - seconds(b.time) ||
        cmp(a.manager, b.manager) ||
        cmp(a.apiVersion, b.apiVersion) ||
        cmp(a.subresource ?? '', b.subresource ?? ''),
    )
    .map((e) => {
      const out: JsonObject = { manager: e.manager, operation: e.operation, apiVersion: e.apiVersion };
      if (e.time !== undefined) out.time = e.time;
      out.fieldsType = 'FieldsV1';
      out.fieldsV1 = e.set.toFieldsV1();
      if (e.subresource !== undefined) out.subresource = e.subresource;
      return out;
    });
}

/** RFC 3339 with whole seconds, as metav1.Time serializes. */
export function formatTime(now: Date | string): string {
  const date = typeof now === 'string' ? new Date(now) : now;
  if (Number.isNaN(date.getTime())) throw new Error(`invalid time ${JSON.stringify(String(now))}`);
  return timestamp(date);
}
