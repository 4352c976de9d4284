import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadKubeconfig } from '../kube/kubeconfig.js';
import type { Pod } from './pod.js';
import { tokenRequest, wantsToken, writeServiceAccountDir } from './serviceaccount.js';

const pod = (spec: Pod['spec']): Pod => ({
  metadata: { name: 'coredns-abc', namespace: 'kube-system', uid: 'u-9' },
  spec,
});

describe('service-account projection', () => {
  it('asks for a token only for pods naming an account, unless automount is off', () => {
    expect(wantsToken(pod({ serviceAccountName: 'coredns' }))).toBe(true);
    expect(wantsToken(pod({ serviceAccountName: 'coredns', automountServiceAccountToken: false }))).toBe(
      false,
    );
    expect(wantsToken(pod({ serviceAccountName: 'default' }))).toBe(false);
    expect(wantsToken(pod({}))).toBe(false);
  });

  it('asks as kubelet does: 3607 s, bound to the pod by name and uid', () => {
    expect(tokenRequest(pod({ serviceAccountName: 'coredns' }))).toEqual({
      apiVersion: 'authentication.k8s.io/v1',
      kind: 'TokenRequest',
      spec: {
        audiences: [],
        expirationSeconds: 3607,
        boundObjectRef: { kind: 'Pod', apiVersion: 'v1', name: 'coredns-abc', uid: 'u-9' },
      },
    });
  });

  it('writes token, ca.crt, namespace and a kubeconfig the klab client loads', async () => {
    const dir = join(await mkdtemp(join(tmpdir(), 'klab-sa-')), 'serviceaccount');
    try {
      await writeServiceAccountDir(dir, pod({ serviceAccountName: 'coredns' }), {
        token: 'a.b.c',
        caPem: '-----BEGIN CERTIFICATE-----\nX\n-----END CERTIFICATE-----\n',
        server: 'https://10.96.0.1:443',
      });
      expect(await readFile(join(dir, 'namespace'), 'utf8')).toBe('kube-system');
      expect(loadKubeconfig(join(dir, 'kubeconfig'))).toEqual({
        server: 'https://10.96.0.1:443',
        ca: '-----BEGIN CERTIFICATE-----\nX\n-----END CERTIFICATE-----\n',
        insecureSkipTlsVerify: false,
        token: 'a.b.c',
        clientCert: undefined,
        clientKey: undefined,
      });
    } finally {
      await rm(join(dir, '..'), { recursive: true, force: true });
    }
  });
});
