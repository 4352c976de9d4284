/**
 * Object keys as informers and controllers use them: `namespace/name` for namespaced objects,
 * `name` for cluster-scoped ones.
 */
export interface ObjectRef {
  readonly namespace?: string;
  readonly name: string;
}

export function objectKey(ref: ObjectRef): string {
  return ref.namespace ? `${ref.namespace}/${ref.name}` : ref.name;
}

export function keyOf(obj: { metadata?: { namespace?: string; name?: string } }): string {
  const name = obj.metadata?.name;
  if (!name) throw new Error('object has no metadata.name');
  return objectKey({ namespace: obj.metadata?.namespace, name });
}

export function splitKey(key: string): ObjectRef {
  const parts = key.split('/');
  if (parts.length === 1 && parts[0]) return { name: parts[0] };
  if (parts.length === 2 && parts[0] && parts[1]) return { namespace: parts[0], name: parts[1] };
  throw new Error(`invalid object key "${key}": expected "name" or "namespace/name"`);
}
