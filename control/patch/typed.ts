/**
 * Walks of objects together with their schema, for server-side apply: which fields a value
 * sets, what changed between two values, how an applied configuration merges into the live
 * object, and how fields an applier gave up are pruned. Lists and maps follow
 * `x-kubernetes-list-type` / `x-kubernetes-list-map-keys` / `x-kubernetes-map-type`.
 */
import type { SchemaNode } from '../schema/types.js';
import type { JsonObject } from '../store/types.js';
import { PatchError } from './errors.js';
import { FieldSet, fieldElement, formatPath, keyElement, valueElement } from './fieldset.js';
import { deepEqual, isObject } from './json.js';
import { childSchema, isAtomicMap, isNamedField, listSemantics } from './schema.js';

type Path = readonly string[];

/** How a value is walked: by its fields, by its elements' identities, or as one leaf. */
type Shape =
  | { readonly kind: 'map' }
  | { readonly kind: 'list'; readonly elements: readonly string[]; readonly items: SchemaNode | undefined }
  | { readonly kind: 'leaf' };

const LEAF: Shape = { kind: 'leaf' };

function shapeOf(value: unknown, schema: SchemaNode | undefined): Shape {
  if (isObject(value)) return isAtomicMap(schema) ? LEAF : { kind: 'map' };
  if (!Array.isArray(value)) return LEAF;
  const elements = listElements(value, schema);
  return typeof elements === 'string' ? LEAF : { kind: 'list', elements, items: schema?.items };
}

/**
 * The path element of every element of a granular list, or why the list must be treated as
 * atomic (an element without its keys, a duplicate, or an atomic list).
 */
function listElements(list: unknown[], schema: SchemaNode | undefined): string[] | string {
  const semantics = listSemantics(schema);
  if (semantics.type === 'atomic') return 'atomic';
  const elements: string[] = [];
  for (const [i, item] of list.entries()) {
    let element: string;
    if (semantics.type === 'set') {
      if (isObject(item) || Array.isArray(item)) return `element ${i} of a set must be a primitive value`;
      element = valueElement(item);
    } else {
      if (!isObject(item)) return `element ${i} must be an object`;
      const keys: Record<string, unknown> = {};
      for (const k of semantics.keys) {
        const v = Object.hasOwn(item, k) ? item[k] : schema?.items?.properties?.[k]?.default;
        if (v === undefined || v === null) return `element ${i} has no key field "${k}"`;
        keys[k] = v;
      }
      element = keyElement(keys);
    }
    if (elements.includes(element)) return `element ${i} duplicates ${element.slice(2)}`;
    elements.push(element);
  }
  return elements;
}

/**
 * Whether a present map entry is itself a member of a field set, as structured-merge-diff
 * decides: leaves, map entries (not declared fields), nulls and empty objects are; declared
 * struct fields holding something are represented by their contents.
 */
function entryIsMember(parent: SchemaNode | undefined, key: string, value: unknown): boolean {
  if (value === null || !isNamedField(parent, key)) return true;
  if (isObject(value) && Object.keys(value).length === 0) return true;
  return shapeOf(value, childSchema(parent, key)).kind === 'leaf';
}

/** Adds every path inside `value` (found at `path`) to `set`. */
function addPaths(value: unknown, schema: SchemaNode | undefined, path: Path, set: FieldSet): void {
  const shape = shapeOf(value, schema);
  if (shape.kind === 'map') {
    for (const [k, v] of Object.entries(value as JsonObject)) {
      const p = [...path, fieldElement(k)];
      if (entryIsMember(schema, k, v)) set.insert(p);
      addPaths(v, childSchema(schema, k), p, set);
    }
  } else if (shape.kind === 'list') {
    (value as unknown[]).forEach((item, i) => {
      const p = [...path, shape.elements[i] as string];
      set.insert(p);
      addPaths(item, shape.items, p, set);
    });
  }
}

