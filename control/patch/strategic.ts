/**
 * Kubernetes strategic merge patch, `application/strategic-merge-patch+json`: what
 * `kubectl apply` (client-side) and `kubectl patch` send for built-in kinds. Maps merge
 * recursively and `null` deletes; lists whose schema says `x-kubernetes-patch-strategy: merge`
 * merge by `x-kubernetes-patch-merge-key` (or as sets, for primitives); other lists are
 * replaced. Directives: `$patch` (replace / delete / merge), `$retainKeys`,
 * `$setElementOrder/<list>` and `$deleteFromPrimitiveList/<list>`. Where the schema is
 * silent the patch behaves like a JSON merge patch.
 */
import type { SchemaNode } from '../schema/types.js';
import type { JsonObject } from '../store/types.js';
import { PatchError } from './errors.js';
import { clone, deepEqual, describe, isObject } from './json.js';
import { childSchema, patchStrategy } from './schema.js';

const PATCH = '$patch';
const RETAIN_KEYS = '$retainKeys';
const SET_ORDER = '$setElementOrder/';
const DELETE_PRIMITIVES = '$deleteFromPrimitiveList/';

export function applyStrategicMergePatch(
  target: JsonObject,
  patch: unknown,
  schema: SchemaNode | undefined,
): JsonObject {
  if (!isObject(patch)) {
    throw new PatchError(400, `invalid strategic merge patch: expected an object, got ${describe(patch)}`);
  }
  return mergeMap(clone(target), clone(patch), schema, '');
}

const bad = (path: string, message: string): never => {
  throw new PatchError(400, `invalid strategic merge patch at ${path || '.'}: ${message}`);
};

/** Merges `patch` into `original`, which this function owns and may change. */
function mergeMap(
  original: JsonObject | undefined,
  patch: JsonObject,
  schema: SchemaNode | undefined,
  path: string,
): JsonObject {
  if (Object.hasOwn(patch, PATCH)) {
    const directive = patch[PATCH];
    const rest = { ...patch };
    delete rest[PATCH];
    if (directive === 'delete') return {};
    if (directive === 'replace') return mergeMap({}, rest, schema, path);
    if (directive !== 'merge') bad(path, `unknown ${PATCH} directive ${JSON.stringify(directive)}`);
    return mergeMap(original, rest, schema, path);
  }
  const result = original ?? {};
  if (Object.hasOwn(patch, RETAIN_KEYS)) applyRetainKeys(result, patch, path);

  const orders: [string, unknown][] = [];
  const deletions: [string, unknown][] = [];
  const fields: [string, unknown][] = [];
  for (const [key, value] of Object.entries(patch)) {
    if (key === RETAIN_KEYS) continue;
    if (key.startsWith(SET_ORDER)) orders.push([key.slice(SET_ORDER.length), value]);
    else if (key.startsWith(DELETE_PRIMITIVES)) deletions.push([key.slice(DELETE_PRIMITIVES.length), value]);
    else fields.push([key, value]);
  }

  for (const [key, values] of deletions) {
    const where = `${path}.${key}`;
    if (!Array.isArray(values)) bad(where, `${DELETE_PRIMITIVES}${key} must be a list of values`);
    const current = result[key];
    if (Array.isArray(current)) {
      result[key] = current.filter((x) => !(values as unknown[]).some((v) => deepEqual(v, x)));
    }
  }

  // $setElementOrder interleaves server-only elements by their places before this patch.
  const before = new Map(orders.map(([key]) => [key, result[key]]));
  for (const [key, value] of fields) {
    if (value === null) {
      delete result[key];
      continue;
    }
    result[key] = mergeField(result[key], value, childSchema(schema, key), `${path}.${key}`);
  }

  for (const [key, order] of orders) {
    const where = `${path}.${key}`;
    if (!Array.isArray(order)) bad(where, `${SET_ORDER}${key} must be a list`);
    const current = result[key];
    const previous = before.get(key);
    if (Array.isArray(current)) {
      const serverOrder = Array.isArray(previous) ? previous : [];
      result[key] = applyElementOrder(
        current,
        order as unknown[],
        serverOrder,
        childSchema(schema, key),
        where,
      );
    }
  }
  return result;
}

function mergeField(
  original: unknown,
  patch: unknown,
  schema: SchemaNode | undefined,
  path: string,
): unknown {
  const strategy = patchStrategy(schema);
  if (isObject(patch)) {
    if (strategy.replace) return mergeMap({}, patch, schema, path);
    return mergeMap(isObject(original) ? original : undefined, patch, schema, path);
  }
  if (Array.isArray(patch)) {
    if (!strategy.merge) return patch;
    return mergeList(Array.isArray(original) ? original : [], patch, schema, path);
  }
  return patch;
}

function applyRetainKeys(original: JsonObject, patch: JsonObject, path: string): void {
  const retain = patch[RETAIN_KEYS];
  if (!Array.isArray(retain) || !retain.every((k) => typeof k === 'string')) {
    bad(path, `${RETAIN_KEYS} must be a list of field names`);
  }
  const keep = new Set(retain as string[]);
  for (const key of Object.keys(patch)) {
    if (!key.startsWith('$') && !keep.has(key)) {
      throw new PatchError(
        422,
        `strategic merge patch at ${path || '.'}: field "${key}" is in the patch but not in ${RETAIN_KEYS}`,
      );
    }
  }
  for (const key of Object.keys(original)) if (!keep.has(key)) delete original[key];
}

