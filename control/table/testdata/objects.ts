import type { JsonObject } from '../../store/types.js';

const at = (creationTimestamp: string, name: string, extra: JsonObject = {}): JsonObject => ({
  metadata: { name, namespace: 'demo', creationTimestamp, ...extra },
});

/** Objects of every kind, keyed by `<apiVersion> <kind>`, for the golden cell file. */
export const TABLE_FIXTURES: Record<string, JsonObject[]> = {
  'v1 Node': [
    {
      ...at('2025-12-29T09:00:00Z', 'node-1', {
        labels: { 'node-role.kubernetes.io/control-plane': '', 'kubernetes.io/role': 'lab' },
      }),
      spec: { unschedulable: true },
      status: {
        conditions: [{ type: 'Ready', status: 'True' }],
        addresses: [{ type: 'InternalIP', address: '192.168.56.11' }],
        nodeInfo: {
          kubeletVersion: 'v1.32.0',
          osImage: 'Debian GNU/Linux 12',
          kernelVersion: '6.1.0',
          containerRuntimeVersion: 'klab://0.1.0',
        },
      },
    },
    {
      ...at('2026-01-01T11:59:30Z', 'node-2'),
      status: { conditions: [{ type: 'Ready', status: 'Unknown' }] },
    },
    at('2026-01-01T11:59:30Z', 'node-3'),
  ],
  'v1 Namespace': [{ ...at('2025-06-01T00:00:00Z', 'demo'), status: { phase: 'Active' } }],
  'v1 Endpoints': [
    {
      ...at('2026-01-01T11:00:00Z', 'web'),
      subsets: [
        { addresses: [{ ip: '10.244.1.5' }, { ip: '10.244.2.5' }], ports: [{ port: 8080 }, { port: 9090 }] },
        { addresses: [{ ip: 'fd00::5' }], ports: [{ port: 80 }] },
      ],
    },
    { ...at('2026-01-01T11:00:00Z', 'headless'), subsets: [{ addresses: [{ ip: '10.244.1.9' }] }] },
    at('2026-01-01T11:00:00Z', 'empty'),
  ],
  'v1 ConfigMap': [
    { ...at('2026-01-01T11:00:00Z', 'c'), data: { a: '1', b: '2' }, binaryData: { c: 'AA==' } },
  ],
  'v1 Secret': [
    {
      ...at('2026-01-01T11:00:00Z', 'tls'),
      type: 'kubernetes.io/tls',
      data: { 'tls.crt': '', 'tls.key': '' },
    },
  ],
  'v1 ServiceAccount': [at('2026-01-01T11:00:00Z', 'default')],
  'v1 Event': [
    {
      ...at('2026-01-01T11:00:00Z', 'web.1'),
      involvedObject: { kind: 'Pod', name: 'web', fieldPath: 'spec.containers{web}' },
      reason: 'BackOff',
      message: ' Back-off restarting failed container \n',
      type: 'Warning',
      count: 7,
      firstTimestamp: '2026-01-01T11:00:00Z',
      lastTimestamp: '2026-01-01T11:58:00Z',
      source: { component: 'kubelet', host: 'node-1' },
    },
    {
      ...at('2026-01-01T11:00:00Z', 'svc.2'),
      involvedObject: { kind: 'Service', name: 'web' },
      reason: 'IPAllocated',
      type: 'Normal',
      eventTime: '2026-01-01T11:59:50.000000Z',
      reportingComponent: 'klab-controller',
    },
  ],
  'apps/v1 Deployment': [
    {
      ...at('2026-01-01T11:00:00Z', 'web'),
      spec: {
        replicas: 3,
        selector: {
          matchLabels: { app: 'web' },
          matchExpressions: [{ key: 'tier', operator: 'In', values: ['b', 'a'] }],
        },
        template: {
          spec: {
            containers: [
              { name: 'web', image: 'klab/echo' },
              { name: 'dns', image: 'klab/dns' },
            ],
          },
        },
      },
      status: { readyReplicas: 2, updatedReplicas: 3, availableReplicas: 2 },
    },
  ],
  'apps/v1 ReplicaSet': [
    {
      ...at('2026-01-01T11:00:00Z', 'web-5d4f'),
      spec: {
        replicas: 3,
        selector: { matchLabels: { app: 'web' } },
        template: { spec: { containers: [{ name: 'web', image: 'klab/echo' }] } },
      },
      status: { replicas: 3, readyReplicas: 1 },
    },
  ],
  'discovery.k8s.io/v1 EndpointSlice': [
    {
      ...at('2026-01-01T11:00:00Z', 'web-abc'),
      addressType: 'IPv4',
      ports: [{ name: 'http', port: 8080 }, { name: 'named' }, {}, { port: 1 }],
      endpoints: [
        { addresses: ['10.244.1.5'] },
        { addresses: ['10.244.2.5'] },
        { addresses: ['10.244.3.5'] },
        { addresses: ['10.244.4.5'] },
      ],
    },
    { ...at('2026-01-01T11:00:00Z', 'empty'), addressType: 'IPv4', endpoints: [] },
  ],
  'networking.k8s.io/v1 Ingress': [
    {
      ...at('2026-01-01T11:00:00Z', 'web'),
      spec: {
        ingressClassName: 'klab',
        tls: [{ hosts: ['a.example.com'] }],
        rules: [{ host: 'a.example.com' }, { host: 'b.example.com' }],
      },
      status: { loadBalancer: { ingress: [{ ip: '192.168.56.201' }] } },
    },
    {
      ...at('2026-01-01T11:00:00Z', 'many'),
      spec: { rules: [{ host: 'a' }, { host: 'b' }, { host: 'c' }, { host: 'd' }, {}] },
    },
    {
      ...at('2026-01-01T11:00:00Z', 'catchall'),
      spec: { defaultBackend: { service: { name: 'web', port: { number: 80 } } } },
    },
  ],
  'networking.k8s.io/v1 IngressClass': [
    {
      ...at('2026-01-01T11:00:00Z', 'klab'),
      spec: {
        controller: 'klab.dev/ingress',
        parameters: { apiGroup: 'k.example.com', kind: 'Params', name: 'p' },
      },
    },
  ],
  'coordination.k8s.io/v1 Lease': [
    { ...at('2026-01-01T11:00:00Z', 'node-1'), spec: { holderIdentity: 'node-1' } },
  ],
  'metallb.io/v1beta1 IPAddressPool': [
    {
      ...at('2026-01-01T11:00:00Z', 'default'),
      spec: { addresses: ['192.168.56.200-192.168.56.250'], autoAssign: true },
    },
  ],
  'metallb.io/v1beta1 L2Advertisement': [
    { ...at('2026-01-01T11:00:00Z', 'l2'), spec: { ipAddressPools: ['default'] } },
  ],
};
