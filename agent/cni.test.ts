import { describe, expect, it } from 'vitest';
import { gcConfig, pluginConfig, resultAddress, versionAtLeast } from './cni.js';

describe('CNI runtime side', () => {
  it('hands the first plugin over with the list name and version injected', () => {
    const conflist = JSON.stringify({
      cniVersion: '1.1.0',
      name: 'klab',
      plugins: [{ type: 'klab-bridge', bridge: 'cni0' }, { type: 'portmap' }],
    });
    const { type, config } = pluginConfig(conflist, 'x.conflist');
    expect(type).toBe('klab-bridge');
    expect(JSON.parse(config)).toEqual({
      type: 'klab-bridge',
      bridge: 'cni0',
      name: 'klab',
      cniVersion: '1.1.0',
    });
  });

  it('runs CHECK unless the list disables it, and GC from spec 1.1.0 unless disableGC', () => {
    const list = (extra: object) =>
      JSON.stringify({ cniVersion: '1.1.0', name: 'k', plugins: [{ type: 't' }], ...extra });
    expect(pluginConfig(list({}), 'f')).toMatchObject({ check: true, gc: true });
    expect(pluginConfig(list({ disableCheck: true }), 'f').check).toBe(false);
    expect(pluginConfig(list({ disableGC: true }), 'f').gc).toBe(false);
    expect(pluginConfig(list({ cniVersion: '1.0.0' }), 'f').gc).toBe(false);
    expect(versionAtLeast('1.10.0', '1.1.0')).toBe(true);
    expect(versionAtLeast('0.4.0', '1.1.0')).toBe(false);
  });

  it('hands GC the attachments still in use', () => {
    const config = JSON.parse(
      gcConfig('{"type":"t","name":"k","cniVersion":"1.1.0"}', [{ containerID: 'uid-1', ifname: 'eth0' }]),
    ) as Record<string, unknown>;
    expect(config).toEqual({
      type: 't',
      name: 'k',
      cniVersion: '1.1.0',
      'cni.dev/valid-attachments': [{ containerID: 'uid-1', ifname: 'eth0' }],
    });
  });

  it('names the file and the problem on a bad conflist', () => {
    expect(() => pluginConfig('{', '/etc/cni/net.d/10.conflist')).toThrow(/10\.conflist: not JSON/);
    expect(() => pluginConfig('{"name":"k","cniVersion":"1.1.0","plugins":[]}', 'f')).toThrow(
      /plugins\[0\]\.type/,
    );
  });

  it('reads the pod address from an ADD result', () => {
    expect(resultAddress('{"ips":[{"address":"10.244.1.5/24","gateway":"10.244.1.1"}]}')).toBe('10.244.1.5');
    expect(() => resultAddress('{"ips":[]}')).toThrow(/no ips/);
  });
});
