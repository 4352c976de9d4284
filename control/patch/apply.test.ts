import { describe, expect, it } from 'vitest';
import type { SchemaNode } from '../schema/types.js';
import type { JsonObject } from '../store/types.js';
import { recordManagedFields, serverSideApply } from './apply.js';
import { ApplyConflictError, PatchError } from './errors.js';

const str: SchemaNode = { type: 'string' };
const int: SchemaNode = { type: 'integer' };
const stringMap: SchemaNode = { type: 'object', additionalProperties: str };
const mapList = (items: SchemaNode, keys: string[]): SchemaNode => ({
  type: 'array',
  items,
  'x-kubernetes-list-type': 'map',
  'x-kubernetes-list-map-keys': keys,
});
const metadata: SchemaNode = {
  type: 'object',
  properties: {
    name: str,
    namespace: str,
    uid: str,
    resourceVersion: str,
    generation: int,
    creationTimestamp: str,
    labels: stringMap,
    annotations: stringMap,
    finalizers: { type: 'array', items: str, 'x-kubernetes-list-type': 'set' },
    managedFields: { type: 'array', items: { type: 'object' }, 'x-kubernetes-list-type': 'atomic' },
  },
};
const container: SchemaNode = {
  type: 'object',
  properties: {
    name: str,
    image: str,
    args: { type: 'array', items: str, 'x-kubernetes-list-type': 'atomic' },
    ports: mapList(
      {
        type: 'object',
        properties: { name: str, containerPort: int, protocol: { type: 'string', default: 'TCP' } },
      },
      ['containerPort', 'protocol'],
    ),
    // No list-type: derived from the strategic merge metadata, as for built-in kinds.
    env: {
      type: 'array',
      items: { type: 'object', properties: { name: str, value: str } },
      'x-kubernetes-patch-strategy': 'merge',
      'x-kubernetes-patch-merge-key': 'name',
    },
  },
};
const deploymentSchema: SchemaNode = {
  type: 'object',
  properties: {
    apiVersion: str,
    kind: str,
    metadata,
    spec: {
      type: 'object',
      properties: {
        replicas: int,
        paused: { type: 'boolean' },
        selector: {
          type: 'object',
          'x-kubernetes-map-type': 'atomic',
          properties: { matchLabels: stringMap },
        },
        template: {
          type: 'object',
          properties: {
            metadata,
            spec: { type: 'object', properties: { containers: mapList(container, ['name']) } },
          },
        },
      },
    },
    status: { type: 'object', properties: { replicas: int } },
  },
};
const serviceSchema: SchemaNode = {
  type: 'object',
  properties: {
    apiVersion: str,
    kind: str,
    metadata,
    spec: {
      type: 'object',
      properties: {
        clusterIP: str,
        selector: stringMap,
        ports: {
          ...mapList(
            {
              type: 'object',
              properties: {
                name: str,
                port: int,
                targetPort: int,
                protocol: { type: 'string', default: 'TCP' },
              },
            },
            ['port', 'protocol'],
          ),
          'x-kubernetes-patch-strategy': 'merge',
          'x-kubernetes-patch-merge-key': 'port',
        },
      },
    },
  },
};

const T1 = '2026-01-01T10:00:00Z';
const T2 = '2026-01-01T11:00:00Z';
const T3 = '2026-01-01T12:00:00Z';

const manifest = (spec: JsonObject = {}): JsonObject => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'web', namespace: 'default', labels: { app: 'web' } },
  spec: {
    replicas: 2,
    selector: { matchLabels: { app: 'web' } },
    template: {
      metadata: { labels: { app: 'web' } },
      spec: { containers: [{ name: 'web', image: 'nginx:1.27', ports: [{ containerPort: 80 }] }] },
    },
    ...spec,
  },
});

/** What the API server adds on create; SSA must carry it over untouched. */
const stored = (object: JsonObject): JsonObject => ({
  ...object,
  metadata: { ...(object.metadata as JsonObject), uid: 'u-1', resourceVersion: '5', creationTimestamp: T1 },
});

const managed = (o: JsonObject) => (o.metadata as { managedFields?: JsonObject[] }).managedFields;
const spec = (o: JsonObject) => o.spec as JsonObject;
const containers = (o: JsonObject) =>
  (spec(o).template as { spec: { containers: JsonObject[] } }).spec.containers;

