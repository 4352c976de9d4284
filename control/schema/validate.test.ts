import { describe, expect, it } from 'vitest';
import { findKind } from '../resources.js';
import type { JsonObject } from '../store/types.js';
import { defaultObject, validateObject, type FieldCause } from './index.js';
import { MANIFESTS } from './testdata/manifests.js';

const info = (apiVersion: string, kind: string) => {
  const found = findKind(apiVersion, kind);
  if (!found) throw new Error(`${apiVersion} ${kind} not served`);
  return found;
};
const validate = (obj: JsonObject, old?: JsonObject): FieldCause[] =>
  validateObject(info(obj.apiVersion as string, obj.kind as string), obj, old);
const fields = (causes: FieldCause[]) => causes.map((c) => c.field);
const svc = (spec: JsonObject, name = 'web'): JsonObject => ({
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { name, namespace: 'default' },
  spec,
});
const deploy = (spec: JsonObject): JsonObject => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'web', namespace: 'default' },
  spec,
});
const podSpec = (containers: JsonObject[], extra: JsonObject = {}): JsonObject => ({ containers, ...extra });

describe('validateObject: valid objects', () => {
  it('accepts ordinary manifests of every kind, before and after defaulting', () => {
    for (const m of MANIFESTS) {
      const i = info(m.apiVersion as string, m.kind as string);
      expect(validate(m), String(m.kind)).toEqual([]);
      expect(validateObject(i, defaultObject(i, m)), `defaulted ${String(m.kind)}`).toEqual([]);
    }
  });
});

describe('validateObject: metadata', () => {
  it('requires a name unless generateName is set, and checks names per kind', () => {
    expect(validate({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { namespace: 'default' } })).toEqual([
      {
        reason: 'FieldValueRequired',
        field: 'metadata.name',
        message: 'Required value: name or generateName is required',
      },
    ]);
    expect(
      validate({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { generateName: 'x-', namespace: 'd' } }),
    ).toEqual([]);
    expect(
      fields(
        validate({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { generateName: 'X_', namespace: 'd' } }),
      ),
    ).toEqual(['metadata.generateName']);
    const [bad] = validate({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'Bad_Name', namespace: 'd' },
    });
    expect(bad?.field).toBe('metadata.name');
    expect(bad?.message).toMatch(
      /^Invalid value: "Bad_Name": a lowercase RFC 1123 subdomain must consist of/,
    );
    // Services take DNS-1035 labels: no leading digit, no dots.
    expect(fields(validate(svc({ ports: [{ port: 80 }] }, '1web')))).toEqual(['metadata.name']);
    expect(fields(validate(svc({ ports: [{ port: 80 }] }, 'a.b')))).toEqual(['metadata.name']);
    expect(validate(svc({ ports: [{ port: 80 }] }, '1web'))[0]?.message).toMatch(
      /a DNS-1035 label must consist/,
    );
    expect(fields(validate({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'a.b' } }))).toEqual([
      'metadata.name',
    ]);
  });

  it('enforces namespace rules by scope', () => {
    expect(validate({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x' } })).toEqual([
      { reason: 'FieldValueRequired', field: 'metadata.namespace', message: 'Required value' },
    ]);
    expect(
      validate({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'x', namespace: 'y' } }),
    ).toEqual([
      {
        reason: 'FieldValueForbidden',
        field: 'metadata.namespace',
        message: 'Forbidden: not allowed on this type',
      },
    ]);
  });

  it('checks label keys and values, owner references, and immutable names', () => {
    const causes = validate({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: {
        name: 'x',
        namespace: 'd',
        labels: { 'bad key': 'v', ok: 'bad value!' },
        ownerReferences: [
          { apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'a', uid: '1', controller: true },
          { apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'b', uid: '', controller: true },
        ],
      },
    });
    expect(fields(causes)).toEqual([
      'metadata.labels',
      'metadata.labels',
      'metadata.ownerReferences.uid',
      'metadata.ownerReferences',
    ]);
    expect(causes[3]?.message).toContain('Only one reference can have Controller set to true');
    const old = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x', namespace: 'd', uid: 'u1' } };
    expect(validate({ ...old, metadata: { name: 'x', namespace: 'd', uid: 'u2' } }, old)).toEqual([
      {
        reason: 'FieldValueInvalid',
        field: 'metadata.uid',
        message: 'Invalid value: "u2": field is immutable',
      },
    ]);
  });
});

