/**
 * The schema shape shared by validation, OpenAPI v3 publication, strategic merge patch and
 * server-side apply: an OpenAPI v3 schema object, fully resolved (no `$ref`), carrying the
 * Kubernetes extensions that decide how lists and maps merge.
 */
export interface SchemaNode {
  type?: 'object' | 'array' | 'string' | 'integer' | 'number' | 'boolean';
  description?: string;
  format?: string;
  properties?: Record<string, SchemaNode>;
  required?: string[];
  items?: SchemaNode;
  additionalProperties?: SchemaNode | boolean;
  enum?: unknown[];
  default?: unknown;
  minimum?: number;
  maximum?: number;
  maxLength?: number;
  pattern?: string;
  /** Strategic merge patch: the field that identifies list elements (containers → `name`). */
  'x-kubernetes-patch-merge-key'?: string;
  /** Strategic merge patch: `merge`, `replace`, `retainKeys`, or `merge,retainKeys`. */
  'x-kubernetes-patch-strategy'?: string;
  /** Server-side apply: how a list is owned and merged. */
  'x-kubernetes-list-type'?: 'atomic' | 'set' | 'map';
  'x-kubernetes-list-map-keys'?: string[];
  'x-kubernetes-map-type'?: 'atomic' | 'granular';
  'x-kubernetes-int-or-string'?: boolean;
  'x-kubernetes-preserve-unknown-fields'?: boolean;
  'x-kubernetes-embedded-resource'?: boolean;
  'x-kubernetes-group-version-kind'?: { group: string; version: string; kind: string }[];
}
