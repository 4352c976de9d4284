export type Obj = Record<string, unknown>;

export const obj = (v: unknown): Obj =>
  typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Obj) : {};
export const list = (v: unknown): Obj[] => (Array.isArray(v) ? v.map(obj) : []);
export const strings = (v: unknown): string[] =>
  Array.isArray(v) ? v.filter((x) => typeof x === 'string') : [];
export const str = (v: unknown): string => (typeof v === 'string' ? v : '');
export const int = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) ? Math.trunc(v) : 0);
export const orNone = (s: string): string => (s === '' ? '<none>' : s);

/** `a=1,b=2`, keys sorted, `<none>` when empty (labels.FormatLabels). */
export function formatLabels(labels: unknown): string {
  const entries = Object.entries(obj(labels))
    .filter(([, v]) => typeof v === 'string')
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return entries.length === 0 ? '<none>' : entries.map(([k, v]) => `${k}=${String(v)}`).join(',');
}

/** A LabelSelector in the string form `kubectl get -o wide` shows: `app=web,tier in (a,b),!x`. */
export function formatSelector(selector: unknown): string {
  const sel = obj(selector);
  const parts: [string, string][] = [];
  for (const [k, v] of Object.entries(obj(sel.matchLabels))) parts.push([k, `${k}=${str(v)}`]);
  for (const e of list(sel.matchExpressions)) {
    const key = str(e.key);
    const values = strings(e.values).sort().join(',');
    switch (e.operator) {
      case 'In':
        parts.push([key, `${key} in (${values})`]);
        break;
      case 'NotIn':
        parts.push([key, `${key} notin (${values})`]);
        break;
      case 'Exists':
        parts.push([key, key]);
        break;
      case 'DoesNotExist':
        parts.push([key, `!${key}`]);
        break;
    }
  }
  return parts
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([, s]) => s)
    .join(',');
}

/** The first `max` items joined by commas, then ` + N more...` (printers' listWithMoreString). */
export function listWithMore(items: string[], max: number, empty: string): string {
  if (items.length === 0) return empty;
  const shown = items.slice(0, max).join(',');
  return items.length > max ? `${shown} + ${items.length - max} more...` : shown;
}

/** Load-balancer addresses, IPs or host names, comma-separated. */
export function loadBalancerAddresses(status: unknown): string {
  return list(obj(status).ingress)
    .map((i) => str(i.ip) || str(i.hostname))
    .filter((s) => s !== '')
    .join(',');
}
