/**
 * Go's duration syntax as Kubernetes components and CoreDNS take it on their command lines
 * ("500ms", "5s", "1m30s", "0"), in milliseconds; undefined when the text is not one.
 */
export function parseGoDuration(text: string): number | undefined {
  const s = text.trim();
  if (s === '0') return 0;
  const unitMs: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
  let total = 0;
  let rest = s;
  while (rest.length > 0) {
    const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)/.exec(rest);
    if (!m) return undefined;
    total += Number(m[1]) * (unitMs[m[2] as string] as number);
    rest = rest.slice(m[0].length);
  }
  return s.length > 0 ? total : undefined;
}
