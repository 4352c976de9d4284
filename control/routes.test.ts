import { describe, expect, it } from 'vitest';
import { listPrefix, parseResourcePath, storageKey } from './routes.js';

const p = (path: string) => {
  const r = parseResourcePath(path);
  return (
    r && { plural: r.info.plural, ns: r.namespace, name: r.name, sub: r.subresource, watch: r.watchPrefix }
  );
};

describe('resource paths', () => {
  it('maps namespaced, cluster and all-namespaces paths', () => {
    expect(p('/api/v1/namespaces/default/services/web')).toEqual({
      plural: 'services',
      ns: 'default',
      name: 'web',
      sub: undefined,
      watch: false,
    });
    expect(p('/api/v1/services')).toMatchObject({ plural: 'services', ns: undefined, name: undefined });
    expect(p('/apis/apps/v1/namespaces/x/deployments/d/scale')).toMatchObject({
      plural: 'deployments',
      sub: 'scale',
    });
    expect(p('/api/v1/nodes/node-1/status')).toMatchObject({
      plural: 'nodes',
      name: 'node-1',
      sub: 'status',
    });
  });

  it('tells a namespace object from namespaced content', () => {
    expect(p('/api/v1/namespaces/kube-system')).toMatchObject({ plural: 'namespaces', name: 'kube-system' });
    expect(p('/api/v1/namespaces/kube-system/status')).toMatchObject({ plural: 'namespaces', sub: 'status' });
    expect(p('/api/v1/namespaces/kube-system/pods')).toMatchObject({ plural: 'pods', ns: 'kube-system' });
  });

  it('supports the legacy watch prefix', () => {
    expect(p('/api/v1/watch/namespaces/default/pods')).toMatchObject({
      plural: 'pods',
      ns: 'default',
      watch: true,
    });
  });

  it('refuses unknown resources, subresources and shapes', () => {
    expect(p('/api/v1/widgets')).toBeUndefined();
    expect(p('/api/v1/namespaces/default/services/web/scale')).toBeUndefined();
    expect(p('/api/v1/pods/x')).toBeUndefined();
    expect(p('/apis/apps/v2/deployments')).toBeUndefined();
    expect(p('/healthz')).toBeUndefined();
  });

  it('builds storage keys that cannot collide across namespaces', () => {
    const svc = parseResourcePath('/api/v1/services')!.info;
    expect(storageKey(svc, 'a', 'b')).toBe('/registry/core/services/a/b');
    expect(listPrefix(svc, 'a')).toBe('/registry/core/services/a/');
    expect(listPrefix(svc, undefined)).toBe('/registry/core/services/');
  });
});
