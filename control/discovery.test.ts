import { describe, expect, it } from 'vitest';
import { parseAccept, wantsTable } from './accept.js';
import { aggregatedDiscovery, apiGroupList, apiResourceList, negotiateDiscovery } from './discovery.js';

const KUBECTL_132 =
  'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json';
const KUBECTL_127 =
  'application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json';
const TABLE =
  'application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json';

describe('discovery negotiation', () => {
  it('answers exactly the version each kubectl asks for', () => {
    expect(negotiateDiscovery(parseAccept(KUBECTL_132))).toBe('v2');
    expect(negotiateDiscovery(parseAccept(KUBECTL_127))).toBe('v2beta1');
    expect(negotiateDiscovery(parseAccept('application/json, */*'))).toBe('legacy');
    expect(negotiateDiscovery(parseAccept(undefined))).toBe('legacy');
    expect(
      negotiateDiscovery(parseAccept('application/json;g=apidiscovery.k8s.io;v=v3;as=APIGroupDiscoveryList')),
    ).toBe(undefined);
    expect(negotiateDiscovery(parseAccept('application/vnd.kubernetes.protobuf'))).toBe(undefined);
  });

  it('honours q values over order', () => {
    expect(negotiateDiscovery(parseAccept(`application/json;q=0.5,${KUBECTL_127.split(',')[0]}`))).toBe(
      'v2beta1',
    );
  });

  it('recognises the Table Accept of kubectl get', () => {
    expect(wantsTable(parseAccept(TABLE))).toBe(true);
    expect(wantsTable(parseAccept('application/json'))).toBe(false);
    expect(wantsTable(parseAccept('application/vnd.kubernetes.protobuf,application/json'))).toBe(false);
  });
});

describe('discovery documents', () => {
  it('lists every named group with its preferred version', () => {
    const groups = (
      apiGroupList() as { groups: { name: string; preferredVersion: { groupVersion: string } }[] }
    ).groups;
    expect(groups.map((g) => g.name)).toEqual([
      'apps',
      'discovery.k8s.io',
      'networking.k8s.io',
      'coordination.k8s.io',
      'metallb.io',
    ]);
    expect(groups[0]?.preferredVersion.groupVersion).toBe('apps/v1');
  });

  it('describes resources and subresources in the legacy list', () => {
    const list = apiResourceList('apps', 'v1') as {
      resources: { name: string; kind: string; shortNames?: string[] }[];
    };
    const names = list.resources.map((r) => r.name);
    expect(names).toContain('deployments/scale');
    expect(list.resources.find((r) => r.name === 'deployments/scale')?.kind).toBe('Scale');
    expect(list.resources.find((r) => r.name === 'deployments')?.shortNames).toEqual(['deploy']);
    expect(apiResourceList('nope', 'v1')).toBeUndefined();
  });

  it('builds the aggregated document with scope and subresources', () => {
    const doc = aggregatedDiscovery(true, 'v2beta1') as {
      apiVersion: string;
      items: {
        metadata: { name: string };
        versions: { resources: { resource: string; scope: string; subresources?: unknown[] }[] }[];
      }[];
    };
    expect(doc.apiVersion).toBe('apidiscovery.k8s.io/v2beta1');
    expect(doc.items).toHaveLength(1);
    const services = doc.items[0]?.versions[0]?.resources.find((r) => r.resource === 'services');
    expect(services?.scope).toBe('Namespaced');
    expect(services?.subresources).toHaveLength(1);
    const nodes = doc.items[0]?.versions[0]?.resources.find((r) => r.resource === 'nodes');
    expect(nodes?.scope).toBe('Cluster');
  });
});
