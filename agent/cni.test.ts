import { describe, expect, it } from 'vitest';
import { pluginConfig, resultAddress } from './cni.js';

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
