import { Packet } from 'dns2';
import { describe, expect, it } from 'vitest';
import type { Message, RR } from './wire.js';
import {
  CLASS_IN,
  Encoder,
  FLAG,
  RCODE,
  TYPE,
  nameToWire,
  parseQuery,
  readName,
  walkMessage,
} from './wire.js';

function dns2Query(name: string, type: number, udpSize?: number): Buffer {
  const p = new Packet();
  p.header.id = 0x1234;
  p.header.rd = 1;
  p.questions.push({ name, type, class: CLASS_IN } as never);
  if (udpSize) {
    p.additionals.push(Packet.Resource.EDNS([]) as never);
    (p.additionals[0] as { class: number }).class = udpSize;
  }
  return p.toBuffer();
}

const raw = (bytes: number[]): RR['data'] => ({ kind: 'raw', bytes: Buffer.from(bytes) });

function rr(name: string, type: number, data: RR['data'], ttl = 30): RR {
  return { name, type, class: CLASS_IN, ttl, data };
}

function question(name: string, type: number) {
  return { wire: nameToWire(name), name: name.toLowerCase(), type, class: CLASS_IN };
}

describe('parseQuery', () => {
  it('parses a dns2-built query with EDNS', () => {
    const r = parseQuery(dns2Query('Web.Default.svc.cluster.local', TYPE.A, 1232));
    expect(r.kind).toBe('query');
    if (r.kind !== 'query') return;
    expect(r.query.id).toBe(0x1234);
    expect(r.query.question.name).toBe('web.default.svc.cluster.local');
    expect(r.query.question.wire.toString('latin1')).toContain('Web');
    expect(r.query.question.type).toBe(TYPE.A);
    expect(r.query.edns).toEqual({ udpSize: 1232, version: 0, dnssecOk: false });
  });

  it('parses a query without EDNS and the root name', () => {
    const r = parseQuery(dns2Query('.', TYPE.NS));
    expect(r.kind === 'query' && [r.query.question.name, r.query.edns]).toEqual(['', null]);
  });

  it('drops runts and responses', () => {
    expect(parseQuery(Buffer.alloc(11))).toEqual({ kind: 'drop' });
    const resp = dns2Query('a.b', TYPE.A);
    resp[2] = (resp[2] as number) | 0x80;
    expect(parseQuery(resp)).toEqual({ kind: 'drop' });
  });

  it('answers FORMERR for bad counts and broken names, NOTIMP for other opcodes', () => {
    const q = dns2Query('a.b', TYPE.A);
    const noQuestion = Buffer.from(q);
    noQuestion.writeUInt16BE(0, 4);
    expect(parseQuery(noQuestion)).toMatchObject({ kind: 'error', rcode: RCODE.FORMERR, id: 0x1234 });
    const twoQuestions = Buffer.from(q);
    twoQuestions.writeUInt16BE(2, 4);
    expect(parseQuery(twoQuestions)).toMatchObject({ kind: 'error', rcode: RCODE.FORMERR });
    expect(parseQuery(q.subarray(0, 15))).toMatchObject({ kind: 'error', rcode: RCODE.FORMERR });
    const badLabel = Buffer.from(q);
    badLabel[12] = 0x80;
    expect(parseQuery(badLabel)).toMatchObject({ kind: 'error', rcode: RCODE.FORMERR });
    const trailing = Buffer.concat([q, Buffer.from([1, 2, 3])]);
    expect(parseQuery(trailing)).toMatchObject({ kind: 'error', rcode: RCODE.FORMERR });
    const absurd = Buffer.from(q);
    absurd.writeUInt16BE(1, 6);
    expect(parseQuery(absurd)).toMatchObject({ kind: 'error', rcode: RCODE.FORMERR });
    const notify = Buffer.from(q);
    notify[2] = (notify[2] as number) | (4 << 3);
    expect(parseQuery(notify)).toMatchObject({ kind: 'error', rcode: RCODE.NOTIMP });
  });

  it('hands compressed question names to the fallback', () => {
    const q = Buffer.from([0, 1, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xc0, 12, 0, 1, 0, 1]);
    expect(parseQuery(q)).toEqual({ kind: 'fallback' });
  });
});

