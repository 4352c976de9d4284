import type { DefNode, Definitions } from './dsl.js';
import type { SchemaNode } from './types.js';

/**
 * Turns definitions with `$ref`s into fully resolved SchemaNodes. A `$ref` node takes the
 * referenced definition and lays its own keys (description, defaults, patch metadata) on top,
 * the way upstream puts them beside an `allOf` reference. Resolved definitions are shared, so
 * the result is a DAG; callers must treat it as read-only.
 */
export function createResolver(definitions: Definitions): (name: string) => SchemaNode {
  const done = new Map<string, SchemaNode>();
  const inProgress = new Set<string>();

  const byName = (name: string): SchemaNode => {
    const cached = done.get(name);
    if (cached) return cached;
    const def = definitions[name];
    if (!def) throw new Error(`schema reference to unknown definition ${name}`);
    if (inProgress.has(name)) throw new Error(`schema definition ${name} refers to itself`);
    inProgress.add(name);
    const node = resolveNode(def);
    inProgress.delete(name);
    done.set(name, node);
    return node;
  };

  const resolveNode = (def: DefNode): SchemaNode => {
    const { $ref, properties, items, additionalProperties, ...rest } = def;
    const base: SchemaNode = $ref ? { ...byName($ref) } : {};
    const out: SchemaNode = { ...base, ...rest };
    if (properties) {
      out.properties = Object.fromEntries(Object.entries(properties).map(([k, v]) => [k, resolveNode(v)]));
    }
    if (items) out.items = resolveNode(items);
    if (additionalProperties !== undefined) {
      out.additionalProperties =
        typeof additionalProperties === 'boolean' ? additionalProperties : resolveNode(additionalProperties);
    }
    return out;
  };

  return byName;
}