const apply = (live: JsonObject | undefined, applied: JsonObject, manager: string, now = T2, force = false) =>
  serverSideApply({ live, applied, manager, force, schema: deploymentSchema, now });

function patchErrorOf(fn: () => unknown): PatchError {
  try {
    fn();
  } catch (e) {
    if (e instanceof PatchError) return e;
    throw e;
  }
  throw new Error('no error');
}

function conflictOf(fn: () => unknown): ApplyConflictError {
  try {
    fn();
  } catch (e) {
    if (e instanceof ApplyConflictError) return e;
    throw e;
  }
  throw new Error('no conflict');
}

describe('serverSideApply: create', () => {
  it('creates the object and records the applied fields', () => {
    const created = apply(undefined, manifest(), 'kubectl', T1);
    expect(managed(created)).toEqual([
      {
        manager: 'kubectl',
        operation: 'Apply',
        apiVersion: 'apps/v1',
        time: T1,
        fieldsType: 'FieldsV1',
        fieldsV1: {
          'f:metadata': { 'f:labels': { 'f:app': {} } },
          'f:spec': {
            'f:replicas': {},
            'f:selector': {},
            'f:template': {
              'f:metadata': { 'f:labels': { 'f:app': {} } },
              'f:spec': {
                'f:containers': {
                  'k:{"name":"web"}': {
                    '.': {},
                    'f:image': {},
                    'f:name': {},
                    'f:ports': {
                      'k:{"containerPort":80,"protocol":"TCP"}': { '.': {}, 'f:containerPort': {} },
                    },
                  },
                },
              },
            },
          },
        },
      },
    ]);
    const { metadata, ...rest } = created;
    const { metadata: appliedMetadata, ...appliedRest } = manifest();
    expect(rest).toEqual(appliedRest);
    expect({ ...(metadata as JsonObject), managedFields: undefined }).toEqual({
      ...(appliedMetadata as JsonObject),
      managedFields: undefined,
    });
  });

  it('ignores managedFields and server metadata in the applied configuration', () => {
    const applied = manifest();
    (applied.metadata as JsonObject).managedFields = [{ manager: 'evil', operation: 'Apply', fieldsV1: {} }];
    (applied.metadata as JsonObject).resourceVersion = '99';
    const live = stored(apply(undefined, manifest(), 'kubectl', T1));
    const result = apply(live, applied, 'kubectl', T2);
    expect(managed(result)?.map((e) => e.manager)).toEqual(['kubectl']);
    expect((result.metadata as JsonObject).resourceVersion).toBe('5');
    expect((result.metadata as JsonObject).uid).toBe('u-1');
  });

  it('needs a field manager and an object', () => {
    expect(() => apply(undefined, manifest(), '')).toThrowError(/fieldManager is required/);
    const e = patchErrorOf(() =>
      serverSideApply({ live: undefined, applied: [] as never, manager: 'm', schema: undefined, now: T1 }),
    );
    expect(e.status).toBe(400);
  });

  it('refuses list-map elements without their keys (422) and duplicates', () => {
    const noName = manifest();
    containers(noName)[0] = { image: 'x' };
    expect(() => apply(undefined, noName, 'kubectl')).toThrowError(
      /\.spec\.template\.spec\.containers: element 0 has no key field "name"/,
    );
    const dup = manifest();
    containers(dup).push({ name: 'web' });
    const e = patchErrorOf(() => apply(undefined, dup, 'kubectl'));
    expect(e.status).toBe(422);
    expect(e.message).toContain('duplicates');
  });
});

