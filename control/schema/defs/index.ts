import type { Definitions } from '../dsl.js';
import { appsDefinitions } from './apps.js';
import { coordinationDefinitions } from './coordination.js';
import { coreDefinitions } from './core.js';
import { discoveryDefinitions } from './discovery.js';
import { metaDefinitions } from './meta.js';
import { metallbDefinitions } from './metallb.js';
import { networkingDefinitions } from './networking.js';
import { podDefinitions } from './pod.js';

/** Every schema definition, by upstream component name. The one source of truth. */
export const DEFINITIONS: Definitions = {
  ...metaDefinitions,
  ...podDefinitions,
  ...coreDefinitions,
  ...appsDefinitions,
  ...discoveryDefinitions,
  ...networkingDefinitions,
  ...coordinationDefinitions,
  ...metallbDefinitions,
};

/** The component name of a kind, found through its x-kubernetes-group-version-kind. */
export function definitionNameOf(group: string, version: string, kind: string): string | undefined {
  for (const [name, node] of Object.entries(DEFINITIONS)) {
    const gvks = node['x-kubernetes-group-version-kind'] ?? [];
    if (gvks.some((g) => g.group === group && g.version === version && g.kind === kind)) return name;
  }
  return undefined;
}
