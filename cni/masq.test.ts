import { describe, expect, it } from 'vitest';
import { parseNetConf } from './config.js';
import { parseIp } from './ipv4.js';
import { masqAddRules, masqDeleteRules, masqKnownDeleteRules, parseMasqChains } from './masq.js';
import { chainName } from './names.js';

const range = parseNetConf({
  cniVersion: '1.1.0',
  name: 'n',
  type: 't',
  ipam: { type: 'host-local', ranges: [[{ subnet: '10.244.1.0/24' }]] },
}).ipam.ranges[0]?.[0];
if (!range) throw new Error('no range');
const lease = { ip: parseIp('10.244.1.7') ?? 0, range };
const chain = chainName('klab', 'c1');

describe('masquerade rules', () => {
  it('renders the per-pod chain', () => {
    expect(masqAddRules('klab', 'c1', [lease], ['10.244.0.0/16'])).toBe(
      [
        '*nat',
        `:${chain} - [0:0]`,
        `-A ${chain} -d 10.244.1.0/24 -m comment --comment "name: \\"klab\\" id: \\"c1\\"" -j ACCEPT`,
        `-A ${chain} -d 10.244.0.0/16 -m comment --comment "name: \\"klab\\" id: \\"c1\\"" -j ACCEPT`,
        `-A ${chain} ! -d 224.0.0.0/4 -m comment --comment "name: \\"klab\\" id: \\"c1\\"" -j MASQUERADE`,
        `-A POSTROUTING -s 10.244.1.7/32 -m comment --comment "name: \\"klab\\" id: \\"c1\\"" -j ${chain}`,
        'COMMIT',
        '',
      ].join('\n'),
    );
  });

  it('finds chains and their owners in iptables-save output, and removes them', () => {
    const save = [
      '*nat',
      ':POSTROUTING ACCEPT [0:0]',
      `:${chain} - [0:0]`,
      ':CNI-0123456789abcdef01234567 - [0:0]',
      ':KUBE-POSTROUTING - [0:0]',
      '-A POSTROUTING -m comment --comment "kubernetes postrouting rules" -j KUBE-POSTROUTING',
      ...masqAddRules('klab', 'c1', [lease]).split('\n').slice(2, -3),
      `-A POSTROUTING -s 10.244.1.7/32 -m comment --comment "name: \\"klab\\" id: \\"c1\\"" -j ${chain}`,
      'COMMIT',
    ].join('\n');
    const chains = parseMasqChains(save);
    expect(chains.map((c) => [c.chain, c.network, c.containerId, c.jumps.length, c.rules.length])).toEqual([
      [chain, 'klab', 'c1', 1, 2],
      ['CNI-0123456789abcdef01234567', undefined, undefined, 0, 0],
    ]);
    expect(masqDeleteRules(chains.slice(0, 1))).toBe(
      [
        '*nat',
        `-D POSTROUTING -s 10.244.1.7/32 -m comment --comment "name: \\"klab\\" id: \\"c1\\"" -j ${chain}`,
        `-F ${chain}`,
        `-X ${chain}`,
        'COMMIT',
        '',
      ].join('\n'),
    );
    expect(masqDeleteRules([])).toBe('');
  });

  it('deletes the known rules of released addresses in one restore', () => {
    expect(masqKnownDeleteRules('klab', 'c1', [lease.ip])).toBe(
      [
        '*nat',
        `-D POSTROUTING -s 10.244.1.7/32 -m comment --comment "name: \\"klab\\" id: \\"c1\\"" -j ${chain}`,
        `-F ${chain}`,
        `-X ${chain}`,
        'COMMIT',
        '',
      ].join('\n'),
    );
  });
});
