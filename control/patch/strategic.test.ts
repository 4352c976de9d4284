import { describe, expect, it } from 'vitest';
import type { SchemaNode } from '../schema/types.js';
import type { JsonObject } from '../store/types.js';
import { PatchError } from './errors.js';
import { applyStrategicMergePatch } from './strategic.js';

const str: SchemaNode = { type: 'string' };
const int: SchemaNode = { type: 'integer' };
const stringMap: SchemaNode = { type: 'object', additionalProperties: str };
const byName = (items: SchemaNode): SchemaNode => ({
  type: 'array',
  items,
  'x-kubernetes-patch-strategy': 'merge',
  'x-kubernetes-patch-merge-key': 'name',
});
const metadata: SchemaNode = {
  type: 'object',
  properties: {
    name: str,
    labels: stringMap,
    annotations: stringMap,
    finalizers: { type: 'array', items: str, 'x-kubernetes-patch-strategy': 'merge' },
  },
};
const container: SchemaNode = {
  type: 'object',
  properties: {
    name: str,
    image: str,
    args: { type: 'array', items: str },
    ports: {
      type: 'array',
      items: { type: 'object', properties: { name: str, containerPort: int, protocol: str } },
      'x-kubernetes-patch-strategy': 'merge',
      'x-kubernetes-patch-merge-key': 'containerPort',
    },
    env: byName({ type: 'object', properties: { name: str, value: str } }),
  },
};
const deploymentSchema: SchemaNode = {
  type: 'object',
  properties: {
    metadata,
    spec: {
      type: 'object',
      properties: {
        replicas: int,
        strategy: {
          type: 'object',
          'x-kubernetes-patch-strategy': 'retainKeys',
          properties: { type: str, rollingUpdate: { type: 'object', properties: { maxSurge: int } } },
        },
        template: {
          type: 'object',
          properties: {
            metadata,
            spec: {
              type: 'object',
              properties: {
                containers: byName(container),
                tolerations: { type: 'array', items: { type: 'object', properties: { key: str } } },
                nodeSelector: { ...stringMap, 'x-kubernetes-patch-strategy': 'replace' },
              },
            },
          },
        },
      },
    },
  },
};
const serviceSchema: SchemaNode = {
  type: 'object',
  properties: {
    metadata,
    spec: {
      type: 'object',
      properties: {
        ports: {
          type: 'array',
          items: { type: 'object', properties: { name: str, port: int, targetPort: int, protocol: str } },
          'x-kubernetes-patch-strategy': 'merge',
          'x-kubernetes-patch-merge-key': 'port',
          'x-kubernetes-list-type': 'map',
          'x-kubernetes-list-map-keys': ['port', 'protocol'],
        },
        selector: stringMap,
      },
    },
  },
};

const deployment = (): JsonObject => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'x', labels: { app: 'x' }, finalizers: ['a', 'b'] },
  spec: {
    replicas: 2,
    strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1 } },
    template: {
      metadata: { labels: { app: 'x' } },
      spec: {
        containers: [
          {
            name: 'web',
            image: 'nginx:1.27',
            args: ['-a', '-b'],
            ports: [{ containerPort: 80, protocol: 'TCP' }],
            env: [
              { name: 'A', value: '1' },
              { name: 'B', value: '2' },
            ],
          },
          { name: 'sidecar', image: 'proxy:1' },
        ],
        tolerations: [{ key: 'a' }, { key: 'b' }],
        nodeSelector: { disk: 'ssd', zone: 'a' },
      },
    },
  },
});

const containers = (o: JsonObject) =>
  ((o.spec as JsonObject).template as { spec: { containers: JsonObject[] } }).spec.containers;
const podSpec = (o: JsonObject) => ((o.spec as JsonObject).template as { spec: JsonObject }).spec;

function failure(target: JsonObject, patch: unknown, schema: SchemaNode): PatchError {
  try {
    applyStrategicMergePatch(target, patch, schema);
  } catch (e) {
    if (e instanceof PatchError) return e;
    throw e;
  }
  throw new Error('the patch applied');
}

