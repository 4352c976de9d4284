/**
 * Beyond kube-proxy: on a change-driven partial sync, leave out the top-level chains whose rules
 * are exactly what the previous successful sync wrote. kube-proxy rewrites them every time,
 * which at 10k services means re-sending 10k KUBE-SERVICES rules to change one endpoint.
 * Periodic and full syncs still rewrite them, which heals any drift in them.
 */
export const TOP_LEVEL_CHAINS = new Set([
  'KUBE-SERVICES',
  'KUBE-NODEPORTS',
  'KUBE-EXTERNAL-SERVICES',
  'KUBE-FORWARD',
  'KUBE-PROXY-FIREWALL',
  'KUBE-FIREWALL',
  'KUBE-POSTROUTING',
  'KUBE-MARK-MASQ',
]);

/** "table/chain" → the chain's rules, newline-joined. */
export type ChainContents = Map<string, string>;

function chainOf(line: string): string | undefined {
  if (line.startsWith(':')) return line.slice(1, line.indexOf(' '));
  if (line.startsWith('-A ')) return line.slice(3, line.indexOf(' ', 3));
  return undefined;
}

/** The rules of every top-level chain the restore input writes. */
export function topLevelContents(text: string): ChainContents {
  const out: ChainContents = new Map();
  let table = '';
  for (const line of text.split('\n')) {
    if (line.startsWith('*')) table = line.slice(1);
    const chain = chainOf(line);
    if (chain === undefined || !TOP_LEVEL_CHAINS.has(chain)) continue;
    const key = `${table}/${chain}`;
    const prev = out.get(key);
    if (line.startsWith(':')) out.set(key, prev ?? '');
    else out.set(key, prev ? `${prev}\n${line}` : line);
  }
  return out;
}

/** Drops the chain lines and rules of top-level chains whose contents equal `previous`. */
export function dropUnchangedTopLevel(text: string, previous: ChainContents): string {
  const now = topLevelContents(text);
  const same = new Set([...now].filter(([key, rules]) => previous.get(key) === rules).map(([key]) => key));
  if (same.size === 0) return text;
  let table = '';
  const kept: string[] = [];
  for (const line of text.split('\n')) {
    if (line.startsWith('*')) table = line.slice(1);
    const chain = chainOf(line);
    if (chain !== undefined && same.has(`${table}/${chain}`)) continue;
    kept.push(line);
  }
  return kept.join('\n');
}
