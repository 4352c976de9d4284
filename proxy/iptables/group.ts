/**
 * Reads a node's live rules (`iptables-save` text, or `iptables-restore` input such as the
 * renderer's) and groups kube-proxy's part by service port, labelling each chain with what it is
 * for. Ownership comes from the comments kube-proxy writes ("ns/name:port cluster IP", …) and,
 * where a chain carries none (large-cluster mode drops per-endpoint comments), from the owned
 * chain that jumps to it.
 */

export interface ChainView {
  readonly table: string;
  readonly chain: string;
  readonly label: string;
  readonly rules: readonly string[];
}

export interface ServiceView {
  /** The service port name, `ns/name:port` (or `ns/name` for an unnamed port). */
  readonly service: string;
  /** What the entry rules say: addresses, node ports, missing endpoints, endpoint count. */
  readonly summary: readonly string[];
  readonly chains: readonly ChainView[];
}

export interface RulesView {
  readonly services: readonly ServiceView[];
  /** kube-proxy's chains and jumps that belong to no single service. */
  readonly shared: readonly ChainView[];
  /** Rules in chains kube-proxy does not write (CNI-…, the built-in chains' own rules). */
  readonly otherRules: number;
}

export class RulesParseError extends Error {}

interface Rule {
  readonly table: string;
  readonly chain: string;
  readonly text: string;
  readonly words: readonly string[];
}

const PER_SERVICE = /^KUBE-(SVC|SVL|EXT|FW|SEP)-/;
const BUILT_IN = new Set(['PREROUTING', 'INPUT', 'FORWARD', 'OUTPUT', 'POSTROUTING']);
const SERVICE_PORT = /(?:^|\s)([a-z0-9][-a-z0-9]*\/[a-z0-9][-a-z0-9.]*(?::[-a-z0-9]+)?)(?=\s|$)/;

/** Splits a rule into words the way a shell would: double quotes group, backslash escapes. */
export function ruleWords(text: string): string[] {
  const words: string[] = [];
  let word = '';
  let inWord = false;
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i] as string;
    if (c === '\\' && i + 1 < text.length) {
      word += text[++i];
      inWord = true;
    } else if (c === '"') {
      quoted = !quoted;
      inWord = true;
    } else if (/\s/.test(c) && !quoted) {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
    } else {
      word += c;
      inWord = true;
    }
  }
  if (quoted) throw new RulesParseError('unterminated quote');
  if (inWord) words.push(word);
  return words;
}

function option(words: readonly string[], name: string): string | undefined {
  const i = words.indexOf(name);
  return i >= 0 ? words[i + 1] : undefined;
}

/** The service port a kube-proxy comment names, if any. */
export function commentService(comment: string | undefined): string | undefined {
  return comment === undefined ? undefined : SERVICE_PORT.exec(comment)?.[1];
}

function parse(text: string): { rules: Rule[]; chains: Map<string, string> } {
  const rules: Rule[] = [];
  const chains = new Map<string, string>();
  let table: string | undefined;
  text.split('\n').forEach((raw, index) => {
    const line = raw.trim();
    const where = `line ${index + 1}`;
    if (line === '' || line.startsWith('#')) return;
    if (line.startsWith('*')) {
      table = line.slice(1);
      return;
    }
    if (line === 'COMMIT') {
      table = undefined;
      return;
    }
    if (table === undefined)
      throw new RulesParseError(`${where}: "${line}" is outside a *table … COMMIT block`);
    if (line.startsWith(':')) {
      const name = line.slice(1).split(/\s+/)[0] ?? '';
      chains.set(`${table} ${name}`, name);
      return;
    }
    if (line.startsWith('-X ')) return;
    if (!line.startsWith('-A '))
      throw new RulesParseError(`${where}: "${line}" is not a rule, chain or table line`);
    let words: string[];
    try {
      words = ruleWords(line);
    } catch (error) {
      throw new RulesParseError(`${where}: ${(error as Error).message} in "${line}"`);
    }
    const chain = words[1];
    if (!chain) throw new RulesParseError(`${where}: "-A" without a chain`);
    rules.push({ table, chain, text: line, words });
  });
  return { rules, chains };
}

const isKube = (chain: string) => chain.startsWith('KUBE-');

