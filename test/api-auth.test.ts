/** Authentication and authorization: anonymous, wrong tokens, node and service-account scopes. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { extensions } from '../control/layers.js';
import { ensureToken, nodeUser, serviceAccountUser } from '../control/auth.js';
import { adminToken, apiRequest, startTestCluster, type TestCluster } from '../control/testing.js';

describe('API authentication and authorization', () => {
  let cluster: TestCluster;
  let admin: string;
  let node1: string;
  let sa: string;
  const call = (
    token: string | undefined,
    method: string,
    path: string,
    body?: unknown,
    contentType?: string,
  ) =>
    apiRequest(cluster, {
      method,
      path,
      ...(token ? { token } : {}),
      ...(body !== undefined ? { body } : {}),
      ...(contentType ? { contentType } : {}),
    });

  beforeAll(async () => {
    cluster = await startTestCluster({ ext: extensions });
    admin = await adminToken(cluster);
    node1 = await ensureToken(cluster.dataDir, nodeUser('node-1'));
    sa = await ensureToken(cluster.dataDir, serviceAccountUser('kube-system', 'coredns'));
    for (const name of ['node-1', 'node-2']) {
      expect((await call(admin, 'POST', '/api/v1/nodes', { metadata: { name } })).status).toBe(201);
    }
    for (const [name, nodeName] of [
      ['p1', 'node-1'],
      ['p2', 'node-2'],
    ] as const) {
      const pod = {
        metadata: { name },
        spec: { nodeName, containers: [{ name: 'c', image: 'klab/echo' }] },
      };
      const r = await call(admin, 'POST', '/api/v1/namespaces/default/pods', pod);
      expect(r.status, r.text).toBe(201);
    }
  });

  afterAll(async () => {
    await cluster?.stop();
  });

  it('lets anyone read health and version, nothing else', async () => {
    expect((await call(undefined, 'GET', '/healthz')).text).toBe('ok');
    expect((await call(undefined, 'GET', '/version')).json.minor).toBe('32');
    const r = await call(undefined, 'GET', '/api/v1/namespaces');
    expect(r.status).toBe(401);
    expect(r.json).toMatchObject({ kind: 'Status', status: 'Failure', reason: 'Unauthorized', code: 401 });
    expect((await call(undefined, 'GET', '/apis')).status).toBe(401);
  });

  it('refuses a wrong token', async () => {
    expect((await call('x'.repeat(32), 'GET', '/api/v1/namespaces')).status).toBe(401);
    expect((await call(admin.slice(0, -1), 'GET', '/api/v1/namespaces')).status).toBe(401);
  });

  it('lets a node write its own Node and Lease and read the rest', async () => {
    expect((await call(node1, 'GET', '/api/v1/pods')).status).toBe(200);
    const own = await call(
      node1,
      'PATCH',
      '/api/v1/nodes/node-1/status',
      { status: { phase: 'Running' } },
      'application/merge-patch+json',
    );
    expect(own.status, own.text).toBe(200);
    const lease = {
      metadata: { name: 'node-1', namespace: 'kube-node-lease' },
      spec: { holderIdentity: 'node-1', leaseDurationSeconds: 40 },
    };
    expect(
      (await call(node1, 'POST', '/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases', lease))
        .status,
    ).toBe(201);
  });

  it("refuses a node touching another node's objects", async () => {
    const other = await call(
      node1,
      'PATCH',
      '/api/v1/nodes/node-2',
      { metadata: { labels: { x: 'y' } } },
      'application/merge-patch+json',
    );
    expect(other.status).toBe(403);
    expect(other.json).toMatchObject({
      reason: 'Forbidden',
      message:
        'nodes "node-2" is forbidden: User "system:node:node-1" cannot patch resource "nodes" in API group "" at the cluster scope',
      details: { name: 'node-2', kind: 'nodes' },
    });
    const lease = { metadata: { name: 'node-2', namespace: 'kube-node-lease' }, spec: {} };
    expect(
      (await call(node1, 'POST', '/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases', lease))
        .status,
    ).toBe(403);
    const foreignPod = await call(
      node1,
      'PATCH',
      '/api/v1/namespaces/default/pods/p2/status',
      { status: { phase: 'Running' } },
      'application/merge-patch+json',
    );
    expect(foreignPod.status).toBe(403);
    const ownPod = await call(
      node1,
      'PATCH',
      '/api/v1/namespaces/default/pods/p1/status',
      { status: { phase: 'Running' } },
      'application/merge-patch+json',
    );
    expect(ownPod.status, ownPod.text).toBe(200);
    // A pod that is already gone is a 404 for its node, not a 403 (the agent retries on 403).
    expect((await call(node1, 'DELETE', '/api/v1/namespaces/default/pods/gone')).status).toBe(404);
    expect((ownPod.json.status as { phase: string }).phase).toBe('Running');
    const cm = await call(node1, 'POST', '/api/v1/namespaces/default/configmaps', {
      metadata: { name: 'x' },
    });
    expect(cm.status).toBe(403);
    expect(cm.json.message).toBe(
      'configmaps "x" is forbidden: User "system:node:node-1" cannot create resource "configmaps" in API group "" in the namespace "default"',
    );
  });

  it('gives a service account read access only', async () => {
    expect((await call(sa, 'GET', '/apis/discovery.k8s.io/v1/endpointslices')).status).toBe(200);
    expect((await call(sa, 'DELETE', '/api/v1/namespaces/default/pods/p1')).status).toBe(403);
  });
});
