/**
 * Turns one request message into one response message (or nothing): the cluster zone from the
 * record index with encoded answers cached per question, everything else through the forward
 * cache and the upstreams. Transport-agnostic; server.ts owns the sockets.
 */
import { performance } from 'node:perf_hooks';
import { Packet } from 'dns2';
import type { CachedAnswer } from './cache.js';
import { AnswerCache, forwardedFlags, renderCached, stripOpt, toCacheable } from './cache.js';
import type { ForwardResult } from './forward.js';
import { Forwarder, upstreamLabel } from './forward.js';
import type { DnsMetrics, Plugin } from './metrics.js';
import type { Lookup, ZoneIndex, ZoneOptions } from './records.js';
import { buildZone, inZone, lookup } from './records.js';
import type { ObjectCache } from './store.js';
import type { Message, Query, RR } from './wire.js';
import {
  CLASSIC_UDP_LIMIT,
  CLASS_IN,
  Encoder,
  FLAG,
  HEADER_LEN,
  RCODE,
  SERVER_UDP_SIZE,
  TYPE,
  nameToWire,
  parseQuery,
  toRR,
  walkMessage,
} from './wire.js';
import type { Upstream } from './forward.js';

export interface HandlerOptions {
  zone: ZoneOptions['zone'];
  ttl: number;
  pods: ZoneOptions['pods'];
  cacheSize: number;
  upstreams: Upstream[];
  upstreamTimeoutMs: number;
}