describe('Encoder', () => {
  const soa: RR = rr('cluster.local', TYPE.SOA, {
    kind: 'soa',
    mname: 'ns.dns.cluster.local',
    rname: 'hostmaster.cluster.local',
    serial: 42,
    refresh: 7200,
    retry: 1800,
    expire: 86400,
    minimum: 30,
  });
  const msg: Message = {
    id: 7,
    flags: FLAG.QR | FLAG.AA | FLAG.RD,
    question: question('web.default.svc.cluster.local', TYPE.ANY),
    answers: [
      rr('web.default.svc.cluster.local', TYPE.A, raw([10, 96, 0, 20])),
      rr('web.default.svc.cluster.local', TYPE.AAAA, raw([0xfd, ...new Array<number>(14).fill(0), 1])),
      rr('web.default.svc.cluster.local', TYPE.SRV, {
        kind: 'srv',
        priority: 0,
        weight: 100,
        port: 80,
        target: 'web.default.svc.cluster.local',
      }),
      rr('web.default.svc.cluster.local', TYPE.CNAME, { kind: 'name', name: 'example.test' }),
      rr('web.default.svc.cluster.local', TYPE.TXT, raw([5, ...Buffer.from('1.1.0')])),
      rr('web.default.svc.cluster.local', TYPE.MX, {
        kind: 'mx',
        preference: 10,
        exchange: 'mail.example.test',
      }),
    ],
    authority: [soa],
    additional: [
      rr('20.0.96.10.in-addr.arpa', TYPE.PTR, { kind: 'name', name: 'web.default.svc.cluster.local' }),
    ],
    opt: { udpSize: 1232, extendedRcode: 0, dnssecOk: true },
  };

  it('round-trips every record kind through dns2', () => {
    const buf = new Encoder().encode(msg);
    const p = Packet.parse(buf);
    expect(p.header).toMatchObject({ id: 7, qr: 1, aa: 1, rd: 1, tc: 0 });
    expect(p.questions[0]).toMatchObject({ name: 'web.default.svc.cluster.local', type: TYPE.ANY });
    const a = p.answers as unknown as Record<string, unknown>[];
    expect(a[0]).toMatchObject({ type: TYPE.A, ttl: 30, address: '10.96.0.20' });
    expect(String(a[1]?.address)).toMatch(/^fd00:/);
    expect(a[2]).toMatchObject({
      priority: 0,
      weight: 100,
      port: 80,
      target: 'web.default.svc.cluster.local',
    });
    expect(a[3]).toMatchObject({ domain: 'example.test' });
    expect(a[4]?.data).toBe('1.1.0');
    expect(a[5]).toMatchObject({ exchange: 'mail.example.test', priority: 10 });
    expect(p.authorities[0]).toMatchObject({
      primary: 'ns.dns.cluster.local',
      admin: 'hostmaster.cluster.local',
      serial: 42,
      minimum: 30,
    });
    expect(p.additionals[0]).toMatchObject({ domain: 'web.default.svc.cluster.local' });
    expect(p.additionals[1]).toMatchObject({ type: TYPE.OPT, class: 1232, doFlag: true });
  });

  it('compresses owner names against the question', () => {
    const buf = new Encoder().encode({
      ...msg,
      answers: msg.answers.slice(0, 1),
      authority: [],
      additional: [],
    });
    // header 12 + question (31 + 4) + pointer 2 + fixed 10 + rdata 4 + OPT 11
    expect(buf.length).toBe(12 + 35 + 16 + 11);
  });

  it('truncates answers that exceed the limit, sets TC, and keeps the OPT', () => {
    const many = Array.from({ length: 100 }, (_, i) =>
      rr('db.default.svc.cluster.local', TYPE.A, raw([10, 244, 1, i])),
    );
    const m: Message = { ...msg, question: question('db.default.svc.cluster.local', TYPE.A), answers: many };
    const small = new Encoder().encode(m, 512);
    expect(small.length).toBeLessThanOrEqual(512);
    const p = Packet.parse(small);
    expect(p.header.tc).toBe(1);
    expect(p.answers.length).toBeGreaterThan(20);
    expect(p.answers.length).toBeLessThan(100);
    expect(p.additionals.at(-1)?.type).toBe(TYPE.OPT);
    const full = Packet.parse(new Encoder().encode(m));
    expect([full.header.tc, full.answers.length]).toEqual([0, 100]);
  });

  it('drops additional records that do not fit without setting TC', () => {
    const extra = Array.from({ length: 60 }, (_, i) => rr(`h${i}.x.test`, TYPE.A, raw([1, 1, 1, i])));
    const buf = new Encoder().encode({ ...msg, answers: msg.answers.slice(0, 1), additional: extra }, 512);
    const p = Packet.parse(buf);
    expect([p.header.tc, p.answers.length]).toEqual([0, 1]);
    expect(p.additionals.length).toBeLessThan(61);
  });
});

describe('readName and walkMessage', () => {
  it('rejects compression loops and forward pointers', () => {
    const loop = Buffer.from([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0x61, 0xc0, 12]);
    expect(readName(loop, 12)).toBeNull();
    const self = Buffer.from([0xc0, 0]);
    expect(readName(self, 0)).toBeNull();
    const forward = Buffer.from([0xc0, 2, 1, 0x61, 0]);
    expect(readName(forward, 0)).toBeNull();
  });

  it('locates every record and its TTL in an encoded message', () => {
    const buf = new Encoder().encode({
      id: 1,
      flags: FLAG.QR | RCODE.NXDOMAIN,
      question: question('x.test', TYPE.A),
      answers: [rr('x.test', TYPE.A, raw([1, 2, 3, 4]), 77)],
      authority: [],
      additional: [],
      opt: { udpSize: 1232, extendedRcode: 0, dnssecOk: false },
    });
    const w = walkMessage(buf);
    expect(w?.rcode).toBe(RCODE.NXDOMAIN);
    expect(w?.question).toEqual({ name: 'x.test', type: TYPE.A, class: CLASS_IN });
    expect(w?.records.map((r) => [r.section, r.type, r.ttl])).toEqual([
      ['answer', TYPE.A, 77],
      ['additional', TYPE.OPT, 0],
    ]);
    expect(buf.readUInt32BE(w?.records[0]?.ttlOffset ?? 0)).toBe(77);
    expect(walkMessage(buf.subarray(0, buf.length - 1))).toBeNull();
  });
});
