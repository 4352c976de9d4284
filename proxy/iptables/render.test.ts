import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { buildModel } from '../model.js';
import type { NodeFacts } from '../model.js';
import { parseObjects } from '../objects.js';
import { canonicalRestore } from './canonical.js';
import { chainNameMemoSize, endpointChain, hash16, retireUnusedChainNames, serviceChains } from './names.js';
import {
  activeChains,
  portContext,
  portFragment,
  probability,
  renderIptables,
  replaceActiveChains,
} from './render.js';
import type { IptablesRenderOptions } from './render.js';

const golden = (name: string) => new URL(`./__golden__/${name}`, import.meta.url);

/** NewFakeProxier's node in upstream's tests. */
const upstreamNode: NodeFacts = {
  name: 'test-node',
  ips: ['192.168.0.2'],
  clusterCIDR: '10.0.0.0/8',
  masqueradeAll: false,
  localhostNodePorts: true,
};

/** A klab lab node (node-1). */
const labNode: NodeFacts = {
  name: 'node-1',
  ips: ['192.168.56.11'],
  clusterCIDR: '10.244.0.0/16',
  masqueradeAll: false,
  localhostNodePorts: true,
};

function render(file: string, node: NodeFacts, opts: IptablesRenderOptions = {}) {
  const objects = parseObjects(readFileSync(golden(file), 'utf8'), file);
  return renderIptables(buildModel(objects, node), opts);
}

describe('chain names', () => {
  it('follows the upstream hash vectors', () => {
    expect(hash16('ns1/svc1:p80tcp')).toBe('XPGD46QRK7WJZT7O');
    expect(hash16('ns5/svc5:p80tcp10.180.0.3:80')).toBe('I77PXRDZVX7PMWMN');
    expect(hash16('kube-system/kube-dns:dnsudp')).toBe('TCOU7JCQXEZGVUNU');
  });

  it('names default/kubernetes:https KUBE-SVC-NPX46M4PTMTKRN6Y', () => {
    const sp = { name: 'default/kubernetes:https', protocol: 'TCP' as const };
    expect(serviceChains(sp).svc).toBe('KUBE-SVC-NPX46M4PTMTKRN6Y');
    expect(endpointChain(sp, { ip: '192.168.56.11', port: 6443 })).toBe('KUBE-SEP-MUJQWGIFFZZLYW7M');
  });

  it('keeps memoised names for two generations only, and gives the same names after', () => {
    const sp = { name: 'memo/churn:p', protocol: 'TCP' as const };
    const ep = (i: number) => ({ ip: `10.1.${i >> 8}.${i & 255}`, port: 80 });
    const first = endpointChain(sp, ep(0));
    for (let i = 1; i < 1000; i++) endpointChain(sp, ep(i));
    expect(chainNameMemoSize().endpoints).toBeGreaterThanOrEqual(1000);
    retireUnusedChainNames();
    // Looked up again in the new generation: kept; the 999 others are dropped at the next one.
    expect(endpointChain(sp, ep(0))).toBe(first);
    retireUnusedChainNames();
    expect(chainNameMemoSize().endpoints).toBeLessThan(10);
    retireUnusedChainNames();
    retireUnusedChainNames();
    expect(chainNameMemoSize()).toEqual({ ports: 0, endpoints: 0 });
    expect(endpointChain(sp, ep(0))).toBe(first);
    expect(serviceChains(sp).svc).toBe(`KUBE-SVC-${hash16('memo/churn:ptcp')}`);
  });
});

describe('probability', () => {
  it('formats like Go %0.10f', () => {
    expect([3, 2].map(probability)).toEqual(['0.3333333333', '0.5000000000']);
    expect(probability(7)).toBe('0.1428571429');
  });
});

