import { parseAllDocuments } from 'yaml';
import { describe, expect, it } from 'vitest';
import { addonsYaml } from './addons.js';

type Obj = { kind: string; metadata: { name: string; namespace: string }; spec: Record<string, unknown> };

describe('cluster add-ons', () => {
  const docs = parseAllDocuments(addonsYaml()).map((d) => d.toJS() as Obj);
  const byKind = (kind: string) => docs.find((d) => d.kind === kind) as Obj;

  it('is kubeadm’s CoreDNS: account, kube-dns Service at 10.96.0.10, 2-replica Deployment, in kube-system', () => {
    expect(docs.map((d) => `${d.kind} ${d.metadata.namespace}/${d.metadata.name}`)).toEqual([
      'ServiceAccount kube-system/coredns',
      'Service kube-system/kube-dns',
      'Deployment kube-system/coredns',
    ]);
    expect(byKind('Service').spec).toEqual({
      clusterIP: '10.96.0.10',
      ports: [
        { name: 'dns', port: 53, protocol: 'UDP', targetPort: 53 },
        { name: 'dns-tcp', port: 53, protocol: 'TCP', targetPort: 53 },
        { name: 'metrics', port: 9153, protocol: 'TCP', targetPort: 9153 },
      ],
      selector: { 'k8s-app': 'kube-dns' },
    });
  });

  it('runs klab/dns as coredns with its account, the node resolver, and kubeadm’s ports and probes', () => {
    const spec = byKind('Deployment').spec as {
      replicas: number;
      template: {
        metadata: { labels: object };
        spec: Record<string, unknown> & { containers: Record<string, unknown>[] };
      };
    };
    expect(spec.replicas).toBe(2);
    expect(spec.template.metadata.labels).toEqual({ 'k8s-app': 'kube-dns' });
    expect(spec.template.spec).toMatchObject({ serviceAccountName: 'coredns', dnsPolicy: 'Default' });
    expect(spec.template.spec.containers[0]).toMatchObject({
      name: 'coredns',
      image: 'klab/dns',
      ports: [
        { containerPort: 53, name: 'dns', protocol: 'UDP' },
        { containerPort: 53, name: 'dns-tcp', protocol: 'TCP' },
        { containerPort: 9153, name: 'metrics', protocol: 'TCP' },
      ],
      livenessProbe: { httpGet: { path: '/health', port: 8080 } },
      readinessProbe: { httpGet: { path: '/ready', port: 8181 } },
    });
  });
});
