import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { buildModel } from '../model.js';
import { parseObjects } from '../objects.js';
import { groupRules, matchesService, renderRulesView, RulesParseError, ruleWords } from './group.js';
import { renderIptables } from './render.js';

const golden = (name: string) => new URL(`./__golden__/${name}`, import.meta.url);
const read = (name: string) => readFileSync(golden(name), 'utf8');

describe('groupRules over the renderer output (upstream TestOverallIPTablesRules)', () => {
  const view = groupRules(read('overall.rules'));

  it('finds every service port and reads its entry rules', () => {
    expect(view.services.map((s) => [s.service, s.summary.join(', ')])).toEqual([
      ['ns1/svc1:p80', 'tcp, cluster IP 172.30.0.41:80, 1 endpoint'],
      [
        'ns2/svc2:p80',
        'tcp, cluster IP 172.30.0.42:80, external IP 192.168.99.22:80, loadbalancer IP 1.2.3.4:80, node port 3001, health check node port 30000, no local endpoints: DROP, 1 endpoint',
      ],
      ['ns3/svc3:p80', 'tcp, cluster IP 172.30.0.43:80, node port 3003, 1 endpoint'],
      ['ns4/svc4:p80', 'tcp, cluster IP 172.30.0.44:80, external IP 192.168.99.33:80, 2 endpoints'],
      [
        'ns5/svc5:p80',
        'tcp, cluster IP 172.30.0.45:80, loadbalancer IP 5.6.7.8:80, node port 3002, 1 endpoint',
      ],
      ['ns6/svc6:p80', 'tcp, no endpoints: REJECT'],
    ]);
  });

  it('labels each chain with its service port and each KUBE-SEP chain with its endpoint', () => {
    const svc1 = view.services.find((s) => s.service === 'ns1/svc1:p80');
    expect(svc1?.chains.map((c) => [c.table, c.chain, c.label])).toEqual([
      ['nat', 'KUBE-SERVICES', "service dispatch: this service's rules"],
      ['nat', 'KUBE-SVC-XPGD46QRK7WJZT7O', 'all endpoints (policy Cluster), 1 endpoint'],
      ['nat', 'KUBE-SEP-SXIVWICOYRO3J4NJ', 'endpoint 10.180.0.1:80'],
    ]);
    const svc5 = view.services.find((s) => s.service === 'ns5/svc5:p80');
    expect(svc5?.chains.map((c) => c.chain)).toEqual([
      'KUBE-SERVICES',
      'KUBE-NODEPORTS',
      'KUBE-FW-NUKIZ6OKUXPJNT4C',
      'KUBE-EXT-NUKIZ6OKUXPJNT4C',
      'KUBE-SVC-NUKIZ6OKUXPJNT4C',
      'KUBE-SEP-I77PXRDZVX7PMWMN',
      'KUBE-PROXY-FIREWALL',
    ]);
  });

  it('keeps every kube-proxy rule exactly once', () => {
    const rules = read('overall.rules')
      .split('\n')
      .filter((l) => l.startsWith('-A '));
    const shown = [...view.services.flatMap((s) => s.chains), ...view.shared].flatMap((c) => c.rules);
    expect([...shown].sort()).toEqual([...rules].sort());
    expect(view.otherRules).toBe(0);
  });

  it('renders a readable view (golden)', async () => {
    await expect(renderRulesView(view)).toMatchFileSnapshot(golden('overall.view.txt').pathname);
  });
});

