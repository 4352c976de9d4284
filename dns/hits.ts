/**
 * The answers a cache hit is made of, shared by the handler and the worker threads so both
 * serve a hit byte for byte alike: the cache keys, the size limit of a query, a cached zone
 * answer patched for one client, and a forwarded answer finished for one client.
 */
import type { CachedAnswer } from './cache.js';
import { forwardedFlags, renderCached, stripOpt } from './cache.js';
import type { ForwardResult } from './forward.js';
import type { Encoder, Message, Query } from './wire.js';
import { CLASSIC_UDP_LIMIT, FLAG, HEADER_LEN, RCODE, SERVER_UDP_SIZE, TYPE } from './wire.js';

export type Transport = 'udp' | 'tcp';

/** The largest reply this client takes: 64 KiB over TCP, its EDNS size (at least 512) over UDP. */
export function replyLimit(query: Query, transport: Transport): number {
  return transport === 'tcp' ? 65535 : Math.max(CLASSIC_UDP_LIMIT, query.edns ? query.edns.udpSize : 0);
}

/** Encoded zone answers differ by size limit, OPT presence and DO bit, type and name. */
export function zoneKey(query: Query, limit: number): string {
  const e = query.edns ? (query.edns.dnssecOk ? 'D' : 'E') : 'N';
  return `${limit}|${e}|${query.question.type}|${query.question.name}`;
}

export function forwardKey(name: string, type: number, dnssecOk: boolean): string {
  return `${name}|${type}|${dnssecOk ? 1 : 0}`;
}

/** Reverse names fall through to the upstreams only while no cluster address owns them. */
export function isReverseName(name: string): boolean {
  return name.endsWith('.in-addr.arpa') || name.endsWith('.ip6.arpa');
}

/** A cached zone answer for this client: its ID, its RD bit and its spelling of the name. */
export function patchZoneAnswer(cached: Buffer, query: Query): Buffer {
  const out = Buffer.allocUnsafe(cached.length);
  cached.copy(out);
  out.writeUInt16BE(query.id, 0);
  out[2] = ((out[2] as number) & 0xfe) | ((query.flags >> 8) & 0x01);
  query.question.wire.copy(out, HEADER_LEN);
  return out;
}

/** The header, question and OPT of a reply to `query`, with no records yet. */
export function replyBase(query: Query, rcode: number, extraFlags: number): Message {
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

/** The client's copy of a forwarded answer: its ID and question, our OPT, its size limit. */
export function finishForward(
  encoder: Encoder,
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
    return encoder.encode(replyBase(query, RCODE.SERVFAIL, FLAG.RA));
  }
  const optLen = query.edns ? 11 : 0;
  if (out.length + optLen > limit) {
    const upstreamFlags = out.readUInt16BE(2) & (FLAG.RA | FLAG.AD);
    return encoder.encode(replyBase(query, out.readUInt16BE(2) & 0xf, upstreamFlags | FLAG.TC));
  }
  if (!query.edns) return out;
  const opt = Buffer.alloc(11);
  opt.writeUInt16BE(TYPE.OPT, 1);
  opt.writeUInt16BE(SERVER_UDP_SIZE, 3);
  if (query.edns.dnssecOk) opt.writeUInt16BE(0x8000, 7);
  out.writeUInt16BE(out.readUInt16BE(10) + 1, 10);
  return Buffer.concat([out, opt]);
}
