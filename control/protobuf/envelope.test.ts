import { describe, expect, it } from 'vitest';
import { ApiError } from '../status.js';
import { decodeProtobufObject } from './envelope.js';
import { encodeMessage, envelope, lengthDelimited } from './testing.js';

/** Request bodies captured from kubectl v1.32 typed commands (base64), with the objects they carry. */
const KUBECTL_BODIES: [string, string, Record<string, unknown>][] = [
  [
    'create namespace x',
    'azhzAAoPCgJ2MRIJTmFtZXNwYWNlEhkKEQoBeBIAGgAiACoAMgA4AEIAEgAaAgoAGgAiAA==',
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'x' } },
  ],
  [
    'create deployment web --image=klab/echo --replicas=2 --port=8080',
    'azhzAAoVCgdhcHBzL3YxEgpEZXBsb3ltZW50Er0BCiAKA3dlYhIAGgF4IgAqADIAOABCAFoKCgNhcHASA3dlYhKKAQgCEgwKCgoDYXBwEgN3ZWIacAocCgASABoAIgAqADIAOABCAFoKCgNhcHASA3dlYhJQEjIKBGVjaG8SCWtsYWIvZWNobyoAMgsKABAAGJA/IgAqAEIAagByAIABAIgBAJABAKIBABoAMgBCAEoAUgBYAGAAaACCAQCKAQCaAQDCAQAiAgoAKAA4ABoMCAAQABgAIAAoADgAGgAiAA==',
    {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'web', namespace: 'x', labels: { app: 'web' } },
      spec: {
        replicas: 2,
        selector: { matchLabels: { app: 'web' } },
        template: {
          metadata: { labels: { app: 'web' } },
          spec: { containers: [{ name: 'echo', image: 'klab/echo', ports: [{ containerPort: 8080 }] }] },
        },
      },
    },
  ],
  [
    'create service nodeport np --tcp=80:8080',
    'azhzAAoNCgJ2MRIHU2VydmljZRJmCh4KAm5wEgAaAXgiACoAMgA4AEIAWgkKA2FwcBICbnASQAobCgc4MC04MDgwEgNUQ1AYUCIHCAAQkD8aACgAEgkKA2FwcBICbnAaACIITm9kZVBvcnQ6AEIAUgBaAGAAaAAaAgoAGgAiAA==',
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'np', namespace: 'x', labels: { app: 'np' } },
      spec: {
        ports: [{ name: '80-8080', protocol: 'TCP', port: 80, targetPort: 8080 }],
        selector: { app: 'np' },
        type: 'NodePort',
      },
    },
  ],
  [
    'create service clusterip named --tcp=80:http',
    'azhzAAoNCgJ2MRIHU2VydmljZRJzCiQKBW5hbWVkEgAaAXgiACoAMgA4AEIAWgwKA2FwcBIFbmFtZWQSRwoeCgc4MC1odHRwEgNUQ1AYUCIKCAEQABoEaHR0cCgAEgwKA2FwcBIFbmFtZWQaACIJQ2x1c3RlcklQOgBCAFIAWgBgAGgAGgIKABoAIgA=',
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'named', namespace: 'x', labels: { app: 'named' } },
      spec: {
        ports: [{ name: '80-http', protocol: 'TCP', port: 80, targetPort: 'http' }],
        selector: { app: 'named' },
        type: 'ClusterIP',
      },
    },
  ],
  [
    'create configmap c --from-literal=a=b',
    'azhzAAoPCgJ2MRIJQ29uZmlnTWFwEhwKEgoBYxIAGgF4IgAqADIAOABCABIGCgFhEgFiGgAiAA==',
    { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c', namespace: 'x' }, data: { a: 'b' } },
  ],
  [
    'create secret generic s --from-literal=a=b',
    'azhzAAoMCgJ2MRIGU2VjcmV0Eh4KEgoBcxIAGgF4IgAqADIAOABCABIGCgFhEgFiGgAaACIA',
    { apiVersion: 'v1', kind: 'Secret', metadata: { name: 's', namespace: 'x' }, data: { a: 'Yg==' } },
  ],
  [
    'create serviceaccount sa',
    'azhzAAoUCgJ2MRIOU2VydmljZUFjY291bnQSFQoTCgJzYRIAGgF4IgAqADIAOABCABoAIgA=',
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'sa', namespace: 'x' } },
  ],
];

