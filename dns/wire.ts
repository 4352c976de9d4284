/**
 * The hot-path DNS wire codec: a byte-level query parser, a message encoder with name
 * compression and size-limited truncation, and a response walker. dns2's bit-granular codec is
 * far too slow for every packet (see the reference, B3); it remains the fallback for queries this
 * parser deliberately does not handle (see `parseQuery`).
 */

export const TYPE = {
  A: 1,
  NS: 2,
  CNAME: 5,
  SOA: 6,
  PTR: 12,
  MX: 15,
  TXT: 16,
  AAAA: 28,
  SRV: 33,
  OPT: 41,
  IXFR: 251,
  AXFR: 252,
  ANY: 255,
} as const;

export const RCODE = {
  NOERROR: 0,
  FORMERR: 1,
  SERVFAIL: 2,
  NXDOMAIN: 3,
  NOTIMP: 4,
  REFUSED: 5,
} as const;

export const CLASS_IN = 1;

/** Header flag bits (second 16-bit word). */
export const FLAG = {
  QR: 0x8000,
  AA: 0x0400,
  TC: 0x0200,
  RD: 0x0100,
  RA: 0x0080,
  AD: 0x0020,
  CD: 0x0010,
} as const;

export const HEADER_LEN = 12;
/** The UDP payload a client without EDNS may receive (RFC 1035 4.2.1). */
export const CLASSIC_UDP_LIMIT = 512;
/** What this server advertises in its own OPT record (DNS flag day 2020). */
export const SERVER_UDP_SIZE = 1232;

export interface Edns {
  udpSize: number;
  version: number;
  dnssecOk: boolean;
}

export interface Question {
  /** The question name as sent, in wire form (case preserved, uncompressed). */
  wire: Buffer;
  /** Lower-cased presentation form without the trailing dot; '' is the root. */
  name: string;
  type: number;
  class: number;
}

export interface Query {
  id: number;
  flags: number;
  opcode: number;
  question: Question;
  edns: Edns | null;
}

export type ParseResult =
  | { kind: 'query'; query: Query }
  /** Answer FORMERR (or NOTIMP) to this id with these request flags. */
  | { kind: 'error'; id: number; flags: number; rcode: number }
  /** Too broken to answer, or a response that must not be answered. */
  | { kind: 'drop' }
  /** Well-formed header but uses features the fast path skips; hand the bytes to the fallback. */
  | { kind: 'fallback' };

/** The smallest wire size of a resource record (root name + type, class, ttl, rdlength). */
const MIN_RR_LEN = 11;

/**
 * Parses a query. Fast path: exactly one question with an uncompressed name, no answer or
 * authority records, and at most one additional record that is an OPT. Anything else that is
 * still plausible (counts within what miekg/dns accepts) returns `fallback`.
 */
export function parseQuery(buf: Buffer): ParseResult {
  if (buf.length < HEADER_LEN) return { kind: 'drop' };
  const id = buf.readUInt16BE(0);
  const flags = buf.readUInt16BE(2);
  if (flags & FLAG.QR) return { kind: 'drop' };
  const qd = buf.readUInt16BE(4);
  const an = buf.readUInt16BE(6);
  const ns = buf.readUInt16BE(8);
  const ar = buf.readUInt16BE(10);
  const opcode = (flags >> 11) & 0xf;
  const formerr = { kind: 'error', id, flags, rcode: RCODE.FORMERR } as const;
  // The same acceptance rule as miekg/dns's default MsgAcceptFunc, which CoreDNS uses.
  if (qd !== 1 || an > 1 || ns > 1 || ar > 2) return formerr;
  if (opcode !== 0) return { kind: 'error', id, flags, rcode: RCODE.NOTIMP };
  let pos = HEADER_LEN;
  const nameStart = pos;
  // Validate first and build the name from one string afterwards: one decode instead of one
  // per label is most of this parser's cost.
  const starts: number[] = [];
  for (;;) {
    if (pos >= buf.length) return formerr;
    const len = buf[pos] as number;
    if (len === 0) {
      pos += 1;
      break;
    }
    if ((len & 0xc0) === 0xc0) return { kind: 'fallback' };
    if (len & 0xc0) return formerr;
    if (pos + 1 + len > buf.length) return formerr;
    if (pos + 1 + len - nameStart > 254) return formerr;
    starts.push(pos);
    pos += 1 + len;
  }
  let name = '';
  if (starts.length > 0) {
    const raw = buf.toString('latin1', nameStart, pos - 1).toLowerCase();
    const labels: string[] = [];
    for (const at of starts) {
      const from = at - nameStart + 1;
      labels.push(raw.substring(from, from + (buf[at] as number)));
    }
    name = labels.join('.');
  }
  if (pos + 4 > buf.length) return formerr;
  const question: Question = {
    wire: buf.subarray(nameStart, pos),
    name,
    type: buf.readUInt16BE(pos),
    class: buf.readUInt16BE(pos + 2),
  };
  pos += 4;
  if (an !== 0 || ns !== 0 || ar > 1) {
    return (an + ns + ar) * MIN_RR_LEN > buf.length - pos ? formerr : { kind: 'fallback' };
  }
  let edns: Edns | null = null;
  if (ar === 1) {
    if (pos + MIN_RR_LEN > buf.length) return formerr;
    if (buf[pos] !== 0 || buf.readUInt16BE(pos + 1) !== TYPE.OPT) return { kind: 'fallback' };
    const rdlen = buf.readUInt16BE(pos + 9);
    if (pos + MIN_RR_LEN + rdlen !== buf.length) return formerr;
    edns = {
      udpSize: buf.readUInt16BE(pos + 3),
      version: buf[pos + 6] as number,
      dnssecOk: ((buf[pos + 7] as number) & 0x80) !== 0,
    };
    pos += MIN_RR_LEN + rdlen;
  }
  if (pos !== buf.length) return formerr;
  return { kind: 'query', query: { id, flags, opcode, question, edns } };
}

