/**
 * JSON patch (RFC 6902) with JSON pointers (RFC 6901), `application/json-patch+json`.
 * As in kube-apiserver, a body that is not a list of objects is 400; an operation that is
 * incomplete or cannot be applied is 422. Messages name the operation's index and path.
 */
import type { JsonObject } from '../store/types.js';
import { PatchError } from './errors.js';
import { clone, deepEqual, describe, isObject } from './json.js';

type Container = JsonObject | unknown[];

export function applyJsonPatch(target: JsonObject, operations: unknown): JsonObject {
  if (!Array.isArray(operations)) {
    throw new PatchError(
      400,
      `invalid JSON patch: expected a list of operations, got ${describe(operations)}`,
    );
  }
  operations.forEach((op, i) => {
    if (!isObject(op)) {
      throw new PatchError(400, `invalid JSON patch: operation ${i} is ${describe(op)}, not an object`);
    }
  });
  let doc: unknown = clone(target);
  (operations as JsonObject[]).forEach((op, index) => {
    doc = applyOperation(doc, op, index);
  });
  if (!isObject(doc)) {
    throw new PatchError(422, `JSON patch result is ${describe(doc)}, not an object`);
  }
  return doc;
}

function applyOperation(doc: unknown, op: JsonObject, index: number): unknown {
  const kind = op.op;
  const path = op.path;
  const where = `JSON patch operation ${index} (${typeof kind === 'string' ? kind : '?'} ${typeof path === 'string' ? path : '?'})`;
  const fail = (message: string): never => {
    throw new PatchError(422, `${where}: ${message}`);
  };
  if (typeof kind !== 'string') return fail('"op" must be a string');
  if (typeof path !== 'string') return fail('"path" must be a string');
  const tokens = parsePointer(path, fail);
  const value = (): unknown => (Object.hasOwn(op, 'value') ? clone(op.value) : fail('"value" is missing'));
  const from = (): string[] =>
    typeof op.from === 'string' ? parsePointer(op.from, fail) : fail('"from" must be a string');

  switch (kind) {
    case 'add':
      return add(doc, tokens, value(), fail);
    case 'remove':
      return remove(doc, tokens, fail).doc;
    case 'replace': {
      const v = value();
      if (tokens.length === 0) return v;
      return add(remove(doc, tokens, fail).doc, tokens, v, fail);
    }
    case 'move': {
      const source = from();
      if (source.length < tokens.length && source.every((t, i) => t === tokens[i])) {
        fail(`cannot move "${String(op.from)}" into its own child`);
      }
      const removed = remove(doc, source, fail);
      return add(removed.doc, tokens, removed.value, fail);
    }
    case 'copy':
      return add(doc, tokens, clone(get(doc, from(), fail)), fail);
    case 'test': {
      const expected = value();
      if (!deepEqual(get(doc, tokens, fail), expected)) fail('test failed: the value differs');
      return doc;
    }
    default:
      return fail(`unknown op "${kind}" (want add, remove, replace, move, copy or test)`);
  }
}

function parsePointer(pointer: string, fail: (message: string) => never): string[] {
  if (pointer === '') return [];
  if (!pointer.startsWith('/')) fail(`JSON pointer "${pointer}" must start with "/"`);
  return pointer
    .slice(1)
    .split('/')
    .map((t) => {
      if (/~[^01]|~$/.test(t)) fail(`JSON pointer "${pointer}" has an invalid escape in "${t}"`);
      return t.replace(/~1/g, '/').replace(/~0/g, '~');
    });
}

function arrayIndex(list: unknown[], token: string, forAdd: boolean, fail: (m: string) => never): number {
  if (forAdd && token === '-') return list.length;
  if (!/^(0|[1-9][0-9]*)$/.test(token)) fail(`"${token}" is not a valid list index`);
  const i = Number(token);
  if (i > list.length || (!forAdd && i === list.length)) {
    fail(`index ${i} is out of range (the list has ${list.length} items)`);
  }
  return i;
}

/** The container holding the last token, walking the pointer's other tokens. */
function parent(doc: unknown, tokens: string[], fail: (m: string) => never): Container {
  let node = doc;
  for (const t of tokens.slice(0, -1)) {
    if (Array.isArray(node)) node = node[arrayIndex(node, t, false, fail)];
    else if (isObject(node) && Object.hasOwn(node, t)) node = node[t];
    else fail(`path not found: no "${t}"`);
  }
  if (!Array.isArray(node) && !isObject(node)) fail(`path not found: ${describe(node)} has no members`);
  return node as Container;
}

function get(doc: unknown, tokens: string[], fail: (m: string) => never): unknown {
  const last = tokens.at(-1);
  if (last === undefined) return doc;
  const p = parent(doc, tokens, fail);
  if (Array.isArray(p)) return p[arrayIndex(p, last, false, fail)];
  if (!Object.hasOwn(p, last)) fail(`path not found: no "${last}"`);
  return p[last];
}

function add(doc: unknown, tokens: string[], value: unknown, fail: (m: string) => never): unknown {
  const last = tokens.at(-1);
  if (last === undefined) return value;
  const p = parent(doc, tokens, fail);
  if (Array.isArray(p)) p.splice(arrayIndex(p, last, true, fail), 0, value);
  else p[last] = value;
  return doc;
}

function remove(
  doc: unknown,
  tokens: string[],
  fail: (m: string) => never,
): { doc: unknown; value: unknown } {
  const last = tokens.at(-1);
  if (last === undefined) return fail('cannot remove the whole document');
  const p = parent(doc, tokens, fail);
  if (Array.isArray(p)) {
    const [value] = p.splice(arrayIndex(p, last, false, fail), 1);
    return { doc, value };
  }
  if (!Object.hasOwn(p, last)) fail(`path not found: no "${last}"`);
  const value = p[last];
  delete p[last];
  return { doc, value };
}
