import type { SchemaNode } from './types.js';

/**
 * A schema definition as written in `defs/*.ts`: a SchemaNode whose nodes may name another
 * definition through `$ref` (the component name, e.g. `io.k8s.api.core.v1.Container`). The
 * same definitions are resolved for validation and patching, and published (with `$ref`s) as
 * OpenAPI v3 components.
 */
export interface DefNode extends Omit<SchemaNode, 'properties' | 'items' | 'additionalProperties'> {
  $ref?: string;
  properties?: Record<string, DefNode>;
  items?: DefNode;
  additionalProperties?: DefNode | boolean;
}

export type Definitions = Record<string, DefNode>;

type Extra = Partial<DefNode>;

/** Item schemas of primitive lists carry no words of their own; keep them out of the output. */
const described = (description: string): { description?: string } => (description ? { description } : {});

export const META = 'io.k8s.apimachinery.pkg.apis.meta.v1.';
export const CORE = 'io.k8s.api.core.v1.';
export const INT_OR_STRING = 'io.k8s.apimachinery.pkg.util.intstr.IntOrString';
export const QUANTITY = 'io.k8s.apimachinery.pkg.api.resource.Quantity';

export const str = (description: string, extra: Extra = {}): DefNode => ({
  type: 'string',
  ...described(description),
  ...extra,
});

export const enumStr = (description: string, values: string[], extra: Extra = {}): DefNode => ({
  type: 'string',
  ...described(`${description} Possible values: ${values.map((v) => `"${v}"`).join(', ')}.`.trim()),
  enum: values,
  ...extra,
});

export const int32 = (description: string, extra: Extra = {}): DefNode => ({
  type: 'integer',
  format: 'int32',
  ...described(description),
  ...extra,
});

export const int64 = (description: string, extra: Extra = {}): DefNode => ({
  type: 'integer',
  format: 'int64',
  ...described(description),
  ...extra,
});

export const bool = (description: string, extra: Extra = {}): DefNode => ({
  type: 'boolean',
  ...described(description),
  ...extra,
});

export const bytes = (description: string): DefNode => ({
  type: 'string',
  format: 'byte',
  ...described(description),
});

export const ref = (name: string, description: string, extra: Extra = {}): DefNode => ({
  $ref: name,
  description,
  ...extra,
});

export const time = (description: string): DefNode => ref(`${META}Time`, description);

export const intOrString = (description: string): DefNode => ref(INT_OR_STRING, description);

export const obj = (
  description: string,
  properties: Record<string, DefNode>,
  required?: string[],
): DefNode => ({
  type: 'object',
  description,
  properties,
  ...(required ? { required } : {}),
});

export const arr = (items: DefNode, description: string, extra: Extra = {}): DefNode => ({
  type: 'array',
  description,
  items,
  ...extra,
});

/** A list of primitives with no merge semantics beyond replacement. */
export const atomicList = (items: DefNode, description: string): DefNode =>
  arr(items, description, { 'x-kubernetes-list-type': 'atomic' });

/** A list of strings that SSA treats as a set and strategic merge patch merges. */
export const setList = (description: string): DefNode =>
  arr(str(''), description, { 'x-kubernetes-list-type': 'set' });

/**
 * A list keyed by one or more fields. `mergeKey` is the strategic-merge-patch key, which
 * upstream sometimes omits or sets differently from the SSA map keys (for example Service ports).
 */
export const keyedList = (
  itemRef: string,
  description: string,
  opts: { mapKeys: string[]; mergeKey?: string; strategy?: string },
): DefNode => ({
  type: 'array',
  description,
  items: { $ref: itemRef },
  'x-kubernetes-list-type': 'map',
  'x-kubernetes-list-map-keys': opts.mapKeys,
  ...(opts.mergeKey ? { 'x-kubernetes-patch-merge-key': opts.mergeKey } : {}),
  ...(opts.strategy ? { 'x-kubernetes-patch-strategy': opts.strategy } : {}),
});

export const refList = (itemRef: string, description: string, extra: Extra = {}): DefNode =>
  arr({ $ref: itemRef }, description, extra);

export const stringMap = (description: string): DefNode => ({
  type: 'object',
  description,
  additionalProperties: { type: 'string' },
});

export const quantityMap = (description: string): DefNode => ({
  type: 'object',
  description,
  additionalProperties: { $ref: QUANTITY },
});

/** A top-level kind: apiVersion, kind, metadata, then its own fields. */
export const kind = (
  description: string,
  gvk: { group: string; version: string; kind: string },
  properties: Record<string, DefNode>,
  required?: string[],
): DefNode => ({
  ...obj(
    description,
    {
      apiVersion: str('The versioned schema of this object, such as v1 or apps/v1.'),
      kind: str('The kind of this object, such as Service, in CamelCase.'),
      metadata: ref(`${META}ObjectMeta`, 'Standard object metadata.'),
      ...properties,
    },
    required,
  ),
  'x-kubernetes-group-version-kind': [gvk],
});

/** The `<Kind>List` shape every kind has. */
export const listKind = (
  description: string,
  gvk: { group: string; version: string; kind: string },
  itemRef: string,
): DefNode => ({
  ...obj(
    description,
    {
      apiVersion: str('The versioned schema of this list.'),
      kind: str('The kind of this list.'),
      metadata: ref(`${META}ListMeta`, 'Standard list metadata.'),
      items: refList(itemRef, 'The objects in this list.'),
    },
    ['items'],
  ),
  'x-kubernetes-group-version-kind': [{ ...gvk, kind: `${gvk.kind}List` }],
});
