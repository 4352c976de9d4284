import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { extensions } from '../layers.js';
import { startTestCluster, type TestCluster } from '../testing.js';

// The published OpenAPI as the real kubectl consumes it: `explain`, strict field validation on
// apply, and strategic merge patches computed from our patch metadata (a re-apply of the same
// file must be `unchanged`).

const APP = `
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: default}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: web
        image: klab/echo
        ports: [{containerPort: 8080, name: http}]
        env: [{name: MODE, value: "a"}]
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: default}
spec:
  selector: {app: web}
  ports: [{name: http, port: 80, targetPort: http}]
---
apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata: {name: pool, namespace: default}
spec: {addresses: [192.168.56.200-192.168.56.250]}
`;

describe('kubectl against the published schemas', () => {
  let cluster: TestCluster | undefined;
  const kubectl = async (args: string[], input?: string) => {
    if (!cluster) throw new Error('cluster not started');
    return cluster.kubectl(args, input);
  };

  beforeAll(async () => {
    cluster = await startTestCluster({ ext: extensions });
  });
  afterAll(async () => {
    await cluster?.stop();
  });

  it('explains fields from components.schemas', async () => {
    const svc = await kubectl(['explain', 'service.spec.ports']);
    expect(svc.stderr).toBe('');
    expect(svc.stdout).toContain('FIELD: ports <[]ServicePort>');
    expect(svc.stdout).toMatch(/port\s+<integer> -required-/);
    const surge = await kubectl(['explain', 'deployment.spec.strategy.rollingUpdate.maxSurge']);
    expect(surge.stdout).toContain('FIELD: maxSurge <IntOrString>');
  });

  it('applies with strict validation, merges by key, and re-applies as unchanged', async () => {
    const first = await kubectl(['apply', '-f', '-'], APP);
    expect(first.stdout.split('\n')).toEqual([
      'deployment.apps/web created',
      'service/web created',
      'ipaddresspool.metallb.io/pool created',
    ]);
    const changed = APP.replace('replicas: 2', 'replicas: 3')
      .replace('value: "a"', 'value: "b"')
      .replace('.250]', '.240]');
    const second = await kubectl(['apply', '-f', '-'], changed);
    expect(second.stdout.split('\n')).toEqual([
      'deployment.apps/web configured',
      'service/web unchanged',
      'ipaddresspool.metallb.io/pool configured',
    ]);
    const third = await kubectl(['apply', '-f', '-'], changed);
    expect(third.stdout.split('\n')).toEqual([
      'deployment.apps/web unchanged',
      'service/web unchanged',
      'ipaddresspool.metallb.io/pool unchanged',
    ]);
    const env = await kubectl([
      'get',
      'deploy',
      'web',
      '-o',
      'jsonpath={.spec.template.spec.containers[0].env[0].value}',
    ]);
    expect(env.stdout).toBe('b');
  });

  it('refuses unknown fields and reports every invalid field', async () => {
    const unknown = await kubectl(
      ['apply', '-f', '-'],
      'apiVersion: v1\nkind: Service\nmetadata: {name: bad}\nspec:\n  bogus: 1\n  ports: [{port: 80}]\n',
    );
    expect(unknown.exitCode).not.toBe(0);
    expect(unknown.stderr).toContain('strict decoding error: unknown field "spec.bogus"');
    const invalid = await kubectl(
      ['apply', '-f', '-'],
      'apiVersion: v1\nkind: Service\nmetadata: {name: bad}\nspec:\n  ports: [{name: a, port: 70000}, {name: a, port: 81, nodePort: 30001}]\n',
    );
    expect(invalid.exitCode).not.toBe(0);
    expect(invalid.stderr).toContain('The Service "bad" is invalid:');
    expect(invalid.stderr).toContain(
      'spec.ports[0].port: Invalid value: 70000: must be between 1 and 65535, inclusive',
    );
    expect(invalid.stderr).toContain('spec.ports[1].name: Duplicate value: "a"');
    expect(invalid.stderr).toContain(
      "spec.ports[1].nodePort: Forbidden: may not be used when `type` is 'ClusterIP'",
    );
    const none = await kubectl(['get', 'svc', 'bad']);
    expect(none.stderr).toContain('NotFound');
  });
});
