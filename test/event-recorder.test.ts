/**
 * The event recorder of the agent and the controllers against a real API server: repeats fold
 * into one Event with a growing count, as client-go's recorder does.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { extensions } from '../control/layers.js';
import { startTestCluster, type TestCluster } from '../control/testing.js';
import { KubeClient, type KubeObject } from '../kube/client.js';
import { EventRecorder } from '../kube/events.js';
import { loadKubeconfig } from '../kube/kubeconfig.js';

type Event = KubeObject & {
  metadata: { name: string };
  reason: string;
  message: string;
  count: number;
  firstTimestamp: string;
  lastTimestamp: string;
  source: { component: string; host?: string };
  reportingInstance: string;
};

describe('EventRecorder', () => {
  let cluster: TestCluster;
  let client: KubeClient;
  let clock = new Date('2026-11-24T10:00:00Z');
  const lost: string[] = [];
  let recorder: EventRecorder;
  const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { namespace: 'default', name: 'web', uid: 'u-1' } };
  const kubelet = { component: 'kubelet', host: 'node-1' };
  const events = async (): Promise<Event[]> =>
    (await client.list<Event>('/api/v1/namespaces/default/events')).items;
  const advance = (ms: number) => (clock = new Date(clock.getTime() + ms));

  beforeAll(async () => {
    cluster = await startTestCluster({ ext: extensions });
    client = new KubeClient(loadKubeconfig(cluster.server.kubeconfigPath));
    recorder = new EventRecorder(
      client,
      (reason, error) => lost.push(`${reason}: ${error.message}`),
      () => clock,
    );
  }, 60_000);

  afterAll(async () => {
    client?.close();
    await cluster?.stop();
  });

  it('folds repeats into one Event with a count and the last time, and keeps others apart', async () => {
    await recorder.record(pod, 'Warning', 'FailedCreatePodSandBox', 'no IP', kubelet);
    advance(2_000);
    await recorder.record(pod, 'Warning', 'FailedCreatePodSandBox', 'no IP', kubelet);
    advance(4_000);
    await recorder.record(pod, 'Warning', 'FailedCreatePodSandBox', 'no IP', kubelet);
    await recorder.record(pod, 'Warning', 'FailedCreatePodSandBox', 'other error', kubelet);
    await recorder.record(pod, 'Warning', 'FailedCreatePodSandBox', 'no IP', {
      component: 'kubelet',
      host: 'node-2',
    });
    const all = await events();
    expect(all).toHaveLength(3);
    const folded = all.find((e) => e.message === 'no IP' && e.source.host === 'node-1');
    expect(folded).toMatchObject({
      count: 3,
      firstTimestamp: '2026-11-24T10:00:00Z',
      lastTimestamp: '2026-11-24T10:00:06Z',
      source: kubelet,
      reportingInstance: 'node-1',
    });
    expect(all.filter((e) => e.count === 1)).toHaveLength(2);
    expect(lost).toEqual([]);
  });

  it('starts a new Event after 10 minutes, or when the folded one is gone', async () => {
    const before = new Set((await events()).map((e) => e.metadata.name));
    advance(10 * 60_000);
    await recorder.record(pod, 'Normal', 'Pulled', 'image present', kubelet);
    await recorder.record(pod, 'Normal', 'Pulled', 'image present', kubelet);
    advance(10 * 60_000 + 1);
    await recorder.record(pod, 'Normal', 'Pulled', 'image present', kubelet);
    let pulled = (await events()).filter((e) => e.reason === 'Pulled');
    expect(pulled.map((e) => e.count).sort()).toEqual([1, 2]);
    for (const e of pulled) await client.delete(`/api/v1/namespaces/default/events/${e.metadata.name}`);
    await recorder.record(pod, 'Normal', 'Pulled', 'image present', kubelet);
    pulled = (await events()).filter((e) => e.reason === 'Pulled');
    expect(pulled).toHaveLength(1);
    expect(pulled[0]?.count).toBe(1);
    expect(before.has(pulled[0]?.metadata.name ?? '')).toBe(false);
    expect(lost).toEqual([]);
  });

  it('reports a lost Event instead of throwing', async () => {
    await recorder.record(
      { kind: 'Pod', metadata: { namespace: 'no-such-namespace', name: 'x' } },
      'Normal',
      'Started',
      'started',
      kubelet,
    );
    expect(lost).toHaveLength(1);
    expect(lost[0]).toMatch(/^Started: .*no-such-namespace/);
  });
});
