/** Kubeconfig files in the shape kubeadm writes (`admin.conf`), with a bearer token. */
import { stringify } from 'yaml';

export interface KubeconfigInput {
  readonly server: string;
  readonly caCertPem: string;
  readonly user: string;
  readonly token: string;
  readonly cluster?: string;
}

export function renderKubeconfig(input: KubeconfigInput): string {
  const cluster = input.cluster ?? 'klab';
  const context = `${input.user}@${cluster}`;
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [
      {
        name: cluster,
        cluster: {
          server: input.server,
          'certificate-authority-data': Buffer.from(input.caCertPem).toString('base64'),
        },
      },
    ],
    users: [{ name: input.user, user: { token: input.token } }],
    contexts: [{ name: context, context: { cluster, user: input.user } }],
    'current-context': context,
    preferences: {},
  });
}
