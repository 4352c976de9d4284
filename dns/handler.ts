/**
 * Turns one request message into one response message (or nothing): the cluster zone from the
 * record index with encoded answers cached per question, everything else through the forward
 * cache and the upstreams. Transport-agnostic; server.ts owns the sockets.
 */
import { performance } from 'node:perf_hooks';
import { createRequire } from 'node:module';
import type * as Dns2 from 'dns2';
import type { Packet } from 'dns2';
import type { CachedAnswer } from './cache.js';
import { AnswerCache, renderCached, toCacheable } from './cache.js';
import type { ForwardResult } from './forward.js';
import { Forwarder, upstreamLabel } from './forward.js';
import type { DnsMetrics, Plugin } from './metrics.js';
import type { Lookup, ZoneIndex, ZoneOptions } from './records.js';
import { buildZone, inZone, lookup } from './records.js';
import type { ObjectCache } from './store.js';
import type { Transport } from './hits.js';
import {
  finishForward,
  forwardKey,
  isReverseName,
  patchZoneAnswer,
  replyBase,
  replyLimit,
  zoneKey,
} from './hits.js';
import type { Query, RR } from './wire.js';
import {
  CLASSIC_UDP_LIMIT,
  CLASS_IN,
  Encoder,
  FLAG,
  RCODE,
  SERVER_UDP_SIZE,
  TYPE,
  nameToWire,
  parseQuery,
  toRR,
  walkMessage,
} from './wire.js';
import type { Upstream } from './forward.js';

export type { Transport } from './hits.js';

export interface HandlerOptions {
  zone: ZoneOptions['zone'];
  ttl: number;
  pods: ZoneOptions['pods'];
  cacheSize: number;
  upstreams: Upstream[];
  upstreamTimeoutMs: number;
}

type Reply = Buffer | null;

/**
 * A cache entry a reply was served from or produced, handed to whoever serves hits elsewhere
 * (the worker threads): an encoded zone answer, valid until the objects change, or a forwarded
 * answer, valid for its TTL.
 */
export type Shareable =
  { kind: 'zone'; key: string; bytes: Buffer } | { kind: 'forward'; key: string; entry: CachedAnswer };
export type Share = (entry: Shareable) => void;

/** Encoded zone answers kept per question; cleared wholesale on any object change. */
const MAX_ENCODED = 50_000;
/** CNAME chains longer than this are cut, as resolvers do. */
const MAX_CHASE = 8;

export class DnsHandler {
  private index: ZoneIndex | null = null;
  private encodedAnswers = new Map<string, Buffer>();
  private cache: AnswerCache;
  private inflight = new Map<string, Promise<ForwardResult>>();
  private encoder = new Encoder();
  private forwarder: Forwarder;
  private rebuildScheduled = false;

  constructor(
    private objects: ObjectCache,
    private options: HandlerOptions,
    private metrics: DnsMetrics,
  ) {
    this.cache = new AnswerCache(options.cacheSize);
    this.forwarder = new Forwarder(options.upstreams, options.upstreamTimeoutMs, (u) =>
      metrics.forwarded(upstreamLabel(u)),
    );
    objects.onChange(() => this.invalidate());
    metrics.watchCache(() => this.cache.counts());
  }

  close(): void {
    this.forwarder.close();
  }

  /** The current record index, rebuilt lazily after changes. */
  zone(): ZoneIndex {
    if (!this.index) {
      this.index = buildZone(this.objects.snapshot(), {
        zone: this.options.zone,
        ttl: this.options.ttl,
        pods: this.options.pods,
        serial: this.objects.lastChange,
      });
    }
    return this.index;
  }

  private invalidate(): void {
    this.index = null;
    this.encodedAnswers.clear();
    // Rebuild off the query path so the first query after a change does not pay for it.
    if (!this.rebuildScheduled) {
      this.rebuildScheduled = true;
      setImmediate(() => {
        this.rebuildScheduled = false;
        this.zone();
      });
    }
  }

