/**
 * Discovery documents built from RESOURCES: legacy (`APIVersions`, `APIGroupList`,
 * `APIResourceList`) and aggregated (`APIGroupDiscoveryList` v2 and v2beta1), with the exact
 * `Accept` negotiation kubectl 1.27–1.33 depends on.
 */
import { isJsonLike, type MediaType } from './accept.js';
import { RESOURCES, apiVersionOf, type ResourceInfo } from './resources.js';

export const VERBS = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];
const SUB_VERBS = ['get', 'patch', 'update'];

export type DiscoveryFormat = 'v2' | 'v2beta1' | 'legacy';

export function negotiateDiscovery(accept: readonly MediaType[]): DiscoveryFormat | undefined {
  for (const m of accept) {
    if (m.type === 'application/json' && m.params.g === 'apidiscovery.k8s.io') {
      if (m.params.as === 'APIGroupDiscoveryList' && (m.params.v === 'v2' || m.params.v === 'v2beta1')) {
        return m.params.v;
      }
      continue;
    }
    if (isJsonLike(m) && m.params.as === undefined) return 'legacy';
  }
  return undefined;
}

export const aggregatedContentType = (v: 'v2' | 'v2beta1'): string =>
  `application/json;g=apidiscovery.k8s.io;v=${v};as=APIGroupDiscoveryList`;

interface GroupVersion {
  group: string;
  version: string;
  resources: ResourceInfo[];
}

function groupVersions(core: boolean): GroupVersion[] {
  const out: GroupVersion[] = [];
  for (const info of RESOURCES) {
    if ((info.group === '') !== core) continue;
    let gv = out.find((g) => g.group === info.group && g.version === info.version);
    if (!gv) {
      gv = { group: info.group, version: info.version, resources: [] };
      out.push(gv);
    }
    gv.resources.push(info);
  }
  return out;
}

export function apiVersions(serverAddress: string): object {
  return {
    kind: 'APIVersions',
    versions: ['v1'],
    serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress }],
  };
}

export function apiGroupList(): object {
  const groups = new Map<string, string[]>();
  for (const gv of groupVersions(false)) groups.set(gv.group, [...(groups.get(gv.group) ?? []), gv.version]);
  return {
    kind: 'APIGroupList',
    apiVersion: 'v1',
    groups: [...groups].map(([name, versions]) => ({
      name,
      versions: versions.map((v) => ({ groupVersion: `${name}/${v}`, version: v })),
      preferredVersion: { groupVersion: `${name}/${versions[0]}`, version: versions[0] },
    })),
  };
}

export function apiGroup(group: string): object | undefined {
  const list = apiGroupList() as { groups: { name: string }[] };
  const found = list.groups.find((g) => g.name === group);
  return found ? { kind: 'APIGroup', apiVersion: 'v1', ...found } : undefined;
}

const subresourceKind = (info: ResourceInfo, sub: ResourceInfo['subresources'][number]) =>
  sub === 'scale'
    ? { group: 'autoscaling', version: 'v1', kind: 'Scale' }
    : sub === 'binding'
      ? { group: '', version: 'v1', kind: 'Binding' }
      : sub === 'token'
        ? { group: 'authentication.k8s.io', version: 'v1', kind: 'TokenRequest' }
        : { group: info.group, version: info.version, kind: info.kind };

/** pods/binding and serviceaccounts/token are create-only, as in kube-apiserver. */
const subVerbs = (sub: string) => (sub === 'binding' || sub === 'token' ? ['create'] : SUB_VERBS);

export function apiResourceList(group: string, version: string): object | undefined {
  const infos = RESOURCES.filter((r) => r.group === group && r.version === version);
  if (infos.length === 0) return undefined;
  const resources: object[] = [];
  for (const info of infos) {
    resources.push({
      name: info.plural,
      singularName: info.singular,
      namespaced: info.namespaced,
      kind: info.kind,
      verbs: VERBS,
      ...(info.shortNames.length ? { shortNames: info.shortNames } : {}),
      ...(info.categories.length ? { categories: info.categories } : {}),
    });
    for (const sub of info.subresources) {
      const k = subresourceKind(info, sub);
      resources.push({
        name: `${info.plural}/${sub}`,
        singularName: '',
        namespaced: info.namespaced,
        ...(sub === 'scale' || sub === 'token' ? { group: k.group, version: k.version } : {}),
        kind: k.kind,
        verbs: subVerbs(sub),
      });
    }
  }
  return {
    kind: 'APIResourceList',
    apiVersion: 'v1',
    groupVersion: apiVersionOf({ group, version }),
    resources,
  };
}

export function aggregatedDiscovery(core: boolean, v: 'v2' | 'v2beta1'): object {
  const byGroup = new Map<string, GroupVersion[]>();
  for (const gv of groupVersions(core)) byGroup.set(gv.group, [...(byGroup.get(gv.group) ?? []), gv]);
  return {
    kind: 'APIGroupDiscoveryList',
    apiVersion: `apidiscovery.k8s.io/${v}`,
    metadata: {},
    items: [...byGroup].map(([group, gvs]) => ({
      metadata: { name: group },
      versions: gvs.map((gv) => ({
        version: gv.version,
        freshness: 'Current',
        resources: gv.resources.map((info) => ({
          resource: info.plural,
          responseKind: { group: info.group, version: info.version, kind: info.kind },
          scope: info.namespaced ? 'Namespaced' : 'Cluster',
          singularResource: info.singular,
          verbs: VERBS,
          ...(info.shortNames.length ? { shortNames: info.shortNames } : {}),
          ...(info.categories.length ? { categories: info.categories } : {}),
          ...(info.subresources.length
            ? {
                subresources: info.subresources.map((sub) => ({
                  subresource: sub,
                  responseKind: subresourceKind(info, sub),
                  verbs: subVerbs(sub),
                })),
              }
            : {}),
        })),
      })),
    })),
  };
}