describe('golden rule sets (canonical order of upstream proxier_test.go)', () => {
  const cases: Array<[string, NodeFacts, IptablesRenderOptions]> = [
    ['kubernetes', labNode, { randomFully: true }],
    ['features', labNode, {}],
    ['local-policies', labNode, {}],
    ['terminating', labNode, {}],
    [
      'masquerade-all',
      { ...labNode, masqueradeAll: true, localhostNodePorts: false, clusterCIDR: undefined },
      {},
    ],
  ];
  it.each(cases)('%s', async (name, node, opts) => {
    const out = render(`${name}.yaml`, node, opts);
    await expect(canonicalRestore(out.text)).toMatchFileSnapshot(golden(`${name}.rules`).pathname);
  });

  it('matches upstream TestOverallIPTablesRules byte for byte after the canonical sort', () => {
    const out = render('overall.yaml', upstreamNode, { nfacct: true });
    expect(canonicalRestore(out.text)).toBe(readFileSync(golden('overall.rules'), 'utf8'));
  });
});

describe('large-cluster mode', () => {
  it('drops per-endpoint comments above the threshold but keeps cluster IP comments', () => {
    const out = render('features.yaml', labNode, { largeClusterThreshold: 1 });
    expect(out.largeClusterMode).toBe(true);
    const sepRules = out.text.split('\n').filter((l) => l.startsWith('-A KUBE-SEP-'));
    expect(sepRules.length).toBeGreaterThan(0);
    expect(sepRules.every((l) => !l.includes('--comment'))).toBe(true);
    expect(out.text).toContain('cluster IP"');
  });
});

describe('partial render', () => {
  it('rewrites only the changed services chains plus the top-level chains', () => {
    const full = render('features.yaml', labNode);
    const partial = render('features.yaml', labNode, { changedServices: new Set(['demo/web']) });
    const chainsOf = (text: string) => text.split('\n').filter((l) => l.startsWith(':'));
    const partialChains = chainsOf(partial.text);
    expect(partialChains).toContain(':KUBE-SERVICES - [0:0]');
    expect(partialChains).toContain(':KUBE-NODEPORTS - [0:0]');
    const web = serviceChains({ name: 'demo/web:http', protocol: 'TCP' }).svc;
    const dns = serviceChains({ name: 'demo/dns:dns', protocol: 'UDP' }).svc;
    expect(partialChains).toContain(`:${web} - [0:0]`);
    expect(partialChains).not.toContain(`:${dns} - [0:0]`);
    expect(chainsOf(full.text)).toContain(`:${dns} - [0:0]`);
    // Skipped chains still count as active and in the rule metrics.
    expect(partial.activeNatChains()).toEqual(full.activeNatChains());
    expect(partial.ruleCounts).toEqual(full.ruleCounts);
  });

  it('updates the active chain set for replaced ports as a walk over every port would', () => {
    const objects = parseObjects(readFileSync(golden('features.yaml'), 'utf8'), 'features.yaml');
    const fewer = structuredClone(objects);
    const web = fewer.endpointSlices.find((s) => s.metadata.name === 'web-abc');
    web?.endpoints?.splice(1);
    const before = buildModel(objects, labNode);
    const after = buildModel(fewer, labNode);
    const fragments = (m: typeof before, service?: string) => {
      const { context, key } = portContext(m);
      return m.ports
        .filter((sp) => !service || sp.service === service)
        .map((sp) => portFragment(sp, context, key, undefined));
    };
    const updated = replaceActiveChains(
      activeChains(fragments(before)),
      fragments(before, 'demo/web'),
      fragments(after, 'demo/web'),
    );
    expect(updated).toEqual(activeChains(fragments(after)));
    expect(activeChains(fragments(before)).size).toBeGreaterThan(updated.size);
  });

  it('renders the same with a precomputed port context', () => {
    const objects = parseObjects(readFileSync(golden('features.yaml'), 'utf8'), 'features.yaml');
    const model = buildModel(objects, labNode);
    expect(renderIptables(model, { portContext: portContext(model) }).text).toBe(renderIptables(model).text);
  });

  it('deletes stale service chains with a chain line and -X, leaving foreign chains alone', () => {
    const out = render('features.yaml', labNode, {
      changedServices: new Set(),
      existingNatChains: [
        'KUBE-SVC-AAAAAAAAAAAAAAAA',
        'KUBE-SEP-BBBBBBBBBBBBBBBB',
        'CNI-HOSTPORT',
        'KUBE-SERVICES',
      ],
    });
    expect(out.deletedChains).toEqual(['KUBE-SVC-AAAAAAAAAAAAAAAA', 'KUBE-SEP-BBBBBBBBBBBBBBBB']);
    expect(out.text).toContain(':KUBE-SVC-AAAAAAAAAAAAAAAA - [0:0]\n');
    expect(out.text).toContain('\n-X KUBE-SVC-AAAAAAAAAAAAAAAA\n');
    expect(out.text).not.toContain('CNI-HOSTPORT');
    expect(canonicalRestore(out.text)).toMatchSnapshot();
  });
});

