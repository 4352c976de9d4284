/**
 * The agent against a real `klab control`, both inside one throwaway "node" namespace
 * (`kagt-*`), so the bridge, NAT rules and routes never touch the host's namespace.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { KLAB_JS } from '../test/support/klab-cli.js';
import { agentCommand } from './command.js';
import { sandboxName } from './pod.js';
import { type ControlProcess, startControlProcess, stopChild } from '../test/support/control.js';
import { processAlive } from '../test/support/netns.js';

const id = Math.random().toString(16).slice(2, 8);
const NODE_NS = `kagt-${id}`;
const PREFIX = `kagt-${id}-`;
const NODE_IP = '192.168.77.11';
let dir: string;
let control: ControlProcess | undefined;
let agent: ChildProcess | undefined;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const inNode = (argv: string[], input?: string) =>
  execa('ip', ['netns', 'exec', NODE_NS, ...argv], { reject: false, input, timeout: 30_000 });
const kubectl = (args: string[], input?: string) =>
  inNode(['kubectl', '--kubeconfig', join(dir, 'admin.kubeconfig'), ...args], input);

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const start = Date.now();
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() - start > timeoutMs)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(200);
  }
}

async function getJson<T>(args: string[]): Promise<T | undefined> {
  const r = await kubectl([...args, '-o', 'json']);
  return r.exitCode === 0 ? (JSON.parse(String(r.stdout)) as T) : undefined;
}

function startAgent(): ChildProcess {
  const argv = agentCommand({
    klabJs: KLAB_JS,
    node: 'node-1',
    nodeIp: NODE_IP,
    kubeconfig: join(dir, 'node-1.kubeconfig'),
    dir,
    netnsPrefix: PREFIX,
    controlPlane: true,
    extraArgs: ['--lease-seconds', '2', '--healthz-port', '0', '--cni-check-period', '2'],
  });
  return spawn('ip', ['netns', 'exec', NODE_NS, ...argv], { stdio: ['ignore', 'ignore', 'inherit'] });
}

function killGroup(pid: number): void {
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // already gone
  }
}

type Pod = {
  metadata: { uid: string };
  status?: {
    phase?: string;
    podIP?: string;
    hostIP?: string;
    conditions?: { type: string; status: string }[];
    containerStatuses?: {
      ready: boolean;
      restartCount: number;
      containerID?: string;
      state: Record<string, { reason?: string; message?: string }>;
    }[];
  };
};

const podManifest = (name: string, image: string, extra = '') => `apiVersion: v1
kind: Pod
metadata: {name: ${name}, namespace: default}
spec:
  terminationGracePeriodSeconds: 2
  containers:
  - name: main
    image: ${image}
    ports: [{containerPort: 8080}]
${extra}`;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kagt-'));
  await execa('ip', ['netns', 'add', NODE_NS]);
  await execa('ip', ['-n', NODE_NS, 'link', 'set', 'lo', 'up']);
  await execa('ip', ['-n', NODE_NS, 'link', 'add', 'lan0', 'type', 'veth', 'peer', 'name', 'lan1']);
  await execa('ip', ['-n', NODE_NS, 'addr', 'add', `${NODE_IP}/24`, 'dev', 'lan0']);
  await execa('ip', ['-n', NODE_NS, 'link', 'set', 'lan0', 'up']);
  control = await startControlProcess({
    dataDir: dir,
    netns: NODE_NS,
    args: [
      '--listen',
      '127.0.0.1:0',
      '--advertise-address',
      '127.0.0.1',
      '--node-monitor-grace-period',
      '10',
    ],
    ready: async () => (await kubectl(['get', 'svc', 'kubernetes'])).exitCode === 0,
  });
  const token = await execa(process.execPath, [
    KLAB_JS,
    'control',
    'token',
    '--data-dir',
    dir,
    '--node',
    'node-1',
    '--out',
    join(dir, 'node-1.kubeconfig'),
  ]);
  expect(token.exitCode).toBe(0);
  agent = startAgent();
}, 90_000);

afterAll(async () => {
  await stopChild(agent);
  // Pods outlive the agent by design; stop what this test's agent started.
  const podsDir = dir ? join(dir, 'agent', 'pods') : '';
  if (podsDir && existsSync(podsDir)) {
    for (const f of readdirSync(podsDir).filter((n) => n.endsWith('.json'))) {
      const rt = JSON.parse(readFileSync(join(podsDir, f), 'utf8')) as { containers: { pid?: number }[] };
      for (const c of rt.containers) if (c.pid) killGroup(c.pid);
    }
  }
  await control?.stop();
  const list = await execa('ip', ['netns', 'list'], { reject: false });
  for (const line of String(list.stdout).split('\n')) {
    const name = line.split(' ')[0] ?? '';
    if (name.startsWith(PREFIX)) await execa('ip', ['netns', 'delete', name], { reject: false });
    if (name.startsWith(PREFIX)) await rm(`/etc/netns/${name}`, { recursive: true, force: true });
  }
  await execa('ip', ['netns', 'delete', NODE_NS], { reject: false });
  if (dir) await rm(dir, { recursive: true, force: true });
}, 60_000);

describe('klab agent', () => {
  it('registers a Ready Node with its InternalIP, labels and node info, and renews its Lease', async () => {
    const node = await until('node-1 Ready with a pod CIDR', async () => {
      const n = await getJson<{
        spec: { podCIDR?: string };
        metadata: { labels: Record<string, string> };
        status: {
          addresses: { type: string; address: string }[];
          conditions?: { type: string; status: string }[];
          nodeInfo: Record<string, string>;
          capacity: Record<string, string>;
        };
      }>(['get', 'node', 'node-1']);
      const ready = n?.status.conditions?.find((c) => c.type === 'Ready')?.status === 'True';
      return n && ready && n.spec.podCIDR ? n : undefined;
    });
    expect(node.status.addresses).toContainEqual({ type: 'InternalIP', address: NODE_IP });
    expect(node.metadata.labels).toMatchObject({
      'kubernetes.io/hostname': 'node-1',
      'kubernetes.io/os': 'linux',
      'node-role.kubernetes.io/control-plane': '',
    });
    expect(node.status.nodeInfo.kubeletVersion).toBe('v1.32.0-klab');
    expect(node.status.capacity.pods).toBe('110');
    const first = await getJson<{ spec: { renewTime: string } }>([
      '-n',
      'kube-node-lease',
      'get',
      'lease',
      'node-1',
    ]);
    await sleep(2500);
    const second = await getJson<{ spec: { renewTime: string } }>([
      '-n',
      'kube-node-lease',
      'get',
      'lease',
      'node-1',
    ]);
    expect(second?.spec.renewTime).not.toBe(first?.spec.renewTime);
  }, 60_000);

  it('runs klab/echo in its own sandbox: Running, Ready, pod IP from the node CIDR, reachable, cluster resolv.conf', async () => {
    expect((await kubectl(['apply', '-f', '-'], podManifest('echo-a', 'klab/echo'))).exitCode).toBe(0);
    const pod = await until('echo-a Ready', async () => {
      const p = await getJson<Pod>(['get', 'pod', 'echo-a']);
      return p?.status?.conditions?.find((c) => c.type === 'Ready')?.status === 'True' ? p : undefined;
    });
    expect(pod.status?.phase).toBe('Running');
    expect(pod.status?.hostIP).toBe(NODE_IP);
    expect(pod.status?.podIP).toMatch(/^10\.244\.\d+\.\d+$/);
    const answer = await until('echo-a answers', async () => {
      const r = await inNode(['curl', '-s', '--max-time', '2', `http://${pod.status?.podIP}:8080/`]);
      return r.exitCode === 0
        ? (JSON.parse(String(r.stdout)) as { hostname: string; node: string })
        : undefined;
    });
    expect(answer).toMatchObject({ hostname: 'echo-a', node: 'node-1' });
    const netns = readdirNetns().find((n) => n.startsWith(`${PREFIX}pod-`));
    expect(netns).toBeDefined();
    expect(readFileSync(`/etc/netns/${netns}/resolv.conf`, 'utf8')).toBe(
      'search default.svc.cluster.local svc.cluster.local cluster.local\nnameserver 10.96.0.10\noptions ndots:5\n',
    );
  }, 60_000);

  it('reports an unknown image as waiting with ErrImageNotKnown, not Running', async () => {
    expect((await kubectl(['apply', '-f', '-'], podManifest('bad-image', 'nginx:1.27'))).exitCode).toBe(0);
    const pod = await until('bad-image reported', async () => {
      const p = await getJson<Pod>(['get', 'pod', 'bad-image']);
      return p?.status?.containerStatuses?.[0]?.state.waiting ? p : undefined;
    });
    expect(pod.status?.phase).toBe('Pending');
    expect(pod.status?.containerStatuses?.[0]?.state.waiting?.reason).toBe('ErrImageNotKnown');
    expect(pod.status?.containerStatuses?.[0]?.state.waiting?.message).toContain('nginx:1.27');
  }, 60_000);

  it('adopts running pods across an agent restart instead of restarting them, and GCs leases nobody owns', async () => {
    const before = await getJson<Pod>(['get', 'pod', 'echo-a']);
    await stopChild(agent);
    // A lease whose owner the agent has no state for, as if lost with a state folder.
    const leases = join(dir, 'agent', 'ipam', 'klab');
    const ownLease = readdirSync(leases).find((f) => f === before?.status?.podIP);
    expect(ownLease).toBeDefined();
    const planted = join(leases, `${before?.status?.podIP?.split('.').slice(0, 3).join('.')}.250`);
    writeFileSync(planted, 'gone-container\r\neth0');
    agent = startAgent();
    await until('the planted lease released by CNI GC', async () => (existsSync(planted) ? undefined : true));
    expect(existsSync(join(leases, ownLease as string))).toBe(true);
    // Two CHECK periods: a sound sandbox passes its CHECK and nothing restarts.
    await sleep(4500);
    const after = await getJson<Pod>(['get', 'pod', 'echo-a']);
    expect(after?.status?.containerStatuses?.[0]?.containerID).toBe(
      before?.status?.containerStatuses?.[0]?.containerID,
    );
    expect(after?.status?.containerStatuses?.[0]?.restartCount).toBe(0);
    const r = await inNode(['curl', '-s', '--max-time', '2', `http://${after?.status?.podIP}:8080/`]);
    expect(r.exitCode).toBe(0);
  }, 60_000);

  it('re-creates a sandbox whose network CNI CHECK finds broken, and the pod serves again', async () => {
    const before = await getJson<Pod>(['get', 'pod', 'echo-a']);
    const netns = sandboxName(PREFIX, before?.metadata.uid ?? '');
    // The pod loses its address: only CHECK can tell, the container itself runs on.
    expect((await execa('ip', ['-n', netns, 'addr', 'flush', 'dev', 'eth0'])).exitCode).toBe(0);
    const pod = await until(
      'echo-a restarted in a new sandbox and Ready',
      async () => {
        const p = await getJson<Pod>(['get', 'pod', 'echo-a']);
        const c = p?.status?.containerStatuses?.[0];
        return c && c.restartCount >= 1 && c.ready ? p : undefined;
      },
      45_000,
    );
    expect(pod.status?.containerStatuses?.[0]?.containerID).not.toBe(
      before?.status?.containerStatuses?.[0]?.containerID,
    );
    const answer = await until('echo-a answers again', async () => {
      const r = await inNode(['curl', '-s', '--max-time', '2', `http://${pod.status?.podIP}:8080/`]);
      return r.exitCode === 0 ? (JSON.parse(String(r.stdout)) as { hostname: string }) : undefined;
    });
    expect(answer.hostname).toBe('echo-a');
    const events = await getJson<{
      items: { type: string; reason: string; message: string; involvedObject: { name: string } }[];
    }>(['get', 'events']);
    const seen = (events?.items ?? [])
      .filter((e) => e.involvedObject.name === 'echo-a')
      .map((e) => `${e.type} ${e.reason}: ${e.message}`);
    expect(seen).toContain('Normal SandboxChanged: Pod sandbox changed, it will be killed and re-created.');
    expect(seen).toContain('Normal Killing: Stopping container main');
  }, 90_000);

  it('routes other nodes’ pod CIDRs via their InternalIP', async () => {
    const other = `{"apiVersion":"v1","kind":"Node","metadata":{"name":"node-2"},"spec":{"podCIDR":"10.244.9.0/24"}}`;
    expect((await kubectl(['create', '-f', '-'], other)).exitCode).toBe(0);
    const patch = JSON.stringify({
      status: { addresses: [{ type: 'InternalIP', address: '192.168.77.12' }] },
    });
    expect(
      (await kubectl(['patch', 'node', 'node-2', '--subresource', 'status', '--type', 'merge', '-p', patch]))
        .exitCode,
    ).toBe(0);
    const cidr = (await getJson<{ spec: { podCIDR: string } }>(['get', 'node', 'node-2']))?.spec.podCIDR;
    await until('route to node-2', async () => {
      const r = await inNode(['ip', 'route', 'show', 'proto', '75']);
      return String(r.stdout).includes(`${cidr} via 192.168.77.12`) ? true : undefined;
    });
    expect((await kubectl(['delete', 'node', 'node-2'])).exitCode).toBe(0);
    await until('route to node-2 removed', async () => {
      const r = await inNode(['ip', 'route', 'show', 'proto', '75']);
      return String(r.stdout).trim() === '' ? true : undefined;
    });
  }, 60_000);

  it('builds the environment from a ConfigMap, a Secret, fieldRefs and service links; waits while the ConfigMap is missing', async () => {
    const out = join(dir, 'env-a.out');
    const manifest = `apiVersion: v1
kind: Pod
metadata: {name: env-a, namespace: default}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: main
    image: host
    command: [sh, -c, 'echo "$GREETING|$PASSWORD|$MY_IP|$KUBERNETES_SERVICE_HOST|$(GREETING)-x" > $(OUT); exec sleep 600']
    env:
    - {name: OUT, value: ${out}}
    - {name: GREETING, valueFrom: {configMapKeyRef: {name: env-cfg, key: greeting}}}
    - {name: PASSWORD, valueFrom: {secretKeyRef: {name: env-secret, key: password}}}
    - {name: MY_IP, valueFrom: {fieldRef: {fieldPath: status.podIP}}}
`;
    expect((await kubectl(['apply', '-f', '-'], manifest)).exitCode).toBe(0);
    const waiting = await until('env-a waiting for its ConfigMap', async () => {
      const p = await getJson<Pod>(['get', 'pod', 'env-a']);
      return p?.status?.containerStatuses?.[0]?.state.waiting;
    });
    expect(waiting).toEqual({
      reason: 'CreateContainerConfigError',
      message: 'configmaps "env-cfg" not found',
    });
    expect(
      (await kubectl(['create', 'secret', 'generic', 'env-secret', '--from-literal=password=s3cret']))
        .exitCode,
    ).toBe(0);
    expect(
      (await kubectl(['create', 'configmap', 'env-cfg', '--from-literal=greeting=hello'])).exitCode,
    ).toBe(0);
    const written = await until('env-a wrote its environment', async () =>
      existsSync(out) && readFileSync(out, 'utf8').endsWith('\n') ? readFileSync(out, 'utf8') : undefined,
    );
    const pod = await getJson<Pod>(['get', 'pod', 'env-a']);
    expect(written).toBe(`hello|s3cret|${pod?.status?.podIP}|10.96.0.1|hello-x\n`);
    expect((await kubectl(['delete', 'pod', 'env-a', '--wait=false'])).exitCode).toBe(0);
  }, 90_000);

  it('gates on a startup probe, then restarts the container when its liveness probe fails', async () => {
    const live = join(dir, 'live');
    const started = join(dir, 'started');
    const manifest = `apiVersion: v1
kind: Pod
metadata: {name: probed, namespace: default}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: main
    image: host
    command: [sh, -c, 'touch ${live}; exec sleep 600']
    startupProbe: {exec: {command: [test, -e, ${started}]}, periodSeconds: 1, failureThreshold: 120}
    livenessProbe: {exec: {command: [test, -e, ${live}]}, periodSeconds: 1, failureThreshold: 2}
`;
    type Status = {
      ready: boolean;
      started: boolean;
      restartCount: number;
      lastState: { terminated?: object };
    };
    const status = async () =>
      (await getJson<{ status?: { containerStatuses?: Status[] } }>(['get', 'pod', 'probed']))?.status
        ?.containerStatuses?.[0];
    expect((await kubectl(['apply', '-f', '-'], manifest)).exitCode).toBe(0);
    await until('probed running', async () => ((await status())?.restartCount === 0 ? true : undefined));
    await sleep(3000);
    expect(await status()).toMatchObject({ ready: false, started: false, restartCount: 0 });
    writeFileSync(started, '');
    await until('probed started and Ready', async () => {
      const s = await status();
      return s?.ready && s.started ? true : undefined;
    });
    await rm(live, { force: true });
    const restarted = await until(
      'probed restarted by its liveness probe',
      async () => {
        const s = await status();
        return s && s.restartCount >= 1 && s.ready ? s : undefined;
      },
      60_000,
    );
    expect(restarted.lastState.terminated).toBeDefined();
    const events = await getJson<{
      items: { reason: string; message: string; involvedObject: { name: string } }[];
    }>(['get', 'events']);
    const seen = (events?.items ?? [])
      .filter((e) => e.involvedObject.name === 'probed')
      .map((e) => `${e.reason}: ${e.message}`);
    expect(seen).toContain('Killing: Container main failed liveness probe, will be restarted');
    expect(seen.some((e) => e.startsWith('Unhealthy: Liveness probe failed'))).toBe(true);
    expect(seen.some((e) => e.startsWith('Unhealthy: Startup probe failed'))).toBe(true);
    expect((await kubectl(['delete', 'pod', 'probed', '--wait=false'])).exitCode).toBe(0);
  }, 120_000);

  it('reports a failing CNI ADD as FailedCreatePodSandBox, backs off, and starts the pod once the cause is gone', async () => {
    const running = await getJson<Pod>(['get', 'pod', 'echo-a']);
    const bridgePorts = async () =>
      String((await inNode(['ip', '-br', 'link', 'show', 'master', 'cni0'])).stdout)
        .trim()
        .split('\n')
        .filter(Boolean).length;
    const portsBefore = await bridgePorts();
    const sandboxesBefore = readdirNetns().filter((n) => n.startsWith(`${PREFIX}pod-`)).length;
    const net = running?.status?.podIP?.split('.').slice(0, 3).join('.');
    const leases = join(dir, 'agent', 'ipam', 'klab');
    // Every free address of the node's range taken, as by sandboxes the agent does not know.
    const planted: string[] = [];
    for (let host = 2; host <= 254; host++) {
      const file = join(leases, `${net}.${host}`);
      if (existsSync(file)) continue;
      writeFileSync(file, `planted-${host}\r\neth0`);
      planted.push(file);
    }
    // Gone before the next test, which expects no pods, also when this one fails.
    onTestFinished(async () => {
      await kubectl(['delete', 'pod', 'no-ip', '--ignore-not-found']);
    });
    try {
      expect((await kubectl(['apply', '-f', '-'], podManifest('no-ip', 'klab/echo'))).exitCode).toBe(0);
      const failures = await until('a FailedCreatePodSandBox event for no-ip', async () => {
        const events = await getJson<{
          items: { type: string; reason: string; message: string; involvedObject: { name: string } }[];
        }>(['get', 'events', '--field-selector', 'involvedObject.name=no-ip']);
        const found = (events?.items ?? []).filter((e) => e.reason === 'FailedCreatePodSandBox');
        return found.length > 0 ? found : undefined;
      });
      expect(failures[0]?.type).toBe('Warning');
      expect(failures[0]?.message).toMatch(
        /^Failed to create pod sandbox: .*no IP addresses available in range set/,
      );
      const pending = await getJson<Pod>(['get', 'pod', 'no-ip']);
      expect(pending?.status?.phase ?? 'Pending').toBe('Pending');
      expect(pending?.status?.podIP).toBeUndefined();
    } finally {
      for (const file of planted) await rm(file, { force: true });
    }
    const pod = await until(
      'no-ip Running after the back-off',
      async () => {
        const p = await getJson<Pod>(['get', 'pod', 'no-ip']);
        return p?.status?.phase === 'Running' && p.status.podIP ? p : undefined;
      },
      30_000,
    );
    expect(pod.status?.podIP?.startsWith(`${net}.`)).toBe(true);
    const r = await until('no-ip answers', async () => {
      const answer = await inNode(['curl', '-s', '--max-time', '2', `http://${pod.status?.podIP}:8080/`]);
      return answer.exitCode === 0 ? answer : undefined;
    });
    expect(JSON.parse(String(r.stdout))).toMatchObject({ hostname: 'no-ip' });
    // The failed attempts left nothing behind: one sandbox and one veth more than before.
    expect(await bridgePorts()).toBe(portsBefore + 1);
    expect(readdirNetns().filter((n) => n.startsWith(`${PREFIX}pod-`))).toHaveLength(sandboxesBefore + 1);
  }, 90_000);

  it('deletes gracefully: processes stopped, sandbox, veth and lease gone, then the pod object', async () => {
    const before = await getJson<Pod>(['get', 'pod', 'echo-a']);
    const pid = Number(before?.status?.containerStatuses?.[0]?.containerID?.split('/').pop());
    expect(pid).toBeGreaterThan(0);
    expect((await kubectl(['delete', 'pod', 'echo-a', 'bad-image', '--wait=false'])).exitCode).toBe(0);
    await until('pods gone', async () => {
      const r = await kubectl(['get', 'pods', '-o', 'name']);
      return String(r.stdout).trim() === '' ? true : undefined;
    });
    expect(readdirNetns().filter((n) => n.startsWith(`${PREFIX}pod-`))).toEqual([]);
    const veths = await inNode(['ip', '-br', 'link', 'show', 'master', 'cni0']);
    expect(String(veths.stdout).trim()).toBe('');
    // Exited: an adopted process's zombie waits for the machine's reaper, not for the agent.
    expect(processAlive(pid)).toBe(false);
    const leases = join(dir, 'agent', 'ipam', 'klab');
    const files = existsSync(leases) ? readdirSync(leases).filter((f) => /^\d/.test(f)) : [];
    expect(files).toEqual([]);
  }, 60_000);
});

function readdirNetns(): string[] {
  return existsSync('/run/netns') ? readdirSync('/run/netns') : [];
}
