import { describe, expect, it } from 'vitest';
import type { Pod } from './pod.js';
import { podPhase, podStatus, type PodRuntime } from './status.js';

const pod: Pod = {
  metadata: { name: 'web-1', namespace: 'shop', uid: 'u-1' },
  spec: { containers: [{ name: 'main', image: 'klab/echo' }] },
};
const rt = (over: Partial<PodRuntime['containers'][number]> = {}, policy?: Pod['spec']['restartPolicy']) => ({
  pod: { ...pod, spec: { ...pod.spec, restartPolicy: policy } },
  rt: {
    uid: 'u-1',
    namespace: 'shop',
    name: 'web-1',
    netns: 'klab-x-pod-1',
    podIP: '10.244.1.7',
    startedAt: 't0',
    containers: [{ name: 'main', image: 'klab/echo', restartCount: 0, ready: false, ...over }],
  },
});

describe('podStatus', () => {
  it('reports a running, ready container as kubelet does', () => {
    const { pod: p, rt: r } = rt({ pid: 42, startedAt: 't1', ready: true });
    const s = podStatus(p, r, '192.168.56.12', 't2') as Record<string, unknown>;
    expect(s).toMatchObject({
      phase: 'Running',
      podIP: '10.244.1.7',
      podIPs: [{ ip: '10.244.1.7' }],
      hostIP: '192.168.56.12',
    });
    const conditions = s.conditions as { type: string; status: string }[];
    expect(Object.fromEntries(conditions.map((c) => [c.type, c.status]))).toEqual({
      PodReadyToStartContainers: 'True',
      Initialized: 'True',
      Ready: 'True',
      ContainersReady: 'True',
      PodScheduled: 'True',
    });
    expect(s.containerStatuses).toEqual([
      expect.objectContaining({
        name: 'main',
        ready: true,
        started: true,
        restartCount: 0,
        state: { running: { startedAt: 't1' } },
      }),
    ]);
  });

  it('keeps transition times of unchanged conditions', () => {
    const { pod: p, rt: r } = rt({ pid: 42, ready: true });
    const first = podStatus(p, r, 'h', 't1');
    const second = podStatus({ ...p, status: first }, r, 'h', 't9') as {
      conditions: { lastTransitionTime: string }[];
    };
    expect(second.conditions.every((c) => c.lastTransitionTime === 't1')).toBe(true);
  });

  it('leaves an unknown image waiting and the pod Pending and not Ready', () => {
    const { pod: p, rt: r } = rt({ waiting: { reason: 'ErrImageNotKnown', message: 'image "x"' } });
    const s = podStatus(p, r, 'h', 't') as {
      phase: string;
      containerStatuses: { state: unknown; ready: boolean }[];
    };
    expect(s.phase).toBe('Pending');
    expect(s.containerStatuses[0]).toMatchObject({
      ready: false,
      state: { waiting: { reason: 'ErrImageNotKnown' } },
    });
  });

  it('decides phases of finished pods by restart policy and exit codes', () => {
    const done = (exitCode: number) => ({
      lastExit: { exitCode, reason: exitCode ? 'Error' : 'Completed', finishedAt: 't' },
    });
    expect(podPhase(rt(done(0), 'Never').pod, rt(done(0), 'Never').rt)).toBe('Succeeded');
    expect(podPhase(rt(done(3), 'Never').pod, rt(done(3), 'Never').rt)).toBe('Failed');
    const crashing = rt({
      ...done(1),
      restartCount: 2,
      backoffUntil: 1,
      waiting: { reason: 'CrashLoopBackOff' },
    });
    expect(podPhase(crashing.pod, crashing.rt)).toBe('Running');
  });
});