describe('strategic merge patch: what kubectl apply sends', () => {
  const service = (): JsonObject => ({
    metadata: {
      name: 'x',
      annotations: { 'kubectl.kubernetes.io/last-applied-configuration': '{"old":1}\n' },
    },
    spec: {
      selector: { app: 'x' },
      ports: [{ name: 'http', port: 80, targetPort: 8080, protocol: 'TCP' }],
    },
  });

  it('changes a service port the way kubectl sends it (setElementOrder + $patch delete)', () => {
    const patch = {
      metadata: { annotations: { 'kubectl.kubernetes.io/last-applied-configuration': '{"new":1}\n' } },
      spec: {
        '$setElementOrder/ports': [{ port: 81 }],
        ports: [
          { name: 'http', port: 81, targetPort: 8080 },
          { $patch: 'delete', port: 80 },
        ],
      },
    };
    const result = applyStrategicMergePatch(service(), patch, serviceSchema);
    expect(result).toEqual({
      metadata: {
        name: 'x',
        annotations: { 'kubectl.kubernetes.io/last-applied-configuration': '{"new":1}\n' },
      },
      spec: { selector: { app: 'x' }, ports: [{ name: 'http', port: 81, targetPort: 8080 }] },
    });
    // Applying the same patch again changes nothing: the second `kubectl apply` is "unchanged".
    expect(applyStrategicMergePatch(result, patch, serviceSchema)).toEqual(result);
  });

  it('updates a container image without losing its other fields (the captured Deployment patch)', () => {
    const patch = {
      metadata: { annotations: { 'kubectl.kubernetes.io/last-applied-configuration': '{}' } },
      spec: {
        replicas: 3,
        template: {
          spec: {
            '$setElementOrder/containers': [{ name: 'web' }, { name: 'sidecar' }],
            containers: [{ image: 'nginx:1.28', name: 'web' }],
          },
        },
      },
    };
    const result = applyStrategicMergePatch(deployment(), patch, deploymentSchema);
    const expected = deployment();
    (expected.metadata as JsonObject).annotations = {
      'kubectl.kubernetes.io/last-applied-configuration': '{}',
    };
    (expected.spec as JsonObject).replicas = 3;
    (containers(expected)[0] as JsonObject).image = 'nginx:1.28';
    expect(result).toEqual(expected);
  });

  it('adds a container port, keeping the order kubectl asks for', () => {
    const patch = {
      spec: {
        template: {
          spec: {
            '$setElementOrder/containers': [{ name: 'web' }, { name: 'sidecar' }],
            containers: [
              {
                name: 'web',
                '$setElementOrder/ports': [{ containerPort: 443 }, { containerPort: 80 }],
                ports: [{ containerPort: 443, name: 'https' }],
              },
            ],
          },
        },
      },
    };
    const web = containers(applyStrategicMergePatch(deployment(), patch, deploymentSchema))[0];
    expect(web?.ports).toEqual([
      { containerPort: 443, name: 'https' },
      { containerPort: 80, protocol: 'TCP' },
    ]);
  });

  it('removes a port and an env var, changes another env var', () => {
    const patch = {
      spec: {
        template: {
          spec: {
            containers: [
              {
                name: 'web',
                ports: [{ $patch: 'delete', containerPort: 80 }],
                '$setElementOrder/env': [{ name: 'B' }],
                env: [
                  { name: 'B', value: 'two' },
                  { $patch: 'delete', name: 'A' },
                ],
              },
            ],
          },
        },
      },
    };
    const web = containers(applyStrategicMergePatch(deployment(), patch, deploymentSchema))[0];
    expect(web?.ports).toEqual([]);
    expect(web?.env).toEqual([{ name: 'B', value: 'two' }]);
  });

  it('reorders a list with $setElementOrder alone', () => {
    const patch = {
      spec: { template: { spec: { '$setElementOrder/containers': [{ name: 'sidecar' }, { name: 'web' }] } } },
    };
    const result = applyStrategicMergePatch(deployment(), patch, deploymentSchema);
    expect(containers(result).map((c) => c.name)).toEqual(['sidecar', 'web']);
  });

  it('keeps server-only elements in their places between ordered ones', () => {
    const target = {
      spec: { template: { spec: { containers: [{ name: 'a' }, { name: 'injected' }, { name: 'b' }] } } },
    };
    const patch = {
      spec: {
        template: {
          spec: {
            '$setElementOrder/containers': [{ name: 'a' }, { name: 'b' }, { name: 'c' }],
            containers: [{ name: 'c' }],
          },
        },
      },
    };
    const result = applyStrategicMergePatch(target, patch, deploymentSchema);
    expect(containers(result).map((c) => c.name)).toEqual(['a', 'injected', 'b', 'c']);
  });

  it('deletes fields set to null and merges maps', () => {
    const patch = { metadata: { labels: { app: null, tier: 'web' } }, spec: { strategy: null } };
    const result = applyStrategicMergePatch(deployment(), patch, deploymentSchema);
    expect((result.metadata as JsonObject).labels).toEqual({ tier: 'web' });
    expect(result.spec).not.toHaveProperty('strategy');
  });
});

