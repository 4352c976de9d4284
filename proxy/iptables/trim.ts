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
  const rules = new Map<string, string[]>();
  let table = '';
  for (const line of text.split('\n')) {
    if (line.startsWith('*')) table = line.slice(1);
    const chain = chainOf(line);
    if (chain === undefined || !TOP_LEVEL_CHAINS.has(chain)) continue;
    const key = `${table}/${chain}`;
    let list = rules.get(key);
    if (!list) rules.set(key, (list = []));
    if (!line.startsWith(':')) list.push(line);
  }
  return new Map([...rules].map(([key, list]) => [key, list.join('\n')]));
}

/**
 * Drops the chain lines and rules of top-level chains whose contents (`current`, from
 * topLevelContents of `text`) equal `previous`.
 */
export function dropUnchangedTopLevel(
  text: string,
  previous: ChainContents,
  current = topLevelContents(text),
): string {
  const same = new Set(
    [...current].filter(([key, rules]) => previous.get(key) === rules).map(([key]) => key),
  );
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
