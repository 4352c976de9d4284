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
      'configmaps "x" is forbidden: User "system:node:node-1" cannot create resource "configmaps" in API group "" in the namespace "default": can only read resources of this type',
    );
  });

  describe('Secrets and ConfigMaps for a node (the Node authorizer)', () => {
    const SECRETS = '/api/v1/namespaces/default/secrets';
    const CONFIGMAPS = '/api/v1/namespaces/default/configmaps';
    let node2: string;

    beforeAll(async () => {
      node2 = await ensureToken(cluster.dataDir, nodeUser('node-2'));
      for (const [path, name] of [
        [SECRETS, 'db'],
        [SECRETS, 'other'],
        [CONFIGMAPS, 'settings'],
        [CONFIGMAPS, 'files'],
      ] as const) {
        const r = await call(admin, 'POST', path, { metadata: { name }, data: {} });
        expect(r.status, r.text).toBe(201);
      }
      const pod = {
        metadata: { name: 'uses-refs' },
        spec: {
          nodeName: 'node-1',
          containers: [
            {
              name: 'c',
              image: 'klab/echo',
              env: [
                { name: 'PW', valueFrom: { secretKeyRef: { name: 'db', key: 'pw' } } },
                { name: 'NOPE', valueFrom: { secretKeyRef: { name: 'not-yet', key: 'k' } } },
              ],
              envFrom: [{ configMapRef: { name: 'settings' } }],
            },
          ],
          volumes: [{ name: 'f', configMap: { name: 'files' } }],
        },
      };
      const r = await call(admin, 'POST', '/api/v1/namespaces/default/pods', pod);
      expect(r.status, r.text).toBe(201);
    });

    it('lets a node get what the pods bound to it name', async () => {
      expect((await call(node1, 'GET', `${SECRETS}/db`)).status).toBe(200);
      expect((await call(node1, 'GET', `${CONFIGMAPS}/settings`)).status).toBe(200);
      expect((await call(node1, 'GET', `${CONFIGMAPS}/files`)).status).toBe(200);
      // Named but not created yet: the node learns that it is missing, as kubelet needs to.
      expect((await call(node1, 'GET', `${SECRETS}/not-yet`)).status).toBe(404);
    });

    it('lets a node list and watch one named object, as kubelet does', async () => {
      const list = await call(node1, 'GET', `${SECRETS}?fieldSelector=metadata.name%3Ddb`);
      expect(list.status, list.text).toBe(200);
      expect((list.json.items as { metadata: { name: string } }[]).map((i) => i.metadata.name)).toEqual([
        'db',
      ]);
      const watch = await call(
        node1,
        'GET',
        `${CONFIGMAPS}?watch=1&timeoutSeconds=1&fieldSelector=metadata.name%3Dsettings`,
      );
      expect(watch.status).toBe(200);
    });

    it('refuses objects no pod of the node names, with the reason', async () => {
      const r = await call(node1, 'GET', `${SECRETS}/other`);
      expect(r.status).toBe(403);
      expect(r.json).toMatchObject({
        reason: 'Forbidden',
        message:
          'secrets "other" is forbidden: User "system:node:node-1" cannot get resource "secrets" in API group "" in the namespace "default": no relationship found between node \'node-1\' and this object',
        details: { name: 'other', kind: 'secrets' },
      });
      expect((await call(node2, 'GET', `${SECRETS}/db`)).status).toBe(403);
      expect((await call(node2, 'GET', `${CONFIGMAPS}/settings`)).status).toBe(403);
      const named = await call(node1, 'GET', `${SECRETS}?fieldSelector=metadata.name%3Dother`);
      expect(named.status).toBe(403);
      expect(named.json.message).toMatch(/^secrets "other" is forbidden: .* cannot list resource/);
    });

    it('refuses listing Secrets and ConfigMaps', async () => {
      const all = await call(node1, 'GET', '/api/v1/secrets');
      expect(all.status).toBe(403);
      expect(all.json.message).toBe(
        'secrets is forbidden: User "system:node:node-1" cannot list resource "secrets" in API group "" at the cluster scope: can only read namespaced object of this type',
      );
      const ns = await call(node1, 'GET', SECRETS);
      expect(ns.status).toBe(403);
      expect(ns.json.message).toMatch(/in the namespace "default": No Object name found$/);
      expect((await call(node1, 'GET', `${CONFIGMAPS}?watch=1&timeoutSeconds=1`)).status).toBe(403);
    });
  });

  it("gives coredns's service account list and watch of what DNS reads, nothing else", async () => {
    expect((await call(sa, 'GET', '/apis/discovery.k8s.io/v1/endpointslices')).status).toBe(200);
    for (const path of ['/api/v1/services', '/api/v1/namespaces', '/api/v1/pods', '/api/v1/endpoints']) {
      expect((await call(sa, 'GET', path)).status, path).toBe(200);
    }
    expect((await call(sa, 'GET', '/api/v1/services?watch=1&timeoutSeconds=1')).status).toBe(200);
    expect((await call(sa, 'GET', '/api/v1/namespaces/default/pods/p1')).status).toBe(403);
    expect((await call(sa, 'GET', '/api/v1/secrets')).status).toBe(403);
    expect((await call(sa, 'GET', '/api/v1/nodes')).status).toBe(403);
    expect((await call(sa, 'DELETE', '/api/v1/namespaces/default/pods/p1')).status).toBe(403);
  });

  describe('TokenRequest (serviceaccounts/<name>/token)', () => {
    const tokenPath = '/api/v1/namespaces/kube-system/serviceaccounts/coredns/token';
    const podsPath = '/api/v1/namespaces/kube-system/pods';
    const request = (pod: string, uid?: string) => ({
      apiVersion: 'authentication.k8s.io/v1',
      kind: 'TokenRequest',
      spec: {
        audiences: [],
        expirationSeconds: 3607,
        boundObjectRef: { kind: 'Pod', apiVersion: 'v1', name: pod, ...(uid ? { uid } : {}) },
      },
    });
    let uid = '';

    beforeAll(async () => {
      const saObj = { metadata: { name: 'coredns' } };
      expect(
        (await call(admin, 'POST', '/api/v1/namespaces/kube-system/serviceaccounts', saObj)).status,
      ).toBe(201);
      for (const [name, nodeName, serviceAccountName] of [
        ['dns-1', 'node-1', 'coredns'],
        ['dns-2', 'node-2', 'coredns'],
        ['other', 'node-1', 'default'],
      ] as const) {
        const pod = {
          metadata: { name },
          spec: { nodeName, serviceAccountName, containers: [{ name: 'c', image: 'klab/dns' }] },
        };
        const r = await call(admin, 'POST', podsPath, pod);
        expect(r.status, r.text).toBe(201);
        if (name === 'dns-1') uid = (r.json.metadata as { uid: string }).uid;
      }
    });

    it('is listed in discovery as create-only', async () => {
      const list = await call(admin, 'GET', '/api/v1');
      expect(
        (list.json.resources as { name: string }[]).find((r) => r.name === 'serviceaccounts/token'),
      ).toEqual({
        name: 'serviceaccounts/token',
        singularName: '',
        namespaced: true,
        group: 'authentication.k8s.io',
        version: 'v1',
        kind: 'TokenRequest',
        verbs: ['create'],
      });
    });

    it("gives a node a token for its own pod's service account that authenticates as that account", async () => {
      const r = await call(node1, 'POST', tokenPath, request('dns-1', uid));
      expect(r.status, r.text).toBe(201);
      expect(r.json).toMatchObject({
        kind: 'TokenRequest',
        apiVersion: 'authentication.k8s.io/v1',
        spec: { boundObjectRef: { kind: 'Pod', name: 'dns-1', uid } },
      });
      const token = (r.json.status as { token: string }).token;
      const year =
        Date.parse((r.json.status as { expirationTimestamp: string }).expirationTimestamp) - Date.now();
      expect(year).toBeGreaterThan(364 * 24 * 3600 * 1000);
      expect((await call(token, 'GET', '/apis/discovery.k8s.io/v1/endpointslices')).status).toBe(200);
      expect((await call(token, 'GET', '/api/v1/secrets')).status).toBe(403);
      // Deleting the pod revokes the token bound to it.
      await call(admin, 'DELETE', `${podsPath}/dns-1?gracePeriodSeconds=0`);
      expect((await call(token, 'GET', '/api/v1/services')).status).toBe(401);
    });

    it("refuses a node tokens for another node's pod, another account or no pod", async () => {
      const foreign = await call(node1, 'POST', tokenPath, request('dns-2'));
      expect(foreign.status).toBe(403);
      expect(foreign.json.message).toContain('may only request tokens for pods bound to node "node-1"');
      expect((await call(node1, 'POST', tokenPath, request('other'))).status).toBe(403);
      expect((await call(node1, 'POST', tokenPath, { spec: {} })).status).toBe(403);
      expect((await call(sa, 'POST', tokenPath, request('dns-2'))).status).toBe(403);
    });

    it('answers 404 for a missing account or pod and 409 for a stale pod uid', async () => {
      const missing = await call(admin, 'POST', '/api/v1/namespaces/kube-system/serviceaccounts/nope/token', {
        spec: {},
      });
      expect(missing.status).toBe(404);
      expect((await call(admin, 'POST', tokenPath, request('gone'))).status).toBe(404);
      expect((await call(admin, 'POST', tokenPath, request('dns-2', 'stale'))).status).toBe(409);
      expect((await call(admin, 'POST', tokenPath, { spec: { expirationSeconds: 10 } })).status).toBe(422);
    });
  });
});
