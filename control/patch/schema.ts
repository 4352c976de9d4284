/**
 * Reading the merge metadata of a SchemaNode. A missing schema (a subtree the schema does not
 * describe, or `x-kubernetes-preserve-unknown-fields`) means "unknown": objects are granular
 * maps of unknown values and lists are atomic, as structured-merge-diff deduces for CRDs.
 */
import type { SchemaNode } from '../schema/types.js';

/** The schema of field or map entry `key` of an object, if the schema knows it. */
export function childSchema(schema: SchemaNode | undefined, key: string): SchemaNode | undefined {
  if (!schema) return undefined;
  const field = schema.properties?.[key];
  if (field) return field;
  return typeof schema.additionalProperties === 'object' ? schema.additionalProperties : undefined;
}

/** A declared struct field (as opposed to an entry of a map such as labels). */
export function isNamedField(schema: SchemaNode | undefined, key: string): boolean {
  return schema?.properties !== undefined && Object.hasOwn(schema.properties, key);
}

export function isAtomicMap(schema: SchemaNode | undefined): boolean {
  return schema?.['x-kubernetes-map-type'] === 'atomic';
}

export interface PatchStrategy {
  readonly merge: boolean;
  readonly replace: boolean;
  readonly mergeKey: string | undefined;
}

/** `x-kubernetes-patch-strategy` may list several strategies: `merge,retainKeys`. */
export function patchStrategy(schema: SchemaNode | undefined): PatchStrategy {
  const strategies = (schema?.['x-kubernetes-patch-strategy'] ?? '').split(',').map((s) => s.trim());
  return {
    merge: strategies.includes('merge'),
    replace: strategies.includes('replace'),
    mergeKey: schema?.['x-kubernetes-patch-merge-key'],
  };
}

export type ListSemantics =
  | { readonly type: 'atomic' }
  | { readonly type: 'set' }
  | { readonly type: 'map'; readonly keys: readonly string[] };

/**
 * Server-side apply list semantics. Without `x-kubernetes-list-type`, the strategic merge
 * metadata decides as kube's OpenAPI does for built-in types: merge by key → map, merge of
 * primitives → set, otherwise atomic.
 */
export function listSemantics(schema: SchemaNode | undefined): ListSemantics {
  const declared = schema?.['x-kubernetes-list-type'];
  const strategy = patchStrategy(schema);
  if (declared === 'map' || (declared === undefined && strategy.merge && strategy.mergeKey)) {
    const keys = schema?.['x-kubernetes-list-map-keys'] ?? (strategy.mergeKey ? [strategy.mergeKey] : []);
    return keys.length > 0 ? { type: 'map', keys } : { type: 'atomic' };
  }
  if (declared === 'set' || (declared === undefined && strategy.merge)) return { type: 'set' };
  return { type: 'atomic' };
}
