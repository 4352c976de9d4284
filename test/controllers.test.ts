/**
 * Acceptance for the controllers and scheduler (issue 4): `klab control` alone, with the test
 * standing in for the node agents — it creates Nodes and renews their Leases, and reports pod
 * status through the status subresource as a kubelet would.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiError, KubeClient, type KubeObject } from '../kube/client.js';
import { loadKubeconfig } from '../kube/kubeconfig.js';
import { type ControlProcess, startControlProcess } from './support/control.js';

let dir: string;
let server: ControlProcess | undefined;
let client: KubeClient;
const kubeconfig = () => join(dir, 'admin.kubeconfig');
const NODES = ['node-1', 'node-2', 'node-3'];
const alive = new Set(NODES);
const notReady = new Set<string>();
let agentTimer: NodeJS.Timeout | undefined;

async function startControl(): Promise<void> {
  server = await startControlProcess({
    dataDir: dir,
    args: [
      '--listen',
      '127.0.0.1:0',
      '--advertise-address',
      '127.0.0.1',
      '--node-monitor-grace-period',
      // Leases carry whole seconds and the stand-in kubelet shares two busy cores with labs:
      // a shorter grace period flaps healthy nodes.
      '6',
      '--pod-eviction-timeout',
      '600',
    ],
    ready: async () => {
      // A half-written kubeconfig or a server still starting throws, which means "not yet".
      const next = new KubeClient(loadKubeconfig(kubeconfig()));
      try {
        await next.get('/api/v1/namespaces/default/services/kubernetes');
      } catch (error) {
        next.close();
        throw error;
      }
      client?.close();
      client = next;
      return true;
    },
  });
}

async function stopControl(): Promise<void> {
  const control = server;
  server = undefined;
  await control?.stop();
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function kubectl(args: string[], input?: string) {
  return execa('kubectl', ['--kubeconfig', kubeconfig(), ...args], { reject: false, input });
}

async function until<T>(
  what: string,
  probe: () => Promise<T | undefined | false>,
  timeoutMs = 10_000,
): Promise<T> {
  const start = Date.now();
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() - start > timeoutMs)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(100);
  }
}

const stamp = () => new Date().toISOString().replace(/\.\d{3}Z$/, '.000000Z');

/** One pass of a stand-in kubelet for every live node: leases, pod IPs, readiness, deletion. */
async function agentPass(): Promise<void> {
  for (const node of alive) {
    const path = `/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/${node}`;
    await client.patch(path, { spec: { renewTime: stamp() } }).catch(async (e: unknown) => {
      if (!(e instanceof ApiError && e.status === 404)) throw e;
      await client.create('/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases', {
        metadata: { name: node },
        spec: { holderIdentity: node, leaseDurationSeconds: 40, renewTime: stamp() },
      });
    });
  }
  const pods = await client.list<KubeObject>('/api/v1/pods');
  let ip = 10;
  for (const pod of pods.items) {
    const spec = pod.spec as { nodeName?: string };
    const name = pod.metadata!.name!;
    const ns = pod.metadata!.namespace!;
    const path = `/api/v1/namespaces/${ns}/pods/${name}`;
    ip++;
    if (!spec.nodeName || !alive.has(spec.nodeName)) continue;
    if (pod.metadata?.deletionTimestamp) {
      await client.delete(path, { gracePeriodSeconds: 0 }).catch(() => undefined);
      continue;
    }
    const status = (pod.status ?? {}) as { podIP?: string; conditions?: { type: string; status: string }[] };
    const ready = !notReady.has(name);
    const isReady = status.conditions?.find((c) => c.type === 'Ready')?.status === 'True';
    if (status.podIP && isReady === ready) continue;
    const nodeIndex = NODES.indexOf(spec.nodeName);
    const podIP = status.podIP ?? `10.244.${nodeIndex}.${(ip % 250) + 2}`;
    const flag = ready ? 'True' : 'False';
    await client
      .patch(`${path}/status`, {
        status: {
          phase: 'Running',
          podIP,
          podIPs: [{ ip: podIP }],
          conditions: [
            { type: 'Initialized', status: 'True' },
            { type: 'ContainersReady', status: flag },
            { type: 'Ready', status: flag, lastTransitionTime: stamp().replace('.000000', '') },
            { type: 'PodScheduled', status: 'True' },
          ],
        },
      })
      .catch(() => undefined);
  }
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'klab-controllers-'));
  await startControl();
  for (const [i, name] of NODES.entries()) {
    await client.create('/api/v1/nodes', {
      metadata: { name, labels: { 'kubernetes.io/hostname': name } },
      status: {
        capacity: { cpu: '2', memory: '4Gi', pods: '110' },
        allocatable: { cpu: '2', memory: '4Gi', pods: '110' },
        conditions: [
          {
            type: 'Ready',
            status: 'True',
            reason: 'KubeletReady',
            message: 'kubelet is posting ready status',
          },
        ],
        addresses: [{ type: 'InternalIP', address: `192.168.56.1${i + 1}` }],
      },
    });
  }
  let running = false;
  agentTimer = setInterval(() => {
    if (running || server === undefined) return;
    running = true;
    agentPass()
      .catch(() => undefined)
      .finally(() => (running = false));
  }, 150);
}, 60_000);

