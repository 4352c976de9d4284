import { describe, expect, it } from 'vitest';
import { KubeconfigError, parseKubeconfig } from './kubeconfig.js';

const ca = Buffer.from('-----BEGIN CERTIFICATE-----\nCA\n-----END CERTIFICATE-----\n').toString('base64');
const doc = (extra = '') => `
apiVersion: v1
kind: Config
current-context: admin@klab
clusters:
- name: klab
  cluster:
    server: https://192.168.56.11:6443/
    certificate-authority-data: ${ca}
contexts:
- name: admin@klab
  context: {cluster: klab, user: admin}
- name: node@klab
  context: {cluster: klab, user: node-1}
users:
- name: admin
  user: {token: secret-admin}
- name: node-1
  user: {tokenFile: node-1.token}
${extra}`;

describe('parseKubeconfig', () => {
  it('resolves the current context', () => {
    const c = parseKubeconfig(doc(), '/etc/klab/admin.kubeconfig');
    expect(c.server).toBe('https://192.168.56.11:6443');
    expect(c.ca).toContain('BEGIN CERTIFICATE');
    expect(c.token).toBe('secret-admin');
    expect(c.insecureSkipTlsVerify).toBe(false);
  });

  it('reads files relative to the kubeconfig', () => {
    const read = (p: string) => {
      expect(p).toBe('/etc/klab/node-1.token');
      return 'node-token\n';
    };
    expect(parseKubeconfig(doc(), '/etc/klab/k.yaml', read, 'node@klab').token).toBe('node-token');
  });

  it('names what is missing', () => {
    expect(() => parseKubeconfig('clusters: []\ncurrent-context: x\ncontexts: []', '/k')).toThrow(
      new KubeconfigError('/k', 'context "x" is not defined'),
    );
    expect(() => parseKubeconfig('a: [', '/k')).toThrow(/kubeconfig \/k: is not valid YAML/);
    expect(() => parseKubeconfig('kind: Config', '/k')).toThrow(/has no current-context/);
  });
});