/**
 * Applies restore input the way iptables-restore --noflush does, per transaction: a chain line
 * creates or flushes, -A appends (its chain and any KUBE- jump target must exist), -X deletes.
 * Returns the chains after every transaction, so tests can check each intermediate state.
 */
function applyRestore(text: string, state = new Map<string, string[]>()): Map<string, string[]>[] {
  const states: Map<string, string[]>[] = [];
  let table = '';
  let next = new Map(state);
  for (const line of text.split('\n')) {
    if (line.startsWith('*')) {
      table = line.slice(1);
      next = new Map([...(states.at(-1) ?? state)].map(([k, v]) => [k, [...v]]));
    } else if (line.startsWith(':')) {
      next.set(`${table}/${line.slice(1, line.indexOf(' '))}`, []);
    } else if (line.startsWith('-A ')) {
      const [, chain] = line.split(' ');
      const target = / -j (KUBE-\S+)/.exec(line)?.[1];
      const rules = next.get(`${table}/${chain}`);
      if (!rules) throw new Error(`no chain for ${line}`);
      if (target && !next.has(`${table}/${target}`)) throw new Error(`no target for ${line}`);
      rules.push(line);
    } else if (line.startsWith('-X ')) {
      next.delete(`${table}/${line.slice(3)}`);
    } else if (line === 'COMMIT') {
      states.push(next);
    }
  }
  return states;
}

describe('staged nat transactions (iptables-nft-restore cost bound)', () => {
  const stale = ['KUBE-SVC-AAAAAAAAAAAAAAAA', 'KUBE-SEP-BBBBBBBBBBBBBBBB'];
  const initial = new Map<string, string[]>([
    ['nat/KUBE-SVC-AAAAAAAAAAAAAAAA', ['-A KUBE-SVC-AAAAAAAAAAAAAAAA -j KUBE-SEP-BBBBBBBBBBBBBBBB']],
    ['nat/KUBE-SEP-BBBBBBBBBBBBBBBB', []],
    ['nat/KUBE-SERVICES', ['-A KUBE-SERVICES -d 10.96.9.9/32 -j KUBE-SVC-AAAAAAAAAAAAAAAA']],
  ]);
  const plain = render('features.yaml', labNode, { existingNatChains: stale });
  const staged = render('features.yaml', labNode, { existingNatChains: stale, stageBudget: 100 });

  it('splits a large nat table into several transactions', () => {
    expect(plain.text.split('\nCOMMIT\n')).toHaveLength(3);
    expect(staged.text.split('\nCOMMIT\n').length).toBeGreaterThan(4);
    expect(render('features.yaml', labNode, { existingNatChains: stale, stageBudget: 1e12 }).text).toBe(
      plain.text,
    );
  });

  it('ends in exactly the rules of the single transaction, valid at every step', () => {
    const after = applyRestore(plain.text, initial);
    const steps = applyRestore(staged.text, initial);
    expect(steps.at(-1)).toEqual(after.at(-1));
    expect(after.at(-1)?.has('nat/KUBE-SVC-AAAAAAAAAAAAAAAA')).toBe(false);
  });

  it('never shows a chain half-written', () => {
    const final = applyRestore(plain.text, initial).at(-1) as Map<string, string[]>;
    for (const state of applyRestore(staged.text, initial)) {
      for (const [chain, rules] of state) {
        const before = initial.get(chain);
        const ok = JSON.stringify(rules) === JSON.stringify(final.get(chain));
        expect(ok || JSON.stringify(rules) === JSON.stringify(before ?? [])).toBe(true);
      }
    }
  });
});