/** Encodes a presentation name (no trailing dot) as an uncompressed wire name. */
export function nameToWire(name: string): Buffer {
  const parts = name === '' ? [] : name.split('.');
  const out = Buffer.alloc(parts.reduce((n, l) => n + l.length + 1, 1));
  let pos = 0;
  for (const label of parts) {
    if (label.length === 0 || label.length > 63) throw new Error(`invalid DNS name "${name}": bad label`);
    out[pos] = label.length;
    out.write(label, pos + 1, 'latin1');
    pos += label.length + 1;
  }
  return out;
}

/** Resource record data in the form the encoder writes; names are presentation form without a dot. */
export type RData =
  | { kind: 'raw'; bytes: Buffer }
  | { kind: 'name'; name: string }
  | { kind: 'srv'; priority: number; weight: number; port: number; target: string }
  | { kind: 'mx'; preference: number; exchange: string }
  | {
      kind: 'soa';
      mname: string;
      rname: string;
      serial: number;
      refresh: number;
      retry: number;
      expire: number;
      minimum: number;
    };

export interface RR {
  /** Owner name, lower case, no trailing dot. */
  name: string;
  type: number;
  class: number;
  ttl: number;
  data: RData;
}

export interface Message {
  id: number;
  /** The full flags word (QR, opcode, AA, TC, RD, RA, rcode); the encoder adds TC on overflow. */
  flags: number;
  question: Question | null;
  answers: readonly RR[];
  authority: readonly RR[];
  additional: readonly RR[];
  /** Include an OPT record (only when the request carried one). */
  opt: { udpSize: number; extendedRcode: number; dnssecOk: boolean } | null;
}

/**
 * A reusable encoder. One scratch buffer per encoder keeps the hot path free of allocation
 * except for the final copy; a single encoder is not re-entrant, which is fine on one thread.
 */
export class Encoder {
  private buf = Buffer.alloc(65535);
  private pos = 0;
  private names = new Map<string, number>();

  /**
   * Encodes `msg`. If the answer section does not fit in `limit` bytes, it is cut after the last
   * record that fits and TC is set; authority and additional records that do not fit are dropped
   * without TC (RFC 2181 9).
   */
  encode(msg: Message, limit = 65535): Buffer {
    this.pos = HEADER_LEN;
    this.names.clear();
    const buf = this.buf;
    const optLen = msg.opt ? MIN_RR_LEN : 0;
    const budget = Math.min(limit, 65535) - optLen;
    let flags = msg.flags;
    if (msg.question) {
      this.writeQuestion(msg.question);
    }
    let an = 0;
    let ns = 0;
    let ar = 0;
    let truncated = false;
    for (const rr of msg.answers) {
      const before = this.pos;
      this.writeRR(rr);
      if (this.pos > budget) {
        this.pos = before;
        truncated = true;
        break;
      }
      an++;
    }
    if (truncated) {
      flags |= FLAG.TC;
    } else {
      ns = this.writeSection(msg.authority, budget);
      if (ns === msg.authority.length) ar = this.writeSection(msg.additional, budget);
    }
    if (msg.opt) {
      buf[this.pos] = 0;
      buf.writeUInt16BE(TYPE.OPT, this.pos + 1);
      buf.writeUInt16BE(msg.opt.udpSize, this.pos + 3);
      buf[this.pos + 5] = msg.opt.extendedRcode;
      buf[this.pos + 6] = 0;
      buf.writeUInt16BE(msg.opt.dnssecOk ? 0x8000 : 0, this.pos + 7);
      buf.writeUInt16BE(0, this.pos + 9);
      this.pos += MIN_RR_LEN;
      ar++;
    }
    buf.writeUInt16BE(msg.id, 0);
    buf.writeUInt16BE(flags, 2);
    buf.writeUInt16BE(msg.question ? 1 : 0, 4);
    buf.writeUInt16BE(an, 6);
    buf.writeUInt16BE(ns, 8);
    buf.writeUInt16BE(ar, 10);
    return Buffer.from(buf.subarray(0, this.pos));
  }