describe('groupRules over live iptables-save output of a lab node', () => {
  const view = groupRules(read('lab-node-2.save'));

  it("reads iptables-save's option order, /32 masks and escaped quotes; foreign rules are only counted", () => {
    const web = view.services.find((s) => s.service === 'default/web:http');
    expect(web?.summary).toEqual([
      'tcp',
      'cluster IP 10.107.67.102:80',
      'external IP 192.168.57.10:80',
      'node port 32282',
      '3 endpoints',
    ]);
    expect(web?.chains.filter((c) => c.chain.startsWith('KUBE-SEP-')).map((c) => c.label)).toEqual([
      'endpoint 10.244.1.4:8080',
      'endpoint 10.244.0.3:8080',
      'endpoint 10.244.2.3:8080',
    ]);
    // The CNI plugin's per-pod masquerade chains and their POSTROUTING jumps.
    expect(view.otherRules).toBe(16);
    expect(view.shared.map((c) => `${c.table} ${c.chain}`)).toContain('nat POSTROUTING');
  });

  it('--service keeps one Service (all its ports) and leaves out the shared chains', () => {
    const text = renderRulesView(view, { service: 'default/solo-local' });
    expect(text.split('\n')[0]).toBe(
      'default/solo-local:http  (tcp, cluster IP 10.98.214.13:80, node port 30222, 1 endpoint)',
    );
    expect(text).toContain(
      'nat KUBE-SVL-X5MIH5CHUWSSNI7W  — node-local endpoints (policy Local), 1 endpoint',
    );
    expect(text).not.toContain('default/solo-cluster');
    expect(text).not.toContain("kube-proxy's shared chains");
  });

  it('renders a readable view (golden)', async () => {
    await expect(renderRulesView(view)).toMatchFileSnapshot(golden('lab-node-2.view.txt').pathname);
  });
});

describe('ownership without comments', () => {
  it('large-cluster mode: endpoint chains without comments belong to the service that jumps to them', () => {
    const objects = parseObjects(read('features.yaml'), 'features.yaml');
    const node = {
      name: 'node-1',
      ips: ['192.168.56.11'],
      clusterCIDR: '10.244.0.0/16',
      localhostNodePorts: true,
    };
    const out = renderIptables(buildModel(objects, { ...node, masqueradeAll: false }), {
      largeClusterThreshold: 1,
    });
    expect(out.largeClusterMode).toBe(true);
    const view = groupRules(out.text);
    expect(view.shared.filter((c) => c.chain.startsWith('KUBE-SEP-'))).toEqual([]);
    const web = view.services.find((s) => s.service === 'demo/web:http');
    expect(web?.chains.filter((c) => c.chain.startsWith('KUBE-SEP-')).length).toBe(3);
  });

  it('a per-service chain nothing refers to is shown as stale', () => {
    const view = groupRules(
      '*nat\n:KUBE-SVC-AAAAAAAAAAAAAAAA - [0:0]\n-A KUBE-SVC-AAAAAAAAAAAAAAAA -j ACCEPT\nCOMMIT\n',
    );
    expect(view.services).toEqual([]);
    expect(view.shared).toEqual([
      {
        table: 'nat',
        chain: 'KUBE-SVC-AAAAAAAAAAAAAAAA',
        label: 'no service refers to it (stale)',
        rules: ['-A KUBE-SVC-AAAAAAAAAAAAAAAA -j ACCEPT'],
      },
    ]);
  });
});

describe('parsing', () => {
  it('splits words like a shell: quotes group, backslashes escape', () => {
    expect(ruleWords('-A X -m comment --comment "name: \\"klab\\" id: \\"1\\"" -j Y')).toEqual([
      '-A',
      'X',
      '-m',
      'comment',
      '--comment',
      'name: "klab" id: "1"',
      '-j',
      'Y',
    ]);
  });

  it.each([
    ['-A KUBE-SERVICES -j ACCEPT\n', /line 1: .* outside a \*table/],
    ['*nat\nfoo\nCOMMIT\n', /line 2: "foo" is not a rule, chain or table line/],
    ['*nat\n-A X -m comment --comment "open\nCOMMIT\n', /line 2: unterminated quote/],
  ])('names the line of bad input: %j', (text, message) => {
    expect(() => groupRules(text)).toThrow(RulesParseError);
    expect(() => groupRules(text)).toThrow(message);
  });

  it('matches a Service against its ports only', () => {
    expect(matchesService('default/web:http', 'default/web')).toBe(true);
    expect(matchesService('default/web', 'default/web')).toBe(true);
    expect(matchesService('default/web2:http', 'default/web')).toBe(false);
  });
});