describe('validateObject: types', () => {
  it('reports wrong JSON types alone, with kube-style messages, collecting all of them', () => {
    const causes = validate(
      svc({
        ports: [
          { port: 'eighty', targetPort: true },
          { name: 'b', port: 70000 },
        ],
        selector: 'app=web',
      }),
    );
    expect(causes).toContainEqual({
      reason: 'FieldValueTypeInvalid',
      field: 'spec.ports[0].port',
      message: 'Invalid value: "eighty": spec.ports[0].port in body must be of type integer: "string"',
    });
    expect(fields(causes)).toEqual(['spec.ports[0].port', 'spec.ports[0].targetPort', 'spec.selector']);
    expect(
      validate(
        svc({
          ports: [
            { name: 'a', port: 80 },
            { name: 'b', port: 70000 },
          ],
        }),
      ),
    ).toEqual([
      {
        reason: 'FieldValueInvalid',
        field: 'spec.ports[1].port',
        message: 'Invalid value: 70000: must be between 1 and 65535, inclusive',
      },
    ]);
  });

  it('rejects values outside an enum and bad base64', () => {
    expect(validate(svc({ type: 'Magic', ports: [{ port: 1 }] }))).toEqual([
      {
        reason: 'FieldValueNotSupported',
        field: 'spec.type',
        message:
          'Unsupported value: "Magic": supported values: "ClusterIP", "ExternalName", "LoadBalancer", "NodePort"',
      },
    ]);
    expect(
      fields(
        validate({
          apiVersion: 'v1',
          kind: 'Secret',
          metadata: { name: 's', namespace: 'd' },
          data: { k: 'not base64!' },
        }),
      ),
    ).toEqual(['data[k]']);
  });
});

describe('validateObject: Service', () => {
  it('requires ports, unique named ports, valid protocols', () => {
    expect(fields(validate(svc({})))).toEqual(['spec.ports']);
    expect(validate(svc({ clusterIP: 'None' }))).toEqual([]);
    const causes = validate(
      svc({ ports: [{ name: 'http', port: 80 }, { port: 81 }, { name: 'http', port: 80 }] }),
    );
    expect(fields(causes)).toEqual(['spec.ports[1].name', 'spec.ports[2].name', 'spec.ports[2]']);
    expect(causes[0]?.message).toBe('Required value');
    expect(causes[1]?.message).toBe('Duplicate value: "http"');
    expect(fields(validate(svc({ ports: [{ port: 80, protocol: 'ICMP' }] })))).toEqual([
      'spec.ports[0].protocol',
    ]);
  });

  it('applies the type rules', () => {
    expect(validate(svc({ ports: [{ port: 80, nodePort: 30080 }] }))).toEqual([
      {
        reason: 'FieldValueForbidden',
        field: 'spec.ports[0].nodePort',
        message: "Forbidden: may not be used when `type` is 'ClusterIP'",
      },
    ]);
    expect(validate(svc({ type: 'NodePort', clusterIP: 'None', ports: [{ port: 80 }] }))).toEqual([
      {
        reason: 'FieldValueInvalid',
        field: 'spec.clusterIPs[0]',
        message: `Invalid value: "None": may not be set to 'None' for NodePort services`,
      },
    ]);
    expect(fields(validate(svc({ ports: [{ port: 80 }], externalTrafficPolicy: 'Local' })))).toEqual([
      'spec.externalTrafficPolicy',
    ]);
    expect(
      validate(svc({ type: 'LoadBalancer', ports: [{ port: 80 }], externalTrafficPolicy: 'Local' })),
    ).toEqual([]);
    expect(fields(validate(svc({ type: 'ExternalName' })))).toEqual(['spec.externalName']);
    expect(validate(svc({ type: 'ExternalName', externalName: 'example.com.' }))).toEqual([]);
    expect(fields(validate(svc({ ports: [{ port: 80 }], clusterIP: '10.96.0.300' })))).toEqual([
      'spec.clusterIP',
    ]);
    expect(
      fields(validate(svc({ ports: [{ port: 80 }], loadBalancerSourceRanges: ['10.0.0.0/8'] }))),
    ).toEqual(['spec.loadBalancerSourceRanges']);
  });

  it('bounds the ClientIP affinity timeout', () => {
    const causes = validate(
      svc({
        ports: [{ port: 80 }],
        sessionAffinity: 'ClientIP',
        sessionAffinityConfig: { clientIP: { timeoutSeconds: 86401 } },
      }),
    );
    expect(causes).toEqual([
      {
        reason: 'FieldValueInvalid',
        field: 'spec.sessionAffinityConfig.clientIP.timeoutSeconds',
        message: 'Invalid value: 86401: must be greater than 0 and less than 86400',
      },
    ]);
  });

  it('keeps the cluster IP once set', () => {
    const old = svc({ ports: [{ port: 80 }], clusterIP: '10.96.0.5' });
    expect(validate(svc({ ports: [{ port: 80 }], clusterIP: '10.96.0.6' }), old)).toEqual([
      {
        reason: 'FieldValueInvalid',
        field: 'spec.clusterIPs[0]',
        message: 'Invalid value: "10.96.0.6": may not change once set',
      },
    ]);
    expect(validate(svc({ ports: [{ port: 81 }], clusterIP: '10.96.0.5' }), old)).toEqual([]);
  });
});

