/**
 * The canonical order upstream kube-proxy's own tests compare rules in (sortIPTablesRules in
 * pkg/proxy/iptables/proxier_test.go), so our output can be checked against theirs line by line:
 * tables by name; chains KUBE-NODEPORTS, KUBE-SERVICES, other KUBE-* alphabetically, then the
 * rest; rules grouped by chain; KUBE-NODEPORTS and KUBE-SERVICES rules stable-sorted by the
 * service name in their comment, with the "must be the last rule" rule kept last.
 */

interface Table {
  name: string;
  chains: string[];
  rules: Map<string, string[]>;
  deleted: string[];
}

export class RestoreParseError extends Error {}

function ruleChain(line: string, lineNo: number): string {
  const chain = line.split(' ')[1];
  if (!chain) throw new RestoreParseError(`line ${lineNo}: rule without a chain: ${line}`);
  return chain;
}

/** Parses iptables-restore input (tables, chain lines, -A rules, -X deletions). */
export function parseRestore(text: string): Table[] {
  const tables: Table[] = [];
  let current: Table | undefined;
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    const lineNo = i + 1;
    if (line === '' || line.startsWith('#')) return;
    if (line.startsWith('*')) {
      current = { name: line.slice(1), chains: [], rules: new Map(), deleted: [] };
      tables.push(current);
      return;
    }
    if (!current) throw new RestoreParseError(`line ${lineNo}: content before a *table line`);
    if (line === 'COMMIT') {
      current = undefined;
    } else if (line.startsWith(':')) {
      const chain = line.slice(1).split(' ')[0] ?? '';
      if (!current.rules.has(chain)) {
        current.chains.push(chain);
        current.rules.set(chain, []);
      }
    } else if (line.startsWith('-A ')) {
      const chain = ruleChain(line, lineNo);
      const list = current.rules.get(chain);
      if (!list) throw new RestoreParseError(`line ${lineNo}: rule for undeclared chain ${chain}`);
      list.push(line);
    } else if (line.startsWith('-X ')) {
      current.deleted.push(ruleChain(line, lineNo));
    } else {
      throw new RestoreParseError(`line ${lineNo}: unexpected line: ${line}`);
    }
  });
  return tables;
}

function chainRank(name: string): [number, string] {
  if (name === 'KUBE-NODEPORTS') return [0, ''];
  if (name === 'KUBE-SERVICES') return [1, ''];
  return [name.startsWith('KUBE-') ? 2 : 3, name];
}

function compareChains(a: string, b: string): number {
  const [ra, na] = chainRank(a);
  const [rb, nb] = chainRank(b);
  return ra - rb || (na < nb ? -1 : na > nb ? 1 : 0);
}

const COMMENT = /-m comment --comment (?:"([^"]*)"|(\S+))/;

function commentServiceName(rule: string): string | undefined {
  const m = COMMENT.exec(rule);
  const comment = m?.[1] ?? m?.[2];
  if (comment === undefined) return undefined;
  const cut = comment.search(/[ :]/);
  return cut === -1 ? comment : comment.slice(0, cut);
}

function sortByServiceName(rules: string[], keepLast: boolean): string[] {
  const isLast = (r: string) => keepLast && r.includes('must be the last rule');
  const keyed = rules.map((rule, index) => ({ rule, index, name: commentServiceName(rule) }));
  keyed.sort((a, b) => {
    if (isLast(a.rule) !== isLast(b.rule)) return isLast(a.rule) ? 1 : -1;
    if (a.name !== undefined && b.name !== undefined && a.name !== b.name) return a.name < b.name ? -1 : 1;
    return a.index - b.index;
  });
  return keyed.map((k) => k.rule);
}

/** Returns the restore input in upstream's canonical test order. */
export function canonicalRestore(text: string): string {
  const tables = parseRestore(text).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const out: string[] = [];
  for (const t of tables) {
    out.push(`*${t.name}`);
    const chains = [...t.chains].sort(compareChains);
    for (const chain of chains) out.push(`:${chain} - [0:0]`);
    for (const chain of chains) {
      let rules = t.rules.get(chain) ?? [];
      if (chain === 'KUBE-NODEPORTS') rules = sortByServiceName(rules, false);
      if (chain === 'KUBE-SERVICES') rules = sortByServiceName(rules, t.name === 'nat');
      out.push(...rules);
    }
    for (const chain of [...t.deleted].sort()) out.push(`-X ${chain}`);
    out.push('COMMIT');
  }
  return out.join('\n') + '\n';
}