export type Transport = 'udp' | 'tcp';
type Reply = Buffer | null;

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

  /** Answers one message. Synchronous for cluster names; a promise when it must go upstream. */
  handle(msg: Buffer, transport: Transport, family: 1 | 2): Reply | Promise<Reply> {
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
    const limit =
      transport === 'tcp' ? 65535 : Math.max(CLASSIC_UDP_LIMIT, query.edns ? query.edns.udpSize : 0);
    if (query.edns && query.edns.version > 0) {
      // BADVERS (16): the upper eight bits travel in the OPT record (RFC 6891 6.1.3).
      const out = this.encoder.encode({
        ...this.base(query, 0, 0),
        opt: { udpSize: SERVER_UDP_SIZE, extendedRcode: 1, dnssecOk: query.edns.dnssecOk },
      });
      return this.done(out, 16, '', q.type, start);
    }
    if (q.class !== CLASS_IN) {
      return this.done(
        this.encoder.encode(this.base(query, RCODE.REFUSED, 0)),
        RCODE.REFUSED,
        '',
        q.type,
        start,
      );
    }
    const index = this.zone();
    const ours = inZone(index, q.name);
    if (ours && !this.objects.synced) {
      const out = this.encoder.encode(this.base(query, RCODE.SERVFAIL, 0));
      return this.done(out, RCODE.SERVFAIL, 'kubernetes', q.type, start);
    }
    const key = `${limit}|${query.edns ? (query.edns.dnssecOk ? 'D' : 'E') : 'N'}|${q.type}|${q.name}`;
    const cached = this.encodedAnswers.get(key);
    if (cached) {
      // Same answer, this client's ID, RD bit and spelling of the name (answers point at it).
      const out = Buffer.allocUnsafe(cached.length);
      cached.copy(out);
      out.writeUInt16BE(query.id, 0);
      out[2] = ((out[2] as number) & 0xfe) | ((query.flags >> 8) & 0x01);
      q.wire.copy(out, HEADER_LEN);
      return this.done(out, (out[3] as number) & 0xf, 'kubernetes', q.type, start);
    }
    const found = lookup(index, q.name, q.type);
    if (found.kind === 'forward') return this.forward(query, limit, start);
    return this.answerZone(query, found, limit, key, start);
  }

  private base(query: Query, rcode: number, extraFlags: number): Message {
    return {
      id: query.id,
      flags: FLAG.QR | (query.flags & (FLAG.RD | FLAG.CD | 0x7800)) | extraFlags | rcode,
      question: query.question,
      answers: [],
      authority: [],
      additional: [],
      opt: query.edns ? { udpSize: SERVER_UDP_SIZE, extendedRcode: 0, dnssecOk: query.edns.dnssecOk } : null,
    };
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
      { ...this.base(query, rcode, FLAG.AA), answers, authority, additional },
      limit,
    );
    if (this.encodedAnswers.size >= MAX_ENCODED) this.encodedAnswers.clear();
    this.encodedAnswers.set(key, out);
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
    const out = this.encoder.encode({ ...this.base(query, rcode, FLAG.AA | FLAG.RA), answers: chain }, limit);
    return this.done(out, rcode, 'kubernetes', query.question.type, start);
  }

  /** Cache first, then one shared upstream query per question however many clients ask. */
  private resolveUpstream(name: string, type: number, dnssecOk: boolean): Promise<ForwardResult> {
    const key = `${name}|${type}|${dnssecOk ? 1 : 0}`;
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

  private forward(query: Query, limit: number, start: number): Reply | Promise<Reply> {
    const q = query.question;
    const dnssecOk = query.edns?.dnssecOk ?? false;
    const key = `${q.name}|${q.type}|${dnssecOk ? 1 : 0}`;
    const now = Date.now();
    const hit = this.cache.get(key, now);
    if (hit) {
      this.metrics.cacheHit(hit.negative ? 'denial' : 'success');
      return this.done(
        this.finishForward(query, hit, null, limit, now),
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
        const out = this.finishForward(query, entry ?? null, entry ? null : r, limit, now2);
        return this.done(out, r.walked.rcode & 0xf, 'forward', q.type, start);
      },
      () =>
        this.done(
          this.encoder.encode(this.base(query, RCODE.SERVFAIL, FLAG.RA)),
          RCODE.SERVFAIL,
          'forward',
          q.type,
          start,
        ),
    );
  }

  /** The client's copy of a forwarded answer: its ID and question, our OPT, its size limit. */
  private finishForward(
    query: Query,
    entry: CachedAnswer | null,
    raw: ForwardResult | null,
    limit: number,
    now: number,
  ): Buffer {
    const q = query.question;
    let out: Buffer;
    if (entry) {
      out = renderCached(entry, query.id, query.flags, q.wire, now);
    } else if (raw) {
      out = stripOpt(raw.bytes, raw.walked) ?? Buffer.from(raw.bytes);
      out.writeUInt16BE(query.id, 0);
      out.writeUInt16BE(forwardedFlags(out.readUInt16BE(2), query.flags), 2);
      if (out.length >= HEADER_LEN + q.wire.length && out[HEADER_LEN + q.wire.length - 1] === 0) {
        q.wire.copy(out, HEADER_LEN);
      }
    } else {
      return this.encoder.encode(this.base(query, RCODE.SERVFAIL, FLAG.RA));
    }
    const optLen = query.edns ? 11 : 0;
    if (out.length + optLen > limit) {
      const upstreamFlags = out.readUInt16BE(2) & (FLAG.RA | FLAG.AD);
      return this.encoder.encode(this.base(query, out.readUInt16BE(2) & 0xf, upstreamFlags | FLAG.TC));
    }
    if (!query.edns) return out;
    const opt = Buffer.alloc(11);
    opt.writeUInt16BE(TYPE.OPT, 1);
    opt.writeUInt16BE(SERVER_UDP_SIZE, 3);
    if (query.edns.dnssecOk) opt.writeUInt16BE(0x8000, 7);
    out.writeUInt16BE(out.readUInt16BE(10) + 1, 10);
    return Buffer.concat([out, opt]);
  }
}

/** dns2 decodes what the fast parser leaves alone (compressed question names, extra records). */
function fallbackParse(msg: Buffer): Query | null {
  let p: Packet;
  try {
    p = Packet.parse(msg);
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