  private writeSection(rrs: readonly RR[], budget: number): number {
    let n = 0;
    for (const rr of rrs) {
      const before = this.pos;
      this.writeRR(rr);
      if (this.pos > budget) {
        this.pos = before;
        break;
      }
      n++;
    }
    return n;
  }

  private writeQuestion(q: Question): void {
    q.wire.copy(this.buf, this.pos);
    // Register every suffix of the question name so answers point back at it.
    let off = this.pos;
    let name = q.name;
    while (name !== '') {
      this.names.set(name, off);
      off += (this.buf[off] as number) + 1;
      const dot = name.indexOf('.');
      name = dot < 0 ? '' : name.slice(dot + 1);
    }
    this.pos += q.wire.length;
    this.buf.writeUInt16BE(q.type, this.pos);
    this.buf.writeUInt16BE(q.class, this.pos + 2);
    this.pos += 4;
  }

  private writeName(name: string, compress: boolean): void {
    const buf = this.buf;
    let rest = name;
    while (rest !== '') {
      const known = compress ? this.names.get(rest) : undefined;
      if (known !== undefined) {
        buf.writeUInt16BE(0xc000 | known, this.pos);
        this.pos += 2;
        return;
      }
      const dot = rest.indexOf('.');
      const label = dot < 0 ? rest : rest.slice(0, dot);
      if (label.length === 0 || label.length > 63) throw new Error(`invalid DNS name "${name}": bad label`);
      if (this.pos < 0x4000) this.names.set(rest, this.pos);
      buf[this.pos] = label.length;
      buf.write(label, this.pos + 1, 'latin1');
      this.pos += label.length + 1;
      rest = dot < 0 ? '' : rest.slice(dot + 1);
    }
    buf[this.pos] = 0;
    this.pos += 1;
  }

  private writeRR(rr: RR): void {
    const buf = this.buf;
    // Guard against overrunning the scratch buffer; the caller rolls back on overflow.
    if (this.pos > 65535 - 1024) {
      this.pos = 65536;
      return;
    }
    this.writeName(rr.name, true);
    buf.writeUInt16BE(rr.type, this.pos);
    buf.writeUInt16BE(rr.class, this.pos + 2);
    buf.writeUInt32BE(rr.ttl >>> 0, this.pos + 4);
    const lenAt = this.pos + 8;
    this.pos += 10;
    const start = this.pos;
    const d = rr.data;
    switch (d.kind) {
      case 'raw':
        d.bytes.copy(buf, this.pos);
        this.pos += d.bytes.length;
        break;
      case 'name':
        this.writeName(d.name, true);
        break;
      case 'srv':
        buf.writeUInt16BE(d.priority, this.pos);
        buf.writeUInt16BE(d.weight, this.pos + 2);
        buf.writeUInt16BE(d.port, this.pos + 4);
        this.pos += 6;
        // RFC 2782: the SRV target is not compressed.
        this.writeName(d.target, false);
        break;
      case 'mx':
        buf.writeUInt16BE(d.preference, this.pos);
        this.pos += 2;
        this.writeName(d.exchange, true);
        break;
      case 'soa':
        this.writeName(d.mname, true);
        this.writeName(d.rname, true);
        buf.writeUInt32BE(d.serial >>> 0, this.pos);
        buf.writeUInt32BE(d.refresh, this.pos + 4);
        buf.writeUInt32BE(d.retry, this.pos + 8);
        buf.writeUInt32BE(d.expire, this.pos + 12);
        buf.writeUInt32BE(d.minimum, this.pos + 16);
        this.pos += 20;
        break;
    }
    buf.writeUInt16BE(this.pos - start, lenAt);
  }
}

/**
 * Reads a possibly compressed name at `off`. Returns the lower-cased presentation name and the
 * offset just after the name in the original position, or null when it is malformed (out of
 * bounds, a forward or looping pointer, an oversized name).
 */
