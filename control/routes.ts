/**
 * Maps a resource URL (`/api/v1/namespaces/default/services/web/status`,
 * `/apis/apps/v1/deployments`, legacy `/api/v1/watch/...`) to what it addresses.
 */
import { findResource, type ResourceInfo } from './resources.js';

export interface ResourcePath {
  readonly info: ResourceInfo;
  /** Set for namespaced requests (`/namespaces/<ns>/...`); absent for all-namespaces lists. */
  readonly namespace?: string;
  readonly name?: string;
  readonly subresource?: string;
  /** The legacy `/watch/` form. */
  readonly watchPrefix: boolean;
}

export function parseResourcePath(pathname: string): ResourcePath | undefined {
  const parts = pathname
    .split('/')
    .filter((p) => p !== '')
    .map(decodeURIComponent);
  let group: string;
  let rest: string[];
  if (parts[0] === 'api' && parts[1] === 'v1') {
    group = '';
    rest = parts.slice(2);
  } else if (parts[0] === 'apis' && parts.length >= 3) {
    group = parts[1] as string;
    rest = parts.slice(3);
  } else {
    return undefined;
  }
  const version = group === '' ? 'v1' : (parts[2] as string);
  let watchPrefix = false;
  if (rest[0] === 'watch') {
    watchPrefix = true;
    rest = rest.slice(1);
  }
  const resource = (plural: string | undefined): ResourceInfo | undefined =>
    plural === undefined ? undefined : findResource(group, version, plural);

  if (rest[0] === 'namespaces' && rest.length >= 3) {
    const inner = resource(rest[2]);
    if (inner?.namespaced && rest.length <= 5) {
      return build(inner, rest[1], rest[3], rest[4], watchPrefix);
    }
  }
  const info = resource(rest[0]);
  if (!info || rest.length > 3) return undefined;
  if (info.namespaced && rest.length > 1) return undefined;
  return build(info, undefined, rest[1], rest[2], watchPrefix);
}

function build(
  info: ResourceInfo,
  namespace: string | undefined,
  name: string | undefined,
  subresource: string | undefined,
  watchPrefix: boolean,
): ResourcePath | undefined {
  if (subresource !== undefined && !(info.subresources as readonly string[]).includes(subresource)) {
    return undefined;
  }
  if (watchPrefix && subresource !== undefined) return undefined;
  return {
    info,
    ...(namespace !== undefined ? { namespace } : {}),
    ...(name !== undefined ? { name } : {}),
    ...(subresource !== undefined ? { subresource } : {}),
    watchPrefix,
  };
}

/** The storage key prefix of a resource: `/registry/<group or core>/<plural>/`. */
export function resourcePrefix(info: Pick<ResourceInfo, 'group' | 'plural'>): string {
  return `/registry/${info.group || 'core'}/${info.plural}/`;
}

export function storageKey(info: ResourceInfo, namespace: string | undefined, name: string): string {
  return info.namespaced ? `${resourcePrefix(info)}${namespace}/${name}` : `${resourcePrefix(info)}${name}`;
}

export function listPrefix(info: ResourceInfo, namespace: string | undefined): string {
  return info.namespaced && namespace !== undefined
    ? `${resourcePrefix(info)}${namespace}/`
    : resourcePrefix(info);
}
