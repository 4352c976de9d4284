/**
 * A pod's API identity, as kubelet projects it: a TokenRequest bound to the pod, then `token`,
 * `ca.crt` and `namespace` in a per-pod folder (pods share the node's filesystem here, so no
 * /var/run/secrets mount), plus a kubeconfig pointing at the `kubernetes` Service.
 */
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { stringify } from 'yaml';
import type { Pod } from './pod.js';

/** What kubelet asks for: its magic 3607 s, which the API server extends (see control/sa-tokens.ts). */
export const TOKEN_EXPIRATION_SECONDS = 3607;

/**
 * Whether the pod gets a token. Only pods naming a service account do: no controller creates
 * each namespace's `default` account here, so asking for it would only fail.
 */
export function wantsToken(pod: Pod): boolean {
  const sa = pod.spec.serviceAccountName;
  return pod.spec.automountServiceAccountToken !== false && sa !== undefined && sa !== 'default';
}

export function tokenRequest(pod: Pod): object {
  return {
    apiVersion: 'authentication.k8s.io/v1',
    kind: 'TokenRequest',
    spec: {
      audiences: [],
      expirationSeconds: TOKEN_EXPIRATION_SECONDS,
      boundObjectRef: { kind: 'Pod', apiVersion: 'v1', name: pod.metadata.name, uid: pod.metadata.uid },
    },
  };
}

/** A kubeconfig using the folder's files by relative path, as in-cluster clients read them. */
export function podKubeconfig(server: string, user: string): string {
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'in-cluster', cluster: { server, 'certificate-authority': 'ca.crt' } }],
    users: [{ name: user, user: { tokenFile: 'token' } }],
    contexts: [{ name: 'in-cluster', context: { cluster: 'in-cluster', user } }],
    'current-context': 'in-cluster',
  });
}

export interface ProjectedToken {
  readonly token: string;
  readonly caPem: string;
  /** `https://<kubernetes Service ClusterIP>:443`. */
  readonly server: string;
}

/** Writes the folder; the token last and by rename, so a reader never sees a half-written one. */
export async function writeServiceAccountDir(dir: string, pod: Pod, t: ProjectedToken): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const user = `system:serviceaccount:${pod.metadata.namespace}:${pod.spec.serviceAccountName ?? 'default'}`;
  await writeFile(join(dir, 'ca.crt'), t.caPem);
  await writeFile(join(dir, 'namespace'), pod.metadata.namespace);
  await writeFile(join(dir, 'kubeconfig'), podKubeconfig(t.server, user), { mode: 0o600 });
  await writeFile(join(dir, 'token.tmp'), t.token, { mode: 0o600 });
  await rename(join(dir, 'token.tmp'), join(dir, 'token'));
}
