import { describe, expect, it } from 'vitest';
import { desiredNode, microTime, nodeConditions } from './node.js';

const machine = {
  cpus: 2,
  memoryBytes: 4 * 1024 ** 3,
  kernelVersion: '6.1.0',
  osImage: 'Debian',
  machineID: 'm',
};

describe('desiredNode', () => {
  it('registers InternalIP, resources, labels and node info', () => {
    const n = desiredNode({ name: 'node-1', ip: '192.168.56.11', controlPlane: true }, machine) as {
      metadata: { labels: Record<string, string> };
      status: { addresses: unknown[]; capacity: Record<string, string>; nodeInfo: Record<string, string> };
    };
    expect(n.status.addresses).toContainEqual({ type: 'InternalIP', address: '192.168.56.11' });
    expect(n.status.capacity).toEqual({ cpu: '2', memory: '4194304Ki', pods: '110' });
    expect(n.metadata.labels['node-role.kubernetes.io/control-plane']).toBe('');
    expect(n.status.nodeInfo).toMatchObject({
      kubeletVersion: 'v1.32.0-klab',
      kernelVersion: '6.1.0',
      osImage: 'Debian',
    });
    expect(n.status.nodeInfo.containerRuntimeVersion).toMatch(/^klab:\/\//);
  });

  it('labels only control-plane nodes with the role', () => {
    const n = desiredNode({ name: 'node-2', ip: '192.168.56.12', controlPlane: false }, machine);
    expect(n.metadata?.labels).not.toHaveProperty('node-role.kubernetes.io/control-plane');
  });

  it('reports Ready with KubeletReady and no pressure', () => {
    const c = nodeConditions('t2', 't1') as { type: string; status: string; reason: string }[];
    expect(c.find((x) => x.type === 'Ready')).toMatchObject({ status: 'True', reason: 'KubeletReady' });
    expect(c.filter((x) => x.type !== 'Ready').every((x) => x.status === 'False')).toBe(true);
  });

  it('writes MicroTime with microseconds', () => {
    expect(microTime(new Date('2026-01-02T03:04:05.678Z'))).toBe('2026-01-02T03:04:05.678000Z');
  });
});