describe('strategic merge patch: list semantics', () => {
  it('puts elements new to a list first when no order is given, as kube does', () => {
    const patch = { spec: { template: { spec: { containers: [{ name: 'log', image: 'tail' }] } } } };
    const result = applyStrategicMergePatch(deployment(), patch, deploymentSchema);
    expect(containers(result).map((c) => c.name)).toEqual(['log', 'web', 'sidecar']);
  });

  it('replaces lists without a merge strategy', () => {
    const patch = {
      spec: {
        template: { spec: { tolerations: [{ key: 'c' }], containers: [{ name: 'web', args: ['-c'] }] } },
      },
    };
    const result = applyStrategicMergePatch(deployment(), patch, deploymentSchema);
    expect(podSpec(result).tolerations).toEqual([{ key: 'c' }]);
    expect(containers(result)[0]?.args).toEqual(['-c']);
  });

  it('merges primitive lists with strategy merge as sets', () => {
    const result = applyStrategicMergePatch(
      deployment(),
      { metadata: { finalizers: ['c', 'a'] } },
      deploymentSchema,
    );
    expect((result.metadata as JsonObject).finalizers).toEqual(['c', 'a', 'b']);
  });

  it('removes values with $deleteFromPrimitiveList', () => {
    const patch = { metadata: { '$deleteFromPrimitiveList/finalizers': ['a', 'zz'] } };
    const result = applyStrategicMergePatch(deployment(), patch, deploymentSchema);
    expect((result.metadata as JsonObject).finalizers).toEqual(['b']);
  });

  it('orders primitive lists with $setElementOrder', () => {
    const patch = { metadata: { '$setElementOrder/finalizers': ['b', 'a'] } };
    const result = applyStrategicMergePatch(deployment(), patch, deploymentSchema);
    expect((result.metadata as JsonObject).finalizers).toEqual(['b', 'a']);
  });

  it('merges by key into lists the target does not have yet, dropping directives', () => {
    const target = { spec: { template: { spec: {} } } };
    const patch = {
      spec: { template: { spec: { containers: [{ name: 'a' }, { name: 'gone', $patch: 'delete' }] } } },
    };
    expect(containers(applyStrategicMergePatch(target, patch, deploymentSchema))).toEqual([{ name: 'a' }]);
  });

  it('matches numeric merge keys', () => {
    const target = { spec: { ports: [{ port: 80, targetPort: 80 }, { port: 443 }] } };
    const patch = { spec: { ports: [{ port: 80, targetPort: 8080 }] } };
    expect(applyStrategicMergePatch(target, patch, serviceSchema).spec).toEqual({
      ports: [{ port: 80, targetPort: 8080 }, { port: 443 }],
    });
  });
});

describe('strategic merge patch: directives', () => {
  it('$patch: replace on a list replaces it', () => {
    const patch = {
      spec: { template: { spec: { containers: [{ name: 'only' }, { $patch: 'replace' }] } } },
    };
    expect(containers(applyStrategicMergePatch(deployment(), patch, deploymentSchema))).toEqual([
      { name: 'only' },
    ]);
  });

  it('$patch: replace on a map replaces it', () => {
    const patch = { metadata: { labels: { $patch: 'replace', tier: 'web' } } };
    const result = applyStrategicMergePatch(deployment(), patch, deploymentSchema);
    expect((result.metadata as JsonObject).labels).toEqual({ tier: 'web' });
  });

  it('$patch: delete on a map empties it', () => {
    const patch = { metadata: { labels: { $patch: 'delete' } } };
    const result = applyStrategicMergePatch(deployment(), patch, deploymentSchema);
    expect((result.metadata as JsonObject).labels).toEqual({});
  });

  it('$patch: merge is the default and changes nothing about merging', () => {
    const patch = { metadata: { labels: { $patch: 'merge', tier: 'web' } } };
    const result = applyStrategicMergePatch(deployment(), patch, deploymentSchema);
    expect((result.metadata as JsonObject).labels).toEqual({ app: 'x', tier: 'web' });
  });

  it('$retainKeys clears the fields it does not list (strategy → Recreate)', () => {
    const patch = { spec: { strategy: { $retainKeys: ['type'], type: 'Recreate' } } };
    const result = applyStrategicMergePatch(deployment(), patch, deploymentSchema);
    expect((result.spec as JsonObject).strategy).toEqual({ type: 'Recreate' });
  });

  it('$retainKeys refuses a patch with fields it does not list (422)', () => {
    const patch = { spec: { strategy: { $retainKeys: ['type'], rollingUpdate: { maxSurge: 2 } } } };
    const e = failure(deployment(), patch, deploymentSchema);
    expect(e.status).toBe(422);
    expect(e.message).toContain('.spec.strategy: field "rollingUpdate"');
  });

  it('$retainKeys inside a list element (volumes: merge,retainKeys)', () => {
    const schema: SchemaNode = {
      type: 'object',
      properties: {
        volumes: {
          ...byName({ type: 'object', properties: { name: str, configMap: stringMap, emptyDir: stringMap } }),
          'x-kubernetes-patch-strategy': 'merge,retainKeys',
        },
      },
    };
    const target = {
      volumes: [
        { name: 'v', emptyDir: {} },
        { name: 'w', emptyDir: {} },
      ],
    };
    const patch = { volumes: [{ $retainKeys: ['configMap', 'name'], name: 'v', configMap: { name: 'cm' } }] };
    expect(applyStrategicMergePatch(target, patch, schema)).toEqual({
      volumes: [
        { name: 'v', configMap: { name: 'cm' } },
        { name: 'w', emptyDir: {} },
      ],
    });
  });

  it('a map with strategy replace is replaced', () => {
    const patch = { spec: { template: { spec: { nodeSelector: { zone: 'b' } } } } };
    expect(podSpec(applyStrategicMergePatch(deployment(), patch, deploymentSchema)).nodeSelector).toEqual({
      zone: 'b',
    });
  });
});

