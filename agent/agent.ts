import { existsSync, readFileSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { cpus, release, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { install } from '../cni/install.js';
import { ApiError, KubeClient, type KubeObject } from '../kube/client.js';
import { EventRecorder } from '../kube/events.js';
import { Informer } from '../kube/informer.js';
import { loadKubeconfig } from '../kube/kubeconfig.js';
import { timestamp } from '../kube/time.js';
import {
  cniCall,
  cniGC,
  type CniNetwork,
  keepSysfs,
  type Resident,
  resultAddress,
  startResident,
  type SysfsNamespace,
} from './cni.js';
import { createSandbox, deleteSandbox, writeSandboxHosts } from './netns.js';
import { desiredNode, type Machine, microTime, nodeConditions, nodeLease } from './node.js';
import { containerEnv, type EnvResult, type ObjectData, referencedObjects, type Service } from './env.js';
import {
  type ContainerSpec,
  containerLaunch,
  type Pod,
  type Probe,
  restartDelayMs,
  sandboxName,
  shouldRestart,
  sandboxRetryDelayMs,
  wantsNewSandbox,
} from './pod.js';
import { parseResolvConf, podResolvConfig, renderResolvConf, withResolvConf } from './resolv.js';
import { Limiter } from './parallel.js';
import { nextProbeDelayMs, runProbe } from './probes.js';
import {
  initialProberState,
  probeActive,
  type ProbeKind,
  probeOf,
  probeResult,
  probeTiming,
} from './prober.js';
import { tokenRequest, wantsToken, writeServiceAccountDir } from './serviceaccount.js';
import { desiredRoutes, syncRoutes } from './routes.js';
import { adoptedRunning, PodStore, processStartTime, signalGroup, startContainer } from './runtime.js';
import { type ContainerRuntime, type PodRuntime, podStatus } from './status.js';

export interface AgentOptions {
  node: string;
  kubeconfig: string;
  nodeIP: string;
  controlPlane: boolean;
  cniBinDir: string;
  cniConfDir: string;
  clusterCidr: string;
  stateDir: string;
  netnsPrefix: string;
  leaseSeconds: number;
  /** Cluster DNS address for pods' resolv.conf; empty means none (pods get the node's resolver). */
  dnsIP: string;
  clusterDomain: string;
  /** The node's resolv.conf, the base of dnsPolicy Default (kubelet's --resolv-conf). */
  resolvConf: string;
  /** How often each pod's network is verified with CNI CHECK. */
  cniCheckPeriodSeconds: number;
  log: (msg: string, fields?: Record<string, unknown>) => void;
}

const podKey = (pod: Pod) => `${pod.metadata.namespace}/${pod.metadata.name}`;

const ECHO_ARGV = [process.execPath, fileURLToPath(new URL('./images/echo-main.js', import.meta.url))];

/** Pods whose sync (sandbox, CNI ADD, container starts, status) may be under way at once. */
const POD_SYNC_CONCURRENCY = 8;

const PROBE_KINDS: readonly ProbeKind[] = ['startup', 'liveness', 'readiness'];
const PROBE_TITLE: Record<ProbeKind, string> = {
  startup: 'Startup',
  liveness: 'Liveness',
  readiness: 'Readiness',
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const now = () => timestamp(new Date());

function readMachine(): Machine {
  const osRelease = (() => {
    try {
      return /^PRETTY_NAME="?([^"\n]*)"?$/m.exec(readFileSync('/etc/os-release', 'utf8'))?.[1] ?? 'Linux';
    } catch {
      return 'Linux';
    }
  })();
  let machineID = '';
  try {
    machineID = readFileSync('/etc/machine-id', 'utf8').trim();
  } catch {
    // containers and minimal systems may lack it; kubelet reports it empty then
  }
  return {
    cpus: cpus().length,
    memoryBytes: totalmem(),
    kernelVersion: release(),
    osImage: osRelease,
    machineID,
  };
}

/** The kubelet's role on one node: Node, Lease, routes, and the pods bound here. */
export class Agent {
  private readonly client: KubeClient;
  private readonly events: EventRecorder;
  private readonly store: PodStore;
  private readonly runtimes = new Map<string, PodRuntime>();
  private readonly terminating = new Set<string>();
  private readonly reported = new Map<string, string>();
  private readonly probeTimers = new Map<string, NodeJS.Timeout>();
  /** When each sandbox's network is next verified with CNI CHECK (epoch ms). */
  private readonly nextCheck = new Map<string, number>();
  /** Pods whose sandbox set-up failed: when to try again, and the delay that got them there. */
  private readonly sandboxBackoff = new Map<string, { until: number; delayMs: number }>();
  /** Container pids this process spawned whose exit it has not seen yet. */
  private readonly children = new Set<number>();
  private readonly timers: NodeJS.Timeout[] = [];
  private pods: Informer<Pod> | undefined;
  private nodes: Informer<KubeObject> | undefined;
  private services: Informer<KubeObject & Service> | undefined;
  private network: CniNetwork | undefined;
  private resident: Resident | undefined;
  private sysfs: SysfsNamespace | undefined;
  /** Each pod's sync under way (by uid), as kubelet's pod workers: pods never wait for each other. */
  private readonly podSyncs = new Map<string, Promise<void>>();
  /** Pods asked to sync again while their sync was under way. */
  private readonly syncAgain = new Set<string>();
  private readonly syncSlots = new Limiter(POD_SYNC_CONCURRENCY);
  private apiServer: string | undefined;
  private stopped = false;
  private readonly startedAt = now();

  constructor(private readonly o: AgentOptions) {
    this.client = new KubeClient(loadKubeconfig(o.kubeconfig), `klab-agent/${o.node}`);
    this.events = new EventRecorder(this.client, (reason, error) =>
      this.o.log('event not recorded', { reason, error: String(error) }),
    );
    this.store = new PodStore(o.stateDir);
  }

  async start(): Promise<void> {
    const nodeUid = await this.register();
    await this.renewLease(nodeUid);
    this.timers.push(
      setInterval(() => {
        this.renewLease(nodeUid).catch((e: unknown) =>
          this.o.log('lease renewal failed', { error: String(e) }),
        );
      }, this.o.leaseSeconds * 1000),
    );
    const podCIDR = await this.waitForPodCIDR();
    const residentSocket = join(this.o.stateDir, 'klab-bridge.sock');
    this.resident = startResident([process.execPath, process.argv[1] as string], residentSocket, this.o.log);
    this.sysfs = keepSysfs(this.o.log);
    const installed = install({
      binDir: this.o.cniBinDir,
      confDir: this.o.cniConfDir,
      podCidr: podCIDR,
      clusterCidr: this.o.clusterCidr,
      bridge: 'cni0',
      name: 'klab',
      ipMasq: true,
      portmap: false,
      dataDir: join(this.o.stateDir, 'ipam'),
      residentSocket,
    });
    this.network = {
      binDir: this.o.cniBinDir,
      confDir: this.o.cniConfDir,
      conflist: installed.conflist.slice(this.o.cniConfDir.length + 1),
      ifName: 'eth0',
      sysfs: this.sysfs,
    };
    this.o.log('cni installed', { podCIDR, conflist: installed.conflist });
    for (const rt of await this.store.loadAll()) this.runtimes.set(rt.uid, rt);
    await this.collectGarbage();
    this.nodes = new Informer<KubeObject>(this.client, '/api/v1/nodes', {
      onAdd: () => this.routesSoon(),
      onUpdate: () => this.routesSoon(),
      onDelete: () => this.routesSoon(),
    }).start();
    const kick = () => this.kick();
    const kickPod = (pod: Pod) => this.syncSoon(pod.metadata.uid, podKey(pod));
    // Service links are part of a container's environment: no container starts before this syncs.
    this.services = new Informer<KubeObject & Service>(this.client, '/api/v1/services').start();
    this.pods = new Informer<Pod>(
      this.client,
      '/api/v1/pods',
      { onAdd: kickPod, onUpdate: (_old, pod) => kickPod(pod), onDelete: kickPod },
      { fieldSelector: `spec.nodeName=${this.o.node}`, log: (line) => this.o.log(line) },
    ).start();
    await Promise.all([this.pods.synced, this.nodes.synced, this.services.synced]);
    for (const rt of this.runtimes.values()) {
      for (const c of rt.containers) if (c.pid !== undefined) this.startProbes(rt, c);
    }
    this.timers.push(
      setInterval(kick, 1000),
      setInterval(() => this.routesSoon(), 30_000),
    );
    this.kick();
    this.o.log('agent running', { node: this.o.node, adopted: this.runtimes.size });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const t of this.timers) clearInterval(t);
    for (const t of this.probeTimers.values()) clearTimeout(t);
    await Promise.all([this.pods?.stop(), this.nodes?.stop(), this.services?.stop()]);
    await Promise.all(this.podSyncs.values());
    await Promise.all([this.resident?.stop(), this.sysfs?.stop()]);
    this.client.close();
  }

  private async register(): Promise<string | undefined> {
    const node = desiredNode(
      { name: this.o.node, ip: this.o.nodeIP, controlPlane: this.o.controlPlane },
      readMachine(),
    );
    const path = `/api/v1/nodes/${this.o.node}`;
    for (;;) {
      try {
        let current: KubeObject;
        try {
          current = await this.client.create('/api/v1/nodes', node);
        } catch (error) {
          if (!(error instanceof ApiError && error.status === 409)) throw error;
          current = await this.client.patch(path, { metadata: { labels: node.metadata?.labels } });
        }
        const status = { ...(node.status as object), conditions: nodeConditions(now(), this.startedAt) };
        await this.client.patch(`${path}/status`, { status });
        this.o.log('node registered', { node: this.o.node, ip: this.o.nodeIP });
        return current.metadata?.uid;
      } catch (error) {
        this.o.log('node registration failed; retrying', { error: String(error) });
        await sleep(1000);
      }
    }
  }

  private async renewLease(nodeUid: string | undefined): Promise<void> {
    const path = `/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/${this.o.node}`;
    const lease = nodeLease(this.o.node, nodeUid, microTime(new Date()), 40);
    try {
      await this.client.patch(path, { spec: lease.spec });
    } catch (error) {
      if (!(error instanceof ApiError && error.status === 404)) throw error;
      await this.client.create('/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases', lease);
    }
    // The Ready condition's heartbeat rides along, as kubelet's nodeStatusReportFrequency does.
    await this.client.patch(`/api/v1/nodes/${this.o.node}/status`, {
      status: { conditions: nodeConditions(now(), this.startedAt) },
    });
  }

  private async waitForPodCIDR(): Promise<string> {
    for (let i = 0; ; i++) {
      const node = await this.client.get(`/api/v1/nodes/${this.o.node}`).catch(() => undefined);
      const cidr = (node?.spec as { podCIDR?: string } | undefined)?.podCIDR;
      if (cidr) return cidr;
      if (i % 20 === 0) this.o.log('waiting for spec.podCIDR from node IPAM', { node: this.o.node });
      await sleep(250);
    }
  }

  private routesSoon(): void {
    if (!this.nodes?.isSynced || this.stopped) return;
    syncRoutes(desiredRoutes(this.o.node, this.nodes.list())).then(
      (changed) => changed > 0 && this.o.log('routes synced', { changed }),
      (e: unknown) => this.o.log('route sync failed', { error: String(e) }),
    );
  }

  /** Syncs every pod this node has or runs (a pod's own events sync just that pod). */
  private kick(): void {
    if (this.stopped || !this.pods?.isSynced) return;
    const keys = new Map<string, string>();
    for (const rt of this.runtimes.values()) keys.set(rt.uid, `${rt.namespace}/${rt.name}`);
    for (const pod of this.pods.list()) keys.set(pod.metadata.uid, podKey(pod));
    for (const [uid, key] of keys) this.syncSoon(uid, key);
  }

  /**
   * Syncs one pod now, or once more after its sync under way: one pod's slow sandbox or CNI call
   * holds up neither another pod's start nor its status. At most POD_SYNC_CONCURRENCY at once.
   */
  private syncSoon(uid: string, key: string): void {
    if (this.stopped || !this.pods?.isSynced) return;
    if (this.podSyncs.has(uid)) {
      this.syncAgain.add(uid);
      return;
    }
    const sync = this.syncSlots
      .run(() => this.syncOne(uid, key))
      .catch((error: unknown) => this.o.log('pod sync failed', { pod: key, error: String(error) }))
      .finally(() => {
        this.podSyncs.delete(uid);
        if (this.syncAgain.delete(uid)) this.syncSoon(uid, key);
      });
    this.podSyncs.set(uid, sync);
  }

  /** One pod's turn: stop it if it is gone or deleted, else bring it to its spec. */
  private async syncOne(uid: string, key: string): Promise<void> {
    if (this.stopped) return;
    const cached = this.pods?.get(key);
    const pod = cached?.metadata.uid === uid ? cached : undefined;
    const rt = this.runtimes.get(uid);
    if (rt && (!pod || pod.metadata.deletionTimestamp)) {
      this.terminate(rt, pod);
      return;
    }
    if (!pod) return;
    if (pod.metadata.deletionTimestamp) {
      await this.forget(pod);
      return;
    }
    const phase = pod.status?.phase;
    if (!rt && (phase === 'Succeeded' || phase === 'Failed')) return;
    await this.syncPod(pod);
  }

  private async syncPod(pod: Pod): Promise<void> {
    const uid = pod.metadata.uid;
    if (this.terminating.has(uid)) return;
    let rt = this.runtimes.get(uid);
    if (!rt || rt.podIP === undefined) {
      const backoff = this.sandboxBackoff.get(uid);
      if (backoff && backoff.until > Date.now()) return;
      try {
        if (!rt) rt = await this.createSandbox(pod);
        else {
          // A set-up that failed part way (or died with an agent): a runtime DELs after a failed ADD.
          if (!pod.spec.hostNetwork && this.network) await cniCall(this.network, 'DEL', uid, rt.netns);
          await this.startSandbox(pod, rt);
        }
        this.sandboxBackoff.delete(uid);
      } catch (error) {
        // kubelet's pod worker backs off a failing sandbox and says why.
        const delayMs = sandboxRetryDelayMs(backoff?.delayMs);
        this.sandboxBackoff.set(uid, { until: Date.now() + delayMs, delayMs });
        const failed = this.runtimes.get(uid);
        if (failed) {
          const why = `Failed to create pod sandbox: ${(error as Error).message}`;
          this.event(failed, 'Warning', 'FailedCreatePodSandBox', why);
        }
        throw error;
      }
    }
    const problem = await this.sandboxProblem(pod, rt);
    if (problem !== undefined) await this.recreateSandbox(pod, rt, problem);
    const t = Date.now();
    let dirty = false;
    let saDir: string | undefined;
    for (const spec of pod.spec.containers ?? []) {
      let c = rt.containers.find((x) => x.name === spec.name);
      if (!c) {
        c = { name: spec.name, image: spec.image ?? '', restartCount: 0, ready: false };
        rt.containers.push(c);
        dirty = true;
      }
      if (c.pid !== undefined && !this.running(c)) {
        this.exited(pod, rt, c, 1, 'exit status not observed (adopted across an agent restart)');
        dirty = true;
      }
      if (c.pid !== undefined) continue;
      if (c.lastExit && c.backoffUntil === undefined && c.waiting === undefined) continue;
      if (c.backoffUntil !== undefined && c.backoffUntil > t) continue;
      if (wantsToken(pod) && saDir === undefined) {
        try {
          saDir = await this.serviceAccountDir(pod);
        } catch (error) {
          const message = `service account token: ${(error as Error).message}`;
          if (c.waiting?.message !== message) dirty = true;
          c.waiting = { reason: 'CreateContainerConfigError', message };
          continue;
        }
      }
      const env = await this.environment(pod, spec, rt.podIP ?? '');
      const launch =
        env.kind === 'error'
          ? { kind: 'error' as const, reason: 'CreateContainerConfigError', message: env.message }
          : containerLaunch(pod, spec, {
              klabArgv: [process.execPath, process.argv[1] as string],
              echoArgv: ECHO_ARGV,
              nodeName: this.o.node,
              hostIP: this.o.nodeIP,
              podIP: rt.podIP ?? '',
              env: env.env,
              ...(saDir === undefined ? {} : { serviceAccountDir: saDir }),
            });
      if (launch.kind === 'error') {
        if (c.waiting?.reason !== launch.reason) dirty = true;
        c.waiting = { reason: launch.reason, message: launch.message };
        continue;
      }
      const container = c;
      const runtime = rt;
      const pid = await startContainer(
        pod.spec.hostNetwork ? undefined : rt.netns,
        pod.spec.hostNetwork
          ? withResolvConf(join(this.store.logDir(uid), 'resolv.conf'), launch.argv)
          : launch.argv,
        launch.env,
        join(this.store.logDir(uid), `${spec.name}.log`),
        (code, signal) => {
          this.children.delete(pid);
          this.exited(pod, runtime, container, code ?? 128 + (signal === 'SIGKILL' ? 9 : 15));
          // A terminating pod's state file is about to be removed; saving now would resurrect it.
          if (this.terminating.has(runtime.uid)) return;
          this.store.save(runtime).then(
            () => this.kick(),
            (e: unknown) => this.o.log('pod state save failed', { pod: runtime.name, error: String(e) }),
          );
        },
      );
      this.children.add(pid);
      c.pid = pid;
      c.pidStartTime = processStartTime(pid);
      c.startedAt = now();
      c.waiting = undefined;
      c.backoffUntil = undefined;
      const probing = initialProberState(spec);
      c.ready = probing.ready;
      c.started = probing.started;
      this.startProbes(rt, c);
      dirty = true;
      this.o.log('container started', {
        pod: `${pod.metadata.namespace}/${pod.metadata.name}`,
        container: spec.name,
        pid: c.pid,
      });
    }
    if (dirty) await this.store.save(rt);
    await this.report(pod, rt);
  }

  /** The container's environment, reading the ConfigMaps and Secrets it names from the API. */
  private async environment(pod: Pod, spec: ContainerSpec, podIP: string): Promise<EnvResult> {
    const ns = pod.metadata.namespace;
    const refs = referencedObjects(spec);
    const fetch = async (plural: 'configmaps' | 'secrets', name: string): Promise<ObjectData> => {
      try {
        const o = await this.client.get(`/api/v1/namespaces/${ns}/${plural}/${name}`);
        const data = (o as { data?: Record<string, string> }).data ?? {};
        if (plural === 'configmaps') return data;
        return Object.fromEntries(
          Object.entries(data).map(([k, v]) => [k, Buffer.from(v, 'base64').toString('utf8')]),
        );
      } catch (error) {
        if (error instanceof ApiError && error.status === 404) return undefined;
        throw error;
      }
    };
    const configMaps = new Map<string, ObjectData>();
    const secrets = new Map<string, ObjectData>();
    for (const name of refs.configMaps) configMaps.set(name, await fetch('configmaps', name));
    for (const name of refs.secrets) secrets.set(name, await fetch('secrets', name));
    return containerEnv(pod, spec, {
      podIP,
      hostIP: this.o.nodeIP,
      services: this.services?.list() ?? [],
      configMap: (name) => configMaps.get(name),
      secret: (name) => secrets.get(name),
    });
  }

  /**
   * A container this process spawned runs until its exit event; one adopted from a previous
   * agent is checked in /proc, as its exit is never reported here.
   */
  private running(c: ContainerRuntime): boolean {
    if (c.pid === undefined) return false;
    return this.children.has(c.pid) || adoptedRunning(c.pid, c.pidStartTime);
  }

  private exited(pod: Pod, rt: PodRuntime, c: ContainerRuntime, exitCode: number, message?: string): void {
    if (c.pid === undefined) return;
    c.pid = undefined;
    c.ready = false;
    c.lastExit = {
      exitCode,
      reason: exitCode === 0 ? 'Completed' : 'Error',
      startedAt: c.startedAt,
      finishedAt: now(),
      ...(message ? { message } : {}),
    };
    if (!this.terminating.has(rt.uid) && shouldRestart(pod.spec.restartPolicy, exitCode)) {
      c.restartCount++;
      const delay = restartDelayMs(c.restartCount);
      c.backoffUntil = Date.now() + delay;
      c.waiting =
        delay > 0
          ? {
              reason: 'CrashLoopBackOff',
              message: `back-off ${delay / 1000}s restarting failed container=${c.name} pod=${pod.metadata.name}_${pod.metadata.namespace}(${pod.metadata.uid})`,
            }
          : undefined;
    }
  }

  /**
   * CNI GC with every attachment a state file still names, before any ADD or DEL runs (the spec
   * forbids GC beside them): leases and NAT chains of sandboxes nobody owns any more (say, lost
   * with a state folder) are released. Sandboxes of pods that are gone are still listed; the
   * first pass tears each down with a DEL.
   */
  private async collectGarbage(): Promise<void> {
    const net = this.network;
    if (!net) return;
    const valid = [...this.runtimes.values()]
      .filter((rt) => !rt.hostNetwork)
      .map((rt) => ({ containerID: rt.uid, ifname: net.ifName }));
    try {
      if (await cniGC(net, valid)) this.o.log('cni gc done', { validAttachments: valid.length });
    } catch (error) {
      this.o.log('cni gc failed', { error: String(error) });
    }
  }

  /**
   * CNI CHECK of the pod's network, once per --cni-check-period, against the ADD result kept in
   * its state file. Undefined when it is fine or not due, else what the plugin found wrong.
   */
  private async sandboxProblem(pod: Pod, rt: PodRuntime): Promise<string | undefined> {
    if (pod.spec.hostNetwork || !this.network || !rt.cniResult) return undefined;
    const t = Date.now();
    const due = this.nextCheck.get(rt.uid);
    const period = this.o.cniCheckPeriodSeconds * 1000;
    // Pods first seen together (after an agent restart) get spread-out first checks.
    if (due === undefined) this.nextCheck.set(rt.uid, t + Math.random() * period);
    else if (due <= t) this.nextCheck.set(rt.uid, t + period);
    if (due === undefined || due > t) return undefined;
    try {
      await cniCall(this.network, 'CHECK', rt.uid, rt.netns, JSON.stringify(rt.cniResult));
      return undefined;
    } catch (error) {
      return (error as Error).message;
    }
  }

  /**
   * What kubelet does with a sandbox that is no longer ready: a SandboxChanged event, every
   * container stopped, the sandbox torn down (CNI DEL) and, when a container would start again
   * (`wantsNewSandbox`), a new one set up (CNI ADD). The containers then start through the
   * restart policy and back-off, so their restartCount goes up. Without a new sandbox the pod
   * keeps its last pod IP in its status, as kubelet's does.
   */
  private async recreateSandbox(pod: Pod, rt: PodRuntime, problem: string): Promise<void> {
    const where = `${pod.metadata.namespace}/${pod.metadata.name}`;
    this.o.log('sandbox changed; re-creating it', { pod: where, problem });
    this.event(rt, 'Normal', 'SandboxChanged', 'Pod sandbox changed, it will be killed and re-created.');
    // Should the tear-down fail, the next sync checks (and re-creates) at once, not a period later.
    this.nextCheck.set(rt.uid, 0);
    await this.stopContainers(rt, pod.spec.terminationGracePeriodSeconds ?? 30);
    if (this.network) await cniCall(this.network, 'DEL', rt.uid, rt.netns);
    await deleteSandbox(rt.netns);
    rt.cniResult = undefined;
    if (wantsNewSandbox(pod.spec.restartPolicy, rt.containers)) rt.podIP = undefined;
    await this.store.save(rt);
    if (rt.podIP === undefined) await this.startSandbox(pod, rt);
  }

  /**
   * Stops the pod's running containers as kubelet's killPod does: a Killing event each, SIGTERM
   * to the process group, the grace period, SIGKILL to what is left.
   */
  private async stopContainers(rt: PodRuntime, graceSeconds: number, events = true): Promise<void> {
    const running = rt.containers.filter((c) => c.pid !== undefined);
    for (const c of rt.containers) this.stopProbes(rt.uid, c.name);
    for (const c of running) {
      c.ready = false;
      if (events) this.event(rt, 'Normal', 'Killing', `Stopping container ${c.name}`);
    }
    const groups = running.map((c) => c.pid as number);
    for (const g of groups) signalGroup(g, 'SIGTERM');
    const deadline = Date.now() + graceSeconds * 1000;
    while (running.some((c) => this.running(c)) && Date.now() < deadline) await sleep(100);
    // The whole group: what the container started may outlive its first process.
    for (const g of groups) signalGroup(g, 'SIGKILL');
    const reaped = Date.now() + 5000;
    while (running.some((c) => this.running(c)) && Date.now() < reaped) await sleep(50);
  }

  private async createSandbox(pod: Pod): Promise<PodRuntime> {
    const uid = pod.metadata.uid;
    const netns = sandboxName(this.o.netnsPrefix, uid);
    const rt: PodRuntime = {
      uid,
      namespace: pod.metadata.namespace,
      name: pod.metadata.name,
      netns,
      ...(pod.spec.hostNetwork ? { hostNetwork: true } : {}),
      startedAt: now(),
      containers: [],
    };
    // Recorded before anything exists, so a crash mid-setup is cleaned up by the next agent.
    this.runtimes.set(uid, rt);
    await this.store.save(rt);
    await this.startSandbox(pod, rt);
    return rt;
  }

  /** The pod's network: its namespace and CNI ADD (or the node's, for hostNetwork). */
  private async startSandbox(pod: Pod, rt: PodRuntime): Promise<void> {
    const { uid } = rt;
    const netns = rt.netns;
    if (pod.spec.hostNetwork) {
      rt.podIP = this.o.nodeIP;
      await mkdir(this.store.logDir(uid), { recursive: true });
      await writeFile(join(this.store.logDir(uid), 'resolv.conf'), await this.podResolvConf(pod));
    } else {
      const resolv = await this.podResolvConf(pod);
      const hosts = `127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n`;
      await createSandbox(netns, resolv, hosts);
      if (!this.network) throw new Error('CNI is not installed yet');
      const result = await cniCall(this.network, 'ADD', uid, netns);
      rt.podIP = resultAddress(result);
      // Kept for CHECK, which needs the ADD result as prevResult, also after an agent restart.
      rt.cniResult = JSON.parse(result) as Record<string, unknown>;
      await writeSandboxHosts(netns, `${hosts}${rt.podIP}\t${pod.metadata.name}\n`);
    }
    await this.store.save(rt);
    this.nextCheck.set(uid, Date.now() + this.o.cniCheckPeriodSeconds * 1000);
    this.o.log('sandbox ready', {
      pod: `${pod.metadata.namespace}/${pod.metadata.name}`,
      netns,
      ip: rt.podIP,
    });
  }

  /** The pod's token folder, asking the API for a bound token the first time. */
  private async serviceAccountDir(pod: Pod): Promise<string> {
    const dir = join(this.store.logDir(pod.metadata.uid), 'serviceaccount');
    if (existsSync(join(dir, 'token'))) return dir;
    if (this.apiServer === undefined) {
      const svc = await this.client.get('/api/v1/namespaces/default/services/kubernetes');
      const ip = (svc.spec as { clusterIP?: string } | undefined)?.clusterIP;
      if (!ip) throw new Error('Service default/kubernetes has no clusterIP yet');
      this.apiServer = `https://${ip.includes(':') ? `[${ip}]` : ip}:443`;
    }
    const sa = pod.spec.serviceAccountName as string;
    const answer = await this.client.create(
      `/api/v1/namespaces/${pod.metadata.namespace}/serviceaccounts/${sa}/token`,
      tokenRequest(pod) as KubeObject,
    );
    const token = (answer.status as { token?: string } | undefined)?.token;
    if (!token) throw new Error(`the API answered the TokenRequest for ${sa} without a token`);
    await writeServiceAccountDir(dir, pod, {
      token,
      caPem: this.client.connection.ca ?? '',
      server: this.apiServer,
    });
    this.o.log('service account token written', {
      pod: `${pod.metadata.namespace}/${pod.metadata.name}`,
      serviceAccount: sa,
    });
    return dir;
  }

  /** Read per pod, as kubelet does, so an edited node resolv.conf reaches new pods. */
  private async podResolvConf(pod: Pod): Promise<string> {
    let host = '';
    try {
      host = await readFile(this.o.resolvConf, 'utf8');
    } catch (error) {
      this.o.log('node resolv.conf unreadable; pods on the Default policy get no resolver', {
        file: this.o.resolvConf,
        error: String(error),
      });
    }
    const config = podResolvConfig(
      { namespace: pod.metadata.namespace, ...pod.spec },
      {
        clusterDNS: this.o.dnsIP ? [this.o.dnsIP] : [],
        clusterDomain: this.o.clusterDomain,
        host: parseResolvConf(host),
      },
    );
    return renderResolvConf(config);
  }

  private async report(pod: Pod, rt: PodRuntime): Promise<void> {
    const status = podStatus(pod, rt, this.o.nodeIP, now());
    const text = JSON.stringify(status);
    if (this.reported.get(rt.uid) === text) return;
    try {
      await this.client.patch(`/api/v1/namespaces/${rt.namespace}/pods/${rt.name}/status`, { status });
      this.reported.set(rt.uid, text);
    } catch (error) {
      if (!(error instanceof ApiError && error.status === 404)) throw error;
    }
  }

  /**
   * The container's startup, liveness and readiness probes, each on its own schedule (the
   * initial delay counts from the container's start, also for an adopted one) and all folded
   * into one prober state.
   */
  private startProbes(rt: PodRuntime, c: ContainerRuntime): void {
    const pod = this.pods?.list().find((p) => p.metadata.uid === rt.uid);
    const spec = pod?.spec.containers?.find((x) => x.name === c.name);
    this.stopProbes(rt.uid, c.name);
    if (!pod || !spec || c.pid === undefined) return;
    const pid = c.pid;
    let state = initialProberState(spec, { started: c.started, ready: c.ready });
    let readinessAttempts = 0;
    let readinessSucceeded = c.ready;
    const sinceStart = c.startedAt ? Date.now() - Date.parse(c.startedAt) : 0;
    const schedule = (kind: ProbeKind, ms: number) => {
      const key = `${rt.uid}/${c.name}/${kind}`;
      clearTimeout(this.probeTimers.get(key));
      this.probeTimers.set(
        key,
        setTimeout(() => void tick(kind), ms),
      );
    };
    const tick = async (kind: ProbeKind) => {
      const probe = probeOf(spec, kind) as Probe;
      const t = probeTiming(probe);
      if (this.stopped || c.pid !== pid || this.terminating.has(rt.uid)) return;
      if (!probeActive(spec, state, kind)) {
        schedule(kind, t.periodMs);
        return;
      }
      const netns = pod.spec.hostNetwork ? undefined : rt.netns;
      const r = await runProbe(probe, spec, rt.podIP ?? '', netns).catch((e: unknown) => ({
        ok: false,
        message: String(e),
      }));
      if (this.stopped || c.pid !== pid || this.terminating.has(rt.uid)) return;
      // Readiness retries quickly until its first success; those extra misses are no news.
      const quiet = kind === 'readiness' && !readinessSucceeded;
      if (!r.ok && !quiet)
        this.event(rt, 'Warning', 'Unhealthy', `${PROBE_TITLE[kind]} probe failed: ${r.message}`);
      if (kind === 'readiness') {
        readinessAttempts++;
        readinessSucceeded ||= r.ok;
      }
      const step = probeResult(spec, state, kind, r.ok);
      state = step.state;
      c.started = state.started;
      c.ready = state.ready;
      if (step.action.kind === 'kill') {
        this.killContainer(pod, rt, c, probe, step.action.probe);
        return;
      }
      if (step.action.kind === 'started') {
        // The gate opened: the other probes start now rather than a period later.
        for (const k of ['liveness', 'readiness'] as const) if (probeOf(spec, k)) schedule(k, 0);
      }
      if (step.action.kind !== 'none') {
        // Kept in the state file: a restarted agent keeps what the probes found until probed again.
        this.store.save(rt).then(
          () => this.kick(),
          (e: unknown) => this.o.log('pod state save failed', { pod: rt.name, error: String(e) }),
        );
      }
      schedule(
        kind,
        kind === 'readiness'
          ? nextProbeDelayMs(t.periodMs, readinessAttempts, readinessSucceeded)
          : t.periodMs,
      );
    };
    for (const kind of PROBE_KINDS) {
      const probe = probeOf(spec, kind);
      if (probe) schedule(kind, Math.max(0, probeTiming(probe).initialDelayMs - sinceStart));
    }
  }

  private stopProbes(uid: string, container: string): void {
    for (const kind of PROBE_KINDS) {
      const key = `${uid}/${container}/${kind}`;
      clearTimeout(this.probeTimers.get(key));
      this.probeTimers.delete(key);
    }
  }

  /** kubelet's kill on a failed liveness or startup probe: SIGTERM, the grace period, SIGKILL. */
  private killContainer(
    pod: Pod,
    rt: PodRuntime,
    c: ContainerRuntime,
    probe: Probe,
    kind: 'liveness' | 'startup',
  ): void {
    const pid = c.pid;
    if (pid === undefined) return;
    this.stopProbes(rt.uid, c.name);
    c.ready = false;
    this.event(rt, 'Normal', 'Killing', `Container ${c.name} failed ${kind} probe, will be restarted`);
    this.o.log('killing container', { pod: `${rt.namespace}/${rt.name}`, container: c.name, probe: kind });
    const grace = probe.terminationGracePeriodSeconds ?? pod.spec.terminationGracePeriodSeconds ?? 30;
    signalGroup(pid, 'SIGTERM');
    setTimeout(() => {
      if (c.pid === pid) signalGroup(pid, 'SIGKILL');
    }, grace * 1000).unref();
    this.kick();
  }

  /** A core/v1 Event about the pod, as kubelet records them (repeats folded); losing one is only logged. */
  private event(rt: PodRuntime, type: 'Normal' | 'Warning', reason: string, message: string): void {
    void this.events.record(
      { apiVersion: 'v1', kind: 'Pod', metadata: { namespace: rt.namespace, name: rt.name, uid: rt.uid } },
      type,
      reason,
      message,
      { component: 'kubelet', host: this.o.node },
    );
  }

  /** Graceful stop: SIGTERM, the grace period, SIGKILL; then the sandbox; then the API object. */
  private terminate(rt: PodRuntime, pod: Pod | undefined): void {
    if (this.terminating.has(rt.uid)) return;
    this.terminating.add(rt.uid);
    const grace =
      pod?.metadata.deletionGracePeriodSeconds ?? (pod ? (pod.spec.terminationGracePeriodSeconds ?? 30) : 0);
    void (async () => {
      await this.stopContainers(rt, grace, false);
      await this.teardown(rt);
      if (pod) await this.forget(pod);
      this.o.log('pod terminated', { pod: `${rt.namespace}/${rt.name}`, graceSeconds: grace });
    })()
      .catch((e: unknown) =>
        this.o.log('pod termination failed', { pod: `${rt.namespace}/${rt.name}`, error: String(e) }),
      )
      .finally(() => this.terminating.delete(rt.uid));
  }

  private async teardown(rt: PodRuntime): Promise<void> {
    if (this.network && !rt.hostNetwork) await cniCall(this.network, 'DEL', rt.uid, rt.netns);
    await deleteSandbox(rt.netns);
    await this.store.remove(rt.uid);
    this.runtimes.delete(rt.uid);
    this.reported.delete(rt.uid);
    this.nextCheck.delete(rt.uid);
    this.sandboxBackoff.delete(rt.uid);
  }

  /**
   * Deletes the pod object for good, as kubelet does once its containers are gone. The server
   * takes no DeleteOptions body, so the uid is checked against the cache instead of a precondition.
   */
  private async forget(pod: Pod): Promise<void> {
    const cached = this.pods?.get(`${pod.metadata.namespace}/${pod.metadata.name}`);
    if (cached && cached.metadata.uid !== pod.metadata.uid) return;
    try {
      await this.client.delete(`/api/v1/namespaces/${pod.metadata.namespace}/pods/${pod.metadata.name}`, {
        gracePeriodSeconds: 0,
      });
    } catch (error) {
      if (!(error instanceof ApiError && error.status === 404)) throw error;
    }
  }
}
