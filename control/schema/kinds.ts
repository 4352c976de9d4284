import { RESOURCES, apiVersionOf, type ResourceInfo } from '../resources.js';
import { DEFINITIONS, definitionNameOf } from './defs/index.js';
import { createResolver } from './resolve.js';
import type { SchemaNode } from './types.js';

/** Resolves definitions on first use and keeps them; every caller shares the same nodes. */
export const resolveDefinition = createResolver(DEFINITIONS);

/** The component name of a served kind; throws if a resource in RESOURCES has no schema. */
const names = new Map<string, string>();

export function definitionNameFor(info: Pick<ResourceInfo, 'group' | 'version' | 'kind'>): string {
  const key = `${apiVersionOf(info)} ${info.kind}`;
  const cached = names.get(key);
  if (cached) return cached;
  const name = definitionNameOf(info.group, info.version, info.kind);
  if (!name) throw new Error(`no schema definition for ${key}`);
  names.set(key, name);
  return name;
}

export function schemaForKind(apiVersion: string, kind: string): SchemaNode | undefined {
  const info = RESOURCES.find((r) => apiVersionOf(r) === apiVersion && r.kind === kind);
  return info ? resolveDefinition(definitionNameFor(info)) : undefined;
}

export function schemaForResource(info: ResourceInfo): SchemaNode {
  return resolveDefinition(definitionNameFor(info));
}
