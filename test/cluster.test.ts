/**
 * Issue 5 end to end: `klab lab up --cluster` (control plane, node agents, CNI, host-gw routes)
 * and real kubectl from ext. One lab for the whole file, always taken down.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sandboxName } from '../agent/pod.js';
import { agentArgv } from '../lab/cluster.js';
import { netnsProvider } from '../lab/netns/provider.js';
import { startProcess } from '../lab/processes.js';
import { readState } from '../lab/state.js';
import { klab, KLAB_JS } from './support/klab-cli.js';
import { randomLabName } from './support/lab-name.js';
import { labDown, labKubectl, labUp } from './support/lab.js';
import { onLabHost, processAlive, run } from './support/netns.js';

const lab = randomLabName('c');
const echoYaml = readFileSync(new URL('../examples/echo.yaml', import.meta.url), 'utf8');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
let extEcho: ChildProcess | undefined;

const { kubectl, json } = labKubectl(lab);

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const start = Date.now();
  for (;;) {
    const v = await probe().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() - start > timeoutMs)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(500);
  }
}

type PodList = {
  items: {
    metadata: { name: string; uid: string };
    spec: { nodeName?: string };
    status: {
      podIP?: string;
      hostIP?: string;
      phase?: string;
      conditions?: { type: string; status: string }[];
      containerStatuses?: {
        restartCount: number;
        containerID?: string;
        ready: boolean;
        state: { waiting?: { reason: string; message: string } };
      }[];
    };
  }[];
};

const podExec = (name: string, argv: string[]) =>
  klab(['lab', 'exec', '--name', lab, `pod/default/${name}`, '--', ...argv], { timeoutMs: 60_000 });

const labNamespaces = async (kind: string) =>
  String((await run(['ip', 'netns', 'list'])).stdout)
    .split('\n')
    .map((l) => l.split(' ')[0] ?? '')
    .filter((n) => n.startsWith(`klab-${lab}-${kind}`));

beforeAll(async () => {
  await labUp(lab);
}, 260_000);

afterAll(async () => {
  if (extEcho && extEcho.exitCode === null) extEcho.kill('SIGKILL');
  await labDown(lab);
}, 120_000);

describe('klab lab up --cluster', () => {
  it('shows three Ready nodes with their LAN InternalIPs and pod CIDRs', async () => {
    const nodes = await json<{
      items: {
        metadata: { name: string };
        spec: { podCIDR?: string };
        status: {
          addresses: { type: string; address: string }[];
          conditions: { type: string; status: string }[];
        };
      }[];
    }>(['get', 'nodes']);
    const rows = nodes.items.map((n) => ({
      name: n.metadata.name,
      ip: n.status.addresses.find((a) => a.type === 'InternalIP')?.address,
      ready: n.status.conditions.find((c) => c.type === 'Ready')?.status,
      cidr: /^10\.244\.\d+\.0\/24$/.test(n.spec.podCIDR ?? ''),
    }));
    expect(rows.sort((a, b) => a.name.localeCompare(b.name))).toEqual([
      { name: 'node-1', ip: '192.168.56.11', ready: 'True', cidr: true },
      { name: 'node-2', ip: '192.168.56.12', ready: 'True', cidr: true },
      { name: 'node-3', ip: '192.168.56.13', ready: 'True', cidr: true },
    ]);
    const wide = await kubectl(['get', 'nodes', '-o', 'wide']);
    expect(wide.stdout).toContain('192.168.56.11');
  }, 60_000);

  it('runs 6 echo pods 2 per node; pods reach each other across nodes without NAT, and ext from the node IP', async () => {
    expect((await kubectl(['apply', '-f', '-'], echoYaml)).exitCode).toBe(0);
    const pods = await until(
      '6 Ready echo pods',
      async () => {
        const list = await json<PodList>(['get', 'pods', '-l', 'app=echo']);
        const ready = list.items.filter((p) =>
          p.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'),
        );
        return ready.length === 6 ? ready : undefined;
      },
      120_000,
    );
    const perNode = new Map<string, number>();
    for (const p of pods) perNode.set(p.spec.nodeName ?? '', (perNode.get(p.spec.nodeName ?? '') ?? 0) + 1);
    expect([...perNode.values()]).toEqual([2, 2, 2]);
    for (const caller of pods) {
      const target = pods.find((p) => p.spec.nodeName !== caller.spec.nodeName);
      const r = await podExec(caller.metadata.name, [
        'curl',
        '-s',
        '--max-time',
        '3',
        `http://${target?.status.podIP}:8080/`,
      ]);
      expect(r.exitCode).toBe(0);
      const reply = JSON.parse(r.stdout) as { hostname: string; client: { address: string } };
      expect(reply.hostname).toBe(target?.metadata.name);
      expect(reply.client.address).toBe(caller.status.podIP);
    }
    extEcho = spawn(
      'ip',
      [
        'netns',
        'exec',
        `klab-${lab}-ext`,
        process.execPath,
        KLAB_JS,
        'echo',
        '--port',
        '18080',
        '--tcp-port',
        '0',
        '--udp-port',
        '0',
      ],
      {
        stdio: 'ignore',
      },
    );
    const caller = pods[0]!;
    const reply = await until(
      'ext echo',
      async () => {
        const r = await podExec(caller.metadata.name, [
          'curl',
          '-s',
          '--max-time',
          '2',
          'http://192.168.56.2:18080/',
        ]);
        return r.exitCode === 0 ? (JSON.parse(r.stdout) as { client: { address: string } }) : undefined;
      },
      20_000,
    );
    expect(reply.client.address).toBe(caller.status.hostIP);
    extEcho.kill('SIGTERM');
  }, 200_000);

  it('kube-proxy on every node: the echo ClusterIP answers from pods on every node and reaches every endpoint', async () => {
    const svc = await json<{ spec: { clusterIP: string } }>(['get', 'service', 'echo']);
    const pods = (await json<PodList>(['get', 'pods', '-l', 'app=echo'])).items;
    const byNode = new Map(pods.map((p) => [p.spec.nodeName, p]));
    const seen = new Set<string>();
    for (const caller of byNode.values()) {
      // One exec per caller: a loaded machine spends seconds starting each `klab lab exec`.
      const r = await podExec(caller.metadata.name, [
        'sh',
        '-c',
        `for i in $(seq 12); do curl -s --max-time 3 http://${svc.spec.clusterIP}/ || exit 1; echo; done`,
      ]);
      expect(r.exitCode, r.stderr).toBe(0);
      const replies = r.stdout.split('\n').filter((l) => l.trim() !== '');
      expect(replies).toHaveLength(12);
      for (const line of replies) seen.add((JSON.parse(line) as { hostname: string }).hostname);
    }
    // 36 requests over 6 endpoints: each is missed with probability (5/6)^36 ≈ 0.14 %.
    expect(seen.size).toBe(6);
    const rules = await onLabHost(lab, 'node-2', ['iptables-save', '-t', 'nat']);
    expect(rules.stdout).toContain('-j KUBE-SVC-NPX46M4PTMTKRN6Y');
    expect(rules.stdout).toContain('"default/echo:http cluster IP"');
  }, 120_000);

  it('reports an unknown image as waiting with the reason', async () => {
    const pod = `{"apiVersion":"v1","kind":"Pod","metadata":{"name":"bad","namespace":"default"},"spec":{"containers":[{"name":"c","image":"nginx:1.27"}]}}`;
    expect((await kubectl(['apply', '-f', '-'], pod)).exitCode).toBe(0);
    const waiting = await until('bad waiting', async () => {
      const list = await json<PodList>(['get', 'pods', '--field-selector', 'metadata.name=bad']);
      return list.items[0]?.status.containerStatuses?.[0]?.state.waiting;
    });
    expect(waiting.reason).toBe('ErrImageNotKnown');
    expect(waiting.message).toContain('nginx:1.27');
    expect((await kubectl(['delete', 'pod', 'bad', '--wait=false'])).exitCode).toBe(0);
  }, 60_000);

  it('kill -9 and restart an agent while its pods serve: no pod restarts, no request fails', async () => {
    const before = (await json<PodList>(['get', 'pods', '-l', 'app=echo'])).items;
    const count = (node: string) => before.filter((p) => p.spec.nodeName === node).length;
    const victim = ['node-2', 'node-3', 'node-1'].sort((a, b) => count(b) - count(a))[0] as string;
    const served = before.filter((p) => p.spec.nodeName === victim);
    const caller = before.find((p) => p.spec.nodeName !== victim);
    if (!caller) throw new Error(`every echo pod runs on ${victim}`);
    const svc = await json<{ spec: { clusterIP: string } }>(['get', 'service', 'echo']);
    const urls = [...served.map((p) => `http://${p.status.podIP}:8080/`), `http://${svc.spec.clusterIP}/`];
    // The caller runs until the test drops a stop file, so it spans the kill, the restart and
    // the adoption however long the machine's load makes them.
    const dir = mkdtempSync(join(tmpdir(), 'klab-restart-'));
    const stop = join(dir, 'stop');
    const answers: string[] = [];
    const load = spawn(
      process.execPath,
      [
        KLAB_JS,
        'lab',
        'exec',
        '--name',
        lab,
        `pod/default/${caller.metadata.name}`,
        '--',
        'sh',
        '-c',
        `until [ -e ${stop} ]; do for u in ${urls.join(' ')}; do ` +
          `curl -s -o /dev/null -w '%{http_code} '"$u"'\\n' --max-time 3 "$u"; done; sleep 0.1; done`,
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    let partial = '';
    load.stdout.on('data', (chunk: Buffer) => {
      const lines = (partial + chunk.toString()).split('\n');
      partial = lines.pop() ?? '';
      answers.push(...lines);
    });
    const answered = (n: number) =>
      until(`${n} answers from the caller`, async () => (answers.length >= n ? true : undefined), 120_000);
    try {
      await answered(urls.length);
      const old = (await readState(lab))?.processes.find((p) => p.host === victim && p.component === 'agent');
      if (!old) throw new Error(`lab ${lab} has no agent on ${victim}`);
      process.kill(old.pid, 'SIGKILL');
      await until('the killed agent to be gone', async () => (processAlive(old.pid) ? undefined : true));
      const killedAt = answers.length;
      await answered(killedAt + urls.length);
      const ip = `192.168.56.${10 + Number(victim.slice('node-'.length))}`;
      await startProcess(
        netnsProvider,
        lab,
        victim,
        'agent',
        agentArgv(lab, { name: victim, ip }, victim === 'node-1', KLAB_JS),
        { ...(old.healthUrl ? { healthUrl: old.healthUrl } : {}) },
      );
      await until(
        'the restarted agent to be healthy',
        async () => {
          const r = await onLabHost(lab, victim, ['curl', '-s', 'http://127.0.0.1:10248/healthz']);
          return r.stdout === 'ok' ? true : undefined;
        },
        120_000,
      );
      await answered(answers.length + urls.length * 3);
    } finally {
      writeFileSync(stop, '');
      if (load.exitCode === null) await once(load, 'exit');
      rmSync(dir, { recursive: true, force: true });
    }
    expect(answers.filter((a) => !a.startsWith('200 '))).toEqual([]);
    const after = (await json<PodList>(['get', 'pods', '-l', 'app=echo'])).items;
    const view = (list: PodList['items']) =>
      list
        .map((p) => ({
          uid: p.metadata.uid,
          containerID: p.status.containerStatuses?.[0]?.containerID,
          restarts: p.status.containerStatuses?.[0]?.restartCount,
          ready: p.status.containerStatuses?.[0]?.ready,
        }))
        .sort((a, b) => a.uid.localeCompare(b.uid));
    expect(view(after)).toEqual(view(before));
  }, 400_000);

  it('deleting the Deployment removes every pod namespace, veth and address lease', async () => {
    expect((await kubectl(['delete', 'deployment', 'echo', '--wait=false'])).exitCode).toBe(0);
    await until(
      'all pods gone',
      async () => {
        const list = await json<PodList>(['get', 'pods']);
        return list.items.length === 0 ? true : undefined;
      },
      90_000,
    );
    // What stays are the pods of other namespaces (the DNS add-on in kube-system).
    const others = (
      await json<{ items: (PodList['items'][number] & { metadata: { uid: string } })[] }>([
        'get',
        'pods',
        '-A',
      ])
    ).items;
    const sandboxes = others.map((p) => sandboxName(`klab-${lab}-`, p.metadata.uid)).sort();
    await until(
      "the echo pods' namespaces gone",
      async () => {
        const left = (await labNamespaces('pod-')).sort();
        return JSON.stringify(left) === JSON.stringify(sandboxes) ? true : undefined;
      },
      60_000,
    );
    for (const node of ['node-1', 'node-2', 'node-3']) {
      const remaining = others.filter((p) => p.spec.nodeName === node);
      const links = await onLabHost(lab, node, ['ip', '-br', 'link', 'show', 'master', 'cni0']);
      expect(links.stdout.split('\n').filter((l) => l.trim() !== '')).toHaveLength(remaining.length);
      const leases = join(
        process.env.KLAB_STATE_DIR ?? '/run/klab',
        'labs',
        lab,
        'nodes',
        node,
        'agent',
        'ipam',
        'klab',
      );
      const files = existsSync(leases) ? readdirSync(leases).filter((f) => /^\d/.test(f)) : [];
      expect(files.sort()).toEqual(remaining.map((p) => p.status.podIP).sort());
    }
  }, 200_000);
});
