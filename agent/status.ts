import type { Pod } from './pod.js';

/** What the agent knows about one container; persisted in the pod's state file. */
export interface ContainerRuntime {
  name: string;
  image: string;
  pid?: number;
  /** /proc start time of `pid`, so a recycled pid is never taken for the container. */
  pidStartTime?: string;
  startedAt?: string;
  restartCount: number;
  ready: boolean;
  /** The startup probe passed (or there is none); kept so an adopted container stays started. */
  started?: boolean;
  waiting?: { reason: string; message?: string };
  lastExit?: { exitCode: number; reason: string; startedAt?: string; finishedAt: string };
  /** Epoch ms before which a crashed container is not started again. */
  backoffUntil?: number;
}

export interface PodRuntime {
  uid: string;
  namespace: string;
  name: string;
  netns: string;
  /** The node's network, no sandbox of its own and no CNI calls. */
  hostNetwork?: boolean;
  podIP?: string;
  /** The CNI ADD result, CHECK's prevResult; absent for hostNetwork pods. */
  cniResult?: Record<string, unknown>;
  startedAt: string;
  containers: ContainerRuntime[];
}

const condition = (type: string, ok: boolean, at: string, reason?: string) => ({
  type,
  status: ok ? 'True' : 'False',
  lastProbeTime: null,
  lastTransitionTime: at,
  ...(reason && !ok ? { reason } : {}),
});

function containerState(c: ContainerRuntime): Record<string, unknown> {
  if (c.pid !== undefined) return { running: { startedAt: c.startedAt } };
  if (c.waiting) return { waiting: c.waiting };
  if (c.lastExit) return { terminated: c.lastExit };
  return { waiting: { reason: 'ContainerCreating' } };
}

/** The pod's phase from its containers, as kubelet's getPhase decides it. */
export function podPhase(pod: Pod, rt: PodRuntime): string {
  const cs = rt.containers;
  const running = cs.filter((c) => c.pid !== undefined).length;
  const policy = pod.spec.restartPolicy ?? 'Always';
  const finished = cs.filter(
    (c) => c.pid === undefined && c.lastExit && !c.waiting && c.backoffUntil === undefined,
  );
  if (cs.length > 0 && finished.length === cs.length && policy !== 'Always') {
    return finished.every((c) => c.lastExit?.exitCode === 0) ? 'Succeeded' : 'Failed';
  }
  if (running > 0 || cs.some((c) => c.restartCount > 0)) return 'Running';
  return 'Pending';
}

/** The status subresource as kubelet reports it. `previous` keeps transition times stable. */
export function podStatus(pod: Pod, rt: PodRuntime, hostIP: string, now: string): Record<string, unknown> {
  const previous = (pod.status?.conditions ?? []) as {
    type: string;
    status: string;
    lastTransitionTime?: string;
  }[];
  const at = (type: string, ok: boolean) => {
    const old = previous.find((c) => c.type === type);
    return old && old.status === (ok ? 'True' : 'False') && old.lastTransitionTime
      ? old.lastTransitionTime
      : now;
  };
  const allReady = rt.containers.length > 0 && rt.containers.every((c) => c.ready && c.pid !== undefined);
  const sandboxReady = rt.podIP !== undefined;
  return {
    phase: podPhase(pod, rt),
    hostIP,
    hostIPs: [{ ip: hostIP }],
    ...(rt.podIP ? { podIP: rt.podIP, podIPs: [{ ip: rt.podIP }] } : {}),
    startTime: rt.startedAt,
    qosClass: 'BestEffort',
    conditions: [
      condition('PodReadyToStartContainers', sandboxReady, at('PodReadyToStartContainers', sandboxReady)),
      condition('Initialized', true, at('Initialized', true)),
      condition('Ready', allReady, at('Ready', allReady), 'ContainersNotReady'),
      condition('ContainersReady', allReady, at('ContainersReady', allReady), 'ContainersNotReady'),
      condition('PodScheduled', true, at('PodScheduled', true)),
    ],
    containerStatuses: rt.containers.map((c) => ({
      name: c.name,
      image: c.image,
      imageID: '',
      containerID: c.pid !== undefined ? `klab://${rt.uid}/${c.name}/${c.pid}` : undefined,
      ready: c.ready && c.pid !== undefined,
      started: c.pid !== undefined && c.started !== false,
      restartCount: c.restartCount,
      state: containerState(c),
      lastState: c.lastExit && c.pid !== undefined ? { terminated: c.lastExit } : {},
    })),
  };
}
