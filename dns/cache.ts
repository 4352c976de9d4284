/**
 * The cache for forwarded answers: positive and negative (RFC 2308), TTL-respecting, bounded
 * (LRU). It stores the upstream's bytes with its OPT record cut off, plus where every TTL sits,
 * so a hit is a copy and a few integer writes rather than a re-encode.
 */
import type { WalkedMessage, WalkedRR } from './wire.js';
import { FLAG, HEADER_LEN, RCODE, TYPE } from './wire.js';

/** CoreDNS's cache plugin caps: 3600 s for success, 1800 s for denial. */
const MAX_SUCCESS_TTL = 3600;
const MAX_DENIAL_TTL = 1800;

export interface CachedAnswer {
  /** Upstream message without OPT; the header's ARCOUNT already excludes it. */
  bytes: Buffer;
  ttlOffsets: number[];
  ttls: number[];
  storedAt: number;
  expiresAt: number;
  negative: boolean;
}

/**
 * Prepares an upstream response for caching. Returns null for answers that must not be cached:
 * SERVFAIL and other errors, truncated ones, TTL 0, denials without an SOA, or messages whose OPT
 * is not the last record (cutting it out would break compression pointers after it).
 */
export function toCacheable(buf: Buffer, walked: WalkedMessage, now: number): CachedAnswer | null {
  if (walked.flags & FLAG.TC) return null;
  const rcode = walked.rcode;
  if (rcode !== RCODE.NOERROR && rcode !== RCODE.NXDOMAIN) return null;
  const stripped = stripRecords(buf, walked);
  if (!stripped) return null;
  const { bytes, kept } = stripped;
  const answers = kept.filter((r) => r.section === 'answer');
  let ttl: number;
  let negative = false;
  if (rcode === RCODE.NOERROR && answers.length > 0) {
    ttl = Math.min(MAX_SUCCESS_TTL, ...answers.map((r) => r.ttl));
  } else {
    negative = true;
    const soa = kept.find((r) => r.section === 'authority' && r.type === TYPE.SOA);
    if (!soa || soa.rdataLength < 20) return null;
    const minimum = buf.readUInt32BE(soa.end - 4);
    ttl = Math.min(MAX_DENIAL_TTL, soa.ttl, minimum);
  }
  if (ttl <= 0) return null;
  return {
    bytes,
    ttlOffsets: kept.map((r) => r.ttlOffset),
    ttls: kept.map((r) => r.ttl),
    storedAt: now,
    expiresAt: now + ttl * 1000,
    negative,
  };
}

/**
 * The flags of a forwarded answer: the client's RD, and never AA, since this server is not
 * the authority for what it relays.
 */
export function forwardedFlags(upstream: number, request: number): number {
  return (upstream & ~(FLAG.RD | FLAG.AA)) | (request & FLAG.RD);
}

/**
 * Renders a cached answer for one client: its ID, its RD bit, its question spelling (0x20
 * case), and TTLs decremented by the time spent in the cache.
 */
export function renderCached(
  entry: CachedAnswer,
  id: number,
  flags: number,
  questionWire: Buffer,
  now: number,
): Buffer {
  const out = Buffer.from(entry.bytes);
  out.writeUInt16BE(id, 0);
  out.writeUInt16BE(forwardedFlags(out.readUInt16BE(2), flags), 2);
  const nameEnd = HEADER_LEN + questionWire.length;
  if (nameEnd <= out.length && out[nameEnd - 1] === 0) questionWire.copy(out, HEADER_LEN);
  const elapsed = Math.floor((now - entry.storedAt) / 1000);
  for (let i = 0; i < entry.ttlOffsets.length; i++) {
    out.writeUInt32BE(Math.max(0, (entry.ttls[i] as number) - elapsed), entry.ttlOffsets[i] as number);
  }
  return out;
}

function stripRecords(buf: Buffer, walked: WalkedMessage): { bytes: Buffer; kept: WalkedRR[] } | null {
  const records = walked.records;
  const opt = records.findIndex((r) => r.type === TYPE.OPT);
  if (opt < 0) return { bytes: Buffer.from(buf), kept: records };
  const optRR = records[opt];
  if (!optRR || opt !== records.length - 1) return null;
  const bytes = Buffer.from(buf.subarray(0, optRR.start));
  bytes.writeUInt16BE(bytes.readUInt16BE(10) - 1, 10);
  return { bytes, kept: records.slice(0, opt) };
}

/** A copy of `buf` without its OPT record, or null when the OPT is not the last record. */
export function stripOpt(buf: Buffer, walked: WalkedMessage): Buffer | null {
  return stripRecords(buf, walked)?.bytes ?? null;
}

/** A bounded LRU map; Map keeps insertion order, so re-inserting on a hit makes it most recent. */
export class AnswerCache {
  private entries = new Map<string, CachedAnswer>();
  constructor(readonly capacity: number) {}

  get(key: string, now: number): CachedAnswer | undefined {
    const e = this.entries.get(key);
    if (!e) return undefined;
    this.entries.delete(key);
    if (e.expiresAt <= now) return undefined;
    this.entries.set(key, e);
    return e;
  }

  set(key: string, entry: CachedAnswer): void {
    if (this.capacity <= 0) return;
    this.entries.delete(key);
    this.entries.set(key, entry);
    while (this.entries.size > this.capacity) {
      const oldest = this.entries.keys().next().value;
      if (oldest === undefined) break;
      this.entries.delete(oldest);
    }
  }

  counts(): { success: number; denial: number } {
    let denial = 0;
    for (const e of this.entries.values()) if (e.negative) denial++;
    return { success: this.entries.size - denial, denial };
  }
}
