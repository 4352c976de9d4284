/**
 * The API resources klab serves, at their real groups and versions. Discovery, routing,
 * validation, OpenAPI and Table printing all read this one list.
 */
export interface ResourceInfo {
  /** '' for the core group. */
  readonly group: string;
  readonly version: string;
  readonly kind: string;
  /** The plural, lower-case resource name used in URLs (`services`). */
  readonly plural: string;
  readonly singular: string;
  readonly namespaced: boolean;
  readonly shortNames: readonly string[];
  readonly categories: readonly string[];
  readonly subresources: readonly ('status' | 'scale' | 'binding' | 'token')[];
}

const r = (
  group: string,
  version: string,
  kind: string,
  plural: string,
  namespaced: boolean,
  extra: Partial<Pick<ResourceInfo, 'shortNames' | 'categories' | 'subresources'>> = {},
): ResourceInfo => ({
  group,
  version,
  kind,
  plural,
  singular: kind.toLowerCase(),
  namespaced,
  shortNames: extra.shortNames ?? [],
  categories: extra.categories ?? [],
  subresources: extra.subresources ?? [],
});

export const RESOURCES: readonly ResourceInfo[] = [
  r('', 'v1', 'Namespace', 'namespaces', false, { shortNames: ['ns'], subresources: ['status'] }),
  r('', 'v1', 'Node', 'nodes', false, { shortNames: ['no'], subresources: ['status'] }),
  r('', 'v1', 'Pod', 'pods', true, {
    shortNames: ['po'],
    categories: ['all'],
    subresources: ['status', 'binding'],
  }),
  r('', 'v1', 'Service', 'services', true, {
    shortNames: ['svc'],
    categories: ['all'],
    subresources: ['status'],
  }),
  r('', 'v1', 'Endpoints', 'endpoints', true, { shortNames: ['ep'] }),
  r('', 'v1', 'ConfigMap', 'configmaps', true, { shortNames: ['cm'] }),
  r('', 'v1', 'Secret', 'secrets', true),
  r('', 'v1', 'ServiceAccount', 'serviceaccounts', true, { shortNames: ['sa'], subresources: ['token'] }),
  r('', 'v1', 'Event', 'events', true, { shortNames: ['ev'] }),
  r('apps', 'v1', 'Deployment', 'deployments', true, {
    shortNames: ['deploy'],
    categories: ['all'],
    subresources: ['status', 'scale'],
  }),
  r('apps', 'v1', 'ReplicaSet', 'replicasets', true, {
    shortNames: ['rs'],
    categories: ['all'],
    subresources: ['status', 'scale'],
  }),
  r('discovery.k8s.io', 'v1', 'EndpointSlice', 'endpointslices', true),
  r('networking.k8s.io', 'v1', 'Ingress', 'ingresses', true, {
    shortNames: ['ing'],
    subresources: ['status'],
  }),
  r('networking.k8s.io', 'v1', 'IngressClass', 'ingressclasses', false),
  r('coordination.k8s.io', 'v1', 'Lease', 'leases', true),
  r('metallb.io', 'v1beta1', 'IPAddressPool', 'ipaddresspools', true, { subresources: ['status'] }),
  r('metallb.io', 'v1beta1', 'L2Advertisement', 'l2advertisements', true),
];

export const apiVersionOf = (info: Pick<ResourceInfo, 'group' | 'version'>): string =>
  info.group === '' ? info.version : `${info.group}/${info.version}`;

export function findResource(group: string, version: string, plural: string): ResourceInfo | undefined {
  return RESOURCES.find((x) => x.group === group && x.version === version && x.plural === plural);
}

export function findKind(apiVersion: string, kind: string): ResourceInfo | undefined {
  return RESOURCES.find((x) => apiVersionOf(x) === apiVersion && x.kind === kind);
}
