/**
 * Turns a bare lab network into a cluster: `klab control` on node-1, a node token, an agent and
 * kube-proxy per node, the add-ons (cluster DNS) applied, then waits until every Node is Ready. Everything runs through the lab's process
 * supervisor, so `klab lab down` stops it; all files live in the lab's state directory.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { sandboxName } from '../agent/pod.js';
import { addonsYaml, DEFAULT_DNS_ADDON } from './addons.js';
import { LabError } from './errors.js';
import { netnsName } from './names.js';
import { startProcess } from './processes.js';
import { agentCommand } from '../agent/command.js';
import type { LabProvider } from './provider.js';
import { labDir, setHostEnv, type LabState } from './state.js';

const KLAB_JS = fileURLToPath(new URL('../klab.js', import.meta.url));
const API_PORT = 6443;

export interface ClusterPaths {
  readonly dataDir: string;
  readonly adminKubeconfig: string;
  nodeKubeconfig(node: string): string;
  nodeDir(node: string): string;
}

export function clusterPaths(lab: string): ClusterPaths {
  const dataDir = join(labDir(lab), 'control');
  return {
    dataDir,
    adminKubeconfig: join(dataDir, 'admin.kubeconfig'),
    nodeKubeconfig: (node) => join(dataDir, `${node}.kubeconfig`),
    nodeDir: (node) => join(labDir(lab), 'nodes', node),
  };
}

/** The agent's command line on one lab node; tests pass the built `klab.js` they run. */
export function agentArgv(
  lab: string,
  node: { name: string; ip: string },
  controlPlane: boolean,
  klabJs = KLAB_JS,
): string[] {
  const paths = clusterPaths(lab);
  return agentCommand({
    klabJs,
    node: node.name,
    nodeIp: node.ip,
    kubeconfig: paths.nodeKubeconfig(node.name),
    dir: paths.nodeDir(node.name),
    netnsPrefix: `klab-${lab}-`,
    controlPlane,
    // The agent runs in the machine's mount namespace, where /etc/resolv.conf is the machine's.
    extraArgs: ['--resolv-conf', `/etc/netns/${netnsName(lab, node.name)}/resolv.conf`],
  });
}

/** kube-proxy's command line on one lab node: host network, the node's own credentials. */
export function proxyArgv(lab: string, node: { name: string; ip: string }): string[] {
  return [
    process.execPath,
    KLAB_JS,
    'proxy',
    '--node',
    node.name,
    '--kubeconfig',
    clusterPaths(lab).nodeKubeconfig(node.name),
    '--node-ip',
    node.ip,
  ];
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface NodeList {
  items: { metadata: { name: string }; status?: { conditions?: { type: string; status: string }[] } }[];
}

/** Names of the Ready nodes, as seen from inside `host`. */
async function readyNodes(
  provider: LabProvider,
  state: LabState,
  host: string,
  kubeconfig: string,
): Promise<string[]> {
  const [cmd, ...args] = provider.hostCommand(state, host, [
    'kubectl',
    '--kubeconfig',
    kubeconfig,
    'get',
    'nodes',
    '-o',
    'json',
  ]);
  const r = await execa(cmd as string, args, { reject: false, timeout: 10_000 });
  if (r.exitCode !== 0) return [];
  const list = JSON.parse(String(r.stdout)) as NodeList;
  return list.items
    .filter((n) => n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'))
    .map((n) => n.metadata.name);
}

async function applyAddons(
  provider: LabProvider,
  state: LabState,
  host: string,
  kubeconfig: string,
): Promise<void> {
  const [cmd, ...args] = provider.hostCommand(state, host, [
    'kubectl',
    '--kubeconfig',
    kubeconfig,
    'apply',
    '-f',
    '-',
  ]);
  const r = await execa(cmd as string, args, { reject: false, timeout: 60_000, input: addonsYaml() });
  if (r.exitCode !== 0) {
    throw new LabError('STEP_FAILED', `applying the cluster add-ons failed: ${String(r.stderr).trim()}`);
  }
}

async function until<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline)
      throw new LabError('STEP_FAILED', `timed out after ${timeoutMs / 1000} s waiting for ${what}`);
    await sleep(250);
  }
}