/** Which service port owns each per-service chain: its own comments, else whoever jumps to it. */
function chainOwners(rules: readonly Rule[], chains: Map<string, string>): Map<string, string> {
  const owners = new Map<string, string>();
  for (const r of rules) {
    if (!PER_SERVICE.test(r.chain) || owners.has(`${r.table} ${r.chain}`)) continue;
    const spn = commentService(option(r.words, '--comment'));
    if (spn) owners.set(`${r.table} ${r.chain}`, spn);
  }
  for (let changed = true; changed;) {
    changed = false;
    for (const r of rules) {
      const target = option(r.words, '-j');
      const key = `${r.table} ${target}`;
      if (!target || !PER_SERVICE.test(target) || owners.has(key) || !chains.has(key)) continue;
      const from = owners.get(`${r.table} ${r.chain}`) ?? commentService(option(r.words, '--comment'));
      if (from) {
        owners.set(key, from);
        changed = true;
      }
    }
  }
  return owners;
}

const PREFIX_LABEL: Record<string, string> = {
  SVC: 'all endpoints (policy Cluster)',
  SVL: 'node-local endpoints (policy Local)',
  EXT: 'external traffic: node ports, external and load-balancer IPs',
  FW: 'loadBalancerSourceRanges firewall',
};

const SHARED_LABEL: Record<string, string> = {
  'KUBE-SERVICES': 'service dispatch',
  'KUBE-NODEPORTS': 'node ports',
  'KUBE-EXTERNAL-SERVICES': 'external traffic to services without (local) endpoints',
  'KUBE-FORWARD': 'forwarding: drop INVALID, accept marked and established',
  'KUBE-PROXY-FIREWALL': 'load-balancer firewall drops',
  'KUBE-FIREWALL': 'blocks non-local traffic to 127.0.0.0/8',
  'KUBE-MARK-MASQ': 'marks packets to masquerade (bit 0x4000)',
  'KUBE-POSTROUTING': 'masquerades marked packets',
  'KUBE-PROXY-CANARY': 'canary: kube-proxy resyncs when it vanishes',
};

/** Flow order inside a service: entry points first, endpoints last, filter rules after nat. */
function chainRank(table: string, chain: string): number {
  const order = [
    'KUBE-SERVICES',
    'KUBE-NODEPORTS',
    'KUBE-FW-',
    'KUBE-EXT-',
    'KUBE-SVC-',
    'KUBE-SVL-',
    'KUBE-SEP-',
  ];
  const i = order.findIndex((p) => (p.endsWith('-') ? chain.startsWith(p) : chain === p));
  return (table === 'nat' ? 0 : 100) + (i < 0 ? 50 : i);
}

