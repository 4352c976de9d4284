/**
 * Acceptance: the real kubectl (only --kubeconfig) against `klab control` on loopback, for
 * both storage backends.
 */
import { execa } from 'execa';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { extensions } from '../control/layers.js';
import { startTestCluster, type TestCluster } from '../control/testing.js';
import { startEtcd, type EtcdProcess } from '../control/store/index.js';

const MANIFEST = `apiVersion: v1
kind: Namespace
metadata:
  name: demo
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: demo
  labels: {app: web}
spec:
  replicas: 2
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: web
        image: klab/echo
        ports:
        - containerPort: 8080
        env:
        - {name: A, value: "1"}
---
apiVersion: v1
kind: Service
metadata:
  name: web
  namespace: demo
  labels: {app: web}
spec:
  selector: {app: web}
  ports:
  - name: http
    port: 80
    targetPort: 8080
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: web
  namespace: demo
spec:
  rules:
  - host: web.example
    http:
      paths:
      - path: /
        pathType: Prefix
        backend:
          service: {name: web, port: {number: 80}}
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: cfg
  namespace: demo
data:
  key: value
---
apiVersion: v1
kind: Secret
metadata:
  name: sec
  namespace: demo
stringData:
  password: hunter2
`;

/** The same file with the service port, replicas and env changed: only those objects change. */
const MODIFIED = MANIFEST.replace('replicas: 2', 'replicas: 3')
  .replace('- {name: A, value: "1"}', '- {name: A, value: "1"}\n        - {name: B, value: "2"}')
  .replace('    port: 80\n    targetPort: 8080', '    port: 81\n    targetPort: 8080');