/** Starts the control plane and the agents; resolves once all nodes are Ready. */
export async function clusterUp(
  provider: LabProvider,
  state: LabState,
  log: (line: string) => void,
): Promise<void> {
  const started = performance.now();
  const elapsed = () => `${((performance.now() - started) / 1000).toFixed(2)} s`;
  const paths = clusterPaths(state.lab);
  const nodes = state.hosts.filter((h) => h.role === 'node');
  const first = nodes[0];
  if (!first) throw new LabError('STEP_FAILED', `lab "${state.lab}" has no nodes to run a cluster on`);
  await startProcess(
    provider,
    state.lab,
    first.name,
    'control',
    [
      process.execPath,
      KLAB_JS,
      'control',
      '--data-dir',
      paths.dataDir,
      '--listen',
      `0.0.0.0:${API_PORT}`,
      '--advertise-address',
      first.ip,
      '--node-monitor-grace-period',
      '40',
    ],
    { healthUrl: `https://127.0.0.1:${API_PORT}/healthz` },
  );
  await until('the API server', 60_000, async () => {
    if (!existsSync(paths.adminKubeconfig)) return undefined;
    const [cmd, ...args] = provider.hostCommand(state, first.name, [
      'kubectl',
      '--kubeconfig',
      paths.adminKubeconfig,
      'get',
      '--raw',
      '/readyz',
    ]);
    const r = await execa(cmd as string, args, { reject: false, timeout: 10_000 });
    return r.exitCode === 0 ? true : undefined;
  });
  log(`control plane on ${first.name} answers after ${elapsed()}`);
  // Applied while the nodes come up, as kubeadm applies its add-ons before any node joins.
  const addons = applyAddons(provider, state, first.name, paths.adminKubeconfig).then(() =>
    log(`add-ons applied (coredns, kube-dns ${DEFAULT_DNS_ADDON.dnsIP}) after ${elapsed()}`),
  );
  addons.catch(() => undefined);
  for (const node of nodes) {
    const r = await execa(
      process.execPath,
      [
        KLAB_JS,
        'control',
        'token',
        '--data-dir',
        paths.dataDir,
        '--node',
        node.name,
        '--out',
        paths.nodeKubeconfig(node.name),
      ],
      { reject: false },
    );
    if (r.exitCode !== 0)
      throw new LabError(
        'STEP_FAILED',
        `minting the token of ${node.name} failed: ${String(r.stderr).trim()}`,
      );
    await startProcess(provider, state.lab, node.name, 'agent', agentArgv(state.lab, node, node === first), {
      healthUrl: 'http://127.0.0.1:10248/healthz',
    });
    await startProcess(provider, state.lab, node.name, 'proxy', proxyArgv(state.lab, node), {
      healthUrl: 'http://127.0.0.1:10256/healthz',
    });
  }
  const want = nodes.map((n) => n.name);
  await until(`nodes ${want.join(', ')} to be Ready`, 90_000, async () => {
    const ready = await readyNodes(provider, state, first.name, paths.adminKubeconfig);
    return want.every((n) => ready.includes(n)) ? true : undefined;
  });
  await addons;
  await Promise.all(
    state.hosts.map((h) => setHostEnv(state.lab, h.name, { KUBECONFIG: paths.adminKubeconfig })),
  );
  log(`${nodes.length} nodes Ready after ${elapsed()}; KUBECONFIG=${paths.adminKubeconfig}`);
}

/** `pod/<namespace>/<name>` → the pod's sandbox namespace, looked up through the lab's API. */
export async function podNetns(provider: LabProvider, state: LabState, ref: string): Promise<string> {
  const match = /^pod\/([a-z0-9][a-z0-9.-]*)\/([a-z0-9][a-z0-9.-]*)$/.exec(ref);
  if (!match) {
    throw new LabError(
      'BAD_USAGE',
      `"${ref}" is not pod/<namespace>/<name>`,
      'e.g. klab lab exec pod/default/echo-abc -- ip addr',
    );
  }
  const [, namespace, name] = match as unknown as [string, string, string];
  const kubeconfig = clusterPaths(state.lab).adminKubeconfig;
  if (!existsSync(kubeconfig))
    throw new LabError('BAD_USAGE', `lab "${state.lab}" runs no cluster (up without --cluster?)`);
  const [cmd, ...args] = provider.hostCommand(state, 'ext', [
    'kubectl',
    '--kubeconfig',
    kubeconfig,
    '-n',
    namespace,
    'get',
    'pod',
    name,
    '-o',
    'jsonpath={.metadata.uid}',
  ]);
  const r = await execa(cmd as string, args, { reject: false, timeout: 15_000 });
  if (r.exitCode !== 0)
    throw new LabError('BAD_USAGE', `pod ${namespace}/${name}: ${String(r.stderr).trim()}`);
  const netns = sandboxName(`klab-${state.lab}-`, String(r.stdout).trim());
  if (!existsSync(`/run/netns/${netns}`)) {
    throw new LabError(
      'BAD_USAGE',
      `pod ${namespace}/${name} has no sandbox on this machine (hostNetwork, or not started yet)`,
    );
  }
  return netns;
}
