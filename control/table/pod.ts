import { ageSince } from './age.js';
import { AGE, NAME, col, wide, type Printer } from './printer.js';
import { int, list, obj, orNone, str, type Obj } from './util.js';

const TERMINAL = new Set(['Succeeded', 'Failed']);

const latest = (a: string, b: string): string =>
  b !== '' && (a === '' || Date.parse(b) > Date.parse(a)) ? b : a;

interface PodSummary {
  ready: number;
  total: number;
  reason: string;
  restarts: number;
  lastRestart: string;
}

/**
 * What the STATUS, READY and RESTARTS columns show, following the rules of kube's pod printer:
 * init containers first (`Init:1/2`, `Init:CrashLoopBackOff`), then the last container that is
 * waiting or terminated gives its reason, and a deleted pod shows `Terminating`.
 */
export function summarizePod(pod: Obj): PodSummary {
  const spec = obj(pod.spec);
  const status = obj(pod.status);
  const phase = str(status.phase);
  let reason = str(status.reason) || phase;
  if (list(status.conditions).some((c) => c.type === 'PodScheduled' && c.reason === 'SchedulingGated')) {
    reason = 'SchedulingGated';
  }
  const sidecars = new Set(
    list(spec.initContainers)
      .filter((c) => c.restartPolicy === 'Always')
      .map((c) => str(c.name)),
  );
  const initStatuses = list(status.initContainerStatuses);
  const total = list(spec.containers).length + initStatuses.filter((c) => sidecars.has(str(c.name))).length;
  let ready = 0;
  let restarts = 0;
  let lastRestart = '';
  let sidecarRestarts = 0;
  let sidecarLastRestart = '';
  let initializing = false;
  const initCount = list(spec.initContainers).length;

  for (const [i, c] of initStatuses.entries()) {
    const finished = str(obj(obj(c.lastState).terminated).finishedAt);
    restarts += int(c.restartCount);
    lastRestart = latest(lastRestart, finished);
    const state = obj(c.state);
    const terminated = state.terminated ? obj(state.terminated) : undefined;
    const waiting = state.waiting ? obj(state.waiting) : undefined;
    if (sidecars.has(str(c.name))) {
      sidecarRestarts += int(c.restartCount);
      sidecarLastRestart = latest(sidecarLastRestart, finished);
      if (c.started === true && c.ready === true) ready++;
      continue;
    }
    if (terminated && int(terminated.exitCode) === 0) continue;
    if (terminated) {
      const r = str(terminated.reason);
      if (r !== '') reason = `Init:${r}`;
      else if (int(terminated.signal) !== 0) reason = `Init:Signal:${int(terminated.signal)}`;
      else reason = `Init:ExitCode:${int(terminated.exitCode)}`;
    } else if (waiting && str(waiting.reason) !== '' && waiting.reason !== 'PodInitializing') {
      reason = `Init:${str(waiting.reason)}`;
    } else {
      reason = `Init:${i}/${initCount}`;
    }
    initializing = true;
    break;
  }

  const initialized = list(status.conditions).some((c) => c.type === 'Initialized' && c.status === 'True');
  if (!initializing || initialized) {
    restarts = sidecarRestarts;
    lastRestart = sidecarLastRestart;
    let hasRunning = false;
    const statuses = list(status.containerStatuses);
    for (let i = statuses.length - 1; i >= 0; i--) {
      const c = statuses[i]!;
      restarts += int(c.restartCount);
      lastRestart = latest(lastRestart, str(obj(obj(c.lastState).terminated).finishedAt));
      const state = obj(c.state);
      const waiting = obj(state.waiting);
      const terminated = state.terminated ? obj(state.terminated) : undefined;
      if (str(waiting.reason) !== '') reason = str(waiting.reason);
      else if (terminated && str(terminated.reason) !== '') reason = str(terminated.reason);
      else if (terminated) {
        reason =
          int(terminated.signal) !== 0
            ? `Signal:${int(terminated.signal)}`
            : `ExitCode:${int(terminated.exitCode)}`;
      } else if (c.ready === true && state.running) {
        hasRunning = true;
        ready++;
      }
    }
    if (reason === 'Completed' && hasRunning) {
      reason = list(status.conditions).some((c) => c.type === 'Ready' && c.status === 'True')
        ? 'Running'
        : 'NotReady';
    }
  }

  const meta = obj(pod.metadata);
  if (meta.deletionTimestamp && status.reason === 'NodeLost') reason = 'Unknown';
  else if (meta.deletionTimestamp && !TERMINAL.has(phase)) reason = 'Terminating';
  return { ready, total, reason, restarts, lastRestart };
}

function readinessGates(pod: Obj): string {
  const gates = list(obj(pod.spec).readinessGates);
  if (gates.length === 0) return '<none>';
  const conditions = list(obj(pod.status).conditions);
  const met = gates.filter(
    (g) => conditions.find((c) => c.type === g.conditionType)?.status === 'True',
  ).length;
  return `${met}/${gates.length}`;
}

export const podPrinter: Printer = {
  columns: [
    NAME,
    col('Ready', 'Containers ready out of all containers of the pod.'),
    col('Status', 'Summary of the pod state, from its phase and container states.'),
    col('Restarts', 'Container restarts in the pod, and how long ago the last one was.'),
    AGE,
    wide('IP', 'IP address of the pod.'),
    wide('Node', 'Node the pod is bound to.'),
    wide('Nominated Node', 'Node the pod may run on once preemption finishes.'),
    wide('Readiness Gates', 'Readiness gates met out of all gates.'),
  ],
  cells(pod, now) {
    const s = summarizePod(pod);
    const status = obj(pod.status);
    const restarts =
      s.restarts !== 0 && s.lastRestart !== ''
        ? `${s.restarts} (${ageSince(s.lastRestart, now)} ago)`
        : String(s.restarts);
    const podIP = str(list(status.podIPs)[0]?.ip) || str(status.podIP);
    return [
      str(obj(pod.metadata).name),
      `${s.ready}/${s.total}`,
      s.reason,
      restarts,
      ageSince(obj(pod.metadata).creationTimestamp, now),
      orNone(podIP),
      orNone(str(obj(pod.spec).nodeName)),
      orNone(str(status.nominatedNodeName)),
      readinessGates(pod),
    ];
  },
};