/** The fields an object sets. */
export function toFieldSet(value: JsonObject, schema: SchemaNode | undefined): FieldSet {
  const set = new FieldSet();
  addPaths(value, schema, [], set);
  return set;
}

export interface Comparison {
  readonly added: FieldSet;
  readonly modified: FieldSet;
  readonly removed: FieldSet;
}

export function compare(before: JsonObject, after: JsonObject, schema: SchemaNode | undefined): Comparison {
  const result = { added: new FieldSet(), modified: new FieldSet(), removed: new FieldSet() };
  compareValues(before, after, schema, [], result);
  return result;
}

function compareValues(
  before: unknown,
  after: unknown,
  schema: SchemaNode | undefined,
  path: Path,
  out: Comparison,
): void {
  const a = shapeOf(before, schema);
  const b = shapeOf(after, schema);
  if (a.kind === 'map' && b.kind === 'map') {
    const x = before as JsonObject;
    const y = after as JsonObject;
    for (const k of new Set([...Object.keys(x), ...Object.keys(y)])) {
      const p = [...path, fieldElement(k)];
      const sub = childSchema(schema, k);
      if (!Object.hasOwn(x, k)) {
        if (entryIsMember(schema, k, y[k])) out.added.insert(p);
        addPaths(y[k], sub, p, out.added);
      } else if (!Object.hasOwn(y, k)) {
        if (entryIsMember(schema, k, x[k])) out.removed.insert(p);
        addPaths(x[k], sub, p, out.removed);
      } else {
        compareValues(x[k], y[k], sub, p, out);
      }
    }
    return;
  }
  if (a.kind === 'list' && b.kind === 'list') {
    const x = before as unknown[];
    const y = after as unknown[];
    for (const [i, element] of b.elements.entries()) {
      const p = [...path, element];
      const j = a.elements.indexOf(element);
      if (j < 0) {
        out.added.insert(p);
        addPaths(y[i], b.items, p, out.added);
      } else {
        compareValues(x[j], y[i], b.items, p, out);
      }
    }
    for (const [j, element] of a.elements.entries()) {
      if (b.elements.includes(element)) continue;
      const p = [...path, element];
      out.removed.insert(p);
      addPaths(x[j], a.items, p, out.removed);
    }
    return;
  }
  if (!deepEqual(before, after)) out.modified.insert(path);
}

/**
 * Refuses applied configurations whose granular lists cannot be keyed (422, like
 * kube-apiserver), so that ownership is never recorded against guessed identities.
 */
export function checkApplied(value: unknown, schema: SchemaNode | undefined, path: Path = []): void {
  if (isObject(value)) {
    if (isAtomicMap(schema)) return;
    for (const [k, v] of Object.entries(value))
      checkApplied(v, childSchema(schema, k), [...path, fieldElement(k)]);
    return;
  }
  if (!Array.isArray(value)) return;
  const elements = listElements(value, schema);
  if (typeof elements === 'string') {
    if (elements === 'atomic') return;
    throw new PatchError(422, `invalid apply configuration at ${formatPath(path) || '.'}: ${elements}`);
  }
  value.forEach((item, i) => checkApplied(item, schema?.items, [...path, elements[i] as string]));
}

/** Drops nulls from maps: in an applied configuration a null means "not set". */
function withoutNulls(value: unknown, schema: SchemaNode | undefined): unknown {
  if (isObject(value)) {
    const out: JsonObject = {};
    for (const [k, v] of Object.entries(value))
      if (v !== null) out[k] = withoutNulls(v, childSchema(schema, k));
    return out;
  }
  if (Array.isArray(value)) return value.map((v) => withoutNulls(v, schema?.items));
  return value;
}

/** The live object with the applied configuration merged in (applied values win). */
export function mergeApplied(
  live: JsonObject,
  applied: JsonObject,
  schema: SchemaNode | undefined,
): JsonObject {
  return mergeValues(live, applied, schema) as JsonObject;
}

