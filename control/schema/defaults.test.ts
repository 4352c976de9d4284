import { describe, expect, it } from 'vitest';
import { findKind } from '../resources.js';
import type { JsonObject } from '../store/types.js';
import { defaultObject } from './index.js';

const info = (apiVersion: string, kind: string) => {
  const found = findKind(apiVersion, kind);
  if (!found) throw new Error(`${apiVersion} ${kind} not served`);
  return found;
};
const withDefaults = (obj: JsonObject): JsonObject =>
  defaultObject(info(obj.apiVersion as string, obj.kind as string), obj);

describe('defaultObject', () => {
  it('fills Service defaults and leaves the input alone', () => {
    const input = {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'web' },
      spec: {
        selector: { app: 'web' },
        ports: [
          { name: 'http', port: 80 },
          { port: 53, targetPort: 5353, protocol: 'UDP' },
        ],
      },
    };
    const copy = structuredClone(input);
    expect(withDefaults(input).spec).toEqual({
      type: 'ClusterIP',
      sessionAffinity: 'None',
      selector: { app: 'web' },
      ports: [
        { name: 'http', port: 80, protocol: 'TCP', targetPort: 80 },
        { port: 53, targetPort: 5353, protocol: 'UDP' },
      ],
      internalTrafficPolicy: 'Cluster',
      ipFamilyPolicy: 'SingleStack',
      ipFamilies: ['IPv4'],
    });
    expect(input).toEqual(copy);
  });

  it('adds external traffic policy, node-port allocation and affinity timeout where they apply', () => {
    const spec = withDefaults({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'lb' },
      spec: { type: 'LoadBalancer', sessionAffinity: 'ClientIP', ports: [{ port: 80 }] },
    }).spec as JsonObject;
    expect(spec).toMatchObject({
      externalTrafficPolicy: 'Cluster',
      allocateLoadBalancerNodePorts: true,
      sessionAffinityConfig: { clientIP: { timeoutSeconds: 10800 } },
    });
    const ext = withDefaults({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'x' },
      spec: { type: 'ExternalName', externalName: 'example.com' },
    }).spec as JsonObject;
    expect(ext.internalTrafficPolicy).toBeUndefined();
    expect(ext.ipFamilies).toBeUndefined();
    expect(ext.externalTrafficPolicy).toBeUndefined();
  });

  it('fills Deployment and pod template defaults', () => {
    const d = withDefaults({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'web' },
      spec: {
        selector: { matchLabels: { app: 'web' } },
        template: {
          metadata: { labels: { app: 'web' } },
          spec: {
            containers: [
              {
                name: 'web',
                image: 'klab/echo:1.0',
                ports: [{ containerPort: 8080 }],
                livenessProbe: { httpGet: { port: 8080 } },
              },
              { name: 'side', image: 'klab/dns' },
            ],
            volumes: [{ name: 'cfg', configMap: { name: 'c' } }],
          },
        },
      },
    });
    expect(d.spec).toMatchObject({
      replicas: 1,
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: '25%', maxSurge: '25%' } },
      revisionHistoryLimit: 10,
      progressDeadlineSeconds: 600,
      template: {
        spec: {
          restartPolicy: 'Always',
          dnsPolicy: 'ClusterFirst',
          terminationGracePeriodSeconds: 30,
          schedulerName: 'default-scheduler',
          securityContext: {},
          volumes: [{ name: 'cfg', configMap: { name: 'c', defaultMode: 420 } }],
          containers: [
            {
              imagePullPolicy: 'IfNotPresent',
              terminationMessagePath: '/dev/termination-log',
              terminationMessagePolicy: 'File',
              resources: {},
              ports: [{ containerPort: 8080, protocol: 'TCP' }],
              livenessProbe: {
                httpGet: { port: 8080, path: '/', scheme: 'HTTP' },
                timeoutSeconds: 1,
                periodSeconds: 10,
                successThreshold: 1,
                failureThreshold: 3,
              },
            },
            { imagePullPolicy: 'Always' },
          ],
        },
      },
    });
    const tmpl = (d.spec as { template: { spec: JsonObject } }).template.spec;
    expect(tmpl.serviceAccountName).toBeUndefined();
  });

  it('gives Pods admission defaults and a pending status, and mirrors host ports on the host network', () => {
    const pod = withDefaults({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'p' },
      spec: {
        hostNetwork: true,
        containers: [{ name: 'a', image: 'host', ports: [{ containerPort: 10249 }] }],
      },
    });
    expect(pod.spec).toMatchObject({
      serviceAccountName: 'default',
      serviceAccount: 'default',
      enableServiceLinks: true,
      priority: 0,
      containers: [{ ports: [{ containerPort: 10249, hostPort: 10249, protocol: 'TCP' }] }],
    });
    expect(pod.status).toEqual({ phase: 'Pending', qosClass: 'BestEffort' });
    const guaranteed = withDefaults({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'p' },
      spec: { containers: [{ name: 'a', image: 'x', resources: { limits: { cpu: '1', memory: '1Gi' } } }] },
    });
    expect((guaranteed.status as JsonObject).qosClass).toBe('Guaranteed');
  });

  it('fills Namespace, ReplicaSet, Secret, EndpointSlice and IPAddressPool defaults', () => {
    expect(withDefaults({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'demo' } })).toEqual({
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: 'demo', labels: { 'kubernetes.io/metadata.name': 'demo' } },
      spec: { finalizers: ['kubernetes'] },
      status: { phase: 'Active' },
    });
    expect(
      withDefaults({ apiVersion: 'apps/v1', kind: 'ReplicaSet', metadata: { name: 'r' }, spec: {} }).spec,
    ).toEqual({
      replicas: 1,
    });
    expect(withDefaults({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 's' } }).type).toBe('Opaque');
    expect(
      withDefaults({
        apiVersion: 'discovery.k8s.io/v1',
        kind: 'EndpointSlice',
        metadata: { name: 's' },
        ports: [{ port: 80 }],
      }).ports,
    ).toEqual([{ port: 80, protocol: 'TCP' }]);
    expect(
      withDefaults({
        apiVersion: 'metallb.io/v1beta1',
        kind: 'IPAddressPool',
        metadata: { name: 'p' },
        spec: { addresses: [] },
      }).spec,
    ).toEqual({ addresses: [], autoAssign: true, avoidBuggyIPs: false });
  });
});
