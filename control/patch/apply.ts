/**
 * Field ownership as kube-apiserver's field manager keeps it: server-side apply
 * (`application/apply-patch+yaml`) and the bookkeeping of ordinary writes.
 */
import type { SchemaNode } from '../schema/types.js';
import type { JsonObject } from '../store/types.js';
import { ApplyConflictError, PatchError, type ApplyConflict } from './errors.js';
import { FieldSet, formatPath } from './fieldset.js';
import { clone, deepEqual, describe, isObject } from './json.js';
import {
  decodeManagedFields,
  encodeManagedFields,
  formatTime,
  identity,
  managersOf,
  type ManagerEntry,
} from './managed.js';
import { checkApplied, compare, mergeApplied, prune, toFieldSet } from './typed.js';

/** Update entries beyond this many are folded, oldest first, into `ancient-changes`. */
const MAX_UPDATE_MANAGERS = 10;
const ANCIENT_CHANGES = 'ancient-changes';

/** Fields nobody owns: identity and server-maintained metadata (kube's strip set). */
const NEVER_OWNED = FieldSet.fromPaths([
  ['f:apiVersion'],
  ['f:kind'],
  ['f:metadata'],
  ...['name', 'namespace', 'creationTimestamp', 'selfLink', 'uid', 'clusterName', 'generation'].map((f) => [
    'f:metadata',
    `f:${f}`,
  ]),
  ['f:metadata', 'f:managedFields'],
  ['f:metadata', 'f:resourceVersion'],
]);

function ownable(set: FieldSet): FieldSet {
  const out = set.difference(NEVER_OWNED);
  const metadata = out.children.get('f:metadata');
  metadata?.children.delete('f:managedFields');
  if (metadata?.isEmpty()) out.children.delete('f:metadata');
  return out;
}

/** Metadata the server maintains; an applied configuration cannot set it. */
const SERVER_METADATA = [
  'managedFields',
  'uid',
  'resourceVersion',
  'creationTimestamp',
  'generation',
  'selfLink',
  'deletionTimestamp',
  'deletionGracePeriodSeconds',
];

function withoutManagedFields(object: JsonObject): JsonObject {
  const out = { ...object };
  if (isObject(out.metadata)) {
    const metadata = { ...out.metadata };
    delete metadata.managedFields;
    out.metadata = metadata;
  }
  return out;
}

function withManagedFields(object: JsonObject, entries: ManagerEntry[]): JsonObject {
  const encoded = encodeManagedFields(capUpdateManagers(entries));
  const metadata: JsonObject = isObject(object.metadata) ? { ...object.metadata } : {};
  if (encoded.length > 0) metadata.managedFields = encoded;
  else delete metadata.managedFields;
  return { ...object, metadata };
}

const apiVersionOf = (...objects: (JsonObject | undefined)[]): string => {
  for (const o of objects) if (typeof o?.apiVersion === 'string') return o.apiVersion;
  return '';
};

export interface ServerSideApplyOptions {
  /** The stored object; undefined when the apply creates it. */
  readonly live: JsonObject | undefined;
  /** The applied configuration (the request body). */
  readonly applied: JsonObject;
  /** `?fieldManager=`. */
  readonly manager: string;
  /** `?force=true`: take ownership of conflicting fields instead of failing. */
  readonly force?: boolean;
  readonly schema: SchemaNode | undefined;
  readonly now: Date | string;
  readonly subresource?: string;
}

/**
 * Server-side apply. Returns the new object with its managedFields. The caller checks
 * preconditions first (the applied `metadata.resourceVersion` and `uid`, kind and name); the
 * applied configuration's managedFields and other server-maintained metadata are ignored.
 * Throws ApplyConflictError (409) or PatchError (400 / 422).
 */
export function serverSideApply(options: ServerSideApplyOptions): JsonObject {
  const { schema, manager } = options;
  if (typeof manager !== 'string' || manager === '') {
    throw new PatchError(400, 'fieldManager is required for apply requests');
  }
  if (!isObject(options.applied)) {
    throw new PatchError(
      400,
      `invalid apply configuration: expected an object, got ${describe(options.applied)}`,
    );
  }
  const applied = clone(options.applied);
  if (isObject(applied.metadata)) for (const f of SERVER_METADATA) delete applied.metadata[f];
  checkApplied(applied, schema);

  const live = options.live ? withoutManagedFields(clone(options.live)) : {};
  const managers = managersOf(options.live);
  const me = {
    manager,
    operation: 'Apply' as const,
    apiVersion: apiVersionOf(applied, live),
    subresource: options.subresource,
  };
  const previous = managers.find((e) => identity(e) === identity(me));
  const others = managers.filter((e) => e !== previous);

  const appliedSet = ownable(toFieldSet(applied, schema));
  let merged = mergeApplied(live, applied, schema);
  if (previous) {
    const kept = others.reduce((acc, e) => acc.union(e.set), appliedSet);
    merged = prune(merged, previous.set.difference(appliedSet), kept, schema);
  }

  const { added, modified, removed } = compare(live, merged, schema);
  const changed = modified.union(added);
  const conflicts: ApplyConflict[] = [];
  for (const e of others) {
    for (const path of e.set.intersection(changed).paths()) {
      conflicts.push({
        manager: e.manager,
        field: formatPath(path),
        message: `conflict with ${printManager(e)}`,
      });
    }
  }
  if (conflicts.length > 0 && !options.force) {
    throw new ApplyConflictError(
      conflicts.sort((a, b) => (a.message < b.message ? -1 : a.message > b.message ? 1 : 0)),
    );
  }
  for (const e of others) e.set = e.set.difference(changed).difference(removed);

  const changedObject = !options.live || !deepEqual(live, merged);
  const time = changedObject || !previous ? formatTime(options.now) : previous.time;
  return withManagedFields(merged, [...others, { ...me, time, set: appliedSet }]);
}

