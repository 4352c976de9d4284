/**
 * Sets of field paths, as server-side apply records them in `metadata.managedFields[].fieldsV1`.
 * A path is a list of path elements, each encoded as in FieldsV1: `f:<field>`,
 * `k:<json object of the list-map keys>`, `v:<json value of a set element>`, `i:<index>`.
 * The set is a tree; a node is a member when that path itself is in the set (FieldsV1 writes
 * that as `".": {}` when the node also has children).
 */
import type { JsonObject } from '../store/types.js';
import { isObject } from './json.js';

export class FieldSet {
  member = false;
  readonly children = new Map<string, FieldSet>();

  static fromPaths(paths: readonly (readonly string[])[]): FieldSet {
    const set = new FieldSet();
    for (const p of paths) set.insert(p);
    return set;
  }

  insert(path: readonly string[]): void {
    const [head, ...rest] = path;
    if (head === undefined) {
      this.member = true;
      return;
    }
    let next = this.children.get(head);
    if (!next) {
      next = new FieldSet();
      this.children.set(head, next);
    }
    next.insert(rest);
  }

  isEmpty(): boolean {
    return !this.member && this.children.size === 0;
  }

  union(other: FieldSet): FieldSet {
    const out = new FieldSet();
    out.member = this.member || other.member;
    for (const [k, v] of this.children) out.children.set(k, v.union(other.children.get(k) ?? EMPTY));
    for (const [k, v] of other.children) if (!this.children.has(k)) out.children.set(k, v.union(EMPTY));
    return out;
  }

  intersection(other: FieldSet): FieldSet {
    const out = new FieldSet();
    out.member = this.member && other.member;
    for (const [k, v] of this.children) {
      const o = other.children.get(k);
      if (!o) continue;
      const child = v.intersection(o);
      if (!child.isEmpty()) out.children.set(k, child);
    }
    return out;
  }

  difference(other: FieldSet): FieldSet {
    const out = new FieldSet();
    out.member = this.member && !other.member;
    for (const [k, v] of this.children) {
      const child = v.difference(other.children.get(k) ?? EMPTY);
      if (!child.isEmpty()) out.children.set(k, child);
    }
    return out;
  }

  /** Every member path, in FieldsV1 order. */
  paths(prefix: readonly string[] = []): string[][] {
    const out: string[][] = this.member ? [[...prefix]] : [];
    for (const k of sortedKeys(this.children)) {
      out.push(...(this.children.get(k) as FieldSet).paths([...prefix, k]));
    }
    return out;
  }

  toFieldsV1(): JsonObject {
    const out: JsonObject = {};
    if (this.member && this.children.size > 0) out['.'] = {};
    for (const k of sortedKeys(this.children)) out[k] = (this.children.get(k) as FieldSet).toFieldsV1();
    return out;
  }

  /** Parses FieldsV1; throws a plain Error naming the bad element. */
  static fromFieldsV1(value: unknown): FieldSet {
    const set = new FieldSet();
    if (!isObject(value)) throw new Error('fieldsV1 must be an object');
    for (const [k, v] of Object.entries(value)) {
      if (k === '.') {
        set.member = true;
        continue;
      }
      checkElement(k);
      const child = FieldSet.fromFieldsV1(v);
      if (child.children.size === 0) child.member = true;
      set.children.set(k, child);
    }
    return set;
  }
}

const EMPTY = new FieldSet();

const RANK: Record<string, number> = { f: 0, v: 1, i: 2, k: 3 };

function sortedKeys(children: Map<string, FieldSet>): string[] {
  return [...children.keys()].sort((a, b) => {
    const ra = RANK[a[0] ?? ''] ?? 9;
    const rb = RANK[b[0] ?? ''] ?? 9;
    if (ra !== rb) return ra - rb;
    return a < b ? -1 : a > b ? 1 : 0;
  });
}

function checkElement(element: string): void {
  const kind = element.slice(0, 2);
  const body = element.slice(2);
  const ok =
    (kind === 'f:' && body.length > 0) ||
    (kind === 'i:' && /^(0|[1-9][0-9]*)$/.test(body)) ||
    ((kind === 'k:' || kind === 'v:') && parsesAs(body, kind === 'k:'));
  if (!ok) throw new Error(`invalid fieldsV1 path element ${JSON.stringify(element)}`);
}

function parsesAs(json: string, mustBeObject: boolean): boolean {
  try {
    const value: unknown = JSON.parse(json);
    return !mustBeObject || isObject(value);
  } catch {
    return false;
  }
}

export const fieldElement = (name: string): string => `f:${name}`;

/** A list-map element: the key fields sorted by name, as structured-merge-diff encodes them. */
export function keyElement(keys: Record<string, unknown>): string {
  const sorted: JsonObject = {};
  for (const k of Object.keys(keys).sort()) sorted[k] = keys[k];
  return `k:${JSON.stringify(sorted)}`;
}

export const valueElement = (value: unknown): string => `v:${JSON.stringify(value)}`;

/** A path as kube prints it in conflicts: `.spec.containers[name="web"].ports[containerPort=80]`. */
export function formatPath(path: readonly string[]): string {
  return path
    .map((element) => {
      const body = element.slice(2);
      switch (element.slice(0, 2)) {
        case 'f:':
          return `.${body}`;
        case 'k:': {
          const keys = JSON.parse(body) as JsonObject;
          return `[${Object.entries(keys)
            .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
            .join(',')}]`;
        }
        case 'v:':
          return `[=${body}]`;
        default:
          return `[${body}]`;
      }
    })
    .join('');
}
