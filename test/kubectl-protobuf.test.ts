/**
 * Acceptance: kubectl's typed commands send protobuf request bodies; the real kubectl against
 * `klab control` on loopback creates each object, and `kubectl get -o json` shows its fields.
 */
import { readFile } from 'node:fs/promises';
import { request } from 'node:https';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { extensions } from '../control/layers.js';
import { adminToken, startTestCluster, type TestCluster } from '../control/testing.js';
import { encodeMessage, envelope } from '../control/protobuf/testing.js';

type Obj = Record<string, unknown>;

describe('kubectl typed commands (protobuf bodies) against klab control', () => {
  let cluster: TestCluster;
  const k = (...args: string[]) => cluster.kubectl(args);
  const ok = async (...args: string[]): Promise<string> => {
    const r = await k(...args);
    expect(r.exitCode, `kubectl ${args.join(' ')}: ${r.stderr}`).toBe(0);
    return r.stdout;
  };
  const get = async (...args: string[]): Promise<Obj> =>
    JSON.parse(await ok('get', ...args, '-o', 'json')) as Obj;

  beforeAll(async () => {
    cluster = await startTestCluster({ ext: extensions });
    await ok('create', 'namespace', 'x');
  });

  afterAll(async () => {
    await cluster?.stop();
  });

  it('creates a namespace', async () => {
    expect(await get('namespace', 'x')).toMatchObject({ kind: 'Namespace', metadata: { name: 'x' } });
  });

  it('creates a deployment with replicas, labels, selector and a container port', async () => {
    expect(
      await ok('create', 'deployment', 'web', '-n', 'x', '--image=klab/echo', '--replicas=2', '--port=8080'),
    ).toBe('deployment.apps/web created');
    expect(await get('deployment', 'web', '-n', 'x')).toMatchObject({
      metadata: { labels: { app: 'web' } },
      spec: {
        replicas: 2,
        selector: { matchLabels: { app: 'web' } },
        template: {
          metadata: { labels: { app: 'web' } },
          spec: { containers: [{ name: 'echo', image: 'klab/echo', ports: [{ containerPort: 8080 }] }] },
        },
      },
    });
  });

  it('exposes the deployment as a service with an int target port', async () => {
    expect(await ok('expose', 'deployment', 'web', '-n', 'x', '--port=80', '--target-port=8080')).toBe(
      'service/web exposed',
    );
    expect(await get('service', 'web', '-n', 'x')).toMatchObject({
      spec: {
        selector: { app: 'web' },
        ports: [{ port: 80, targetPort: 8080, protocol: 'TCP' }],
        clusterIP: expect.stringMatching(/^\d+\.\d+\.\d+\.\d+$/),
      },
    });
  });

  it('creates a NodePort service', async () => {
    expect(await ok('create', 'service', 'nodeport', 'np', '-n', 'x', '--tcp=80:8080')).toBe(
      'service/np created',
    );
    const svc = await get('service', 'np', '-n', 'x');
    expect(svc).toMatchObject({
      spec: {
        type: 'NodePort',
        selector: { app: 'np' },
        ports: [
          { name: '80-8080', port: 80, targetPort: 8080, protocol: 'TCP', nodePort: expect.any(Number) },
        ],
      },
    });
    const [port] = (svc.spec as { ports: { nodePort: number }[] }).ports;
    expect(port?.nodePort).toBeGreaterThanOrEqual(30000);
  });

  it('creates a ClusterIP service with a named target port', async () => {
    expect(await ok('create', 'service', 'clusterip', 'named', '-n', 'x', '--tcp=80:http')).toBe(
      'service/named created',
    );
    expect(await get('service', 'named', '-n', 'x')).toMatchObject({
      spec: { type: 'ClusterIP', ports: [{ port: 80, targetPort: 'http' }] },
    });
  });

  it('creates a configmap and a secret with base64 data', async () => {
    expect(await ok('create', 'configmap', 'c', '-n', 'x', '--from-literal=a=b')).toBe('configmap/c created');
    expect((await get('configmap', 'c', '-n', 'x')).data).toEqual({ a: 'b' });
    expect(await ok('create', 'secret', 'generic', 's', '-n', 'x', '--from-literal=a=b')).toBe(
      'secret/s created',
    );
    expect(await get('secret', 's', '-n', 'x')).toMatchObject({
      data: { a: Buffer.from('b').toString('base64') },
      type: 'Opaque',
    });
  });

  it('runs a pod with labels and a port', async () => {
    expect(await ok('run', 'p', '-n', 'x', '--image=klab/echo', '--port=8080', '--labels=app=p')).toBe(
      'pod/p created',
    );
    expect(await get('pod', 'p', '-n', 'x')).toMatchObject({
      metadata: { labels: { app: 'p' } },
      spec: { containers: [{ name: 'p', image: 'klab/echo', ports: [{ containerPort: 8080 }] }] },
    });
  });

  it('creates an ingress with a host rule and a TLS secret', async () => {
    expect(
      await ok(
        'create',
        'ingress',
        'web',
        '-n',
        'x',
        '--class=klab',
        '--rule=web.example/*=web:80,tls=web-tls',
      ),
    ).toBe('ingress.networking.k8s.io/web created');
    expect(await get('ingress', 'web', '-n', 'x')).toMatchObject({
      spec: {
        ingressClassName: 'klab',
        rules: [
          {
            host: 'web.example',
            http: {
              paths: [
                {
                  path: '/',
                  pathType: 'Prefix',
                  backend: { service: { name: 'web', port: { number: 80 } } },
                },
              ],
            },
          },
        ],
        tls: [{ hosts: ['web.example'], secretName: 'web-tls' }],
      },
    });
  });

  it('creates a service account', async () => {
    expect(await ok('create', 'serviceaccount', 'sa', '-n', 'x')).toBe('serviceaccount/sa created');
    expect(await get('serviceaccount', 'sa', '-n', 'x')).toMatchObject({ metadata: { name: 'sa' } });
  });

  it('answers 400 naming the problem for a malformed protobuf body', async () => {
    const meta = encodeMessage('ConfigMap', { metadata: { name: 'bad' } });
    // A data entry (field 2, 3 bytes) whose key claims 5 bytes.
    const truncated = envelope(
      'v1',
      'ConfigMap',
      Buffer.concat([meta, Buffer.from([0x12, 0x03, 0x0a, 0x05, 0x61])]),
    );
    const r = await post(cluster, '/api/v1/namespaces/x/configmaps', truncated);
    expect(r.status).toBe(400);
    expect(r.json.message).toBe(
      'the protobuf request body is malformed: ConfigMap.data: field 1 at byte 2 needs 5 bytes but only 1 remain',
    );
    expect((await k('get', 'configmap', 'bad', '-n', 'x')).exitCode).not.toBe(0);
  });
});

async function post(
  cluster: TestCluster,
  path: string,
  body: Buffer,
): Promise<{ status: number; json: Obj }> {
  const ca = await readFile(join(cluster.dataDir, 'pki', 'ca.crt'), 'utf8');
  const token = await adminToken(cluster);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port: cluster.server.port,
        method: 'POST',
        path,
        ca,
        headers: {
          Authorization: `Bearer ${token}`,
          'Content-Type': 'application/vnd.kubernetes.protobuf',
          'Content-Length': body.length,
          Accept: 'application/json',
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            json: JSON.parse(Buffer.concat(chunks).toString('utf8')) as Obj,
          }),
        );
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}