  /**
   * Answers one message. Synchronous for cluster names; a promise when it must go upstream.
   * `share` hears of the cache entry the reply came from, if any.
   */
  handle(msg: Buffer, transport: Transport, family: 1 | 2, share?: Share): Reply | Promise<Reply> {
    const start = performance.now();
    const parsed = parseQuery(msg);
    let query: Query;
    if (parsed.kind === 'query') {
      query = parsed.query;
    } else if (parsed.kind === 'fallback') {
      const q = fallbackParse(msg);
      if (!q) return this.error(msg.readUInt16BE(0), msg.readUInt16BE(2), RCODE.FORMERR, start);
      query = q;
    } else if (parsed.kind === 'error') {
      return this.error(parsed.id, parsed.flags, parsed.rcode, start);
    } else {
      return null;
    }
    const q = query.question;
    this.metrics.request(transport, family, q.type);
    const limit = replyLimit(query, transport);
    if (query.edns && query.edns.version > 0) {
      // BADVERS (16): the upper eight bits travel in the OPT record (RFC 6891 6.1.3).
      const out = this.encoder.encode({
        ...replyBase(query, 0, 0),
        opt: { udpSize: SERVER_UDP_SIZE, extendedRcode: 1, dnssecOk: query.edns.dnssecOk },
      });
      return this.done(out, 16, '', q.type, start);
    }
    if (q.class !== CLASS_IN) {
      return this.done(
        this.encoder.encode(replyBase(query, RCODE.REFUSED, 0)),
        RCODE.REFUSED,
        '',
        q.type,
        start,
      );
    }
    const index = this.zone();
    const ours = inZone(index, q.name);
    if (ours && !this.objects.synced) {
      const out = this.encoder.encode(replyBase(query, RCODE.SERVFAIL, 0));
      return this.done(out, RCODE.SERVFAIL, 'kubernetes', q.type, start);
    }
    const key = zoneKey(query, limit);
    const cached = this.encodedAnswers.get(key);
    if (cached) {
      share?.({ kind: 'zone', key, bytes: cached });
      const out = patchZoneAnswer(cached, query);
      return this.done(out, (out[3] as number) & 0xf, 'kubernetes', q.type, start);
    }
    const found = lookup(index, q.name, q.type);
    if (found.kind === 'forward') return this.forward(query, limit, start, share);
    return this.answerZone(query, found, limit, key, start, share);
  }

  private error(id: number, flags: number, rcode: number, start: number): Reply {
    const out = this.encoder.encode({
      id,
      flags: FLAG.QR | (flags & (FLAG.RD | 0x7800)) | rcode,
      question: null,
      answers: [],
      authority: [],
      additional: [],
      opt: null,
    });
    return this.done(out, rcode, '', 0, start);
  }

  private done(out: Buffer, rcode: number, plugin: Plugin, qtype: number, start: number): Buffer {
    this.metrics.response(rcode, plugin, qtype, (performance.now() - start) / 1000);
    return out;
  }

  private answerZone(
    query: Query,
    found: Extract<Lookup, { kind: 'answer' }>,
    limit: number,
    key: string,
    start: number,
    share?: Share,
  ): Reply | Promise<Reply> {
    const index = this.zone();
    const answers: RR[] = [...found.answers];
    let { rcode, authority, additional } = found;
    let target = found.chase;
    for (let depth = 0; target && depth < MAX_CHASE; depth++) {
      const next = lookup(index, target, query.question.type);
      if (next.kind === 'forward') {
        return this.chaseUpstream(query, target, answers, limit, start);
      }
      answers.push(...next.answers);
      ({ rcode, authority, additional } = next);
      target = next.chase;
    }
    const out = this.encoder.encode(
      { ...replyBase(query, rcode, FLAG.AA), answers, authority, additional },
      limit,
    );
    if (this.encodedAnswers.size >= MAX_ENCODED) this.encodedAnswers.clear();
    this.encodedAnswers.set(key, out);
    share?.({ kind: 'zone', key, bytes: out });
    return this.done(Buffer.from(out), rcode, 'kubernetes', query.question.type, start);
  }

  /** ExternalName: the CNAME is ours, the rest of the chain comes from upstream. */
  private async chaseUpstream(query: Query, target: string, answers: RR[], limit: number, start: number) {
    let rcode: number = RCODE.SERVFAIL;
    const chain = [...answers];
    try {
      const r = await this.resolveUpstream(target, query.question.type, query.edns?.dnssecOk ?? false);
      rcode = r.walked.rcode & 0xf;
      for (const w of r.walked.records) {
        if (w.section !== 'answer') continue;
        const rr = toRR(r.bytes, w);
        if (rr) chain.push(rr);
      }
    } catch {
      rcode = RCODE.SERVFAIL;
    }
    const out = this.encoder.encode({ ...replyBase(query, rcode, FLAG.AA | FLAG.RA), answers: chain }, limit);
    return this.done(out, rcode, 'kubernetes', query.question.type, start);
  }

