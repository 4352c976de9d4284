import { describe, expect, it } from 'vitest';
import { AnswerCache, renderCached, toCacheable } from './cache.js';
import type { Message, RR } from './wire.js';
import { CLASS_IN, Encoder, FLAG, RCODE, TYPE, nameToWire, walkMessage } from './wire.js';

function response(rcode: number, answers: RR[], authority: RR[] = []): Buffer {
  const msg: Message = {
    id: 1,
    flags: FLAG.QR | FLAG.AA | FLAG.RA | rcode,
    question: { wire: nameToWire('x.test'), name: 'x.test', type: TYPE.A, class: CLASS_IN },
    answers,
    authority,
    additional: [],
    opt: { udpSize: 1232, extendedRcode: 0, dnssecOk: false },
  };
  return new Encoder().encode(msg);
}

const a = (ttl: number): RR => ({
  name: 'x.test',
  type: TYPE.A,
  class: CLASS_IN,
  ttl,
  data: { kind: 'raw', bytes: Buffer.from([192, 0, 2, 1]) },
});

const soa = (ttl: number, minimum: number): RR => ({
  name: 'test',
  type: TYPE.SOA,
  class: CLASS_IN,
  ttl,
  data: {
    kind: 'soa',
    mname: 'ns.test',
    rname: 'h.test',
    serial: 1,
    refresh: 1,
    retry: 1,
    expire: 1,
    minimum,
  },
});

function cacheable(buf: Buffer, now = 0) {
  const w = walkMessage(buf);
  if (!w) throw new Error('unparseable test message');
  return toCacheable(buf, w, now);
}

describe('forward cache', () => {
  it('keeps positive answers for their smallest TTL and strips the upstream OPT', () => {
    const e = cacheable(response(RCODE.NOERROR, [a(60), a(30)]));
    expect(e?.expiresAt).toBe(30_000);
    expect(e?.negative).toBe(false);
    const w = walkMessage(e?.bytes ?? Buffer.alloc(0));
    expect(w?.records.map((r) => r.type)).toEqual([TYPE.A, TYPE.A]);
  });

  it('keeps denials for min(SOA TTL, SOA minimum), and not at all without an SOA', () => {
    expect(cacheable(response(RCODE.NXDOMAIN, [], [soa(300, 20)]))?.expiresAt).toBe(20_000);
    expect(cacheable(response(RCODE.NOERROR, [], [soa(10, 900)]))).toMatchObject({
      negative: true,
      expiresAt: 10_000,
    });
    expect(cacheable(response(RCODE.NXDOMAIN, []))).toBeNull();
    expect(cacheable(response(RCODE.SERVFAIL, []))).toBeNull();
    expect(cacheable(response(RCODE.NOERROR, [a(0)]))).toBeNull();
  });

  it("renders a hit with the client's ID, RD bit, name spelling and elapsed TTLs, without AA", () => {
    const e = cacheable(response(RCODE.NOERROR, [a(60)]), 1_000);
    if (!e) throw new Error('not cacheable');
    const out = renderCached(e, 0xbeef, 0, nameToWire('X.Test'), 11_500);
    const w = walkMessage(out);
    expect(w?.id).toBe(0xbeef);
    expect((w?.flags ?? 0) & (FLAG.RD | FLAG.AA)).toBe(0);
    expect(w?.records[0]?.ttl).toBe(50);
    expect(out.toString('latin1', 13, 14)).toBe('X');
  });

  it('evicts the least recently used entry and drops expired ones', () => {
    const c = new AnswerCache(2);
    const e = cacheable(response(RCODE.NOERROR, [a(60)]));
    if (!e) throw new Error('not cacheable');
    c.set('a', e);
    c.set('b', e);
    c.get('a', 0);
    c.set('c', e);
    expect([c.get('a', 0), c.get('b', 0), c.get('c', 0)].map(Boolean)).toEqual([true, false, true]);
    expect(c.get('a', 60_000)).toBeUndefined();
    expect(c.counts()).toEqual({ success: 1, denial: 0 });
  });
});