type Kind = 'map' | 'primitive' | 'empty';

function elementKind(lists: unknown[][], path: string): Kind {
  let kind: Kind = 'empty';
  for (const item of lists.flat()) {
    if (Array.isArray(item)) {
      throw new PatchError(422, `strategic merge patch at ${path}: lists of lists cannot be merged`);
    }
    const k: Kind = isObject(item) ? 'map' : 'primitive';
    if (kind !== 'empty' && kind !== k) bad(path, 'the list mixes objects and primitive values');
    kind = k;
  }
  return kind;
}

/** Identity of a list element: its merge key's value for objects, itself for primitives. */
type Identify = (item: unknown) => unknown;

function mergeList(original: unknown[], patch: unknown[], schema: SchemaNode | undefined, path: string) {
  const kind = elementKind([original, patch], path);
  if (kind === 'empty') return [];
  if (kind === 'primitive') {
    const merged = [...original];
    for (const item of patch) if (!merged.some((x) => deepEqual(x, item))) merged.push(item);
    return orderLikeKube(merged, patch, original, (x) => x);
  }
  const mergeKey = schema?.['x-kubernetes-patch-merge-key'];
  if (!mergeKey) return bad(path, 'cannot merge a list of objects that has no merge key');
  const id: Identify = (item) => (isObject(item) ? item[mergeKey] : undefined);
  const keyOf = (item: JsonObject): unknown =>
    Object.hasOwn(item, mergeKey) ? item[mergeKey] : bad(path, `an element has no merge key "${mergeKey}"`);

  let merged = [...original];
  const plain: JsonObject[] = [];
  let replace = false;
  for (const item of patch as JsonObject[]) {
    if (!Object.hasOwn(item, PATCH)) {
      plain.push(item);
      continue;
    }
    const directive = item[PATCH];
    if (directive === 'delete') {
      const key = keyOf(item);
      merged = merged.filter((x) => !deepEqual(id(x), key));
    } else if (directive === 'replace') {
      replace = true;
    } else if (directive !== 'merge') {
      bad(path, `unknown ${PATCH} directive ${JSON.stringify(directive)} in a list element`);
    }
  }
  const items = schema?.items;
  if (replace) return plain.map((item) => mergeMap({}, item, items, `${path}[${JSON.stringify(id(item))}]`));

  const serverOrder = [...merged];
  for (const item of plain) {
    const key = keyOf(item);
    const where = `${path}[${mergeKey}=${JSON.stringify(key)}]`;
    const at = merged.findIndex((x) => deepEqual(id(x), key));
    const existing = merged[at];
    if (at >= 0 && isObject(existing)) merged[at] = mergeMap(existing, item, items, where);
    else merged.push(mergeMap({}, item, items, where));
  }
  return orderLikeKube(merged, plain, serverOrder, id);
}

/**
 * kube's element order after a merge: the patch's elements in patch order, the server-only
 * elements in their old order, interleaved by their old positions. Elements new to the list
 * come before server-only ones (kubectl avoids that by sending `$setElementOrder`).
 */
function orderLikeKube(merged: unknown[], patchOrder: unknown[], serverOrder: unknown[], id: Identify) {
  const indexIn = (list: unknown[], item: unknown) => list.findIndex((x) => deepEqual(id(x), id(item)));
  const fromPatch = merged.filter((x) => indexIn(patchOrder, x) >= 0);
  const serverOnly = merged.filter((x) => indexIn(patchOrder, x) < 0);
  fromPatch.sort((a, b) => indexIn(patchOrder, a) - indexIn(patchOrder, b));
  const out: unknown[] = [];
  let i = 0;
  let j = 0;
  while (i < serverOnly.length || j < fromPatch.length) {
    const left = serverOnly[i];
    const right = fromPatch[j];
    if (j >= fromPatch.length) {
      out.push(left);
      i++;
    } else if (i >= serverOnly.length) {
      out.push(right);
      j++;
    } else {
      const li = indexIn(serverOrder, left);
      const ri = indexIn(serverOrder, right);
      if (li >= 0 && ri >= 0 && li < ri) {
        out.push(left);
        i++;
      } else {
        out.push(right);
        j++;
      }
    }
  }
  return out;
}

/** `$setElementOrder/<list>`: the listed elements take that order; others keep their places. */
function applyElementOrder(
  list: unknown[],
  order: unknown[],
  serverOrder: unknown[],
  schema: SchemaNode | undefined,
  path: string,
) {
  const kind = elementKind([list, order], path);
  if (kind === 'empty') return list;
  let id: Identify = (x) => x;
  if (kind === 'map') {
    const mergeKey = schema?.['x-kubernetes-patch-merge-key'];
    if (!mergeKey) return bad(path, `${SET_ORDER} needs a list with a merge key`);
    for (const o of order as JsonObject[]) {
      if (!Object.hasOwn(o, mergeKey)) bad(path, `a ${SET_ORDER} element has no merge key "${mergeKey}"`);
    }
    id = (item) => (isObject(item) ? item[mergeKey] : undefined);
  }
  return orderLikeKube(list, order, serverOrder, id);
}
