import { describe, expect, it } from 'vitest';
import { RESOURCES } from '../resources.js';
import { openApiV3Document, openApiV3Paths } from './index.js';

type Json = Record<string, unknown>;

const doc = (path: string): Json => {
  const d = openApiV3Document(path);
  if (!d) throw new Error(`no document ${path}`);
  return d as Json;
};
const schemas = (d: Json) => (d.components as Json).schemas as Record<string, Json>;
const paths = (d: Json) => d.paths as Record<string, Record<string, Json>>;

function refsIn(value: unknown, out: Set<string>): Set<string> {
  if (Array.isArray(value)) value.forEach((v) => refsIn(v, out));
  else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      if (k === '$ref' && typeof v === 'string') out.add(v);
      else refsIn(v, out);
    }
  }
  return out;
}

describe('openApiV3Paths', () => {
  it('lists every served group-version with a content hash', () => {
    const p = openApiV3Paths();
    expect(Object.keys(p).sort()).toEqual([
      'api/v1',
      'apis/apps/v1',
      'apis/coordination.k8s.io/v1',
      'apis/discovery.k8s.io/v1',
      'apis/metallb.io/v1beta1',
      'apis/networking.k8s.io/v1',
    ]);
    expect(p['apis/apps/v1']?.serverRelativeURL).toMatch(
      /^\/openapi\/v3\/apis\/apps\/v1\?hash=[0-9A-F]{128}$/,
    );
    expect(openApiV3Paths()).toEqual(p);
  });
});

describe('openApiV3Document', () => {
  it('answers with or without a leading slash, and nothing for unknown paths', () => {
    expect(openApiV3Document('/api/v1')).toBe(openApiV3Document('api/v1'));
    expect(openApiV3Document('apis/batch/v1')).toBeUndefined();
  });

  it('declares fieldValidation on PATCH with the GVK, as kubectl requires for strict validation', () => {
    for (const r of RESOURCES) {
      const gv = r.group === '' ? `api/${r.version}` : `apis/${r.group}/${r.version}`;
      const base = r.group === '' ? `/api/${r.version}` : `/apis/${r.group}/${r.version}`;
      const item = `${base}${r.namespaced ? '/namespaces/{namespace}' : ''}/${r.plural}/{name}`;
      const patch = paths(doc(gv))[item]?.patch;
      expect(patch?.['x-kubernetes-group-version-kind'], item).toEqual({
        group: r.group,
        version: r.version,
        kind: r.kind,
      });
      expect(patch?.['x-kubernetes-action']).toBe('patch');
      expect((patch?.parameters as Json[]).map((x) => x.name)).toContain('fieldValidation');
      const types = Object.keys(((patch?.requestBody as Json).content as Json) ?? {});
      expect(types.includes('application/strategic-merge-patch+json')).toBe(r.group !== 'metallb.io');
      expect(types).toContain('application/apply-patch+yaml');
    }
  });

  it('publishes components named like upstream, with GVKs for explain, and every $ref resolves', () => {
    for (const gv of Object.keys(openApiV3Paths())) {
      const d = doc(gv);
      const s = schemas(d);
      for (const ref of refsIn(d, new Set())) {
        expect(s[ref.replace('#/components/schemas/', '')], `${gv}: ${ref}`).toBeDefined();
      }
    }
    const core = schemas(doc('api/v1'));
    expect(core['io.k8s.api.core.v1.Service']?.['x-kubernetes-group-version-kind']).toEqual([
      { group: '', version: 'v1', kind: 'Service' },
    ]);
    expect(core['io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta']).toBeDefined();
    expect(core['io.k8s.apimachinery.pkg.util.intstr.IntOrString']).toMatchObject({
      format: 'int-or-string',
      oneOf: [{ type: 'integer' }, { type: 'string' }],
    });
    expect(core['io.k8s.apimachinery.pkg.util.intstr.IntOrString']?.type).toBeUndefined();
    expect(core['io.k8s.apimachinery.pkg.api.resource.Quantity']).toMatchObject({
      oneOf: [{ type: 'string' }, { type: 'number' }],
    });
    expect(schemas(doc('apis/apps/v1'))['io.k8s.api.autoscaling.v1.Scale']).toBeDefined();
    expect(
      paths(doc('apis/apps/v1'))['/apis/apps/v1/namespaces/{namespace}/deployments/{name}/scale'],
    ).toBeDefined();
  });

  it('keeps the published shape of a component stable (golden)', async () => {
    const s = schemas(doc('api/v1'));
    await expect(JSON.stringify(s['io.k8s.api.core.v1.ServiceSpec'], null, 2) + '\n').toMatchFileSnapshot(
      './testdata/ServiceSpec.golden.txt',
    );
    const apps = paths(doc('apis/apps/v1'));
    await expect(
      JSON.stringify(apps['/apis/apps/v1/namespaces/{namespace}/deployments/{name}'], null, 2) + '\n',
    ).toMatchFileSnapshot('./testdata/deployment-item-path.golden.txt');
  });
});