afterAll(async () => {
  clearInterval(agentTimer);
  await stopControl();
  client?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('node IPAM', () => {
  it('gives every node a pod CIDR', async () => {
    const cidrs = await until('pod CIDRs', async () => {
      const nodes = await client.list<KubeObject>('/api/v1/nodes');
      const got = nodes.items.map((n) => (n.spec as { podCIDR?: string } | undefined)?.podCIDR);
      return got.every(Boolean) && got.length === 3 ? got : undefined;
    });
    expect(new Set(cidrs).size).toBe(3);
    for (const c of cidrs) expect(c).toMatch(/^10\.244\.\d+\.0\/24$/);
  });
});

describe('service addresses and ports', () => {
  it('gives 1000 Services unique ClusterIPs and NodePorts, across a restart', async () => {
    const make = (i: number) => ({
      metadata: { name: `s${i}` },
      spec: { type: 'NodePort', selector: { app: `s${i}` }, ports: [{ port: 80 }] },
    });
    // A create whose connection broke may or may not have landed: resend, and accept 409.
    const create = async (i: number): Promise<void> => {
      for (let attempt = 0; ; attempt++) {
        try {
          await client.create('/api/v1/namespaces/default/services', make(i));
          return;
        } catch (e) {
          if (e instanceof ApiError && e.status === 409) return;
          if (attempt >= 3 || (e as NodeJS.ErrnoException).code !== 'ECONNRESET') throw e;
        }
      }
    };
    const createRange = async (from: number, to: number) => {
      for (let i = from; i < to; i += 10) {
        await Promise.all(Array.from({ length: Math.min(10, to - i) }, (_, k) => create(i + k)));
      }
    };
    await createRange(0, 500);
    await stopControl();
    await startControl();
    await createRange(500, 1000);
    const list = await client.list<KubeObject>('/api/v1/namespaces/default/services');
    const mine = list.items.filter((s) => /^s\d+$/.test(s.metadata!.name!));
    expect(mine).toHaveLength(1000);
    const ips = mine.map((s) => (s.spec as { clusterIP: string }).clusterIP);
    const ports = mine.map((s) => (s.spec as { ports: { nodePort: number }[] }).ports[0]!.nodePort);
    expect(new Set([...ips, '10.96.0.1']).size).toBe(1001);
    for (const ip of ips) expect(ip).toMatch(/^10\.(9[6-9]|10\d|11[01])\.\d+\.\d+$/);
    expect(new Set(ports).size).toBe(1000);
    for (const p of ports) expect(p >= 30000 && p <= 32767).toBe(true);
    await Promise.all(
      mine.map((s) => client.delete(`/api/v1/namespaces/default/services/${s.metadata!.name}`)),
    );
  }, 180_000);

  it('gives headless Services no address and refuses taken or out-of-range requests with a 422', async () => {
    const headless = await client.create<KubeObject>('/api/v1/namespaces/default/services', {
      metadata: { name: 'headless' },
      spec: { clusterIP: 'None', selector: { app: 'x' }, ports: [{ port: 80 }] },
    });
    expect((headless.spec as { clusterIPs: string[] }).clusterIPs).toEqual(['None']);
    const taken = await kubectl(
      ['apply', '-f', '-'],
      `apiVersion: v1
kind: Service
metadata: {name: dup}
spec:
  clusterIP: 10.96.0.1
  ports: [{port: 80}]
`,
    );
    expect(taken.exitCode).not.toBe(0);
    expect(taken.stderr).toContain(
      'spec.clusterIPs: Invalid value: ["10.96.0.1"]: failed to allocate IP 10.96.0.1: provided IP is already allocated',
    );
    const port = await kubectl(
      ['apply', '-f', '-'],
      `apiVersion: v1
kind: Service
metadata: {name: far}
spec:
  type: NodePort
  ports: [{port: 80, nodePort: 40000}]
`,
    );
    expect(port.stderr).toContain(
      'spec.ports[0].nodePort: Invalid value: 40000: provided port is not in the valid range',
    );
    expect((await kubectl(['get', 'svc', 'dup', 'far'])).exitCode).not.toBe(0);
  });
});

describe('LoadBalancer addresses', () => {
  it('assigns from the pool, honours annotations, frees on deletion, and leaves an exhausted request pending', async () => {
    const pool = await kubectl(
      ['apply', '-f', '-'],
      `apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata: {name: lab, namespace: default}
spec:
  addresses: [192.168.56.200-192.168.56.201]
`,
    );
    expect(pool.exitCode, pool.stderr).toBe(0);
    const lb = (name: string, annotations = '{}') => `apiVersion: v1
kind: Service
metadata: {name: ${name}, annotations: ${annotations}}
spec:
  type: LoadBalancer
  selector: {app: ${name}}
  ports: [{port: 80}]
`;
    const ingressOf = async (name: string) => {
      const s = await client.get<KubeObject>(`/api/v1/namespaces/default/services/${name}`);
      return (s.status as { loadBalancer?: { ingress?: { ip: string }[] } }).loadBalancer?.ingress?.[0]?.ip;
    };
    await kubectl(['apply', '-f', '-'], lb('lb-b', '{metallb.universe.tf/loadBalancerIPs: 192.168.56.201}'));
    expect(await until('lb-b address', () => ingressOf('lb-b'))).toBe('192.168.56.201');
    await kubectl(['apply', '-f', '-'], lb('lb-a'));
    expect(await until('lb-a address', () => ingressOf('lb-a'))).toBe('192.168.56.200');
    await kubectl(['apply', '-f', '-'], lb('lb-c'));
    const event = await until('AllocationFailed event', async () => {
      const r = await kubectl([
        'get',
        'events',
        '--field-selector',
        'involvedObject.name=lb-c',
        '-o',
        'jsonpath={.items[*].reason}',
      ]);
      return r.stdout.includes('AllocationFailed') ? r.stdout : undefined;
    });
    expect(event).toContain('AllocationFailed');
    expect((await kubectl(['get', 'svc', 'lb-c'])).stdout).toContain('<pending>');
    await kubectl(['delete', 'svc', 'lb-a']);
    expect(await until('lb-c gets the freed address', () => ingressOf('lb-c'))).toBe('192.168.56.200');
    await kubectl(['delete', 'svc', 'lb-b', 'lb-c']);
  });
});

const podsOf = async (selector: string) =>
  (await client.list<KubeObject>('/api/v1/namespaces/default/pods', { labelSelector: selector })).items;

describe('Deployments, scheduling and EndpointSlices', () => {
  const manifest = (image: string, replicas: number) => `apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: ${replicas}
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: web
        image: ${image}
        ports: [{containerPort: 8080, name: http}]
---
apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  selector: {app: web}
  ports: [{name: http, port: 80, targetPort: http}]
`;

  it('spreads 6 replicas 2/2/2 and rolls out scaling and image changes', async () => {
    expect((await kubectl(['apply', '-f', '-'], manifest('klab/echo', 6))).exitCode).toBe(0);
    const status = await kubectl(['rollout', 'status', 'deploy/web', '--timeout=30s']);
    expect(status.stdout, status.stderr).toContain('successfully rolled out');
    const perNode = new Map<string, number>();
    for (const p of await podsOf('app=web')) {
      const node = (p.spec as { nodeName: string }).nodeName;
      perNode.set(node, (perNode.get(node) ?? 0) + 1);
    }
    expect([...perNode.values()]).toEqual([2, 2, 2]);
    for (const n of [9, 2]) {
      expect((await kubectl(['scale', 'deploy/web', `--replicas=${n}`])).exitCode).toBe(0);
      await kubectl(['rollout', 'status', 'deploy/web', '--timeout=30s']);
      await until(
        `${n} pods`,
        async () => (await podsOf('app=web')).filter((p) => !p.metadata?.deletionTimestamp).length === n,
      );
    }
    expect((await kubectl(['set', 'image', 'deploy/web', 'web=klab/dns'])).exitCode).toBe(0);
    const rolled = await kubectl(['rollout', 'status', 'deploy/web', '--timeout=30s']);
    expect(rolled.stdout).toContain('successfully rolled out');
    const images = async () =>
      new Set(
        (await podsOf('app=web'))
          .filter((p) => !p.metadata?.deletionTimestamp)
          .map((p) => (p.spec as { containers: { image: string }[] }).containers[0]!.image),
      );
    await until('only new pods', async () => (await images()).size === 1 && (await images()).has('klab/dns'));
    expect((await kubectl(['rollout', 'undo', 'deploy/web'])).exitCode).toBe(0);
    await kubectl(['rollout', 'status', 'deploy/web', '--timeout=30s']);
    await until(
      'back to klab/echo',
      async () => (await images()).size === 1 && (await images()).has('klab/echo'),
    );
    const events = await kubectl(['describe', 'deploy', 'web']);
    expect(events.stdout).toContain('ScalingReplicaSet');
  }, 120_000);

  it('keeps EndpointSlices in step with readiness, deletion and labels within a second', async () => {
    const slice = async () => {
      const list = await client.list<KubeObject>(
        '/apis/discovery.k8s.io/v1/namespaces/default/endpointslices',
        {
          labelSelector: 'kubernetes.io/service-name=web',
        },
      );
      return list.items.flatMap(
        (s) => (s.endpoints as { targetRef: { name: string }; conditions: Record<string, boolean> }[]) ?? [],
      );
    };
    const pods = (await podsOf('app=web')).filter((p) => !p.metadata?.deletionTimestamp);
    expect(pods).toHaveLength(2);
    const [first, second] = pods.map((p) => p.metadata!.name!) as [string, string];
    const sliceWith = async (name: string) => (await slice()).find((e) => e.targetRef.name === name);
    await until('both ready', async () => (await slice()).filter((e) => e.conditions.ready).length === 2);
    const ports = await client.list<KubeObject>(
      '/apis/discovery.k8s.io/v1/namespaces/default/endpointslices',
      {
        labelSelector: 'kubernetes.io/service-name=web',
      },
    );
    expect(ports.items[0]?.ports).toEqual([{ name: 'http', protocol: 'TCP', port: 8080 }]);

    notReady.add(first);
    await until(
      'not ready within 1 s',
      async () => (await sliceWith(first))?.conditions.ready === false,
      1_500,
    );
    notReady.delete(first);
    await until('ready again', async () => (await sliceWith(first))?.conditions.ready === true, 1_500);

    await client.patch(`/api/v1/namespaces/default/pods/${second}`, {
      metadata: { labels: { app: 'other' } },
    });
    await until(
      'label change removes the endpoint',
      async () => (await sliceWith(second)) === undefined,
      1_500,
    );
    await client.delete(`/api/v1/namespaces/default/pods/${second}`, { gracePeriodSeconds: 0 });
  }, 30_000);

  /** The `web` Service's slice endpoints on one node. */
  const webEndpointsOn = async (node: string) => {
    const list = await client.list<KubeObject>(
      '/apis/discovery.k8s.io/v1/namespaces/default/endpointslices',
      {
        labelSelector: 'kubernetes.io/service-name=web',
      },
    );
    return list.items
      .flatMap((s) => (s.endpoints as { nodeName: string; conditions: { ready: boolean } }[]) ?? [])
      .filter((e) => e.nodeName === node);
  };

  it('turns a node NotReady when its Lease is not renewed, and its endpoints not ready', async () => {
    // The ReplicaSet may have just replaced the relabelled pod, and a replacement on a node that
    // stops reporting never gets its address: take a node that has a ready web endpoint now.
    const node = await until('a node with a ready web endpoint', async () => {
      const list = await client.list<KubeObject>(
        '/apis/discovery.k8s.io/v1/namespaces/default/endpointslices',
        {
          labelSelector: 'kubernetes.io/service-name=web',
        },
      );
      const ready = list.items
        .flatMap((s) => (s.endpoints as { nodeName?: string; conditions: { ready?: boolean } }[]) ?? [])
        .find((e) => e.nodeName && e.conditions.ready);
      return ready?.nodeName;
    });
    const nodeReady = async () => {
      const n = await client.get<KubeObject>(`/api/v1/nodes/${node}`);
      return (n.status as { conditions: { type: string; status: string }[] }).conditions.find(
        (c) => c.type === 'Ready',
      )?.status;
    };
    alive.delete(node);
    try {
      await until('NotReady', async () => (await nodeReady()) === 'Unknown', 20_000);
      const get = await kubectl(['get', 'node', node]);
      expect(get.stdout).toContain('NotReady');
      await until(
        'endpoints on that node not ready',
        async () => {
          const onNode = await webEndpointsOn(node);
          return onNode.length > 0 && onNode.every((e) => !e.conditions.ready);
        },
        10_000,
      );
      // The real agent renews its Lease and at once posts Ready=True, usually before the
      // controller's next check: the taints and the pods are still the controller's to restore.
      await client.patch(`/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/${node}`, {
        spec: { renewTime: stamp() },
      });
      await client.patch(`/api/v1/nodes/${node}/status`, {
        status: { conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady' }] },
      });
    } finally {
      alive.add(node);
    }
    await until('Ready again', async () => (await nodeReady()) === 'True', 10_000);
    await until(
      'the unreachable taints gone and the endpoints ready again',
      async () => {
        const n = await client.get<KubeObject>(`/api/v1/nodes/${node}`);
        const taints = (n.spec as { taints?: { key: string }[] }).taints ?? [];
        const onNode = await webEndpointsOn(node);
        return taints.length === 0 && onNode.length > 0 && onNode.every((e) => e.conditions.ready)
          ? true
          : undefined;
      },
      8_000,
    );
  }, 60_000);

  it('deleting the Deployment removes its ReplicaSets and pods', async () => {
    expect((await kubectl(['delete', 'deploy', 'web'])).exitCode).toBe(0);
    await until(
      'no ReplicaSets',
      async () => (await client.list('/apis/apps/v1/namespaces/default/replicasets')).items.length === 0,
      15_000,
    );
    await until('no pods', async () => (await podsOf('app=web')).length === 0, 15_000);
  }, 30_000);
});

describe('scheduling failures', () => {
  it('reports why a pod fits nowhere', async () => {
    const r = await kubectl([
      'run',
      'picky',
      '--image=klab/echo',
      '--overrides',
      '{"spec":{"nodeSelector":{"disk":"ssd"}}}',
    ]);
    expect(r.exitCode, r.stderr).toBe(0);
    const message = await until('FailedScheduling', async () => {
      const e = await kubectl([
        'get',
        'events',
        '--field-selector',
        'involvedObject.name=picky,reason=FailedScheduling',
        '-o',
        'jsonpath={.items[0].message}',
      ]);
      return e.stdout || undefined;
    });
    expect(message).toBe("0/3 nodes are available: 3 node(s) didn't match Pod's node affinity/selector.");
    await kubectl(['delete', 'pod', 'picky', '--wait=false']);
  });
});