describe('serverSideApply: re-apply', () => {
  const live = () => stored(apply(undefined, manifest(), 'kubectl', T1));

  it('changes nothing, not even the time, when the same configuration is applied again', () => {
    const before = live();
    expect(apply(before, manifest(), 'kubectl', T3)).toEqual(before);
  });

  it('removes a field the applier no longer applies', () => {
    const applied = manifest();
    delete spec(applied).replicas;
    (applied.metadata as JsonObject).labels = {};
    const result = apply(live(), applied, 'kubectl', T2);
    expect(spec(result)).not.toHaveProperty('replicas');
    expect((result.metadata as JsonObject).labels).toEqual({});
    expect(managed(result)?.[0]?.time).toBe(T2);
    expect(JSON.stringify(managed(result))).not.toContain('f:replicas');
  });

  it('removes a container and a port the applier dropped', () => {
    const first = manifest();
    containers(first).push({ name: 'side', image: 'proxy' });
    const liveObj = stored(apply(undefined, first, 'kubectl', T1));
    const second = manifest();
    containers(second)[0] = { name: 'web', image: 'nginx:1.28' };
    const result = apply(liveObj, second, 'kubectl', T2);
    expect(containers(result)).toEqual([{ name: 'web', image: 'nginx:1.28' }]);
  });

  it('keeps fields it did not own and fields others own', () => {
    let obj = live();
    // Something else (the server) set clusterIP-like fields nobody owns; a controller owns paused.
    spec(obj).paused = false;
    obj = recordManagedFields({
      old: live(),
      updated: obj,
      manager: 'controller',
      schema: deploymentSchema,
      now: T2,
    });
    (spec(obj).template as JsonObject).extra = 'unowned';
    const applied = manifest();
    delete spec(applied).replicas;
    const result = apply(obj, applied, 'kubectl', T3);
    expect(spec(result)).not.toHaveProperty('replicas');
    expect(spec(result).paused).toBe(false);
    expect((spec(result).template as JsonObject).extra).toBe('unowned');
  });

  it('keeps a dropped field that another manager also owns', () => {
    const other = apply(
      live(),
      { apiVersion: 'apps/v1', kind: 'Deployment', spec: { replicas: 2 } },
      'hpa',
      T2,
    );
    const applied = manifest();
    delete spec(applied).replicas;
    const result = apply(other, applied, 'kubectl', T3);
    expect(spec(result).replicas).toBe(2);
    expect(managed(result)?.find((e) => e.manager === 'hpa')?.fieldsV1).toEqual({
      'f:spec': { 'f:replicas': {} },
    });
  });

  it('keeps a dropped list element whose fields another manager owns, with its key', () => {
    const other = apply(
      live(),
      {
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        spec: { template: { spec: { containers: [{ name: 'web', image: 'nginx:1.27' }] } } },
      },
      'other',
      T2,
    );
    const applied = manifest();
    containers(applied)[0] = { name: 'side', image: 'proxy' };
    const result = apply(other, applied, 'kubectl', T3);
    expect(containers(result)).toEqual([
      { name: 'web', image: 'nginx:1.27' },
      { name: 'side', image: 'proxy' },
    ]);
  });

  it('merges list elements by key, keeping others’ elements in place', () => {
    const base = stored(
      apply(
        undefined,
        { apiVersion: 'v1', kind: 'Service', spec: { ports: [{ port: 80 }, { port: 443 }] } },
        'a',
        T1,
      ),
    );
    const result = serverSideApply({
      live: base,
      applied: {
        apiVersion: 'v1',
        kind: 'Service',
        spec: { ports: [{ port: 81 }, { port: 443, targetPort: 8443 }] },
      },
      manager: 'b',
      schema: serviceSchema,
      now: T2,
    });
    expect(spec(result).ports).toEqual([{ port: 80 }, { port: 81 }, { port: 443, targetPort: 8443 }]);
    expect(managed(result)?.find((e) => e.manager === 'b')?.fieldsV1).toEqual({
      'f:spec': {
        'f:ports': {
          'k:{"port":81,"protocol":"TCP"}': { '.': {}, 'f:port': {} },
          'k:{"port":443,"protocol":"TCP"}': { '.': {}, 'f:port': {}, 'f:targetPort': {} },
        },
      },
    });
  });

  it('treats set lists by value and atomic lists and maps as one field', () => {
    const applied = manifest();
    (applied.metadata as JsonObject).finalizers = ['a', 'b'];
    containers(applied)[0] = { name: 'web', args: ['-x'] };
    const result = apply(undefined, applied, 'kubectl', T1);
    const fields = JSON.stringify(managed(result)?.[0]?.fieldsV1);
    expect(fields).toContain('"f:finalizers":{"v:\\"a\\"":{},"v:\\"b\\"":{}}');
    expect(fields).toContain('"f:args":{}');
    expect(fields).toContain('"f:selector":{}');
  });
});

