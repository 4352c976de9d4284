import { describe, expect, it } from 'vitest';
import {
  containerLaunch,
  type ContainerSpec,
  type Pod,
  wantsNewSandbox,
  restartDelayMs,
  sandboxRetryDelayMs,
  sandboxName,
  shouldRestart,
} from './pod.js';

const pod = (image: string, extra: ContainerSpec[] = []): Pod => ({
  metadata: { name: 'web-1', namespace: 'shop', uid: 'u-1' },
  spec: { containers: [{ name: 'main', image, ports: [{ containerPort: 9090 }] }, ...extra] },
});
const ctx = {
  klabArgv: ['/node', '/klab.js'],
  echoArgv: ['/node', '/echo-main.js'],
  nodeName: 'node-2',
  hostIP: '192.168.56.12',
  podIP: '10.244.2.5',
};

describe('containerLaunch', () => {
  it('runs klab/echo on the container port with the downward env', () => {
    const p = pod('klab/echo:latest');
    const launch = containerLaunch(p, p.spec.containers![0]!, ctx);
    expect(launch).toEqual({
      kind: 'run',
      argv: ['/node', '/echo-main.js', '--port', '9090'],
      env: expect.objectContaining({
        POD_NAME: 'web-1',
        POD_IP: '10.244.2.5',
        NODE_NAME: 'node-2',
        POD_NAMESPACE: 'shop',
      }),
    });
  });

  it('runs host images from command and args, with the resolved env winning and $(VAR) expanded', () => {
    const p = pod('host');
    const c = { ...p.spec.containers![0]!, command: ['/bin/sleep'], args: ['$(SECONDS)', '$$(SECONDS)'] };
    const launch = containerLaunch(p, c, { ...ctx, env: { POD_NAME: 'x', SECONDS: '60' } });
    expect(launch.kind === 'run' && launch.argv).toEqual(['/bin/sleep', '60', '$(SECONDS)']);
    expect(launch.kind === 'run' && launch.env.POD_NAME).toBe('x');
  });

  it('runs klab/dns against the API with the pod’s service-account kubeconfig, or explains why not', () => {
    const p = pod('klab/dns:v1');
    const c = { ...p.spec.containers![0]!, args: ['--ttl', '5'] };
    expect(
      containerLaunch(p, c, { ...ctx, serviceAccountDir: '/state/pods/u-1/serviceaccount' }),
    ).toMatchObject({
      kind: 'run',
      argv: [
        '/node',
        '/klab.js',
        'dns',
        'serve',
        '--kubeconfig',
        '/state/pods/u-1/serviceaccount/kubeconfig',
        '--ttl',
        '5',
      ],
    });
    const missing = containerLaunch(p, c, ctx);
    expect(missing).toMatchObject({ kind: 'error', reason: 'CreateContainerConfigError' });
    expect(missing.kind === 'error' && missing.message).toContain('spec.serviceAccountName');
  });

  it('refuses host without a command and unknown images, naming them', () => {
    const p = pod('host');
    expect(containerLaunch(p, p.spec.containers![0]!, ctx)).toMatchObject({
      kind: 'error',
      reason: 'CreateContainerConfigError',
    });
    const q = pod('nginx:1.27');
    const launch = containerLaunch(q, q.spec.containers![0]!, ctx);
    expect(launch).toMatchObject({ kind: 'error', reason: 'ErrImageNotKnown' });
    expect(launch.kind === 'error' && launch.message).toContain('"nginx:1.27"');
  });
});

describe('pod helpers', () => {
  it('names sandboxes stably and short enough for ip netns', () => {
    expect(sandboxName('klab-demo-', 'u-1')).toBe(sandboxName('klab-demo-', 'u-1'));
    expect(sandboxName('klab-demo-', 'u-1')).toMatch(/^klab-demo-pod-[0-9a-f]{10}$/);
    expect(sandboxName('klab-demo-', 'u-2')).not.toBe(sandboxName('klab-demo-', 'u-1'));
  });

  it('makes a new sandbox for a changed one as kubelet decides', () => {
    const killed = { lastExit: { exitCode: 143 } };
    const done = { lastExit: { exitCode: 0 } };
    expect(wantsNewSandbox('Always', [killed, done])).toBe(true);
    expect(wantsNewSandbox(undefined, [done])).toBe(true);
    expect(wantsNewSandbox('OnFailure', [done, killed])).toBe(true);
    expect(wantsNewSandbox('OnFailure', [done])).toBe(false);
    expect(wantsNewSandbox('OnFailure', [{ pid: 7, lastExit: { exitCode: 0 } }])).toBe(true);
    expect(wantsNewSandbox('Never', [killed])).toBe(false);
    expect(wantsNewSandbox('Never', [{}, {}])).toBe(true);
  });

  it('restarts by policy with a doubling, capped back-off', () => {
    expect([
      shouldRestart(undefined, 0),
      shouldRestart('OnFailure', 0),
      shouldRestart('OnFailure', 2),
      shouldRestart('Never', 1),
    ]).toEqual([true, false, true, false]);
    expect([1, 2, 3, 4, 11].map(restartDelayMs)).toEqual([0, 10_000, 20_000, 40_000, 300_000]);
  });

  it('backs a failing sandbox off from 2 s, doubling, capped at five minutes', () => {
    const waits: number[] = [];
    let previous: number | undefined;
    for (let i = 0; i < 10; i++) waits.push((previous = sandboxRetryDelayMs(previous)));
    expect(waits).toEqual([2_000, 4_000, 8_000, 16_000, 32_000, 64_000, 128_000, 256_000, 300_000, 300_000]);
  });
});