describe('validateObject: Pod and templates', () => {
  const pod = (spec: JsonObject): JsonObject => ({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'p', namespace: 'd' },
    spec,
  });

  it('checks containers, images, ports and probes, collecting every problem', () => {
    const causes = validate(
      pod(
        podSpec([
          {
            name: 'web',
            image: 'klab/echo',
            ports: [
              { name: 'http', containerPort: 0 },
              { name: 'Bad--Name', containerPort: 80 },
            ],
          },
          {
            name: 'web',
            image: '',
            readinessProbe: { periodSeconds: 1 },
            livenessProbe: { exec: { command: ['x'] }, successThreshold: 2 },
          },
        ]),
      ),
    );
    expect(fields(causes)).toEqual([
      'spec.containers[0].ports[0].containerPort',
      'spec.containers[0].ports[1].name',
      'spec.containers[0].ports[1].name',
      'spec.containers[1].image',
      'spec.containers[1].livenessProbe.successThreshold',
      'spec.containers[1].readinessProbe',
      'spec.containers[1].name',
    ]);
    expect(causes.find((c) => c.field === 'spec.containers[1].name')?.message).toBe('Duplicate value: "web"');
    expect(fields(validate(pod({})))).toEqual(['spec.containers']);
    const hostPorts = validate(
      pod(
        podSpec([
          { name: 'a', image: 'x', ports: [{ containerPort: 80, hostPort: 8080 }] },
          {
            name: 'b',
            image: 'x',
            ports: [
              { containerPort: 81, hostPort: 8080 },
              { containerPort: 81, hostPort: 8080, protocol: 'UDP' },
            ],
          },
        ]),
      ),
    );
    expect(hostPorts).toEqual([
      {
        reason: 'FieldValueDuplicate',
        field: 'spec.containers[1].ports[0].hostPort',
        message: 'Duplicate value: "8080/TCP"',
      },
    ]);
    expect(fields(validate(svc({ ports: [{ port: 80, appProtocol: 'bad proto' }] })))).toEqual([
      'spec.ports[0].appProtocol',
    ]);
  });

  it('allows only image and a few other changes to a pod spec', () => {
    const old = pod(podSpec([{ name: 'a', image: 'klab/echo' }]));
    expect(validate(pod(podSpec([{ name: 'a', image: 'klab/dns' }])), old)).toEqual([]);
    expect(validate(pod(podSpec([{ name: 'a', image: 'klab/echo' }], { nodeName: 'node-1' })), old)).toEqual(
      [],
    );
    expect(fields(validate(pod(podSpec([{ name: 'a', image: 'klab/echo', args: ['x'] }])), old))).toEqual([
      'spec',
    ]);
  });

  it('requires the template labels to match the Deployment selector', () => {
    const causes = validate(
      deploy({
        selector: { matchLabels: { app: 'web' } },
        template: { metadata: { labels: { app: 'other' } }, spec: podSpec([{ name: 'a', image: 'x' }]) },
      }),
    );
    expect(causes).toEqual([
      {
        reason: 'FieldValueInvalid',
        field: 'spec.template.metadata.labels',
        message: 'Invalid value: {"app":"other"}: `selector` does not match template `labels`',
      },
    ]);
  });

  it('checks replicas, strategy, restart policy and the selector', () => {
    const causes = validate(
      deploy({
        replicas: -1,
        selector: { matchExpressions: [{ key: 'app', operator: 'In' }] },
        strategy: { rollingUpdate: { maxSurge: 0, maxUnavailable: '0%' } },
        template: {
          metadata: { labels: { app: 'web' } },
          spec: podSpec([{ name: 'a', image: 'x' }], { restartPolicy: 'Never' }),
        },
      }),
    );
    expect(fields(causes)).toEqual([
      'spec.replicas',
      'spec.selector.matchExpressions[0].values',
      'spec.template.metadata.labels',
      'spec.template.spec.restartPolicy',
      'spec.strategy.rollingUpdate.maxUnavailable',
    ]);
    expect(fields(validate(deploy({ template: { spec: podSpec([{ name: 'a' }]) } })))).toEqual([
      'spec.selector',
      'spec.template.spec.containers[0].image',
    ]);
  });

  it('keeps the Deployment selector immutable', () => {
    const spec = (app: string) => ({
      selector: { matchLabels: { app } },
      template: { metadata: { labels: { app } }, spec: podSpec([{ name: 'a', image: 'x' }]) },
    });
    expect(fields(validate(deploy(spec('b')), deploy(spec('a'))))).toEqual(['spec.selector']);
    expect(validate(deploy(spec('a')), deploy(spec('a')))).toEqual([]);
  });
});