describe('serverSideApply: without a schema (CRD-like)', () => {
  const cr = (spec: JsonObject): JsonObject => ({
    apiVersion: 'x.io/v1',
    kind: 'Thing',
    metadata: { name: 't' },
    spec,
  });

  it('owns every map key and treats lists as atomic', () => {
    const created = serverSideApply({
      live: undefined,
      applied: cr({ size: 1, tags: ['a'], nested: { deep: true } }),
      manager: 'm',
      schema: undefined,
      now: T1,
    });
    expect(managed(created)?.[0]?.fieldsV1).toEqual({
      'f:spec': { '.': {}, 'f:nested': { '.': {}, 'f:deep': {} }, 'f:size': {}, 'f:tags': {} },
    });
    const next = serverSideApply({
      live: created,
      applied: cr({ size: 2 }),
      manager: 'm',
      schema: undefined,
      now: T2,
    });
    expect(next.spec).toEqual({ size: 2 });
  });
});

describe('serverSideApply: details', () => {
  it('records the subresource and treats it as a separate manager', () => {
    const live = stored(apply(undefined, manifest(), 'kubectl', T1));
    const result = serverSideApply({
      live,
      applied: { apiVersion: 'apps/v1', kind: 'Deployment', status: { replicas: 2 } },
      manager: 'kubectl',
      schema: deploymentSchema,
      now: T2,
      subresource: 'status',
    });
    expect(managed(result)?.map((e) => [e.manager, e.subresource])).toEqual([
      ['kubectl', undefined],
      ['kubectl', 'status'],
    ]);
  });

  it('a null in the applied configuration removes the field', () => {
    const live = stored(apply(undefined, manifest(), 'kubectl', T1));
    const result = apply(live, manifest({ replicas: null }), 'kubectl', T2);
    expect(spec(result)).not.toHaveProperty('replicas');
  });
});

describe('serverSideApply: conflicts', () => {
  const live = () => stored(apply(undefined, manifest(), 'kubectl', T1));
  const scale = (replicas: number): JsonObject => ({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web' },
    spec: { replicas },
  });

  it('refuses to change a field another applier owns', () => {
    const e = conflictOf(() => apply(live(), scale(5), 'hpa', T2));
    expect(e.status).toBe(409);
    expect(e.code).toBe('FieldManagerConflict');
    expect(e.conflicts).toEqual([
      { manager: 'kubectl', field: '.spec.replicas', message: 'conflict with "kubectl"' },
    ]);
    expect(e.message).toBe('Apply failed with 1 conflict: conflict with "kubectl": .spec.replicas');
  });

  it('shares ownership when the value is the same', () => {
    const result = apply(live(), scale(2), 'hpa', T2);
    expect(managed(result)?.map((e) => e.manager)).toEqual(['kubectl', 'hpa']);
    expect(managed(result)?.[1]?.fieldsV1).toEqual({ 'f:spec': { 'f:replicas': {} } });
  });

  it('with force, takes the field over', () => {
    const result = apply(live(), scale(5), 'hpa', T2, true);
    expect(spec(result).replicas).toBe(5);
    const kubectl = managed(result)?.find((e) => e.manager === 'kubectl');
    expect(JSON.stringify(kubectl?.fieldsV1)).not.toContain('f:replicas');
    expect(managed(result)?.find((e) => e.manager === 'hpa')?.fieldsV1).toEqual({
      'f:spec': { 'f:replicas': {} },
    });
    // The original applier now conflicts in turn.
    expect(conflictOf(() => apply(result, manifest(), 'kubectl', T3)).conflicts[0]?.manager).toBe('hpa');
  });

  it('lists every conflicting field, grouped by manager in the message', () => {
    const applied = manifest({ replicas: 9 });
    containers(applied)[0] = { name: 'web', image: 'nginx:2', ports: [{ containerPort: 80 }] };
    const e = conflictOf(() => apply(live(), applied, 'other', T2));
    expect(e.conflicts.map((c) => c.field)).toEqual([
      '.spec.replicas',
      '.spec.template.spec.containers[name="web"].image',
    ]);
    expect(e.message).toBe(
      'Apply failed with 2 conflicts: conflicts with "kubectl":\n- .spec.replicas\n- .spec.template.spec.containers[name="web"].image',
    );
  });

  it('prints Service port keys the way kube does', () => {
    const svc = (targetPort: number): JsonObject => ({
      apiVersion: 'v1',
      kind: 'Service',
      spec: { ports: [{ port: 80, targetPort }] },
    });
    const base = serverSideApply({
      live: undefined,
      applied: svc(8080),
      manager: 'a',
      schema: serviceSchema,
      now: T1,
    });
    const e = conflictOf(() =>
      serverSideApply({ live: base, applied: svc(9090), manager: 'b', schema: serviceSchema, now: T2 }),
    );
    expect(e.conflicts.map((c) => c.field)).toEqual(['.spec.ports[port=80,protocol="TCP"].targetPort']);
  });
});

