import { describe, expect, it } from 'vitest';
import {
  containerEnv,
  type EnvContext,
  expand,
  referencedObjects,
  type Service,
  serviceEnv,
  type ServicePort,
} from './env.js';
import type { ContainerSpec, Pod } from './pod.js';

const svc = (namespace: string, name: string, clusterIP: string, ports: ServicePort[]): Service => ({
  metadata: { namespace, name },
  spec: { clusterIP, ports },
});

const kubernetes = svc('default', 'kubernetes', '10.96.0.1', [{ name: 'https', port: 443, protocol: 'TCP' }]);
const redis = svc('shop', 'redis-primary', '10.96.0.20', [
  { port: 6379 },
  { name: 'metrics', port: 9121, protocol: 'TCP' },
  { name: 'gossip', port: 7000, protocol: 'UDP' },
]);

const pod = (spec: Partial<Pod['spec']> = {}): Pod => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: {
    name: 'web-1',
    namespace: 'shop',
    uid: 'u-1',
    labels: { app: 'web' },
    annotations: { team: 'blue' },
  } as Pod['metadata'],
  spec: { nodeName: 'node-2', containers: [], ...spec },
});

const ctx = (over: Partial<EnvContext> = {}): EnvContext => ({
  podIP: '10.244.1.7',
  hostIP: '192.168.56.12',
  services: [kubernetes, redis, svc('other', 'db', '10.96.0.30', [{ port: 5432 }])],
  configMap: (name) => (name === 'settings' ? { MODE: 'fast', 'bad name': 'x', LEVEL: '3' } : undefined),
  secret: (name) => (name === 'creds' ? { password: 's3cret' } : undefined),
  ...over,
});

const ok = (p: Pod, c: ContainerSpec, x = ctx()) => {
  const r = containerEnv(p, c, x);
  if (r.kind !== 'ok') throw new Error(r.message);
  return r.env;
};

describe('serviceEnv', () => {
  it('writes the docker-link variables kubelet writes, for the pod namespace plus default/kubernetes', () => {
    expect(serviceEnv([kubernetes, redis], 'shop', true)).toEqual({
      KUBERNETES_SERVICE_HOST: '10.96.0.1',
      KUBERNETES_SERVICE_PORT: '443',
      KUBERNETES_SERVICE_PORT_HTTPS: '443',
      KUBERNETES_PORT: 'tcp://10.96.0.1:443',
      KUBERNETES_PORT_443_TCP: 'tcp://10.96.0.1:443',
      KUBERNETES_PORT_443_TCP_PROTO: 'tcp',
      KUBERNETES_PORT_443_TCP_PORT: '443',
      KUBERNETES_PORT_443_TCP_ADDR: '10.96.0.1',
      REDIS_PRIMARY_SERVICE_HOST: '10.96.0.20',
      REDIS_PRIMARY_SERVICE_PORT: '6379',
      REDIS_PRIMARY_SERVICE_PORT_METRICS: '9121',
      REDIS_PRIMARY_SERVICE_PORT_GOSSIP: '7000',
      REDIS_PRIMARY_PORT: 'tcp://10.96.0.20:6379',
      REDIS_PRIMARY_PORT_6379_TCP: 'tcp://10.96.0.20:6379',
      REDIS_PRIMARY_PORT_6379_TCP_PROTO: 'tcp',
      REDIS_PRIMARY_PORT_6379_TCP_PORT: '6379',
      REDIS_PRIMARY_PORT_6379_TCP_ADDR: '10.96.0.20',
      REDIS_PRIMARY_PORT_9121_TCP: 'tcp://10.96.0.20:9121',
      REDIS_PRIMARY_PORT_9121_TCP_PROTO: 'tcp',
      REDIS_PRIMARY_PORT_9121_TCP_PORT: '9121',
      REDIS_PRIMARY_PORT_9121_TCP_ADDR: '10.96.0.20',
      REDIS_PRIMARY_PORT_7000_UDP: 'udp://10.96.0.20:7000',
      REDIS_PRIMARY_PORT_7000_UDP_PROTO: 'udp',
      REDIS_PRIMARY_PORT_7000_UDP_PORT: '7000',
      REDIS_PRIMARY_PORT_7000_UDP_ADDR: '10.96.0.20',
    });
  });

  it('keeps only KUBERNETES_* with enableServiceLinks false; skips headless and ExternalName services', () => {
    const names = Object.keys(serviceEnv([kubernetes, redis], 'shop', false));
    expect(names.every((n) => n.startsWith('KUBERNETES_'))).toBe(true);
    expect(names).toContain('KUBERNETES_SERVICE_HOST');
    const headless = svc('shop', 'peers', 'None', [{ port: 80 }]);
    const external: Service = {
      metadata: { namespace: 'shop', name: 'ext' },
      spec: { ports: [{ port: 80 }] },
    };
    expect(Object.keys(serviceEnv([headless, external], 'shop', true))).toEqual([]);
  });

  it('brackets an IPv6 cluster IP in the URLs only', () => {
    const env = serviceEnv([svc('shop', 'v6', 'fd00::a', [{ port: 80 }])], 'shop', true);
    expect(env.V6_PORT).toBe('tcp://[fd00::a]:80');
    expect(env.V6_SERVICE_HOST).toBe('fd00::a');
  });
});

