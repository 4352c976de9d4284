/**
 * Object semantics through HTTPS: system metadata, optimistic concurrency, generation,
 * status subresources, body limits, field validation, server-side apply conflicts, finalizers,
 * garbage collection by ownerReferences and namespace deletion.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { extensions } from '../control/layers.js';
import { adminToken, apiRequest, startTestCluster, type TestCluster } from '../control/testing.js';

type Obj = Record<string, unknown> & { metadata: Record<string, unknown> };

describe('object semantics', () => {
  let cluster: TestCluster;
  let token: string;
  const call = (method: string, path: string, body?: unknown, contentType?: string) =>
    apiRequest(cluster, {
      method,
      path,
      token,
      ...(body !== undefined ? { body } : {}),
      ...(contentType ? { contentType } : {}),
    });
  const exists = async (path: string) => (await call('GET', path)).status === 200;
  const DEPLOY = '/apis/apps/v1/namespaces/default/deployments';
  const CM = '/api/v1/namespaces/default/configmaps';
  const deployment = (name: string) => ({
    metadata: { name },
    spec: {
      replicas: 1,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: { containers: [{ name: 'c', image: 'klab/echo' }] },
      },
    },
  });
  beforeAll(async () => {
    cluster = await startTestCluster({ ext: extensions });
    token = await adminToken(cluster);
  });

  afterAll(async () => {
    await cluster?.stop();
  });

  it('answers dryRun=All writes as if done and stores nothing (also through kubectl)', async () => {
    const created = await call('POST', `${CM}?dryRun=All`, { metadata: { name: 'dry' }, data: { a: '1' } });
    expect(created.status, created.text).toBe(201);
    expect(created.json.metadata).toMatchObject({ name: 'dry', namespace: 'default', generation: 1 });
    const meta = (r: { json: Record<string, unknown> }) => r.json.metadata as Record<string, unknown>;
    expect(meta(created).uid).toMatch(/^[0-9a-f-]{36}$/);
    expect(meta(created).resourceVersion).toBeUndefined();
    expect(await exists(`${CM}/dry`)).toBe(false);
    const invalid = await call('POST', `${CM}?dryRun=All`, { metadata: { name: 'Not_Valid' } });
    expect(invalid.status).toBe(422);
    expect((await call('POST', `${CM}?dryRun=Some`, { metadata: { name: 'x' } })).status).toBe(400);

    const real = await call('POST', CM, { metadata: { name: 'wet' }, data: { a: '1' } });
    const patched = await call(
      'PATCH',
      `${CM}/wet?dryRun=All`,
      { data: { a: '2' } },
      'application/merge-patch+json',
    );
    expect(patched.status, patched.text).toBe(200);
    expect(patched.json.data).toEqual({ a: '2' });
    expect(meta(patched).resourceVersion).toBe(meta(real).resourceVersion);
    const after = await call('GET', `${CM}/wet`);
    expect(after.json.data).toEqual({ a: '1' });
    expect(meta(after).resourceVersion).toBe(meta(real).resourceVersion);

    expect((await call('DELETE', `${CM}/wet?dryRun=All`)).status).toBe(200);
    expect((await call('DELETE', `${CM}/wet`, { dryRun: ['All'] })).status).toBe(200);
    expect(await exists(`${CM}/wet`)).toBe(true);

    const manifest = 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: dry-kubectl\ndata:\n  k: v\n';
    const applied = await cluster.kubectl(['apply', '--dry-run=server', '-f', '-'], manifest);
    expect(applied.exitCode, applied.stderr).toBe(0);
    expect(applied.stdout).toContain('configmap/dry-kubectl created (server dry run)');
    expect(await exists(`${CM}/dry-kubectl`)).toBe(false);
    const deleted = await cluster.kubectl(['delete', 'configmap', 'wet', '--dry-run=server']);
    expect(deleted.exitCode, deleted.stderr).toBe(0);
    expect(await exists(`${CM}/wet`)).toBe(true);
  });

  it('fills system metadata and names from generateName', async () => {
    const r = await call('POST', CM, { metadata: { generateName: 'gen-', uid: 'mine' }, data: { a: 'b' } });
    expect(r.status).toBe(201);
    const meta = r.json.metadata as Record<string, unknown>;
    expect(meta.name).toMatch(/^gen-[bcdfghjklmnpqrstvwxz2456789]{5}$/);
    expect(meta.uid).toMatch(/^[0-9a-f-]{36}$/);
    expect(meta.uid).not.toBe('mine');
    expect(meta.creationTimestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect(meta.generation).toBe(1);
    expect(Number(meta.resourceVersion)).toBeGreaterThan(0);
    const missing = await call('POST', CM, { metadata: {} });
    expect(missing.status).toBe(422);
    expect(missing.json.details).toMatchObject({ causes: [{ field: 'metadata.name' }] });
    const noNs = await call('POST', '/api/v1/namespaces/nowhere/configmaps', { metadata: { name: 'x' } });
    expect(noNs.status).toBe(404);
    expect(noNs.json.message).toBe('namespaces "nowhere" not found');
  });

  it('answers 409 AlreadyExists and 409 Conflict on a stale resourceVersion', async () => {
    const created = await call('POST', CM, { metadata: { name: 'cas' }, data: { v: '1' } });
    expect((await call('POST', CM, { metadata: { name: 'cas' } })).json).toMatchObject({
      reason: 'AlreadyExists',
      code: 409,
      message: 'configmaps "cas" already exists',
    });
    const first = await call('PUT', `${CM}/cas`, { ...created.json, data: { v: '2' } });
    expect(first.status).toBe(200);
    const stale = await call('PUT', `${CM}/cas`, { ...created.json, data: { v: '3' } });
    expect(stale.status).toBe(409);
    expect(stale.json).toMatchObject({
      reason: 'Conflict',
      message:
        'Operation cannot be fulfilled on configmaps "cas": the object has been modified; please apply your changes to the latest version and try again',
    });
  });

  it('bumps generation on spec changes only and keeps status behind its subresource', async () => {
    const ING = '/apis/networking.k8s.io/v1/namespaces/default/ingresses';
    const backend = (port: number) => ({ service: { name: 'web', port: { number: port } } });
    const created = await call('POST', ING, {
      metadata: { name: 'gen' },
      spec: { defaultBackend: backend(80) },
    });
    expect(created.status, created.text).toBe(201);
    const merge = (path: string, body: unknown) => call('PATCH', path, body, 'application/merge-patch+json');
    const labelled = await merge(`${ING}/gen`, { metadata: { labels: { x: 'y' } } });
    expect((labelled.json.metadata as Obj['metadata']).generation).toBe(1);
    const lb = { loadBalancer: { ingress: [{ ip: '192.0.2.1' }] } };
    const changed = await merge(`${ING}/gen`, { spec: { defaultBackend: backend(81) }, status: lb });
    expect((changed.json.metadata as Obj['metadata']).generation).toBe(2);
    expect(changed.json.status).toBeUndefined();
    const status = await merge(`${ING}/gen/status`, { status: lb, spec: { defaultBackend: backend(82) } });
    expect(status.status, status.text).toBe(200);
    expect(status.json).toMatchObject({ spec: { defaultBackend: backend(81) }, status: lb });
    expect((status.json.metadata as Obj['metadata']).generation).toBe(2);

    expect((await call('POST', DEPLOY, deployment('scaled'))).status).toBe(201);
    const scale = await merge(`${DEPLOY}/scaled/scale`, { spec: { replicas: 4 } });
    expect(scale.json).toMatchObject({ kind: 'Scale', apiVersion: 'autoscaling/v1', spec: { replicas: 4 } });
    expect((scale.json.status as { selector: string }).selector).toBe('app=scaled');
    expect(((await call('GET', `${DEPLOY}/scaled`)).json.spec as { replicas: number }).replicas).toBe(4);
  });

  it('refuses bodies over 3 MiB with 413', async () => {
    const r = await call('POST', CM, { metadata: { name: 'big' }, data: { a: 'x'.repeat(3 * 1024 * 1024) } });
    expect(r.status).toBe(413);
    expect(r.json).toMatchObject({ kind: 'Status', reason: 'RequestEntityTooLarge', code: 413 });
  });

  it('warns about unknown fields under Warn and refuses them under Strict', async () => {
    const warn = await call('POST', `${CM}?fieldValidation=Warn`, { metadata: { name: 'warned' }, bogus: 1 });
    expect(warn.status).toBe(201);
    expect(warn.headers.warning).toBe('299 - "unknown field \\"bogus\\""');
    const strict = await call('POST', `${CM}?fieldValidation=Strict`, {
      metadata: { name: 'strict' },
      spec: { x: 1 },
    });
    expect(strict.status).toBe(400);
    expect(strict.json.message).toBe(
      'ConfigMap in version "v1" cannot be handled as a ConfigMap: strict decoding error: unknown field "spec"',
    );
  });

  it('answers a server-side apply conflict with 409 FieldManagerConflict', async () => {
    const apply = (manager: string, replicas: number, force = false) =>
      call(
        'PATCH',
        `${DEPLOY}/ssa?fieldManager=${manager}${force ? '&force=true' : ''}`,
        JSON.stringify({
          apiVersion: 'apps/v1',
          kind: 'Deployment',
          ...deployment('ssa'),
          spec: { ...deployment('ssa').spec, replicas },
        }),
        'application/apply-patch+yaml',
      );
    expect((await apply('alice', 2)).status).toBe(201);
    const conflict = await apply('bob', 3);
    expect(conflict.status).toBe(409);
    expect(conflict.json).toMatchObject({
      reason: 'Conflict',
      details: {
        causes: expect.arrayContaining([
          expect.objectContaining({ reason: 'FieldManagerConflict', field: '.spec.replicas' }),
        ]),
      },
    });
    expect((await apply('bob', 3, true)).status).toBe(200);
  });

  it('keeps an object with finalizers until they are removed', async () => {
    await call('POST', CM, { metadata: { name: 'fin', finalizers: ['example.com/hold'] } });
    const del = await call('DELETE', `${CM}/fin`);
    expect(del.status).toBe(200);
    expect((del.json.metadata as Obj['metadata']).deletionTimestamp).toBeDefined();
    expect(await exists(`${CM}/fin`)).toBe(true);
    const released = await call(
      'PATCH',
      `${CM}/fin`,
      { metadata: { finalizers: null } },
      'application/merge-patch+json',
    );
    expect(released.status).toBe(200);
    expect(await exists(`${CM}/fin`)).toBe(false);
  });

  it('collects dependents in the background, orphans them, or deletes them first (foreground)', async () => {
    // ConfigMaps owning ConfigMaps: the garbage collector is generic, and no controller touches them.
    const owned = (name: string, owner: Obj) => ({
      metadata: {
        name,
        ownerReferences: [
          {
            apiVersion: 'v1',
            kind: 'ConfigMap',
            name: owner.metadata.name,
            uid: owner.metadata.uid,
            blockOwnerDeletion: true,
          },
        ],
      },
    });
    const pair = async (name: string) => {
      const owner = (await call('POST', CM, { metadata: { name } })).json as Obj;
      expect((await call('POST', CM, owned(`${name}-dep`, owner))).status).toBe(201);
    };
    await pair('bg');
    await call('DELETE', `${CM}/bg`, { propagationPolicy: 'Background' });
    await pollUntil(async () => !(await exists(`${CM}/bg-dep`)));

    await pair('or');
    await call('DELETE', `${CM}/or`, { propagationPolicy: 'Orphan' });
    await pollUntil(async () => !(await exists(`${CM}/or`)));
    const orphan = await call('GET', `${CM}/or-dep`);
    expect(orphan.status).toBe(200);
    expect((orphan.json.metadata as Obj['metadata']).ownerReferences).toBeUndefined();

    await pair('fg');
    const fg = await call('DELETE', `${CM}/fg`, { propagationPolicy: 'Foreground' });
    expect((fg.json.metadata as Obj['metadata']).finalizers).toEqual(['foregroundDeletion']);
    await pollUntil(async () => !(await exists(`${CM}/fg`)));
    expect(await exists(`${CM}/fg-dep`)).toBe(false);

    const parent = (await call('POST', CM, { metadata: { name: 'gone' } })).json as Obj;
    await call('DELETE', `${CM}/gone`);
    expect((await call('POST', CM, owned('dangling', parent))).status).toBe(201);
    await pollUntil(async () => !(await exists(`${CM}/dangling`)));
  });

  it('deletes a namespace with everything in it, Terminating meanwhile', async () => {
    await call('POST', '/api/v1/namespaces', { metadata: { name: 'doomed' } });
    await call('POST', '/api/v1/namespaces/doomed/configmaps', { metadata: { name: 'c' } });
    const del = await call('DELETE', '/api/v1/namespaces/doomed');
    expect(del.json).toMatchObject({ status: { phase: 'Terminating' } });
    const create = await call('POST', '/api/v1/namespaces/doomed/configmaps', { metadata: { name: 'late' } });
    expect(create.status).toBe(403);
    await pollUntil(async () => !(await exists('/api/v1/namespaces/doomed')));
    expect(await exists('/api/v1/namespaces/doomed/configmaps/c')).toBe(false);
    const protectedNs = await call('DELETE', '/api/v1/namespaces/kube-system');
    expect(protectedNs.status).toBe(403);
  });
});

async function pollUntil(check: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}
