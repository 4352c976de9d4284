/**
 * `klab proxy` against the real API server: both run in one throwaway node namespace (so the
 * iptables rules never touch the host), the proxy follows Services and EndpointSlices written
 * with kubectl, and the node's nat/filter tables show kube-proxy's rules for them.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KLAB_JS } from '../test/support/klab-cli.js';
import { inNetns, run, waitFor } from '../test/support/netns.js';
import { type ControlProcess, startControlProcess, stopChild } from '../test/support/control.js';

const ns = `kpx-d${randomBytes(3).toString('hex')}`;
let dir: string;
let control: ControlProcess | undefined;
let proxy: ChildProcess | undefined;
const kubectl = (args: string[], input?: string) =>
  run(['ip', 'netns', 'exec', ns, 'kubectl', '--kubeconfig', join(dir, 'admin.kubeconfig'), ...args], {
    input,
  });

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kpx-daemon-'));
  for (const argv of [
    ['ip', 'netns', 'add', ns],
    ['ip', '-n', ns, 'link', 'set', 'lo', 'up'],
    ['ip', '-n', ns, 'link', 'add', 'eth1', 'type', 'veth', 'peer', 'name', 'peer1'],
    ['ip', '-n', ns, 'addr', 'add', '192.168.56.11/24', 'dev', 'eth1'],
    ['ip', '-n', ns, 'link', 'set', 'eth1', 'up'],
    ['ip', '-n', ns, 'link', 'set', 'peer1', 'up'],
  ]) {
    const r = await run(argv);
    if (r.exitCode !== 0) throw new Error(`${argv.join(' ')}: ${r.stderr}`);
  }
  control = await startControlProcess({
    dataDir: dir,
    netns: ns,
    args: ['--listen', '0.0.0.0:6443', '--advertise-address', '192.168.56.11'],
    ready: async () => (await kubectl(['get', 'ns', 'default'])).exitCode === 0,
  });
  const node = await kubectl(
    ['apply', '-f', '-'],
    `apiVersion: v1
kind: Node
metadata: {name: node-1}
status:
  addresses: [{type: InternalIP, address: 192.168.56.11}]
  conditions: [{type: Ready, status: "True"}]
`,
  );
  if (node.exitCode !== 0) throw new Error(node.stderr);
  proxy = spawn(
    'ip',
    [
      'netns',
      'exec',
      ns,
      process.execPath,
      KLAB_JS,
      'proxy',
      '--node',
      'node-1',
      '--kubeconfig',
      join(dir, 'admin.kubeconfig'),
      '--min-sync-period',
      '200ms',
    ],
    { stdio: 'ignore' },
  );
}, 90_000);

afterAll(async () => {
  await stopChild(proxy);
  await control?.stop();
  // Anything still running in the namespace was started by this test (the processes above).
  const left = await run(['ip', 'netns', 'pids', ns]);
  for (const pid of left.stdout.split('\n').filter(Boolean)) process.kill(Number(pid), 'SIGKILL');
  await run(['ip', 'netns', 'del', ns]);
  if (dir) await rm(dir, { recursive: true, force: true });
}, 30_000);

const nat = async () => (await inNetns(ns, ['iptables-save', '-t', 'nat'])).stdout;
const filter = async () => (await inNetns(ns, ['iptables-save', '-t', 'filter'])).stdout;

describe('klab proxy against the API server', () => {
  it('programs default/kubernetes with the upstream chain names', async () => {
    const rules = await waitFor(
      'kubernetes rules',
      async () => {
        const text = await nat();
        return text.includes('KUBE-SEP-MUJQWGIFFZZLYW7M') ? text : undefined;
      },
      30_000,
    );
    expect(rules).toContain(
      '-A KUBE-SERVICES -d 10.96.0.1/32 -p tcp -m comment --comment "default/kubernetes:https cluster IP" -m tcp --dport 443 -j KUBE-SVC-NPX46M4PTMTKRN6Y',
    );
    expect(rules).toContain(
      '-A KUBE-SEP-MUJQWGIFFZZLYW7M -p tcp -m comment --comment "default/kubernetes:https" -m tcp -j DNAT --to-destination 192.168.56.11:6443',
    );
  });

  it('rejects a Service without endpoints, then follows the endpoints it gets', async () => {
    const svc = await kubectl(
      ['apply', '-f', '-'],
      `apiVersion: v1
kind: Service
metadata: {name: web, namespace: default}
spec:
  clusterIP: 10.96.0.50
  ports: [{name: http, port: 80, targetPort: 8080}]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: web-manual
  namespace: default
  labels: {kubernetes.io/service-name: web}
addressType: IPv4
ports: [{name: http, port: 8080, protocol: TCP}]
endpoints: []
`,
    );
    expect(svc.exitCode, svc.stderr).toBe(0);
    await waitFor(
      'REJECT rule',
      async () => ((await filter()).includes('"default/web:http has no endpoints"') ? true : undefined),
      15_000,
    );
    const eps = await kubectl([
      'patch',
      'endpointslice',
      'web-manual',
      '--type=merge',
      '-p',
      '{"endpoints":[{"addresses":["10.244.0.5"],"conditions":{"ready":true}}]}',
    ]);
    expect(eps.exitCode, eps.stderr).toBe(0);
    const rules = await waitFor(
      'DNAT to the endpoint',
      async () => {
        const text = await nat();
        return text.includes('--to-destination 10.244.0.5:8080') ? text : undefined;
      },
      15_000,
    );
    expect(rules).toMatch(
      /-A KUBE-SERVICES -d 10\.96\.0\.50\/32 -p tcp -m comment --comment "default\/web:http cluster IP" -m tcp --dport 80 -j KUBE-SVC-/,
    );
    expect(await filter()).not.toContain('"default/web:http has no endpoints"');
  });
});