export function readName(buf: Buffer, off: number): { name: string; end: number } | null {
  const labels: string[] = [];
  let pos = off;
  let end = -1;
  let total = 0;
  let jumps = 0;
  for (;;) {
    if (pos >= buf.length) return null;
    const len = buf[pos] as number;
    if (len === 0) {
      if (end < 0) end = pos + 1;
      break;
    }
    if ((len & 0xc0) === 0xc0) {
      if (pos + 1 >= buf.length) return null;
      const target = ((len & 0x3f) << 8) | (buf[pos + 1] as number);
      if (end < 0) end = pos + 2;
      // Backward-only pointers plus the jump and length bounds make every loop terminate.
      if (target >= pos || ++jumps > 127) return null;
      pos = target;
      continue;
    }
    if (len & 0xc0) return null;
    if (pos + 1 + len > buf.length) return null;
    total += len + 1;
    if (total > 254) return null;
    labels.push(buf.toString('latin1', pos + 1, pos + 1 + len).toLowerCase());
    pos += 1 + len;
  }
  return { name: labels.join('.'), end };
}

/** One resource record as located inside a message by `walkMessage`. */
export interface WalkedRR {
  section: 'answer' | 'authority' | 'additional';
  name: string;
  type: number;
  class: number;
  ttl: number;
  /** Offset of the 32-bit TTL field, so cached responses can have their TTLs patched. */
  ttlOffset: number;
  /** Offset of the whole record and of its rdata. */
  start: number;
  rdataOffset: number;
  rdataLength: number;
  end: number;
}

export interface WalkedMessage {
  id: number;
  flags: number;
  rcode: number;
  questionEnd: number;
  question: { name: string; type: number; class: number } | null;
  records: WalkedRR[];
}

/** Walks a full message (typically an upstream response), validating every bound. */
export function walkMessage(buf: Buffer): WalkedMessage | null {
  if (buf.length < HEADER_LEN) return null;
  const flags = buf.readUInt16BE(2);
  const qd = buf.readUInt16BE(4);
  const counts = [buf.readUInt16BE(6), buf.readUInt16BE(8), buf.readUInt16BE(10)] as const;
  if (qd > 1) return null;
  if ((counts[0] + counts[1] + counts[2]) * MIN_RR_LEN > buf.length) return null;
  let pos = HEADER_LEN;
  let question: WalkedMessage['question'] = null;
  if (qd === 1) {
    const n = readName(buf, pos);
    if (!n || n.end + 4 > buf.length) return null;
    question = { name: n.name, type: buf.readUInt16BE(n.end), class: buf.readUInt16BE(n.end + 2) };
    pos = n.end + 4;
  }
  const questionEnd = pos;
  const sections = ['answer', 'authority', 'additional'] as const;
  const records: WalkedRR[] = [];
  for (let s = 0; s < 3; s++) {
    for (let i = 0; i < (counts[s] as number); i++) {
      const start = pos;
      const n = readName(buf, pos);
      if (!n || n.end + 10 > buf.length) return null;
      const rdlen = buf.readUInt16BE(n.end + 8);
      const rdataOffset = n.end + 10;
      if (rdataOffset + rdlen > buf.length) return null;
      records.push({
        section: sections[s] as WalkedRR['section'],
        name: n.name,
        type: buf.readUInt16BE(n.end),
        class: buf.readUInt16BE(n.end + 2),
        ttl: buf.readUInt32BE(n.end + 4),
        ttlOffset: n.end + 4,
        start,
        rdataOffset,
        rdataLength: rdlen,
        end: rdataOffset + rdlen,
      });
      pos = rdataOffset + rdlen;
    }
  }
  if (pos !== buf.length) return null;
  const opt = records.find((r) => r.type === TYPE.OPT);
  const extended = opt ? ((opt.ttl >>> 24) & 0xff) << 4 : 0;
  return { id: buf.readUInt16BE(0), flags, rcode: (flags & 0xf) | extended, questionEnd, question, records };
}

/**
 * Converts a walked record to the encoder's form, for the types a forwarded answer may be merged
 * into one of ours (CNAME chasing). Other types keep their rdata raw, which is only correct for
 * types without embedded names, so callers use this for A, AAAA, CNAME and the like.
 */
export function toRR(buf: Buffer, w: WalkedRR): RR | null {
  let data: RData;
  if (w.type === TYPE.CNAME || w.type === TYPE.PTR || w.type === TYPE.NS) {
    const n = readName(buf, w.rdataOffset);
    if (!n) return null;
    data = { kind: 'name', name: n.name };
  } else {
    data = { kind: 'raw', bytes: Buffer.from(buf.subarray(w.rdataOffset, w.end)) };
  }
  return { name: w.name, type: w.type, class: w.class, ttl: w.ttl, data };
}