/** How kube-apiserver names a manager in conflict messages. */
function printManager(e: ManagerEntry): string {
  let out = JSON.stringify(e.manager);
  if (e.subresource) out += ` with subresource ${JSON.stringify(e.subresource)}`;
  if (e.operation === 'Update') {
    out += ` using ${e.apiVersion}`;
    if (e.time) out += ` at ${e.time}`;
  }
  return out;
}

export interface RecordManagedFieldsOptions {
  /** The stored object; undefined on create. */
  readonly old: JsonObject | undefined;
  /** The object about to be stored (after the update or patch). */
  readonly updated: JsonObject;
  readonly manager: string;
  readonly operation?: 'Update';
  readonly schema: SchemaNode | undefined;
  readonly now: Date | string;
  readonly subresource?: string;
}

/**
 * managedFields after an ordinary create, update or patch: the fields the write changed are
 * now owned by `manager` (operation Update) and by nobody else; removed fields are owned by
 * nobody. As in kube-apiserver, a request carrying its own valid managedFields sets them
 * (`[]` or `[{}]` resets them), except through a subresource; otherwise the stored ones carry
 * over.
 */
export function recordManagedFields(options: RecordManagedFieldsOptions): JsonObject {
  const { manager, schema } = options;
  if (typeof manager !== 'string' || manager === '') {
    throw new PatchError(400, 'a field manager name is required');
  }
  const requested = isObject(options.updated.metadata) ? options.updated.metadata.managedFields : undefined;
  let managers: ManagerEntry[];
  if (options.subresource !== undefined || requested === undefined) {
    managers = managersOf(options.old);
  } else if (isReset(requested)) {
    managers = [];
  } else {
    const decoded = decodeManagedFields(requested);
    managers = decoded && decoded.length > 0 ? decoded : managersOf(options.old);
  }

  const before = options.old ? withoutManagedFields(options.old) : {};
  const after = withoutManagedFields(options.updated);
  const { added, modified, removed } = compare(before, after, schema);
  const changed = ownable(modified.union(added));
  for (const e of managers) e.set = e.set.difference(changed).difference(removed);

  if (!changed.isEmpty()) {
    const me = {
      manager,
      operation: 'Update' as const,
      apiVersion: apiVersionOf(options.updated, options.old),
      subresource: options.subresource,
    };
    const time = formatTime(options.now);
    const mine = managers.find((e) => identity(e) === identity(me));
    if (mine) {
      mine.set = mine.set.union(changed);
      mine.time = time;
    } else {
      managers.push({ ...me, time, set: changed });
    }
  }
  return withManagedFields(clone(options.updated), managers);
}

function isReset(requested: unknown): boolean {
  return (
    Array.isArray(requested) &&
    (requested.length === 0 || (requested.length === 1 && deepEqual(requested[0], {})))
  );
}

/** kube-apiserver keeps at most ten Update entries, folding the oldest into one bucket. */
function capUpdateManagers(entries: ManagerEntry[]): ManagerEntry[] {
  const live = entries.filter((e) => !e.set.isEmpty());
  const updaters = live.filter((e) => e.operation === 'Update');
  if (updaters.length <= MAX_UPDATE_MANAGERS) return live;
  const byAge = [...updaters].sort((a, b) => Date.parse(a.time ?? '') - Date.parse(b.time ?? '') || 0);
  const folded = byAge.slice(0, updaters.length - MAX_UPDATE_MANAGERS + 1);
  const bucket: ManagerEntry = {
    manager: ANCIENT_CHANGES,
    operation: 'Update',
    apiVersion: folded.at(-1)?.apiVersion ?? '',
    time: folded.at(-1)?.time,
    subresource: undefined,
    set: folded.reduce((acc, e) => acc.union(e.set), new FieldSet()),
  };
  return [...live.filter((e) => !folded.includes(e)), bucket];
}