describe('recordManagedFields and Update-then-Apply', () => {
  const created = () =>
    recordManagedFields({
      old: undefined,
      updated: stored(manifest()),
      manager: 'kubectl-create',
      operation: 'Update',
      schema: deploymentSchema,
      now: T1,
    });

  it('gives a create’s fields to its manager with operation Update', () => {
    const entries = managed(created());
    expect(entries).toHaveLength(1);
    expect(entries?.[0]).toMatchObject({
      manager: 'kubectl-create',
      operation: 'Update',
      apiVersion: 'apps/v1',
      time: T1,
    });
    expect(JSON.stringify(entries?.[0]?.fieldsV1)).toContain('"f:replicas":{}');
    expect((entries?.[0]?.fieldsV1 as JsonObject)['f:metadata']).toEqual({ 'f:labels': { 'f:app': {} } });
  });

  it('an apply conflicts with the updater when it changes its fields, naming it as kube does', () => {
    const e = conflictOf(() => apply(created(), manifest({ replicas: 3 }), 'kubectl', T2));
    expect(e.message).toBe(
      'Apply failed with 1 conflict: conflict with "kubectl-create" using apps/v1 at 2026-01-01T10:00:00Z: .spec.replicas',
    );
  });

  it('an apply of the same values shares ownership with the updater', () => {
    const result = apply(created(), manifest(), 'kubectl', T2);
    expect(managed(result)?.map((e) => `${e.manager}/${e.operation}`)).toEqual([
      'kubectl/Apply',
      'kubectl-create/Update',
    ]);
  });

  it('an update moves changed fields to the updater and keeps the rest', () => {
    const live = stored(apply(undefined, manifest(), 'kubectl', T1));
    const updated = structuredClone(live);
    spec(updated).replicas = 7;
    const result = recordManagedFields({
      old: live,
      updated,
      manager: 'kubectl-scale',
      schema: deploymentSchema,
      now: T2,
    });
    const [applier, scaler] = managed(result) ?? [];
    expect(JSON.stringify(applier?.fieldsV1)).not.toContain('f:replicas');
    expect(JSON.stringify(applier?.fieldsV1)).toContain('f:image');
    expect(scaler).toMatchObject({ manager: 'kubectl-scale', operation: 'Update', time: T2 });
    expect(scaler?.fieldsV1).toEqual({ 'f:spec': { 'f:replicas': {} } });
    expect(spec(result).replicas).toBe(7);
  });

  it('merges repeated updates of one manager and drops managers left with nothing', () => {
    const live = stored(
      apply(undefined, { apiVersion: 'apps/v1', kind: 'Deployment', spec: { replicas: 1 } }, 'kubectl', T1),
    );
    const one = structuredClone(live);
    spec(one).replicas = 2;
    const r1 = recordManagedFields({
      old: live,
      updated: one,
      manager: 'ed',
      schema: deploymentSchema,
      now: T2,
    });
    expect(managed(r1)?.map((e) => e.manager)).toEqual(['ed']);
    const two = structuredClone(r1);
    spec(two).paused = true;
    const r2 = recordManagedFields({
      old: r1,
      updated: two,
      manager: 'ed',
      schema: deploymentSchema,
      now: T3,
    });
    expect(managed(r2)).toEqual([
      {
        manager: 'ed',
        operation: 'Update',
        apiVersion: 'apps/v1',
        time: T3,
        fieldsType: 'FieldsV1',
        fieldsV1: { 'f:spec': { 'f:paused': {}, 'f:replicas': {} } },
      },
    ]);
  });

  it('an update that changes nothing leaves managedFields alone', () => {
    const live = created();
    expect(
      recordManagedFields({
        old: live,
        updated: structuredClone(live),
        manager: 'x',
        schema: deploymentSchema,
        now: T3,
      }),
    ).toEqual(live);
  });

  it('a removed field is owned by nobody', () => {
    const live = created();
    const updated = structuredClone(live);
    delete spec(updated).replicas;
    const result = recordManagedFields({
      old: live,
      updated,
      manager: 'x',
      schema: deploymentSchema,
      now: T2,
    });
    expect(JSON.stringify(managed(result))).not.toContain('f:replicas');
    expect(managed(result)?.map((e) => e.manager)).toEqual(['kubectl-create']);
  });

  it('honours managedFields set by the request, and [] resets them', () => {
    const live = created();
    const reset = structuredClone(live);
    (reset.metadata as JsonObject).managedFields = [];
    expect(
      managed(
        recordManagedFields({ old: live, updated: reset, manager: 'x', schema: deploymentSchema, now: T2 }),
      ),
    ).toBe(undefined);
    const rewritten = structuredClone(live);
    (rewritten.metadata as JsonObject).managedFields = [
      {
        manager: 'kubectl',
        operation: 'Apply',
        apiVersion: 'apps/v1',
        fieldsType: 'FieldsV1',
        fieldsV1: { 'f:spec': { 'f:replicas': {} } },
      },
    ];
    const result = recordManagedFields({
      old: live,
      updated: rewritten,
      manager: 'x',
      schema: deploymentSchema,
      now: T2,
    });
    expect(managed(result)).toEqual((rewritten.metadata as JsonObject).managedFields);
  });

  it('a status update through the subresource is recorded with it, ignoring request managedFields', () => {
    const live = created();
    const updated = structuredClone(live);
    updated.status = { replicas: 2 };
    (updated.metadata as JsonObject).managedFields = [];
    const result = recordManagedFields({
      old: live,
      updated,
      manager: 'controller',
      schema: deploymentSchema,
      now: T2,
      subresource: 'status',
    });
    expect(managed(result)?.[1]).toEqual({
      manager: 'controller',
      operation: 'Update',
      apiVersion: 'apps/v1',
      time: T2,
      fieldsType: 'FieldsV1',
      fieldsV1: { 'f:status': { 'f:replicas': {} } },
      subresource: 'status',
    });
  });

  it('folds the oldest of more than ten updaters into ancient-changes', () => {
    let obj = created();
    for (let i = 0; i < 11; i++) {
      const next = structuredClone(obj);
      (next.metadata as { labels: Record<string, string> }).labels[`k${i}`] = 'v';
      obj = recordManagedFields({
        old: obj,
        updated: next,
        manager: `m${i}`,
        schema: deploymentSchema,
        now: `2026-01-02T00:00:${String(10 + i)}Z`,
      });
    }
    const names = managed(obj)?.map((e) => e.manager) ?? [];
    expect(names).toHaveLength(10);
    expect(names).not.toContain('kubectl-create');
    expect(names).not.toContain('m0');
    const ancient = managed(obj)?.find((e) => e.manager === 'ancient-changes');
    expect(JSON.stringify(ancient?.fieldsV1)).toContain('f:k0');
    expect(JSON.stringify(ancient?.fieldsV1)).toContain('f:replicas');
  });

  it('drops unreadable stored managedFields instead of failing', () => {
    const live = created();
    (live.metadata as JsonObject).managedFields = [{ manager: 'x', operation: 'Bogus' }];
    const updated = structuredClone(live);
    delete (updated.metadata as JsonObject).managedFields;
    spec(updated).replicas = 4;
    const result = recordManagedFields({
      old: live,
      updated,
      manager: 'y',
      schema: deploymentSchema,
      now: T2,
    });
    expect(managed(result)?.map((e) => e.manager)).toEqual(['y']);
  });
});
