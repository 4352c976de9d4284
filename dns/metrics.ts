/**
 * Prometheus metrics under CoreDNS's names, so dashboards and alerts written for CoreDNS read
 * klab's DNS unchanged. The hot path only bumps plain numbers in maps; a scrape takes a plain
 * snapshot of every thread's series, sums them and renders the text format. prom-client is not
 * used: its label handling costs more per call than answering a cached query, and loading it
 * costs every thread about 9 MB.
 */
import { RCODE, TYPE } from './wire.js';

const TYPE_NAMES = new Map<number, string>(Object.entries(TYPE).map(([k, v]) => [v, k]));
const RCODE_NAMES = new Map<number, string>(Object.entries(RCODE).map(([k, v]) => [v, k]));
RCODE_NAMES.set(16, 'BADVERS');

export function typeName(t: number): string {
  return TYPE_NAMES.get(t) ?? 'other';
}

export function rcodeName(r: number): string {
  return RCODE_NAMES.get(r) ?? `RCODE${r}`;
}

type Labels = Record<string, string | number>;

/** One metric family's series at scrape time; plain data, so it can cross threads. */
export interface Rendered {
  name: string;
  help: string;
  type: 'counter' | 'gauge' | 'histogram';
  values: { metricName?: string; labels: Labels; value: number }[];
}

export const METRICS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

