import { describe, expect, it } from 'vitest';
import { renderCommand, UsageError } from './render-command.js';

const file = new URL('./iptables/__golden__/kubernetes.yaml', import.meta.url).pathname;
const base = {
  mode: 'iptables',
  file,
  nodeName: 'node-1',
  clusterCidr: '10.244.0.0/16',
  localhostNodeports: true,
};

describe('klab proxy render', () => {
  it('prints the restore input for the node, canonical on request', () => {
    const out = renderCommand(base);
    expect(out.startsWith('*filter\n:KUBE-SERVICES - [0:0]\n')).toBe(true);
    expect(out).toContain(
      '-A KUBE-SVC-NPX46M4PTMTKRN6Y -m comment --comment "default/kubernetes:https -> 192.168.56.11:6443" -j KUBE-SEP-MUJQWGIFFZZLYW7M',
    );
    expect(renderCommand({ ...base, canonical: true }).startsWith('*filter\n:KUBE-NODEPORTS - [0:0]\n')).toBe(
      true,
    );
  });

  it('follows --masquerade-all, --cluster-cidr "" and --no-localhost-nodeports', () => {
    const out = renderCommand({ ...base, clusterCidr: '', masqueradeAll: true, localhostNodeports: false });
    expect(out).toContain('--dport 443 -j KUBE-MARK-MASQ');
    expect(out).not.toContain('! -s ');
    expect(out).not.toContain('KUBE-FIREWALL');
    expect(out).toContain('--dst-type LOCAL ! -d 127.0.0.0/8 -j KUBE-NODEPORTS');
  });

  it.each([
    [{ mode: 'ipvs' }, '--mode: "ipvs"'],
    [{ file: '/nonexistent/objects.yaml' }, '-f /nonexistent/objects.yaml: cannot read'],
    [{ nodeIp: ['192.168.56'] }, '--node-ip: "192.168.56"'],
    [{ clusterCidr: '10.244.0.0' }, '--cluster-cidr: "10.244.0.0"'],
  ])('rejects %j', (override, message) => {
    expect(() => renderCommand({ ...base, ...override })).toThrow(UsageError);
    expect(() => renderCommand({ ...base, ...override })).toThrow(message);
  });
});
