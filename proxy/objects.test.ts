import { describe, expect, it } from 'vitest';
import { ObjectError, parseObjects } from './objects.js';

describe('parseObjects', () => {
  it('reads a multi-document stream and a kind: List, ignoring other kinds', () => {
    const text = `
apiVersion: v1
kind: Service
metadata: { name: a }
spec: { clusterIP: 10.96.0.5, ports: [{ port: 80 }] }
---
apiVersion: v1
kind: List
items:
  - kind: Pod
    metadata: { name: p }
  - kind: EndpointSlice
    metadata: { name: a-1, namespace: default, labels: { kubernetes.io/service-name: a } }
    addressType: IPv4
    endpoints: [{ addresses: [10.244.0.5], conditions: { ready: null } }]
    ports: [{ port: 8080 }]
`;
    const objs = parseObjects(text);
    expect(objs.services).toHaveLength(1);
    expect(objs.services[0]?.metadata).toMatchObject({ namespace: 'default', name: 'a' });
    expect(objs.services[0]?.spec.ports?.[0]).toMatchObject({ port: 80, protocol: 'TCP' });
    expect(objs.endpointSlices[0]?.endpoints?.[0]?.conditions?.ready).toBeUndefined();
  });

  it.each([
    [
      'kind: Service\nmetadata: { name: x }\nspec: { ports: [{ port: "80" }] }',
      'document 1 Service (x): spec.ports[0].port',
    ],
    [
      'kind: Service\nmetadata: { name: x }\nspec: { ports: [{ port: 80, protocol: ICMP }] }',
      'spec.ports[0].protocol',
    ],
    ['kind: Service\nmetadata: { name: x }', 'spec: must be an object'],
    [
      'kind: EndpointSlice\nmetadata: { name: s }\naddressType: IPv4',
      'metadata.labels["kubernetes.io/service-name"]',
    ],
    [
      'kind: EndpointSlice\nmetadata: { name: s, labels: { kubernetes.io/service-name: x } }\naddressType: IPv4\nendpoints: [{ addresses: 1 }]',
      'endpoints[0].addresses',
    ],
    ['---\nkind: List\nitems:\n  - kind: Service\n    metadata: {}', 'items[0] Service: metadata.name'],
    ['metadata: { name: x }', 'kind: is required'],
    ['a: [1', 'invalid YAML'],
  ])('rejects %j naming %s', (text, where) => {
    expect(() => parseObjects(text, 'f.yaml')).toThrow(ObjectError);
    expect(() => parseObjects(text, 'f.yaml')).toThrow(where);
  });
});