describe('strategic merge patch: without a schema', () => {
  it('behaves like a JSON merge patch: maps merge, lists are replaced', () => {
    const target = { spec: { group: 'a', items: [{ name: 'x', v: 1 }, { name: 'y' }] } };
    const patch = { spec: { items: [{ name: 'x', v: 2 }], extra: { a: 1 } } };
    expect(applyStrategicMergePatch(target, patch, undefined)).toEqual({
      spec: { group: 'a', items: [{ name: 'x', v: 2 }], extra: { a: 1 } },
    });
  });

  it('handles subtrees the schema does not describe the same way', () => {
    const target = { metadata: { name: 'x' }, spec: { custom: { list: [1, 2] } } };
    const patch = { spec: { custom: { list: [3] } } };
    expect(applyStrategicMergePatch(target, patch, deploymentSchema).spec).toEqual({ custom: { list: [3] } });
  });

  it('does not change its inputs', () => {
    const target = deployment();
    const patch = { spec: { template: { spec: { containers: [{ name: 'web', image: 'b' }] } } } };
    applyStrategicMergePatch(target, patch, deploymentSchema);
    expect(target).toEqual(deployment());
    expect(patch.spec.template.spec.containers).toEqual([{ name: 'web', image: 'b' }]);
  });
});

describe('strategic merge patch: bad patches', () => {
  it.each([
    [['x'], 400, 'expected an object'],
    [{ metadata: { $patch: 'frob' } }, 400, 'unknown $patch directive "frob"'],
    [{ spec: { template: { spec: { containers: [{ image: 'a' }] } } } }, 400, 'no merge key "name"'],
    [{ spec: { template: { spec: { containers: [{ $patch: 'delete' }] } } } }, 400, 'no merge key "name"'],
    [{ spec: { template: { spec: { containers: [{ name: 'a', $patch: 'x' }] } } } }, 400, 'unknown $patch'],
    [{ metadata: { '$deleteFromPrimitiveList/finalizers': 'a' } }, 400, 'must be a list of values'],
    [{ metadata: { '$setElementOrder/finalizers': 'a' } }, 400, 'must be a list'],
    [{ spec: { strategy: { $retainKeys: 'type' } } }, 400, '$retainKeys must be a list'],
    [{ metadata: { finalizers: [['a']] } }, 422, 'lists of lists'],
    [{ metadata: { finalizers: [{ a: 1 }] } }, 400, 'mixes objects and primitive values'],
    [
      { spec: { template: { spec: { '$setElementOrder/containers': [{ image: 'a' }] } } } },
      400,
      'no merge key',
    ],
  ])('%j → %i', (patch, status, message) => {
    const e = failure(deployment(), patch, deploymentSchema);
    expect(e.status).toBe(status);
    expect(e.message).toContain(message);
  });

  it('names where the problem is', () => {
    const e = failure(
      deployment(),
      { spec: { template: { spec: { containers: [{ image: 'a' }] } } } },
      deploymentSchema,
    );
    expect(e.message).toContain('.spec.template.spec.containers');
  });
});
