import dgram from 'node:dgram';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveConfig } from './config.js';
import { DnsHandler } from './handler.js';
import { DnsMetrics } from './metrics.js';
import { parseObjects } from './objects.js';
import type { RunningDns } from './run.js';
import { startDns } from './run.js';
import { ObjectCache } from './store.js';
import { CLASS_IN, Encoder, FLAG, TYPE, nameToWire, walkMessage } from './wire.js';

const fixture = parseObjects(
  readFileSync(new URL('./testdata/objects.yaml', import.meta.url), 'utf8'),
  'fixture',
);
const config = resolveConfig([{ listen: '127.0.0.1:0', upstreams: [], upstreamTimeoutMs: 100 }], () => '');

/** A small seeded PRNG (mulberry32), so a failing packet can be reproduced. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const NAMES = ['web.default.svc.cluster.local', 'db.default.svc.cluster.local', 'cluster.local', 'x.test'];

function validQuery(rand: () => number, encoder: Encoder): Buffer {
  const name = NAMES[Math.floor(rand() * NAMES.length)] as string;
  return encoder.encode({
    id: Math.floor(rand() * 65536),
    flags: FLAG.RD,
    question: { wire: nameToWire(name), name, type: TYPE.A, class: CLASS_IN },
    answers: [],
    authority: [],
    additional: [],
    opt: rand() < 0.5 ? { udpSize: 1232, extendedRcode: 0, dnssecOk: false } : null,
  });
}

/** Random bytes, truncated headers, absurd section counts, compression loops, bit flips. */
function garbage(rand: () => number, encoder: Encoder): Buffer {
  const byte = (): number => Math.floor(rand() * 256);
  const kind = Math.floor(rand() * 7);
  const q = validQuery(rand, encoder);
  switch (kind) {
    case 0:
      return Buffer.from(Array.from({ length: Math.floor(rand() * 512) }, byte));
    case 1:
      return q.subarray(0, Math.floor(rand() * q.length));
    case 2: {
      const b = Buffer.from(q);
      for (let i = 4; i < 12; i += 2) b.writeUInt16BE(Math.floor(rand() * 65536), i);
      return b;
    }
    case 3: {
      // The question name is a pointer to itself, or two pointers chasing each other.
      const header = Buffer.from(q.subarray(0, 12));
      header.writeUInt16BE(1, 4);
      const loop = rand() < 0.5 ? [0xc0, 12, 0, 1, 0, 1] : [1, 0x61, 0xc0, 16, 0xc0, 12, 0, 1, 0, 1];
      return Buffer.concat([header, Buffer.from(loop)]);
    }
    case 4: {
      const b = Buffer.from(q);
      for (let i = 0; i < 1 + Math.floor(rand() * 3); i++) {
        const at = Math.floor(rand() * b.length);
        b[at] = (b[at] as number) ^ (1 << Math.floor(rand() * 8));
      }
      return b;
    }
    case 5: {
      // A name longer than 255 octets made of maximal labels.
      const header = Buffer.from(q.subarray(0, 12));
      header.writeUInt16BE(1, 4);
      const label = Buffer.concat([Buffer.from([63]), Buffer.alloc(63, 0x61)]);
      return Buffer.concat([header, label, label, label, label, label, Buffer.from([0, 0, 1, 0, 1])]);
    }
    default:
      return Buffer.concat([q, Buffer.from(Array.from({ length: 1 + Math.floor(rand() * 40) }, byte))]);
  }
}

describe('fuzzing', () => {
  let dns: RunningDns;
  const objects = new ObjectCache();
  beforeAll(async () => {
    objects.replace(fixture);
    dns = await startDns(config, { objects });
  });
  afterAll(async () => {
    await dns?.close();
  });

  it('answers 100k garbage messages with a well-formed response or nothing', async () => {
    const handler = new DnsHandler(objects, config, new DnsMetrics('fuzz'));
    const rand = prng(7);
    const encoder = new Encoder();
    const pending: Promise<Buffer | null>[] = [];
    const check = (input: Buffer, out: Buffer | null): void => {
      if (out === null) return;
      const w = walkMessage(out);
      if (!w || !(w.flags & FLAG.QR) || w.id !== input.readUInt16BE(0)) {
        throw new Error(`bad response to ${input.toString('hex')}: ${out.toString('hex')}`);
      }
    };
    try {
      for (let i = 0; i < 100_000; i++) {
        const input = garbage(rand, encoder);
        const out = handler.handle(input, 'udp', 1);
        if (out instanceof Promise) pending.push(out.then((o) => (check(input, o), o)));
        else check(input, out);
      }
      await Promise.all(pending);
    } finally {
      handler.close();
    }
  });

  it('keeps serving after 100k garbage datagrams', async () => {
    const client = dgram.createSocket('udp4');
    let responses = 0;
    let malformed = 0;
    client.on('message', (msg) => {
      responses++;
      const w = walkMessage(msg);
      if (!w || !(w.flags & FLAG.QR)) malformed++;
    });
    await new Promise<void>((r) => client.bind(0, '127.0.0.1', () => r()));
    try {
      const rand = prng(11);
      const encoder = new Encoder();
      for (let batch = 0; batch < 200; batch++) {
        for (let i = 0; i < 500; i++) client.send(garbage(rand, encoder), dns.port, '127.0.0.1');
        // Let the server drain between batches; loopback drops what overflows the socket buffer.
        await new Promise((r) => setTimeout(r, 2));
      }
      const answer = await new Promise<Buffer>((resolve, reject) => {
        const probe = dgram.createSocket('udp4');
        const timer = setTimeout(() => {
          probe.close();
          reject(new Error('no answer after the fuzzing'));
        }, 3000);
        probe.on('message', (msg) => {
          clearTimeout(timer);
          probe.close();
          resolve(msg);
        });
        const q = new Encoder().encode({
          id: 4242,
          flags: FLAG.RD,
          question: {
            wire: nameToWire('web.default.svc.cluster.local'),
            name: 'web.default.svc.cluster.local',
            type: TYPE.A,
            class: CLASS_IN,
          },
          answers: [],
          authority: [],
          additional: [],
          opt: null,
        });
        probe.send(q, dns.port, '127.0.0.1');
      });
      const w = walkMessage(answer);
      expect(w?.id).toBe(4242);
      expect(w?.records.map((r) => answer.subarray(r.rdataOffset, r.end).join('.'))).toEqual(['10.96.0.20']);
      expect(responses).toBeGreaterThan(0);
      expect(malformed).toBe(0);
    } finally {
      client.close();
    }
  });
});
