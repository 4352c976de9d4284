import type { JsonObject } from '../../store/types.js';

/** Ordinary manifests of every served kind, as users and klab's own components write them. */
export const MANIFESTS: JsonObject[] = [
  { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'demo', labels: { team: 'net' } } },
  {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name: 'node-1', labels: { 'node-role.kubernetes.io/control-plane': '' } },
    spec: {
      podCIDR: '10.244.1.0/24',
      podCIDRs: ['10.244.1.0/24'],
      taints: [{ key: 'a', effect: 'NoSchedule' }],
    },
    status: {
      addresses: [
        { type: 'InternalIP', address: '192.168.56.11' },
        { type: 'Hostname', address: 'node-1' },
      ],
      conditions: [
        { type: 'Ready', status: 'True', lastHeartbeatTime: '2026-01-01T00:00:00Z', reason: 'KubeletReady' },
      ],
      capacity: { cpu: '2', memory: '4Gi', pods: '110' },
      nodeInfo: {
        machineID: 'm',
        systemUUID: 's',
        bootID: 'b',
        kernelVersion: '6.1.0',
        osImage: 'Debian GNU/Linux 12',
        containerRuntimeVersion: 'klab://0.1.0',
        kubeletVersion: 'v1.32.0',
        kubeProxyVersion: '',
        operatingSystem: 'linux',
        architecture: 'amd64',
      },
      daemonEndpoints: { kubeletEndpoint: { Port: 10250 } },
    },
  },
  {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'echo', namespace: 'demo', labels: { app: 'echo' } },
    spec: {
      containers: [
        {
          name: 'echo',
          image: 'klab/echo',
          args: ['--port', '8080'],
          ports: [{ name: 'http', containerPort: 8080 }],
          env: [{ name: 'POD_IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } }],
          readinessProbe: { httpGet: { path: '/healthz', port: 'http' }, periodSeconds: 2 },
          resources: { requests: { cpu: '100m', memory: 64 } },
          volumeMounts: [{ name: 'cfg', mountPath: '/etc/echo' }],
        },
      ],
      volumes: [{ name: 'cfg', configMap: { name: 'echo' } }],
      nodeSelector: { 'kubernetes.io/os': 'linux' },
      tolerations: [
        { key: 'node-role.kubernetes.io/control-plane', operator: 'Exists', effect: 'NoSchedule' },
      ],
    },
    status: {
      phase: 'Running',
      podIP: '10.244.1.5',
      podIPs: [{ ip: '10.244.1.5' }],
      containerStatuses: [
        {
          name: 'echo',
          ready: true,
          restartCount: 0,
          image: 'klab/echo',
          imageID: '',
          state: { running: { startedAt: '2026-01-01T00:00:00Z' } },
        },
      ],
    },
  },
  {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'echo', namespace: 'demo' },
    spec: {
      type: 'LoadBalancer',
      selector: { app: 'echo' },
      ports: [
        { name: 'http', port: 80, targetPort: 'http', nodePort: 30080 },
        { name: 'dns', port: 53, targetPort: 5353, protocol: 'UDP' },
      ],
      externalTrafficPolicy: 'Local',
    },
    status: { loadBalancer: { ingress: [{ ip: '192.168.56.200' }] } },
  },
  {
    apiVersion: 'v1',
    kind: 'Endpoints',
    metadata: { name: 'echo', namespace: 'demo' },
    subsets: [
      { addresses: [{ ip: '10.244.1.5', nodeName: 'node-1' }], ports: [{ name: 'http', port: 8080 }] },
    ],
  },
  {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: 'echo', namespace: 'demo' },
    data: { 'a.conf': 'x=1' },
  },
  {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: 'tls', namespace: 'demo' },
    type: 'kubernetes.io/tls',
    data: { 'tls.crt': 'Y3J0', 'tls.key': 'a2V5' },
  },
  { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'coredns', namespace: 'kube-system' } },
  {
    apiVersion: 'v1',
    kind: 'Event',
    metadata: { name: 'echo.1', namespace: 'demo' },
    involvedObject: { kind: 'Pod', namespace: 'demo', name: 'echo', uid: 'u1' },
    reason: 'Started',
    message: 'Started container echo',
    type: 'Normal',
    count: 1,
    source: { component: 'kubelet', host: 'node-1' },
  },
  {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'echo', namespace: 'demo' },
    spec: {
      replicas: 3,
      selector: { matchLabels: { app: 'echo' } },
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: '50%' } },
      template: {
        metadata: { labels: { app: 'echo' } },
        spec: { containers: [{ name: 'echo', image: 'klab/echo', ports: [{ containerPort: 8080 }] }] },
      },
    },
  },
  {
    apiVersion: 'apps/v1',
    kind: 'ReplicaSet',
    metadata: { name: 'echo-1', namespace: 'demo' },
    spec: {
      selector: { matchExpressions: [{ key: 'app', operator: 'In', values: ['echo'] }] },
      template: {
        metadata: { labels: { app: 'echo' } },
        spec: { containers: [{ name: 'e', image: 'klab/echo' }] },
      },
    },
  },
  {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { name: 'echo-abc', namespace: 'demo', labels: { 'kubernetes.io/service-name': 'echo' } },
    addressType: 'IPv4',
    endpoints: [{ addresses: ['10.244.1.5'], conditions: { ready: true }, nodeName: 'node-1' }],
    ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
  },
  {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'Ingress',
    metadata: { name: 'web', namespace: 'demo' },
    spec: {
      ingressClassName: 'klab',
      tls: [{ hosts: ['echo.example.com'], secretName: 'tls' }],
      rules: [
        {
          host: '*.example.com',
          http: {
            paths: [
              { path: '/', pathType: 'Prefix', backend: { service: { name: 'echo', port: { number: 80 } } } },
            ],
          },
        },
      ],
    },
  },
  {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'IngressClass',
    metadata: { name: 'klab' },
    spec: { controller: 'klab.dev/ingress' },
  },
  {
    apiVersion: 'coordination.k8s.io/v1',
    kind: 'Lease',
    metadata: { name: 'node-1', namespace: 'kube-node-lease' },
    spec: { holderIdentity: 'node-1', leaseDurationSeconds: 40, renewTime: '2026-01-01T00:00:00.000000Z' },
  },
  {
    apiVersion: 'metallb.io/v1beta1',
    kind: 'IPAddressPool',
    metadata: { name: 'default', namespace: 'metallb-system' },
    spec: { addresses: ['192.168.56.200-192.168.56.250', '10.0.0.0/29'] },
  },
  {
    apiVersion: 'metallb.io/v1beta1',
    kind: 'L2Advertisement',
    metadata: { name: 'l2', namespace: 'metallb-system' },
    spec: {
      ipAddressPools: ['default'],
      nodeSelectors: [{ matchLabels: { 'kubernetes.io/hostname': 'node-1' } }],
    },
  },
];