function mergeValues(live: unknown, applied: unknown, schema: SchemaNode | undefined): unknown {
  if (live === undefined) return withoutNulls(applied, schema);
  const a = shapeOf(live, schema);
  const b = shapeOf(applied, schema);
  if (a.kind === 'map' && b.kind === 'map') {
    const out: JsonObject = { ...(live as JsonObject) };
    for (const [k, v] of Object.entries(applied as JsonObject)) {
      if (v === null) delete out[k];
      else out[k] = mergeValues(out[k], v, childSchema(schema, k));
    }
    return out;
  }
  if (a.kind === 'list' && b.kind === 'list') {
    const x = live as unknown[];
    const y = applied as unknown[];
    return interleave(a.elements, b.elements).map(({ left, right }) =>
      right === undefined
        ? x[left as number]
        : mergeValues(left === undefined ? undefined : x[left], y[right], b.items),
    );
  }
  return withoutNulls(applied, schema);
}

/**
 * The order of a merged list: applied elements keep the applied order, live-only elements
 * keep their places between them. Returns index pairs into the live and applied lists.
 */
function interleave(live: readonly string[], applied: readonly string[]) {
  const out: { left: number | undefined; right: number | undefined }[] = [];
  let next = 0;
  const takeApplied = (upTo: number) => {
    for (; next <= upTo; next++) {
      const j = live.indexOf(applied[next] as string);
      out.push({ left: j < 0 ? undefined : j, right: next });
    }
  };
  for (const [i, element] of live.entries()) {
    const r = applied.indexOf(element);
    if (r < 0) out.push({ left: i, right: undefined });
    else if (r >= next) takeApplied(r);
  }
  takeApplied(applied.length - 1);
  return out;
}

/**
 * Removes from `value` the fields in `remove` that nobody in `kept` owns anything under, and
 * then parents left empty by that which nobody owns. Elements of kept list items that are
 * their keys are never removed.
 */
export function prune(
  value: JsonObject,
  remove: FieldSet,
  kept: FieldSet,
  schema: SchemaNode | undefined,
): JsonObject {
  return pruneValue(value, remove, kept, schema, []) as JsonObject;
}

function pruneValue(
  value: unknown,
  remove: FieldSet,
  kept: FieldSet | undefined,
  schema: SchemaNode | undefined,
  protectedKeys: readonly string[],
): unknown {
  const shape = shapeOf(value, schema);
  const decide = (
    element: string,
    child: unknown,
    childSchema: SchemaNode | undefined,
    keys: readonly string[],
  ) => {
    const r = remove.children.get(element);
    if (!r) return { keep: true, value: child };
    const k = kept?.children.get(element);
    if (r.member && !k) return { keep: false, value: child };
    const pruned = pruneValue(child, r, k, childSchema, keys);
    const emptied = isEmptyContainer(pruned) && !isEmptyContainer(child);
    return { keep: !(emptied && !k), value: pruned };
  };
  if (shape.kind === 'map') {
    const out: JsonObject = {};
    for (const [key, child] of Object.entries(value as JsonObject)) {
      const element = fieldElement(key);
      if (protectedKeys.includes(element)) {
        out[key] = child;
        continue;
      }
      const d = decide(element, child, childSchema(schema, key), []);
      if (d.keep) out[key] = d.value;
    }
    return out;
  }
  if (shape.kind === 'list') {
    const semantics = listSemantics(schema);
    const keys = semantics.type === 'map' ? semantics.keys.map(fieldElement) : [];
    const out: unknown[] = [];
    (value as unknown[]).forEach((item, i) => {
      const d = decide(shape.elements[i] as string, item, shape.items, keys);
      if (d.keep) out.push(d.value);
    });
    return out;
  }
  return value;
}

function isEmptyContainer(value: unknown): boolean {
  return (Array.isArray(value) && value.length === 0) || (isObject(value) && Object.keys(value).length === 0);
}
