const UNIT_MS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/**
 * The part of Go's duration syntax that Kubernetes components' and CoreDNS's flags are given in
 * practice ("500ms", "5s", "1m30s", "0"; no sign, no units below a millisecond), in
 * milliseconds; undefined when the text is not one.
 */
export function parseGoDuration(text: string): number | undefined {
  const s = text.trim();
  if (s === '0') return 0;
  let total = 0;
  let rest = s;
  while (rest.length > 0) {
    const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)/.exec(rest);
    if (!m) return undefined;
    total += Number(m[1]) * (UNIT_MS[m[2] as string] as number);
    rest = rest.slice(m[0].length);
  }
  return s.length > 0 ? total : undefined;
}
