import { describe, expect, it } from 'vitest';
import { DecodeError, decodeMessage } from './decode.js';
import { MESSAGES, parseField } from './schema.js';
import { encodeMessage, lengthDelimited, varintField } from './testing.js';

const POD_SPEC = {
  volumes: [
    { name: 'scratch', emptyDir: {} },
    {
      name: 'cfg',
      configMap: { name: 'c', items: [{ key: 'a', path: 'a.txt', mode: 0 }], defaultMode: 420 },
    },
    { name: 'sec', secret: { secretName: 's', optional: false } },
    { name: 'host', hostPath: { path: '/var/log', type: 'Directory' } },
  ],
  containers: [
    {
      name: 'web',
      image: 'klab/echo',
      command: ['/echo', '--port=8080'],
      ports: [{ name: 'http', containerPort: 8080, protocol: 'TCP' }],
      env: [
        { name: 'A', value: '1' },
        { name: 'POD_IP', valueFrom: { fieldRef: { apiVersion: 'v1', fieldPath: 'status.podIP' } } },
        { name: 'KEY', valueFrom: { configMapKeyRef: { name: 'c', key: 'a', optional: true } } },
        { name: 'PW', valueFrom: { secretKeyRef: { name: 's', key: 'pw' } } },
      ],
      envFrom: [{ prefix: 'C_', configMapRef: { name: 'c' } }],
      resources: { limits: { cpu: '500m', memory: '128Mi' }, requests: { cpu: '100m' } },
      volumeMounts: [{ name: 'cfg', mountPath: '/etc/cfg', readOnly: true }],
      livenessProbe: { httpGet: { path: '/healthz', port: 'http' }, periodSeconds: 5 },
      readinessProbe: { tcpSocket: { port: 8080 }, initialDelaySeconds: 1 },
      startupProbe: { exec: { command: ['true'] }, failureThreshold: 30 },
      imagePullPolicy: 'IfNotPresent',
    },
  ],
  restartPolicy: 'Always',
  terminationGracePeriodSeconds: 0,
  nodeSelector: { 'kubernetes.io/hostname': 'node-1' },
  automountServiceAccountToken: false,
  tolerations: [{ key: 'k', operator: 'Exists', effect: 'NoSchedule', tolerationSeconds: 30 }],
};

const DEPLOYMENT = {
  metadata: {
    name: 'web',
    namespace: 'demo',
    uid: 'u-1',
    generation: 3,
    creationTimestamp: '2026-11-23T16:00:00Z',
    labels: { app: 'web' },
    annotations: { note: 'ünïcode ✓' },
    ownerReferences: [{ apiVersion: 'v1', kind: 'Thing', name: 't', uid: 'u-0', controller: true }],
    finalizers: ['f'],
  },
  spec: {
    replicas: 0,
    selector: {
      matchLabels: { app: 'web' },
      matchExpressions: [{ key: 'tier', operator: 'In', values: ['a', 'b'] }],
    },
    template: { metadata: { labels: { app: 'web' } }, spec: POD_SPEC },
    strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: '25%' } },
    revisionHistoryLimit: 10,
  },
};

