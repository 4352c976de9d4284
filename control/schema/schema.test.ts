import { describe, expect, it } from 'vitest';
import { RESOURCES, apiVersionOf, findKind } from '../resources.js';
import { schemaForKind, unknownFields } from './index.js';
import { MANIFESTS } from './testdata/manifests.js';
import type { SchemaNode } from './types.js';

const at = (node: SchemaNode | undefined, ...path: string[]): SchemaNode | undefined =>
  path.reduce<SchemaNode | undefined>((n, p) => (p === '[]' ? n?.items : n?.properties?.[p]), node);

const info = (apiVersion: string, kind: string) => {
  const found = findKind(apiVersion, kind);
  if (!found) throw new Error(`${apiVersion} ${kind} not served`);
  return found;
};

describe('schemaForKind', () => {
  it('has a resolved schema with its GVK for every served kind', () => {
    for (const r of RESOURCES) {
      const schema = schemaForKind(apiVersionOf(r), r.kind);
      expect(schema?.['x-kubernetes-group-version-kind']).toEqual([
        { group: r.group, version: r.version, kind: r.kind },
      ]);
      expect(at(schema, 'metadata', 'name')?.type).toBe('string');
    }
    expect(schemaForKind('v1', 'Widget')).toBeUndefined();
    expect(schemaForKind('apps/v2', 'Deployment')).toBeUndefined();
  });

  it('carries strategic merge and list-map metadata as upstream does', () => {
    const pod = schemaForKind('v1', 'Pod');
    const containers = at(pod, 'spec', 'containers');
    expect(containers).toMatchObject({
      'x-kubernetes-patch-merge-key': 'name',
      'x-kubernetes-patch-strategy': 'merge',
      'x-kubernetes-list-type': 'map',
      'x-kubernetes-list-map-keys': ['name'],
    });
    expect(at(pod, 'spec', 'containers', '[]', 'ports')).toMatchObject({
      'x-kubernetes-patch-merge-key': 'containerPort',
      'x-kubernetes-list-map-keys': ['containerPort', 'protocol'],
    });
    expect(at(pod, 'spec', 'containers', '[]', 'env')?.['x-kubernetes-patch-merge-key']).toBe('name');
    expect(at(pod, 'spec', 'containers', '[]', 'volumeMounts')?.['x-kubernetes-patch-merge-key']).toBe(
      'mountPath',
    );
    expect(at(pod, 'spec', 'volumes')?.['x-kubernetes-patch-strategy']).toBe('merge,retainKeys');
    expect(at(pod, 'metadata', 'ownerReferences')?.['x-kubernetes-patch-merge-key']).toBe('uid');
    expect(at(pod, 'status', 'conditions')?.['x-kubernetes-patch-merge-key']).toBe('type');
    expect(at(pod, 'spec', 'tolerations')?.['x-kubernetes-list-type']).toBe('atomic');
    const svcPorts = at(schemaForKind('v1', 'Service'), 'spec', 'ports');
    expect(svcPorts).toMatchObject({
      'x-kubernetes-patch-merge-key': 'port',
      'x-kubernetes-list-map-keys': ['port', 'protocol'],
    });
    expect(at(schemaForKind('v1', 'Service'), 'spec', 'selector')?.['x-kubernetes-map-type']).toBe('atomic');
    const deploy = schemaForKind('apps/v1', 'Deployment');
    expect(at(deploy, 'spec', 'template', 'spec', 'containers')?.['x-kubernetes-patch-merge-key']).toBe(
      'name',
    );
    expect(at(deploy, 'spec', 'strategy')?.['x-kubernetes-patch-strategy']).toBe('retainKeys');
  });

  it('marks IntOrString fields and keeps descriptions for explain', () => {
    const svc = schemaForKind('v1', 'Service');
    expect(at(svc, 'spec', 'ports', '[]', 'targetPort')?.['x-kubernetes-int-or-string']).toBe(true);
    expect(at(svc, 'spec', 'ports', '[]', 'targetPort')?.description).toMatch(
      /Port number or named container port/,
    );
    const deploy = schemaForKind('apps/v1', 'Deployment');
    expect(at(deploy, 'spec', 'strategy', 'rollingUpdate', 'maxSurge')?.['x-kubernetes-int-or-string']).toBe(
      true,
    );
    expect(at(deploy, 'spec')?.description).toBe('Desired state.');
  });

  it('preserves unknown fields only for free-form data', () => {
    const found: string[] = [];
    const walk = (n: SchemaNode, path: string, seen: Set<SchemaNode>) => {
      if (seen.has(n)) return;
      seen.add(n);
      if (n['x-kubernetes-preserve-unknown-fields']) found.push(path);
      for (const [k, v] of Object.entries(n.properties ?? {})) walk(v, `${path}.${k}`, seen);
      if (n.items) walk(n.items, `${path}[]`, seen);
    };
    for (const r of RESOURCES) walk(schemaForKind(apiVersionOf(r), r.kind)!, r.kind, new Set());
    expect(new Set(found.map((p) => p.replace(/^\w+/, '')))).toEqual(
      new Set(['.metadata.managedFields[].fieldsV1']),
    );
  });
});

describe('unknownFields', () => {
  it('finds nothing in ordinary manifests of every kind', () => {
    for (const m of MANIFESTS) {
      expect(unknownFields(info(m.apiVersion as string, m.kind as string), m), `${String(m.kind)}`).toEqual(
        [],
      );
    }
  });

  it('reports unknown fields with kube field paths', () => {
    const svc = {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'x', bogus: 1 },
      spec: { foo: true, ports: [{ port: 80 }, { port: 81, targtPort: 8080 }] },
    };
    expect(unknownFields(info('v1', 'Service'), svc)).toEqual([
      'metadata.bogus',
      'spec.foo',
      'spec.ports[1].targtPort',
    ]);
    const deploy = {
      spec: {
        template: { spec: { containers: [{ name: 'a', image: 'b', imagePullPolicy: 'Always', portz: [] }] } },
      },
    };
    expect(unknownFields(info('apps/v1', 'Deployment'), deploy)).toEqual([
      'spec.template.spec.containers[0].portz',
    ]);
  });

  it('accepts anything inside maps of free-form values', () => {
    const cm = {
      metadata: { name: 'x', labels: { a: 'b' }, managedFields: [{ fieldsV1: { 'f:data': { 'f:x': {} } } }] },
      data: { anything: 'v' },
    };
    expect(unknownFields(info('v1', 'ConfigMap'), cm)).toEqual([]);
  });
});
