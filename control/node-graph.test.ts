import { describe, expect, it } from 'vitest';
import { podReferences, referencedBy } from './node-graph.js';

describe('what the pods bound to a node name', () => {
  const pod = {
    spec: {
      imagePullSecrets: [{ name: 'pull' }],
      initContainers: [
        { env: [{ name: 'A', valueFrom: { configMapKeyRef: { name: 'init-cm', key: 'k' } } }] },
      ],
      containers: [
        {
          envFrom: [{ configMapRef: { name: 'cm-all' } }, { secretRef: { name: 'sec-all' } }],
          env: [
            { name: 'B', value: 'plain' },
            { name: 'C', valueFrom: { secretKeyRef: { name: 'sec-key', key: 'k' } } },
            { name: 'D', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
          ],
        },
      ],
      ephemeralContainers: [{ envFrom: [{ secretRef: { name: 'debug' } }] }],
      volumes: [
        { name: 'v1', secret: { secretName: 'sec-vol' } },
        { name: 'v2', configMap: { name: 'cm-vol' } },
        {
          name: 'v3',
          projected: { sources: [{ secret: { name: 'proj-s' } }, { configMap: { name: 'proj-c' } }] },
        },
        { name: 'v4', csi: { driver: 'x', nodePublishSecretRef: { name: 'csi-s' } } },
        { name: 'v5', rbd: { secretRef: { name: 'rbd-s' } } },
        { name: 'v6', emptyDir: {} },
      ],
    },
  };

  it('collects Secrets and ConfigMaps from every place a pod names them', () => {
    const refs = podReferences(pod);
    expect([...refs.secrets].sort()).toEqual(
      ['csi-s', 'debug', 'proj-s', 'pull', 'rbd-s', 'sec-all', 'sec-key', 'sec-vol'].sort(),
    );
    expect([...refs.configMaps].sort()).toEqual(['cm-all', 'cm-vol', 'init-cm', 'proj-c']);
  });

  it('keeps the two kinds apart and copes with an empty spec', () => {
    expect(referencedBy([pod], 'secrets', 'sec-key')).toBe(true);
    expect(referencedBy([pod], 'configmaps', 'sec-key')).toBe(false);
    expect(referencedBy([{}, { spec: {} }, pod], 'configmaps', 'proj-c')).toBe(true);
    expect(referencedBy([], 'secrets', 'pull')).toBe(false);
  });
});
