/**
 * Prometheus metrics under CoreDNS's names, so dashboards and alerts written for CoreDNS read
 * klab's DNS unchanged. Label children are memoised: prom-client's label handling would otherwise
 * cost more than answering a cached query.
 */
import type { Counter, Gauge, Histogram } from 'prom-client';
import client from 'prom-client';
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

export type Plugin = 'kubernetes' | 'forward' | 'cache' | '';

export class DnsMetrics {
  readonly registry = new client.Registry();
  private requests: Counter;
  private responses: Counter;
  private duration: Histogram;
  private cacheHits: Counter;
  private cacheMisses: Counter;
  private cacheEntries: Gauge;
  private forwardRequests: Counter;
  private children = new Map<string, { inc(): void; observe?(v: number): void }>();

  constructor(private server: string) {
    const registers = [this.registry];
    this.requests = new client.Counter({
      name: 'coredns_dns_requests_total',
      help: 'Counter of DNS requests made per zone, protocol and family.',
      labelNames: ['server', 'zone', 'proto', 'family', 'type'],
      registers,
    });
    this.responses = new client.Counter({
      name: 'coredns_dns_responses_total',
      help: 'Counter of response status codes.',
      labelNames: ['server', 'zone', 'rcode', 'plugin'],
      registers,
    });
    this.duration = new client.Histogram({
      name: 'coredns_dns_request_duration_seconds',
      help: 'Histogram of the time (in seconds) each request took per zone.',
      labelNames: ['server', 'zone', 'type'],
      buckets: [0.00025, 0.0005, 0.001, 0.002, 0.004, 0.008, 0.016, 0.032, 0.064, 0.128, 0.256, 0.512, 1.024],
      registers,
    });
    this.cacheHits = new client.Counter({
      name: 'coredns_cache_hits_total',
      help: 'The count of cache hits.',
      labelNames: ['server', 'type'],
      registers,
    });
    this.cacheMisses = new client.Counter({
      name: 'coredns_cache_misses_total',
      help: 'The count of cache misses.',
      labelNames: ['server'],
      registers,
    });
    this.cacheEntries = new client.Gauge({
      name: 'coredns_cache_entries',
      help: 'The number of elements in the cache.',
      labelNames: ['server', 'type'],
      registers,
    });
    this.forwardRequests = new client.Counter({
      name: 'coredns_forward_requests_total',
      help: 'Counter of requests made per upstream.',
      labelNames: ['to'],
      registers,
    });
  }

  private child(key: string, make: () => { inc(): void; observe?(v: number): void }) {
    let c = this.children.get(key);
    if (!c) {
      c = make();
      this.children.set(key, c);
    }
    return c;
  }

  request(zone: string, proto: 'udp' | 'tcp', family: 1 | 2, qtype: number): void {
    const type = typeName(qtype);
    this.child(`q|${zone}|${proto}|${family}|${type}`, () =>
      this.requests.labels(this.server, zone, proto, String(family), type),
    ).inc();
  }

  response(zone: string, rcode: number, plugin: Plugin, qtype: number, seconds: number): void {
    const rc = rcodeName(rcode);
    this.child(`r|${zone}|${rc}|${plugin}`, () => this.responses.labels(this.server, zone, rc, plugin)).inc();
    const type = typeName(qtype);
    const h = this.child(`d|${zone}|${type}`, () => {
      const c = this.duration.labels(this.server, zone, type);
      return { inc: () => undefined, observe: (v: number) => c.observe(v) };
    });
    h.observe?.(seconds);
  }

  cacheHit(kind: 'success' | 'denial'): void {
    this.child(`h|${kind}`, () => this.cacheHits.labels(this.server, kind)).inc();
  }

  cacheMiss(): void {
    this.child('m', () => this.cacheMisses.labels(this.server)).inc();
  }

  cacheSize(success: number, denial: number): void {
    this.cacheEntries.labels(this.server, 'success').set(success);
    this.cacheEntries.labels(this.server, 'denial').set(denial);
  }

  forwarded(to: string): void {
    this.child(`f|${to}`, () => this.forwardRequests.labels(to)).inc();
  }
}