describe('decodeMessage', () => {
  it('decodes a Deployment into the JSON shape it was built from', () => {
    expect(decodeMessage('Deployment', encodeMessage('Deployment', DEPLOYMENT))).toEqual(DEPLOYMENT);
  });

  it('decodes Service, Secret, Ingress and ServiceAccount fields', () => {
    const service = {
      metadata: { name: 'np' },
      spec: {
        ports: [
          { name: 'http', protocol: 'TCP', port: 80, targetPort: 8080, nodePort: 30080 },
          { name: 'named', protocol: 'UDP', port: 53, targetPort: 'dns' },
        ],
        selector: { app: 'np' },
        type: 'NodePort',
        sessionAffinity: 'ClientIP',
        externalTrafficPolicy: 'Local',
        sessionAffinityConfig: { clientIP: { timeoutSeconds: 60 } },
        clusterIPs: ['10.96.0.10'],
        ipFamilies: ['IPv4'],
        ipFamilyPolicy: 'SingleStack',
        allocateLoadBalancerNodePorts: false,
      },
    };
    expect(decodeMessage('Service', encodeMessage('Service', service))).toEqual(service);
    const secret = {
      metadata: { name: 's' },
      data: { bin: Buffer.from([0, 255, 10]).toString('base64') },
      type: 'Opaque',
    };
    expect(decodeMessage('Secret', encodeMessage('Secret', secret))).toEqual(secret);
    const ingress = {
      metadata: { name: 'web' },
      spec: {
        defaultBackend: { resource: { apiGroup: 'klab.io', kind: 'Bucket', name: 'b' } },
        tls: [{ hosts: ['web.example'], secretName: 'tls' }],
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
                {
                  path: '/api',
                  pathType: 'Exact',
                  backend: { service: { name: 'api', port: { name: 'http' } } },
                },
              ],
            },
          },
        ],
        ingressClassName: 'klab',
      },
    };
    expect(decodeMessage('Ingress', encodeMessage('Ingress', ingress))).toEqual(ingress);
    const sa = {
      metadata: { name: 'sa' },
      imagePullSecrets: [{ name: 'reg' }],
      automountServiceAccountToken: false,
    };
    expect(decodeMessage('ServiceAccount', encodeMessage('ServiceAccount', sa))).toEqual(sa);
    const tokenRequest = {
      metadata: { name: 'coredns', namespace: 'kube-system' },
      spec: {
        audiences: ['https://kubernetes.default.svc.cluster.local'],
        expirationSeconds: 3600,
        boundObjectRef: { kind: 'Pod', apiVersion: 'v1', name: 'coredns-1', uid: 'u-1' },
      },
    };
    expect(decodeMessage('TokenRequest', encodeMessage('TokenRequest', tokenRequest))).toEqual(tokenRequest);
  });

  it('drops zero plain fields as omitempty does but keeps set pointer fields', () => {
    // gogo writes every non-pointer field, zero or not, as kubectl's bodies show.
    const meta = Buffer.concat([
      lengthDelimited(1, Buffer.from('x')),
      lengthDelimited(2, Buffer.alloc(0)),
      lengthDelimited(8, Buffer.alloc(0)),
    ]);
    const port = Buffer.concat([
      lengthDelimited(1, Buffer.alloc(0)),
      varintField(2, 0),
      varintField(3, 8080),
    ]);
    const container = Buffer.concat([
      lengthDelimited(1, Buffer.from('c')),
      lengthDelimited(6, port),
      varintField(16, 0),
      lengthDelimited(8, Buffer.alloc(0)),
    ]);
    const spec = Buffer.concat([
      lengthDelimited(2, container),
      varintField(11, 0),
      varintField(21, 0),
      varintField(4, 0),
    ]);
    const pod = Buffer.concat([lengthDelimited(1, meta), lengthDelimited(2, spec)]);
    expect(decodeMessage('Pod', pod)).toEqual({
      metadata: { name: 'x' },
      spec: {
        containers: [{ name: 'c', ports: [{ containerPort: 8080 }] }],
        terminationGracePeriodSeconds: 0,
        automountServiceAccountToken: false,
      },
    });
  });

  it('skips unknown fields of every wire type', () => {
    const known = encodeMessage('ConfigMap', { metadata: { name: 'c' }, data: { a: 'b' } });
    const unknown = Buffer.concat([
      varintField(99, 7),
      Buffer.from([0x99, 0x06, 1, 2, 3, 4, 5, 6, 7, 8]), // field 99 fixed64
      lengthDelimited(98, Buffer.from('status')),
      Buffer.from([0x9d, 0x06, 1, 2, 3, 4]), // field 99 fixed32
    ]);
    expect(decodeMessage('ConfigMap', Buffer.concat([unknown, known, unknown]))).toEqual({
      metadata: { name: 'c' },
      data: { a: 'b' },
    });
  });

  it('merges repeated occurrences of a message field and keeps the last scalar', () => {
    const body = Buffer.concat([
      lengthDelimited(
        1,
        Buffer.concat([lengthDelimited(1, Buffer.from('first')), lengthDelimited(3, Buffer.from('ns'))]),
      ),
      lengthDelimited(1, lengthDelimited(1, Buffer.from('second'))),
    ]);
    expect(decodeMessage('Namespace', body)).toEqual({ metadata: { name: 'second', namespace: 'ns' } });
  });

  it('reads negative ints, seconds-precision times and a zero time', () => {
    const time = Buffer.concat([varintField(1, 1_795_449_600), varintField(2, 999_999_999)]);
    const meta = Buffer.concat([
      lengthDelimited(8, time),
      lengthDelimited(9, Buffer.alloc(0)),
      varintField(10, -1),
    ]);
    expect(decodeMessage('ObjectMeta', meta)).toEqual({
      creationTimestamp: '2026-11-23T16:00:00Z',
      deletionGracePeriodSeconds: -1,
    });
    const port = Buffer.concat([varintField(3, -5)]);
    expect(decodeMessage('ContainerPort', port)).toEqual({ containerPort: -5 });
  });

  it('names the path and the problem for malformed or mistyped input', () => {
    const err = (type: string, buf: Buffer) => {
      try {
        decodeMessage(type, buf);
      } catch (e) {
        expect(e).toBeInstanceOf(DecodeError);
        return (e as Error).message;
      }
      throw new Error('decoded without error');
    };
    const container = (inner: Buffer) => lengthDelimited(2, lengthDelimited(2, inner));
    expect(err('Pod', container(varintField(1, 3)))).toBe(
      'Pod.spec.containers[0].name: wire type 0 cannot hold string',
    );
    expect(err('Pod', container(lengthDelimited(1, Buffer.from([0xc3, 0x28]))))).toBe(
      'Pod.spec.containers[0].name: string is not valid UTF-8',
    );
    expect(err('Pod', container(lengthDelimited(16, Buffer.alloc(0))))).toBe(
      'Pod.spec.containers[0].stdin: field 16 has wire type 2, expected 0',
    );
    const badPort = lengthDelimited(
      1,
      Buffer.concat([varintField(3, 80), lengthDelimited(4, varintField(1, 2))]),
    );
    expect(err('ServiceSpec', badPort)).toBe(
      'ServiceSpec.ports[0].targetPort: IntOrString type 2 is neither 0 (int) nor 1 (string)',
    );
    expect(err('ConfigMap', lengthDelimited(2, Buffer.from([0x0a, 0x05, 0x61])))).toBe(
      'ConfigMap.data: field 1 at byte 2 needs 5 bytes but only 1 remain',
    );
    expect(err('ConfigMap', varintField(2, 1))).toBe('ConfigMap.data: map entry has wire type 0, expected 2');
    expect(err('Nope', Buffer.alloc(0))).toBe('Nope: no field table for message Nope');
  });
});

describe('field tables', () => {
  it('parse every entry and reject malformed or unsupported specs', () => {
    expect(MESSAGES.get('Probe')?.get(1)).toEqual({
      name: 'handler',
      type: 'ProbeHandler',
      kind: 'single',
      keep: false,
      inline: true,
    });
    expect(MESSAGES.get('DeploymentSpec')?.get(1)).toMatchObject({
      name: 'replicas',
      type: 'int32',
      keep: true,
    });
    expect(MESSAGES.get('ObjectMeta')?.get(11)).toMatchObject({
      name: 'labels',
      type: 'string',
      kind: 'map',
    });
    expect(() => parseField('name string', 'X')).toThrow('malformed field spec "name string" in X');
    expect(() => parseField('a: Bogus', 'X')).toThrow('unknown type Bogus in X');
    expect(() => parseField('a: [int64]', 'X')).toThrow(
      'a: [int64] in X: repeated or map int64 is not supported',
    );
  });
});
