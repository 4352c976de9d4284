/**
 * The cluster add-ons `klab lab up` applies through the API, as kubeadm's addon phase does.
 * CoreDNS follows kubeadm's manifest (cmd/kubeadm/app/phases/addons/dns/manifests.go) with the
 * built-in `klab/dns` image. Left out: the RBAC objects (the API server builds kubeadm's
 * `system:coredns` role in for this account) and the Corefile ConfigMap (flags play its role).
 */
import { stringify } from 'yaml';

export interface DnsAddon {
  /** The `kube-dns` Service's ClusterIP: the 10th address of the service CIDR. */
  readonly dnsIP: string;
  readonly replicas: number;
}

export const DEFAULT_DNS_ADDON: DnsAddon = { dnsIP: '10.96.0.10', replicas: 2 };

const labels = { 'k8s-app': 'kube-dns' };

export function corednsObjects(o: DnsAddon): object[] {
  const serviceAccount = {
    apiVersion: 'v1',
    kind: 'ServiceAccount',
    metadata: { name: 'coredns', namespace: 'kube-system' },
  };
  const deployment = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'coredns', namespace: 'kube-system', labels },
    spec: {
      replicas: o.replicas,
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1 } },
      selector: { matchLabels: labels },
      template: {
        metadata: { labels },
        spec: {
          priorityClassName: 'system-cluster-critical',
          serviceAccountName: 'coredns',
          affinity: {
            podAntiAffinity: {
              preferredDuringSchedulingIgnoredDuringExecution: [
                {
                  weight: 100,
                  podAffinityTerm: {
                    labelSelector: {
                      matchExpressions: [{ key: 'k8s-app', operator: 'In', values: ['kube-dns'] }],
                    },
                    topologyKey: 'kubernetes.io/hostname',
                  },
                },
              ],
            },
          },
          tolerations: [
            { key: 'CriticalAddonsOnly', operator: 'Exists' },
            { key: 'node-role.kubernetes.io/control-plane', effect: 'NoSchedule' },
          ],
          nodeSelector: { 'kubernetes.io/os': 'linux' },
          containers: [
            {
              name: 'coredns',
              image: 'klab/dns',
              resources: { limits: { memory: '170Mi' }, requests: { cpu: '100m', memory: '70Mi' } },
              ports: [
                { containerPort: 53, name: 'dns', protocol: 'UDP' },
                { containerPort: 53, name: 'dns-tcp', protocol: 'TCP' },
                { containerPort: 9153, name: 'metrics', protocol: 'TCP' },
              ],
              livenessProbe: {
                httpGet: { path: '/health', port: 8080, scheme: 'HTTP' },
                initialDelaySeconds: 60,
                timeoutSeconds: 5,
                successThreshold: 1,
                failureThreshold: 5,
              },
              // kubeadm leaves the period at 10 s; 2 s makes a fresh lab answer names sooner.
              readinessProbe: { httpGet: { path: '/ready', port: 8181, scheme: 'HTTP' }, periodSeconds: 2 },
            },
          ],
          // CoreDNS resolves through the node's resolver, which its forwarding uses as upstream.
          dnsPolicy: 'Default',
        },
      },
    },
  };
  const service = {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: {
      name: 'kube-dns',
      namespace: 'kube-system',
      labels: { ...labels, 'kubernetes.io/cluster-service': 'true', 'kubernetes.io/name': 'CoreDNS' },
      annotations: { 'prometheus.io/port': '9153', 'prometheus.io/scrape': 'true' },
    },
    spec: {
      clusterIP: o.dnsIP,
      ports: [
        { name: 'dns', port: 53, protocol: 'UDP', targetPort: 53 },
        { name: 'dns-tcp', port: 53, protocol: 'TCP', targetPort: 53 },
        { name: 'metrics', port: 9153, protocol: 'TCP', targetPort: 9153 },
      ],
      selector: labels,
    },
  };
  return [serviceAccount, service, deployment];
}

/** The add-ons as one YAML stream for `kubectl apply -f -`. */
export function addonsYaml(o: DnsAddon = DEFAULT_DNS_ADDON): string {
  return corednsObjects(o)
    .map((obj) => stringify(obj))
    .join('---\n');
}
