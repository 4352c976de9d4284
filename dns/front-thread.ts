/**
 * A front thread of `klab dns serve --workers N` (see threads.ts): it reads the shared UDP
 * socket and answers what it has cached — encoded zone answers (until the objects change) and
 * forwarded answers (for their TTL) — and hands every other message to the primary thread,
 * which owns the objects, the record index and the upstreams, and sends back the reply plus
 * the cache entries it came from. Only the codec and the caches load here.
 */
import dgram from 'node:dgram';
import { performance } from 'node:perf_hooks';
import { parentPort, workerData } from 'node:worker_threads';
import { AnswerCache } from './cache.js';
import { finishForward, forwardKey, isReverseName, patchZoneAnswer, replyLimit, zoneKey } from './hits.js';
import { DnsMetrics } from './metrics.js';
import { literalLookup } from './server.js';
import { CLASS_IN, Encoder, parseQuery } from './wire.js';
import type {
  FromThread,
  FrontSetup,
  FrontToPrimary,
  PrimaryToFront,
  SharedWire,
  ToThread,
} from './threads.js';

/** Encoded zone answers per thread; a miss costs one round trip to the primary. */
const MAX_ZONE_ANSWERS = 20_000;
/** Messages waiting for the primary; beyond this they are dropped and the client retries. */
const MAX_PENDING = 10_000;

const parent = parentPort;
if (!parent) throw new Error('dns/front-thread.js runs as a worker thread of klab dns serve');
const setup = workerData as FrontSetup;
const primary = setup.primary;
const metrics = new DnsMetrics(setup.server);
const zoneAnswers = new Map<string, Buffer>();
const forwarded = new AnswerCache(setup.cacheSize);
metrics.watchCache(() => forwarded.counts());
const encoder = new Encoder();
const pending = new Map<number, { address: string; port: number }>();
let seq = 0;

const post = (m: FromThread): void => parent.postMessage(m);

const asBuffer = (u: Uint8Array): Buffer => Buffer.from(u.buffer, u.byteOffset, u.byteLength);

function store(shared: SharedWire[]): void {
  for (const s of shared) {
    if (s.kind === 'zone') {
      if (zoneAnswers.size >= MAX_ZONE_ANSWERS) zoneAnswers.clear();
      zoneAnswers.set(s.key, asBuffer(s.bytes));
    } else {
      forwarded.set(s.key, { ...s.entry, bytes: asBuffer(s.entry.bytes) });
    }
  }
}

const socket = dgram.createSocket({ type: setup.family === 2 ? 'udp6' : 'udp4', lookup: literalLookup });
socket.on('error', () => undefined);

/** A hit answered here, or null when the main thread must answer. */
function answerHit(msg: Buffer): Buffer | null {
  const start = performance.now();
  const parsed = parseQuery(msg);
  if (parsed.kind !== 'query') return null;
  const query = parsed.query;
  const q = query.question;
  if (q.class !== CLASS_IN || (query.edns && query.edns.version > 0)) return null;
  const limit = replyLimit(query, 'udp');
  const zone = zoneAnswers.get(zoneKey(query, limit));
  if (zone) {
    const out = patchZoneAnswer(zone, query);
    metrics.request('udp', setup.family, q.type);
    metrics.response((out[3] as number) & 0xf, 'kubernetes', q.type, (performance.now() - start) / 1000);
    return out;
  }
  if (isReverseName(q.name)) return null;
  const now = Date.now();
  const entry = forwarded.get(forwardKey(q.name, q.type, query.edns?.dnssecOk ?? false), now);
  if (!entry) return null;
  const out = finishForward(encoder, query, entry, null, limit, now);
  metrics.request('udp', setup.family, q.type);
  metrics.cacheHit(entry.negative ? 'denial' : 'success');
  metrics.response((out[3] as number) & 0xf, 'cache', q.type, (performance.now() - start) / 1000);
  return out;
}

socket.on('message', (msg, rinfo) => {
  let out: Buffer | null;
  try {
    out = answerHit(msg);
  } catch {
    // A bug on one message must not take the thread (and with it the shared socket) down.
    return;
  }
  if (out) {
    socket.send(out, rinfo.port, rinfo.address);
    return;
  }
  if (msg.length < 12 || pending.size >= MAX_PENDING) return;
  seq = (seq + 1) | 0;
  pending.set(seq, { address: rinfo.address, port: rinfo.port });
  primary.postMessage({ type: 'query', seq, msg: new Uint8Array(msg) } satisfies FrontToPrimary);
});

primary.on('message', (m: PrimaryToFront) => {
  if (m.type === 'answer') {
    const to = pending.get(m.seq);
    pending.delete(m.seq);
    store(m.shared);
    if (to && m.out) socket.send(asBuffer(m.out), to.port, to.address);
  } else {
    zoneAnswers.clear();
  }
});
parent.on('message', (m: ToThread) => post({ type: 'metrics', seq: m.seq, snapshot: metrics.snapshot() }));

socket.bind({ fd: setup.fd }, () => post({ type: 'listening' }));