function apiError(raw: Buffer): ApiError {
  try {
    decodeProtobufObject(raw);
  } catch (err) {
    expect(err).toBeInstanceOf(ApiError);
    return err as ApiError;
  }
  throw new Error('decoded without error');
}

describe('decodeProtobufObject', () => {
  it.each(KUBECTL_BODIES)('decodes the body of kubectl %s', (_, body, object) => {
    expect(decodeProtobufObject(Buffer.from(body, 'base64'))).toEqual(object);
  });

  it('decodes a Pod and a ReplicaSet built by the test encoder', () => {
    const pod = { metadata: { name: 'p' }, spec: { containers: [{ name: 'p', image: 'klab/echo' }] } };
    expect(decodeProtobufObject(envelope('v1', 'Pod', encodeMessage('Pod', pod)))).toEqual({
      apiVersion: 'v1',
      kind: 'Pod',
      ...pod,
    });
    const rs = { metadata: { name: 'r' }, spec: { replicas: 1, selector: { matchLabels: { a: 'b' } } } };
    expect(decodeProtobufObject(envelope('apps/v1', 'ReplicaSet', encodeMessage('ReplicaSet', rs)))).toEqual({
      apiVersion: 'apps/v1',
      kind: 'ReplicaSet',
      ...rs,
    });
  });

  it('answers 400 for a body without the k8s prefix or with a broken envelope', () => {
    const noMagic = apiError(Buffer.from('{"kind":"Pod"}'));
    expect([noMagic.code, noMagic.message]).toEqual([
      400,
      'the protobuf request body does not start with the "k8s\\0" prefix',
    ]);
    const broken = apiError(Buffer.from([0x6b, 0x38, 0x73, 0x00, 0x0a, 0x09, 0x0a]));
    expect([broken.code, broken.message]).toEqual([
      400,
      'the protobuf request body is malformed: envelope: field 1 at byte 2 needs 9 bytes but only 1 remain',
    ]);
    const gzip = envelope('v1', 'Pod', Buffer.alloc(0));
    const withEncoding = apiError(Buffer.concat([gzip, lengthDelimited(3, Buffer.from('gzip'))]));
    expect(withEncoding.message).toBe(
      'the protobuf request body is malformed: envelope: content encoding "gzip" is not supported',
    );
  });

  it('answers 400 with the path of a malformed field inside the object', () => {
    const meta = lengthDelimited(1, lengthDelimited(11, Buffer.from([0x0a, 0x02, 0x61])));
    const err = apiError(envelope('v1', 'Namespace', meta));
    expect([err.code, err.message]).toEqual([
      400,
      'the protobuf request body is malformed: Namespace.metadata.labels: field 1 at byte 2 needs 2 bytes but only 1 remain',
    ]);
  });

  it('answers 415 naming the kinds it accepts for any other kind', () => {
    const err = apiError(envelope('batch/v1', 'Job', Buffer.alloc(0)));
    expect(err.code).toBe(415);
    expect(err.message).toBe(
      'protobuf request bodies are accepted for v1/Namespace, v1/ConfigMap, v1/Secret, v1/ServiceAccount, v1/Service, v1/Pod, apps/v1/Deployment, apps/v1/ReplicaSet, networking.k8s.io/v1/Ingress, authentication.k8s.io/v1/TokenRequest, not batch/v1/Job; send JSON instead (kubectl create -f / apply -f)',
    );
    expect(apiError(Buffer.from('k8s\0', 'latin1')).message).toContain(
      'not an envelope without apiVersion and kind',
    );
  });
});
