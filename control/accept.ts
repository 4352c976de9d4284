/** Parses an `Accept` header into media types with parameters, in the client's order. */
export interface MediaType {
  readonly type: string;
  readonly params: Readonly<Record<string, string>>;
  readonly q: number;
}

export function parseAccept(header: string | undefined): MediaType[] {
  if (!header) return [{ type: '*/*', params: {}, q: 1 }];
  const out: MediaType[] = [];
  for (const part of header.split(',')) {
    const [type, ...rest] = part.split(';').map((s) => s.trim());
    if (!type) continue;
    const params: Record<string, string> = {};
    for (const p of rest) {
      const eq = p.indexOf('=');
      if (eq > 0)
        params[p.slice(0, eq).trim().toLowerCase()] = p
          .slice(eq + 1)
          .trim()
          .replace(/^"|"$/g, '');
    }
    const q = params.q === undefined ? 1 : Number(params.q);
    delete params.q;
    out.push({ type: type.toLowerCase(), params, q: Number.isFinite(q) ? q : 0 });
  }
  // Stable sort: equal q keeps the client's order, which is how kubectl states preference.
  return out.filter((m) => m.q > 0).sort((a, b) => b.q - a.q);
}

export const isJsonLike = (m: MediaType): boolean =>
  m.type === 'application/json' || m.type === 'application/*' || m.type === '*/*';

/** True when the client asks for a server-side printed Table (kubectl get). */
export function wantsTable(accept: readonly MediaType[]): boolean {
  for (const m of accept) {
    if (m.type === 'application/json' && m.params.as === 'Table' && m.params.g === 'meta.k8s.io') {
      return m.params.v === 'v1' || m.params.v === 'v1beta1';
    }
    if (isJsonLike(m) && m.params.as === undefined) return false;
  }
  return false;
}