function entryFacts(rules: readonly Rule[]): string[] {
  const facts: string[] = [];
  const add = (fact: string) => {
    if (!facts.includes(fact)) facts.push(fact);
  };
  for (const r of rules) {
    const comment = option(r.words, '--comment') ?? '';
    const dest = option(r.words, '-d')?.replace(/\/32$/, '');
    const port = option(r.words, '--dport');
    const proto = option(r.words, '-p');
    if (proto) add(proto);
    if (r.table === 'nat' && r.chain === 'KUBE-SERVICES') {
      const kind = /(cluster IP|external IP|loadbalancer IP)$/.exec(comment)?.[1];
      if (kind) add(`${kind} ${dest}:${port}`);
    } else if (r.table === 'nat' && r.chain === 'KUBE-NODEPORTS' && dest !== '127.0.0.0/8') {
      add(`node port ${port}`);
    } else if (r.table === 'filter' && r.chain === 'KUBE-NODEPORTS') {
      add(`health check node port ${port}`);
    } else if (comment.endsWith('has no endpoints')) {
      add('no endpoints: REJECT');
    } else if (comment.endsWith('has no local endpoints')) {
      add('no local endpoints: DROP');
    }
  }
  return facts;
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

function endpointLabel(rules: readonly Rule[]): string {
  const dnat = rules.map((r) => option(r.words, '--to-destination')).find((d) => d !== undefined);
  return dnat ? `endpoint ${dnat}` : 'endpoint (no DNAT rule)';
}

function perServiceLabel(chain: string, rules: readonly Rule[]): string {
  const kind = /^KUBE-(\w+)-/.exec(chain)?.[1] ?? '';
  if (kind === 'SEP') return endpointLabel(rules);
  if (kind === 'SVC' || kind === 'SVL') {
    const n = new Set(rules.map((r) => option(r.words, '-j')).filter((t) => t?.startsWith('KUBE-SEP-'))).size;
    return `${PREFIX_LABEL[kind]}, ${plural(n, 'endpoint')}`;
  }
  return PREFIX_LABEL[kind] ?? 'per-service chain';
}

/** Groups kube-proxy's rules by service port; everything else is counted, not shown. */
export function groupRules(text: string): RulesView {
  const { rules, chains } = parse(text);
  const owners = chainOwners(rules, chains);
  const byService = new Map<string, Map<string, Rule[]>>();
  const shared = new Map<string, Rule[]>();
  let otherRules = 0;
  const put = (into: Map<string, Rule[]>, r: Rule) => {
    const key = `${r.table} ${r.chain}`;
    into.set(key, [...(into.get(key) ?? []), r]);
  };
  for (const key of chains.keys()) {
    const [table = '', chain = ''] = key.split(' ');
    const owner = owners.get(key);
    if (owner) byService.set(owner, (byService.get(owner) ?? new Map()).set(key, []));
    else if (isKube(chain) && table) shared.set(key, []);
  }
  for (const r of rules) {
    const key = `${r.table} ${r.chain}`;
    const target = option(r.words, '-j') ?? '';
    if (PER_SERVICE.test(r.chain)) {
      const owner = owners.get(key);
      if (owner) put(byService.get(owner) as Map<string, Rule[]>, r);
      else put(shared, r);
    } else if (isKube(r.chain)) {
      const spn = commentService(option(r.words, '--comment'));
      if (spn) {
        if (!byService.has(spn)) byService.set(spn, new Map());
        put(byService.get(spn) as Map<string, Rule[]>, r);
      } else put(shared, r);
    } else if (BUILT_IN.has(r.chain) && isKube(target)) put(shared, r);
    else otherRules++;
  }
  const view = (key: string, rs: Rule[], label: (chain: string) => string): ChainView => {
    const [table = '', chain = ''] = key.split(' ');
    return { table, chain, label: label(chain), rules: rs.map((r) => r.text) };
  };
  const services = [...byService.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([service, owned]): ServiceView => {
      const entries = [...owned.entries()].sort(([a], [b]) => {
        const [ta = '', ca = ''] = a.split(' ');
        const [tb = '', cb = ''] = b.split(' ');
        return chainRank(ta, ca) - chainRank(tb, cb) || (a < b ? -1 : a > b ? 1 : 0);
      });
      const top = entries.filter(([k]) => !PER_SERVICE.test(k.split(' ')[1] ?? '')).flatMap(([, rs]) => rs);
      const endpoints = entries.filter(([k]) => k.startsWith('nat KUBE-SEP-')).length;
      const summary = [...entryFacts(top), ...(endpoints > 0 ? [plural(endpoints, 'endpoint')] : [])];
      const chainsOut = entries.map(([key, rs]) =>
        view(key, rs, (chain) =>
          PER_SERVICE.test(chain)
            ? perServiceLabel(chain, rs)
            : `${SHARED_LABEL[chain] ?? chain}: this service's rules`,
        ),
      );
      return { service, summary, chains: chainsOut };
    });
  const sharedOut = [...shared.entries()].map(([key, rs]) =>
    view(key, rs, (chain) => {
      if (BUILT_IN.has(chain)) return "jumps into kube-proxy's chains";
      if (PER_SERVICE.test(chain)) return 'no service refers to it (stale)';
      return SHARED_LABEL[chain] ?? 'kube-proxy chain';
    }),
  );
  return { services, shared: sharedOut, otherRules };
}

/** True when `service` (`ns/name`) is the Service of the service port `spn`. */
export function matchesService(spn: string, service: string): boolean {
  return spn === service || spn.startsWith(`${service}:`);
}

/** The view as text: one block per service port, then kube-proxy's shared chains. */
export function renderRulesView(view: RulesView, options: { service?: string } = {}): string {
  const out: string[] = [];
  const chainBlock = (c: ChainView) => {
    out.push(`  ${c.table} ${c.chain}  — ${c.label}`);
    for (const r of c.rules) out.push(`    ${r}`);
  };
  const services = options.service
    ? view.services.filter((s) => matchesService(s.service, options.service as string))
    : view.services;
  for (const s of services) {
    out.push(`${s.service}  (${s.summary.join(', ')})`);
    s.chains.forEach(chainBlock);
    out.push('');
  }
  if (!options.service) {
    out.push("kube-proxy's shared chains");
    view.shared.forEach(chainBlock);
    out.push('');
    out.push(
      `${view.otherRules} rules in chains kube-proxy does not own are not shown (iptables-save shows all)`,
    );
  }
  return `${out.join('\n').trimEnd()}\n`;
}
