import { describe, expect, it } from 'vitest';
import { decode, parseNetConf } from './config.js';
import { CniCode, CniError } from './errors.js';
import { formatIp } from './ipv4.js';

const base = {
  cniVersion: '1.1.0',
  name: 'klab',
  type: 'klab-bridge',
  ipam: { type: 'host-local', ranges: [[{ subnet: '10.244.1.0/24' }]] },
};

function errorOf(raw: Record<string, unknown>): CniError {
  try {
    parseNetConf(raw);
  } catch (err) {
    if (err instanceof CniError) return err;
    throw err;
  }
  throw new Error('expected an error');
}

describe('parseNetConf', () => {
  it('fills the reference defaults', () => {
    const c = parseNetConf(base);
    expect(c.bridge).toBe('cni0');
    expect([c.isGateway, c.ipMasq, c.hairpinMode, c.promiscMode]).toEqual([false, false, false, false]);
    expect(c.ipam.dataDir).toBe('/var/lib/cni/networks');
    const r = c.ipam.ranges[0]?.[0];
    expect(r && [formatIp(r.rangeStart), formatIp(r.rangeEnd), formatIp(r.gateway)]).toEqual([
      '10.244.1.1',
      '10.244.1.254',
      '10.244.1.1',
    ]);
  });

  it('isDefaultGateway implies isGateway', () => {
    expect(parseNetConf({ ...base, isDefaultGateway: true }).isGateway).toBe(true);
  });

  it('accepts the legacy ipam.subnet form', () => {
    const c = parseNetConf({
      ...base,
      ipam: { type: 'host-local', subnet: '10.1.0.0/16', gateway: '10.1.0.254' },
    });
    expect(formatIp(c.ipam.ranges[0]?.[0]?.gateway ?? 0)).toBe('10.1.0.254');
  });

  it.each([
    [{ cniVersion: '0.9.0' }, CniCode.IncompatibleVersion, 'incompatible CNI versions'],
    [{ cniVersion: 'one' }, CniCode.DecodeFailure, 'cniVersion'],
    [{ name: '' }, CniCode.InvalidConfig, 'name'],
    [{ name: '-bad' }, CniCode.InvalidConfig, 'name'],
    [{ bridge: 'a-very-long-bridge-name' }, CniCode.InvalidConfig, 'bridge'],
    [{ isGateway: 'yes' }, CniCode.InvalidConfig, 'isGateway'],
    [{ mtu: 10 }, CniCode.InvalidConfig, 'mtu'],
    [{ hairpinMode: true, promiscMode: true }, CniCode.InvalidConfig, 'promiscMode'],
    [{ ipam: undefined }, CniCode.InvalidConfig, 'ipam'],
    [{ ipam: { type: 'dhcp' } }, CniCode.InvalidConfig, 'ipam.type'],
    [{ ipam: { type: 'host-local', ranges: [] } }, CniCode.InvalidConfig, 'ipam.ranges'],
    [
      { ipam: { type: 'host-local', ranges: [[{ subnet: '10.0.0.1/24' }]] } },
      CniCode.InvalidConfig,
      'ipam.ranges[0][0].subnet',
    ],
    [
      { ipam: { type: 'host-local', ranges: [[{ subnet: 'x' }]] } },
      CniCode.InvalidConfig,
      'ipam.ranges[0][0].subnet',
    ],
    [
      { ipam: { type: 'host-local', ranges: [[{ subnet: '10.0.0.0/24', rangeStart: '10.0.1.5' }]] } },
      CniCode.InvalidConfig,
      'ipam.ranges[0][0].rangeStart',
    ],
    [
      { ipam: { type: 'host-local', ranges: [[{ subnet: '10.0.0.0/24' }, { subnet: '10.0.0.0/25' }]] } },
      CniCode.InvalidConfig,
      'ipam.ranges[0][1]',
    ],
    [
      { ipam: { type: 'host-local', ranges: [[{ subnet: '10.0.0.0/24' }]], dataDir: 'rel' } },
      CniCode.InvalidConfig,
      'ipam.dataDir',
    ],
    [
      { ipam: { type: 'host-local', ranges: [[{ subnet: '10.0.0.0/24' }]], routes: [{ dst: 'nope' }] } },
      CniCode.InvalidConfig,
      'ipam.routes[0].dst',
    ],
    [{ nonMasqueradeCIDRs: ['10.244.0.1/16'] }, CniCode.InvalidConfig, 'nonMasqueradeCIDRs[0]'],
    [{ prevResult: [] }, CniCode.InvalidConfig, 'prevResult'],
    [
      { 'cni.dev/valid-attachments': [{ containerID: 1 }] },
      CniCode.InvalidConfig,
      'cni.dev/valid-attachments[0]',
    ],
  ])('rejects %j with code %i naming %s', (patch, code, field) => {
    const e = errorOf({ ...base, ...patch });
    expect(e.code).toBe(code);
    expect(e.message).toContain(field);
  });
});

describe('decode', () => {
  it('gives code 6 for text that is not a JSON object', () => {
    for (const text of ['{', '', '[1]', 'null']) {
      expect(() => decode(text)).toThrow(expect.objectContaining({ code: CniCode.DecodeFailure }));
    }
  });
});