describe('expand', () => {
  const known = (n: string) => ({ A: 'x', B: 'y' })[n];
  it.each([
    ['$(A)-$(B)', 'x-y'],
    ['$(MISSING)', '$(MISSING)'],
    ['$$(A)', '$(A)'],
    ['$$$(A)', '$x'],
    ['cost: $5', 'cost: $5'],
    ['tail $', 'tail $'],
    ['$(A', '$(A'],
    ['$()', '$()'],
  ])('%s → %s', (input, out) => expect(expand(input, known)).toBe(out));
});

describe('containerEnv', () => {
  it('orders service links < envFrom < env, expands $(VAR) from earlier vars and services', () => {
    const c: ContainerSpec = {
      name: 'web',
      envFrom: [{ configMapRef: { name: 'settings' } }, { prefix: 'S_', secretRef: { name: 'creds' } }],
      env: [
        { name: 'LEVEL', value: '9' },
        { name: 'URL', value: 'redis://$(REDIS_PRIMARY_SERVICE_HOST):$(REDIS_PRIMARY_SERVICE_PORT)/$(MODE)' },
        { name: 'LATER', value: '$(NEXT)' },
        { name: 'NEXT', value: 'n' },
        { name: 'EMPTY' },
      ],
    };
    const env = ok(pod(), c);
    expect(env.MODE).toBe('fast');
    expect(env.LEVEL).toBe('9');
    expect(env.S_password).toBe('s3cret');
    expect(env['bad name']).toBeUndefined();
    expect(env.URL).toBe('redis://10.96.0.20:6379/fast');
    expect(env.LATER).toBe('$(NEXT)');
    expect(env.EMPTY).toBe('');
    expect(env.DB_SERVICE_HOST).toBeUndefined();
  });

  it('resolves fieldRef, configMapKeyRef and secretKeyRef', () => {
    const c: ContainerSpec = {
      name: 'web',
      env: [
        { name: 'N', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
        { name: 'NS', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } },
        { name: 'UID', valueFrom: { fieldRef: { fieldPath: 'metadata.uid' } } },
        { name: 'IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } },
        { name: 'HOST', valueFrom: { fieldRef: { fieldPath: 'status.hostIP' } } },
        { name: 'NODE', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } },
        { name: 'SA', valueFrom: { fieldRef: { fieldPath: 'spec.serviceAccountName' } } },
        { name: 'APP', valueFrom: { fieldRef: { fieldPath: "metadata.labels['app']" } } },
        { name: 'TEAM', valueFrom: { fieldRef: { fieldPath: "metadata.annotations['team']" } } },
        { name: 'M', valueFrom: { configMapKeyRef: { name: 'settings', key: 'MODE' } } },
        { name: 'P', valueFrom: { secretKeyRef: { name: 'creds', key: 'password' } } },
        { name: 'O', valueFrom: { secretKeyRef: { name: 'nope', key: 'k', optional: true } } },
      ],
    };
    const env = ok(pod(), c);
    expect(env).toMatchObject({
      N: 'web-1',
      NS: 'shop',
      UID: 'u-1',
      IP: '10.244.1.7',
      HOST: '192.168.56.12',
      NODE: 'node-2',
      SA: 'default',
      APP: 'web',
      TEAM: 'blue',
      M: 'fast',
      P: 's3cret',
    });
    expect('O' in env).toBe(false);
  });

  it('fails like kubelet on a missing required ConfigMap, Secret or key, and on a bad fieldPath', () => {
    const err = (c: ContainerSpec) => containerEnv(pod(), c, ctx());
    expect(err({ name: 'c', envFrom: [{ configMapRef: { name: 'gone' } }] })).toEqual({
      kind: 'error',
      message: 'configmaps "gone" not found',
    });
    expect(err({ name: 'c', envFrom: [{ configMapRef: { name: 'gone', optional: true } }] }).kind).toBe('ok');
    expect(
      err({ name: 'c', env: [{ name: 'X', valueFrom: { secretKeyRef: { name: 'gone', key: 'k' } } }] }),
    ).toEqual({
      kind: 'error',
      message: 'secrets "gone" not found',
    });
    expect(
      err({
        name: 'c',
        env: [{ name: 'X', valueFrom: { configMapKeyRef: { name: 'settings', key: 'nokey' } } }],
      }),
    ).toEqual({ kind: 'error', message: "couldn't find key nokey in ConfigMap shop/settings" });
    expect(
      err({ name: 'c', env: [{ name: 'X', valueFrom: { fieldRef: { fieldPath: 'spec.nope' } } }] }),
    ).toEqual({ kind: 'error', message: 'unsupported fieldRef fieldPath "spec.nope"' });
  });

  it('lists the objects a container references', () => {
    expect(
      referencedObjects({
        name: 'c',
        envFrom: [{ configMapRef: { name: 'a' } }, { secretRef: { name: 's' } }],
        env: [
          { name: 'X', valueFrom: { configMapKeyRef: { name: 'a', key: 'k' } } },
          { name: 'Y', valueFrom: { configMapKeyRef: { name: 'b', key: 'k' } } },
        ],
      }),
    ).toEqual({ configMaps: ['a', 'b'], secrets: ['s'] });
  });
});