  /** Cache first, then one shared upstream query per question however many clients ask. */
  private resolveUpstream(name: string, type: number, dnssecOk: boolean): Promise<ForwardResult> {
    const key = forwardKey(name, type, dnssecOk);
    const now = Date.now();
    const hit = this.cache.get(key, now);
    if (hit) {
      const bytes = renderCached(hit, 0, 0, nameToWire(name), now);
      const walked = walkMessage(bytes);
      if (walked) return Promise.resolve({ bytes, walked, upstream: { host: 'cache', port: 0 } });
    }
    let p = this.inflight.get(key);
    if (!p) {
      p = this.forwarder.query(name, type, dnssecOk).then((r) => {
        const entry = toCacheable(r.bytes, r.walked, Date.now());
        if (entry) this.cache.set(key, entry);
        return r;
      });
      const cleanup = (): void => {
        this.inflight.delete(key);
      };
      p.then(cleanup, cleanup);
      this.inflight.set(key, p);
    }
    return p;
  }

  private forward(query: Query, limit: number, start: number, share?: Share): Reply | Promise<Reply> {
    const q = query.question;
    const dnssecOk = query.edns?.dnssecOk ?? false;
    const key = forwardKey(q.name, q.type, dnssecOk);
    // Only this thread sees when a cluster address comes to own a reverse name; others must ask.
    const shareable = isReverseName(q.name) ? undefined : share;
    const now = Date.now();
    const hit = this.cache.get(key, now);
    if (hit) {
      this.metrics.cacheHit(hit.negative ? 'denial' : 'success');
      shareable?.({ kind: 'forward', key, entry: hit });
      return this.done(
        finishForward(this.encoder, query, hit, null, limit, now),
        hit.bytes.readUInt16BE(2) & 0xf,
        'cache',
        q.type,
        start,
      );
    }
    this.metrics.cacheMiss();
    return this.resolveUpstream(q.name, q.type, dnssecOk).then(
      (r) => {
        const now2 = Date.now();
        const entry = this.cache.get(key, now2);
        if (entry) shareable?.({ kind: 'forward', key, entry });
        const out = finishForward(this.encoder, query, entry ?? null, entry ? null : r, limit, now2);
        return this.done(out, r.walked.rcode & 0xf, 'forward', q.type, start);
      },
      () =>
        this.done(
          this.encoder.encode(replyBase(query, RCODE.SERVFAIL, FLAG.RA)),
          RCODE.SERVFAIL,
          'forward',
          q.type,
          start,
        ),
    );
  }
}

// dns2 loads on the first message the fast parser leaves alone; most servers never see one.
const requireLazily = createRequire(import.meta.url);
const dns2Packet = (): typeof Packet => (requireLazily('dns2') as typeof Dns2).Packet;

/** dns2 decodes what the fast parser leaves alone (compressed question names, extra records). */
function fallbackParse(msg: Buffer): Query | null {
  let p: Packet;
  try {
    p = dns2Packet().parse(msg);
  } catch {
    return null;
  }
  const question = p.questions?.[0];
  if (!question || p.questions.length !== 1) return null;
  const name = String(question.name).toLowerCase().replace(/\.$/, '');
  let wire: Buffer;
  try {
    wire = nameToWire(name);
  } catch {
    return null;
  }
  const opt = (p.additionals ?? []).find((r) => r.type === TYPE.OPT) as
    { class?: number; version?: number; doFlag?: boolean } | undefined;
  const flags = msg.readUInt16BE(2);
  return {
    id: msg.readUInt16BE(0),
    flags,
    opcode: (flags >> 11) & 0xf,
    question: { wire, name, type: question.type, class: question.class },
    edns: opt
      ? { udpSize: opt.class ?? CLASSIC_UDP_LIMIT, version: opt.version ?? 0, dnssecOk: !!opt.doFlag }
      : null,
  };
}