function escapeLabel(v: string | number): string {
  return String(v).replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

function seriesName(name: string, labels: Labels): string {
  const parts = Object.entries(labels).map(([k, v]) => `${k}="${escapeLabel(v)}"`);
  return parts.length > 0 ? `${name}{${parts.join(',')}}` : name;
}

/**
 * The Prometheus text format of several snapshots (one per thread) with equal series summed;
 * families and series keep the order they first appear in.
 */
export function renderMetrics(snapshots: Rendered[][]): string {
  const families = new Map<string, { help: string; type: string; series: Map<string, number> }>();
  for (const snapshot of snapshots) {
    for (const m of snapshot) {
      let f = families.get(m.name);
      if (!f) {
        f = { help: m.help, type: m.type, series: new Map() };
        families.set(m.name, f);
      }
      for (const v of m.values) {
        const key = seriesName(v.metricName ?? m.name, v.labels);
        f.series.set(key, (f.series.get(key) ?? 0) + v.value);
      }
    }
  }
  const lines: string[] = [];
  for (const [name, f] of families) {
    lines.push(`# HELP ${name} ${f.help}`, `# TYPE ${name} ${f.type}`);
    for (const [series, value] of f.series) lines.push(`${series} ${value}`);
  }
  return `${lines.join('\n')}\n`;
}

/** A counter whose series are plain numbers keyed by a caller-built string. */
class Tally {
  private series = new Map<number | string, { labels: Labels; value: number }>();
  readonly type = 'counter';
  constructor(
    readonly name: string,
    readonly help: string,
  ) {}

  add(key: number | string, labels: () => Labels, n = 1): void {
    const s = this.series.get(key);
    if (s) s.value += n;
    else this.series.set(key, { labels: labels(), value: n });
  }

  get(): Rendered {
    return {
      name: this.name,
      help: this.help,
      type: 'counter',
      values: [...this.series.values()].map((s) => ({ labels: s.labels, value: s.value })),
    };
  }
}

/** A cumulative histogram with fixed buckets, rendered the way Prometheus expects. */
class TallyHistogram {
  private series = new Map<number, { labels: Labels; counts: number[]; sum: number; count: number }>();
  readonly type = 'histogram';
  constructor(
    readonly name: string,
    readonly help: string,
    private buckets: number[],
  ) {}

  observe(key: number, labels: () => Labels, v: number): void {
    let s = this.series.get(key);
    if (!s) {
      s = { labels: labels(), counts: new Array<number>(this.buckets.length).fill(0), sum: 0, count: 0 };
      this.series.set(key, s);
    }
    s.sum += v;
    s.count++;
    for (let i = 0; i < this.buckets.length; i++) {
      if (v <= (this.buckets[i] as number)) {
        s.counts[i] = (s.counts[i] as number) + 1;
        break;
      }
    }
  }

  get(): Rendered {
    const values: Rendered['values'] = [];
    for (const s of this.series.values()) {
      let cumulative = 0;
      this.buckets.forEach((le, i) => {
        cumulative += s.counts[i] as number;
        values.push({ metricName: `${this.name}_bucket`, labels: { ...s.labels, le }, value: cumulative });
      });
      values.push({ metricName: `${this.name}_bucket`, labels: { ...s.labels, le: '+Inf' }, value: s.count });
      values.push({ metricName: `${this.name}_sum`, labels: s.labels, value: s.sum });
      values.push({ metricName: `${this.name}_count`, labels: s.labels, value: s.count });
    }
    return { name: this.name, help: this.help, type: 'histogram', values };
  }
}

const PLUGINS = ['kubernetes', 'forward', 'cache', ''] as const;
export type Plugin = (typeof PLUGINS)[number];
/** One server block for every name, as in kubeadm's Corefile (`.:53`). */
const METRIC_ZONE = '.';

const DURATION_BUCKETS = [
  0.00025, 0.0005, 0.001, 0.002, 0.004, 0.008, 0.016, 0.032, 0.064, 0.128, 0.256, 0.512, 1.024, 2.048, 4.096,
  8.192,
];

export class DnsMetrics {
  private requests = new Tally(
    'coredns_dns_requests_total',
    'Counter of DNS requests made per zone, protocol and family.',
  );
  private responses = new Tally('coredns_dns_responses_total', 'Counter of response status codes.');
  private duration = new TallyHistogram(
    'coredns_dns_request_duration_seconds',
    'Histogram of the time (in seconds) each request took per zone.',
    DURATION_BUCKETS,
  );
  private cacheHits = new Tally('coredns_cache_hits_total', 'The count of cache hits.');
  private cacheMisses = new Tally('coredns_cache_misses_total', 'The count of cache misses.');
  /** Read from the forward cache at scrape time. */
  private cacheEntries = {
    get: (): Rendered => {
      const c = this.cacheCounts();
      return {
        name: 'coredns_cache_entries',
        help: 'The number of elements in the cache.',
        type: 'gauge',
        values: [
          { labels: { server: this.server, type: 'success' }, value: c.success },
          { labels: { server: this.server, type: 'denial' }, value: c.denial },
        ],
      };
    },
  };
  private forwardRequests = new Tally(
    'coredns_forward_requests_total',
    'Counter of requests made per upstream.',
  );

  constructor(
    private server: string,
    private cacheCounts: () => { success: number; denial: number } = () => ({ success: 0, denial: 0 }),
  ) {}

  /** Where the entries gauge reads the forward cache's size at scrape time. */
  watchCache(counts: () => { success: number; denial: number }): void {
    this.cacheCounts = counts;
  }

  /** Every family's series now, in a form that crosses threads. */
  snapshot(): Rendered[] {
    return [
      this.requests,
      this.responses,
      this.duration,
      this.cacheHits,
      this.cacheMisses,
      this.cacheEntries,
      this.forwardRequests,
    ].map((m) => m.get());
  }

  render(): { contentType: string; body: string } {
    return { contentType: METRICS_CONTENT_TYPE, body: renderMetrics([this.snapshot()]) };
  }

  // Series keys are numbers: building label strings per query would dominate the hot path.
  request(proto: 'udp' | 'tcp', family: 1 | 2, qtype: number): void {
    const t = TYPE_NAMES.has(qtype) ? qtype : 0;
    this.requests.add((proto === 'udp' ? 0 : 4) + family + t * 8, () => ({
      server: this.server,
      zone: METRIC_ZONE,
      proto,
      family: String(family),
      type: typeName(qtype),
    }));
  }

  response(rcode: number, plugin: Plugin, qtype: number, seconds: number): void {
    this.responses.add(rcode * 8 + PLUGINS.indexOf(plugin), () => ({
      server: this.server,
      zone: METRIC_ZONE,
      rcode: rcodeName(rcode),
      plugin,
    }));
    const t = TYPE_NAMES.has(qtype) ? qtype : 0;
    this.duration.observe(
      t,
      () => ({ server: this.server, zone: METRIC_ZONE, type: typeName(qtype) }),
      seconds,
    );
  }

  cacheHit(kind: 'success' | 'denial'): void {
    this.cacheHits.add(kind, () => ({ server: this.server, type: kind }));
  }

  cacheMiss(): void {
    this.cacheMisses.add('m', () => ({ server: this.server }));
  }

  forwarded(to: string): void {
    this.forwardRequests.add(to, () => ({ to }));
  }
}