describe('validateObject: networking kinds', () => {
  const ingress = (spec: JsonObject): JsonObject => ({
    apiVersion: 'networking.k8s.io/v1',
    kind: 'Ingress',
    metadata: { name: 'i', namespace: 'd' },
    spec,
  });
  const rule = (path: JsonObject) => ({ rules: [{ host: 'a.example.com', http: { paths: [path] } }] });
  const backend = { service: { name: 'web', port: { number: 80 } } };

  it('requires pathType, absolute paths and a proper backend', () => {
    expect(validate(ingress(rule({ path: '/', backend })))).toEqual([
      {
        reason: 'FieldValueRequired',
        field: 'spec.rules[0].http.paths[0].pathType',
        message: 'Required value: pathType must be specified',
      },
    ]);
    expect(validate(ingress(rule({ path: 'api', pathType: 'Prefix', backend })))[0]).toMatchObject({
      field: 'spec.rules[0].http.paths[0].path',
      message: 'Invalid value: "api": must be an absolute path',
    });
    expect(
      fields(
        validate(
          ingress(rule({ path: '/', pathType: 'Exact', backend: { service: { name: 'web', port: {} } } })),
        ),
      ),
    ).toEqual(['spec.rules[0].http.paths[0].backend.service.port']);
    expect(fields(validate(ingress({})))).toEqual(['spec']);
    expect(fields(validate(ingress({ rules: [{ host: '10.0.0.1' }] })))).toEqual(['spec.rules[0].host']);
  });

  it('checks hosts, including wildcards', () => {
    const causes = validate(
      ingress({
        defaultBackend: backend,
        rules: [{ host: '1.2.3.4' }, { host: 'a.*.com' }, { host: '*.ok.com' }],
      }),
    );
    expect(fields(causes)).toEqual(['spec.rules[0].host', 'spec.rules[1].host']);
    expect(causes[0]?.message).toBe('Invalid value: "1.2.3.4": must be a DNS name, not an IP address');
  });

  it('checks EndpointSlices and keeps addressType immutable', () => {
    const slice = (addressType: string, addresses: string[]): JsonObject => ({
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      metadata: { name: 's', namespace: 'd' },
      addressType,
      endpoints: [{ addresses }],
      ports: [{ name: 'http', port: 0 }],
    });
    expect(fields(validate(slice('IPv4', ['fd00::1'])))).toEqual([
      'endpoints[0].addresses[0]',
      'ports[0].port',
    ]);
    expect(validate(slice('IPv4', []))[0]).toEqual({
      reason: 'FieldValueRequired',
      field: 'endpoints[0].addresses',
      message: 'Required value: must contain at least 1 address',
    });
    expect(fields(validate(slice('IPv6', ['fd00::1']), slice('IPv4', ['10.0.0.1'])))).toEqual([
      'ports[0].port',
      'addressType',
    ]);
  });

  it('checks IPAddressPool addresses and L2Advertisement selectors', () => {
    const pool = (addresses: string[]): JsonObject => ({
      apiVersion: 'metallb.io/v1beta1',
      kind: 'IPAddressPool',
      metadata: { name: 'p', namespace: 'metallb-system' },
      spec: { addresses },
    });
    expect(
      fields(validate(pool(['192.168.56.250-192.168.56.200', '10.0.0.0/33', 'fd00::1-fd00::ff', 'x']))),
    ).toEqual(['spec.addresses[0]', 'spec.addresses[1]', 'spec.addresses[3]']);
    expect(fields(validate(pool([])))).toEqual(['spec.addresses']);
    expect(
      fields(
        validate({
          apiVersion: 'metallb.io/v1beta1',
          kind: 'L2Advertisement',
          metadata: { name: 'l', namespace: 'metallb-system' },
          spec: { nodeSelectors: [{ matchExpressions: [{ key: 'k', operator: 'Exists', values: ['v'] }] }] },
        }),
      ),
    ).toEqual(['spec.nodeSelectors[0].matchExpressions[0].values']);
  });

  it('checks Lease timing and IngressClass controllers', () => {
    expect(
      fields(
        validate({
          apiVersion: 'coordination.k8s.io/v1',
          kind: 'Lease',
          metadata: { name: 'l', namespace: 'd' },
          spec: { leaseDurationSeconds: 0, leaseTransitions: -1 },
        }),
      ),
    ).toEqual(['spec.leaseDurationSeconds', 'spec.leaseTransitions']);
    const ic = (controller: string): JsonObject => ({
      apiVersion: 'networking.k8s.io/v1',
      kind: 'IngressClass',
      metadata: { name: 'c' },
      spec: { controller },
    });
    expect(fields(validate(ic('nginx')))).toEqual(['spec.controller']);
    expect(fields(validate(ic('klab.dev/other'), ic('klab.dev/ingress')))).toEqual(['spec.controller']);
  });

  it('checks ConfigMap keys and Secret types', () => {
    expect(
      fields(
        validate({
          apiVersion: 'v1',
          kind: 'ConfigMap',
          metadata: { name: 'c', namespace: 'd' },
          data: { 'a b': '' },
        }),
      ),
    ).toEqual(['data[a b]']);
    expect(
      fields(
        validate({
          apiVersion: 'v1',
          kind: 'Secret',
          metadata: { name: 's', namespace: 'd' },
          type: 'kubernetes.io/tls',
          data: {},
        }),
      ),
    ).toEqual(['data[tls.crt]', 'data[tls.key]']);
  });
});