describe.each(['sqlite', 'etcd'] as const)('kubectl against klab control (%s store)', (store) => {
  let cluster: TestCluster;
  let etcd: EtcdProcess | undefined;
  let dir: string;
  const file = (name: string) => join(dir, name);
  const k = (...args: string[]) => cluster.kubectl(args);

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'klab-api-manifests-'));
    await writeFile(file('app.yaml'), MANIFEST);
    await writeFile(file('modified.yaml'), MODIFIED);
    if (store === 'etcd') etcd = await startEtcd({ dirPrefix: 'klab-api-etcd-' });
    cluster = await startTestCluster({
      ext: extensions,
      store,
      ...(etcd ? { etcdEndpoint: etcd.endpoint } : {}),
    });
  });

  afterAll(async () => {
    await cluster?.stop();
    await etcd?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('answers version, healthz and api-resources', async () => {
    const version = await k('version');
    expect(version.exitCode).toBe(0);
    expect(version.stdout).toContain('Server Version: v1.32');
    expect((await k('get', '--raw', '/healthz')).stdout).toBe('ok');
    const resources = await k('api-resources');
    expect(resources.stdout).toMatch(/deployments\s+deploy\s+apps\/v1\s+true\s+Deployment/);
    expect(resources.stdout).toMatch(/ipaddresspools\s+metallb.io\/v1beta1\s+true\s+IPAddressPool/);
  });

  it('applies a file, then reports unchanged, then configures only what changed', async () => {
    const first = await k('apply', '-f', file('app.yaml'));
    expect(first.stderr).toBe('');
    expect(first.stdout.split('\n')).toEqual([
      'namespace/demo created',
      'deployment.apps/web created',
      'service/web created',
      'ingress.networking.k8s.io/web created',
      'configmap/cfg created',
      'secret/sec created',
    ]);
    const again = await k('apply', '-f', file('app.yaml'));
    expect(again.stdout.split('\n').every((l) => l.endsWith(' unchanged'))).toBe(true);
    const modified = await k('apply', '-f', file('modified.yaml'));
    expect(modified.stdout.split('\n')).toEqual([
      'namespace/demo unchanged',
      'deployment.apps/web configured',
      'service/web configured',
      'ingress.networking.k8s.io/web unchanged',
      'configmap/cfg unchanged',
      'secret/sec unchanged',
    ]);
    const deploy = JSON.parse((await k('get', 'deploy', 'web', '-n', 'demo', '-o', 'json')).stdout);
    expect(deploy.spec.replicas).toBe(3);
    expect(deploy.metadata.generation).toBe(2);
    const container = deploy.spec.template.spec.containers[0];
    expect(container.env).toEqual([
      { name: 'A', value: '1' },
      { name: 'B', value: '2' },
    ]);
    expect(container.ports).toEqual([{ containerPort: 8080, protocol: 'TCP' }]);
    const svc = JSON.parse((await k('get', 'svc', 'web', '-n', 'demo', '-o', 'json')).stdout);
    expect(svc.spec.ports).toEqual([{ name: 'http', port: 81, protocol: 'TCP', targetPort: 8080 }]);
    const again2 = await k('apply', '-f', file('modified.yaml'));
    expect(again2.stdout.split('\n').every((l) => l.endsWith(' unchanged'))).toBe(true);
  });

  it('applies server-side with managedFields', async () => {
    const ssa = await k('apply', '--server-side', '-f', file('modified.yaml'));
    expect(ssa.stderr).toBe('');
    expect(ssa.stdout).toContain('service/web serverside-applied');
    const cm = JSON.parse(
      (await k('get', 'cm', 'cfg', '-n', 'demo', '-o', 'json', '--show-managed-fields')).stdout,
    );
    expect(cm.metadata.managedFields.map((m: { manager: string }) => m.manager)).toContain('kubectl');
  });

  it('gets every kind with -A, -o wide, -o yaml and -l', async () => {
    const svc = await k('get', 'svc', '-A', '-o', 'wide');
    expect(svc.stdout).toMatch(
      /NAMESPACE\s+NAME\s+TYPE\s+CLUSTER-IP\s+EXTERNAL-IP\s+PORT\(S\)\s+AGE\s+SELECTOR/,
    );
    expect(svc.stdout).toMatch(/demo\s+web\s+ClusterIP/);
    const deploy = await k('get', 'deploy', '-n', 'demo');
    expect(deploy.stdout).toMatch(/NAME\s+READY\s+UP-TO-DATE\s+AVAILABLE\s+AGE/);
    const ing = await k('get', 'ingress', '-n', 'demo');
    expect(ing.stdout).toMatch(/NAME\s+CLASS\s+HOSTS\s+ADDRESS\s+PORTS\s+AGE/);
    expect(ing.stdout).toContain('web.example');
    const every = [
      'pods',
      'nodes',
      'namespaces',
      'endpoints',
      'configmaps',
      'secrets',
      'serviceaccounts',
      'events',
      'replicasets',
      'endpointslices',
      'ingressclasses',
      'leases',
      'ipaddresspools',
      'l2advertisements',
    ];
    const all = await k('get', every.join(','), '-A');
    expect(all.exitCode, all.stderr).toBe(0);
    expect(all.stdout).toMatch(/namespace\/kube-system\s+Active/);
    expect(all.stdout).toMatch(/demo\s+configmap\/cfg\s+1/);
    const yaml = await k('get', 'cm', 'cfg', '-n', 'demo', '-o', 'yaml');
    expect(yaml.stdout).toContain('key: value');
    const labelled = await k('get', 'svc,deploy', '-A', '-l', 'app=web', '-o', 'name');
    expect(labelled.stdout.split('\n').sort()).toEqual(['deployment.apps/web', 'service/web']);
    const none = await k('get', 'svc', '-A', '-l', 'app notin (web)', '-o', 'name');
    expect(none.stdout).not.toContain('service/web');
  });

  it('prints changes live with get -w', async () => {
    const watcher = execa(
      'kubectl',
      ['--kubeconfig', cluster.server.kubeconfigPath, 'get', 'cm', '-n', 'demo', '-w'],
      {
        env: { HOME: cluster.home, PATH: process.env.PATH ?? '' },
        extendEnv: false,
        reject: false,
      },
    );
    try {
      let out = '';
      watcher.stdout?.on('data', (d: Buffer) => (out += d.toString()));
      await waitFor(() => out.includes('cfg'));
      await cluster.kubectl(
        ['apply', '-f', '-'],
        'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: live, namespace: demo}\n',
      );
      await waitFor(() => out.includes('live'));
      expect(out).toMatch(/NAME\s+DATA\s+AGE/);
    } finally {
      watcher.kill('SIGTERM');
      await watcher;
    }
  });

  it('describes a service with defaults filled in', async () => {
    const d = await k('describe', 'svc', 'web', '-n', 'demo');
    expect(d.exitCode).toBe(0);
    expect(d.stdout).toMatch(/Type:\s+ClusterIP/);
    expect(d.stdout).toMatch(/Session Affinity:\s+None/);
    expect(d.stdout).toMatch(/Port:\s+http\s+81\/TCP/);
  });

  it('scales a deployment', async () => {
    expect((await k('scale', 'deploy', 'web', '-n', 'demo', '--replicas=5')).stdout).toBe(
      'deployment.apps/web scaled',
    );
    expect((await k('get', 'deploy', 'web', '-n', 'demo', '-o', 'jsonpath={.spec.replicas}')).stdout).toBe(
      '5',
    );
  });

  it('explains fields from the OpenAPI v3 schemas', async () => {
    const e = await k('explain', 'service.spec.ports');
    expect(e.exitCode).toBe(0);
    expect(e.stdout).toMatch(/FIELD:\s+ports/);
    expect(e.stdout).toContain('targetPort');
  });

  it('refuses an invalid manifest with 422 naming the field and stores nothing', async () => {
    await writeFile(
      file('bad.yaml'),
      'apiVersion: v1\nkind: Service\nmetadata: {name: bad, namespace: demo}\nspec:\n  ports: [{port: 70000}]\n',
    );
    const r = await k('apply', '-f', file('bad.yaml'));
    expect(r.exitCode).not.toBe(0);
    expect(r.stderr).toContain('spec.ports[0].port');
    expect(r.stderr).toContain('Invalid value: 70000');
    expect((await k('get', 'svc', 'bad', '-n', 'demo')).stderr).toContain('services "bad" not found');
  });

  it('refuses an unknown field under strict validation', async () => {
    await writeFile(
      file('bogus.yaml'),
      'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: bogus, namespace: demo}\nbogus: 1\n',
    );
    const r = await k('apply', '-f', file('bogus.yaml'));
    expect(r.exitCode).not.toBe(0);
    expect(r.stderr).toContain('unknown field "bogus"');
    expect((await k('get', 'cm', 'bogus', '-n', 'demo')).exitCode).not.toBe(0);
  });

  it('creates objects with the typed kubectl create commands (protobuf bodies)', async () => {
    expect((await k('create', 'namespace', 'typed')).stdout).toBe('namespace/typed created');
    const cm = await k(
      'create',
      'configmap',
      'c',
      '-n',
      'typed',
      '--from-literal=a=1',
      '--from-literal=b=two',
    );
    expect(cm.stdout, cm.stderr).toBe('configmap/c created');
    const secret = await k('create', 'secret', 'generic', 's', '-n', 'typed', '--from-literal=pw=hunter2');
    expect(secret.stdout, secret.stderr).toBe('secret/s created');
    expect((await k('create', 'serviceaccount', 'sa', '-n', 'typed')).stdout).toBe(
      'serviceaccount/sa created',
    );
    const got = JSON.parse((await k('get', 'cm,secret', '-n', 'typed', '-o', 'json')).stdout);
    expect(got.items.map((i: { data: unknown }) => i.data)).toEqual([
      { a: '1', b: 'two' },
      { pw: Buffer.from('hunter2').toString('base64') },
    ]);
    const deploy = await k('create', 'deployment', 'd', '-n', 'typed', '--image=klab/echo');
    expect(deploy.stdout, deploy.stderr).toBe('deployment.apps/d created');
    expect((await k('delete', 'namespace', 'typed')).exitCode).toBe(0);
  });

  it('deletes a file and returns once everything is gone', async () => {
    const r = await k('delete', '-f', file('modified.yaml'));
    expect(r.stderr).toBe('');
    expect(r.stdout).toContain('namespace "demo" deleted');
    expect((await k('get', 'ns', 'demo')).stderr).toContain('namespaces "demo" not found');
    expect((await k('get', 'deploy', '-n', 'demo', '-o', 'name')).stdout).toBe('');
  });
});

async function waitFor(check: () => boolean, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}
