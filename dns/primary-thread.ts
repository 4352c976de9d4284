/**
 * The primary DNS thread of `klab dns serve` (see threads.ts): the full server on the shared
 * UDP socket and on TCP, fed by the object source, answering what the front threads hand over
 * and telling them when the objects change.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { Shareable } from './handler.js';
import { jsonLog } from './log.js';
import { objectSource, startDns } from './run.js';
import { ObjectCache } from './store.js';
import type {
  FromThread,
  FrontToPrimary,
  PrimarySetup,
  PrimaryToFront,
  SharedWire,
  ToThread,
} from './threads.js';

const parent = parentPort;
if (!parent) throw new Error('dns/primary-thread.js runs as a worker thread of klab dns serve');
const setup = workerData as PrimarySetup;
const post = (m: FromThread): void => parent.postMessage(m);

function toWire(s: Shareable): SharedWire {
  if (s.kind === 'zone') return { kind: 'zone', key: s.key, bytes: new Uint8Array(s.bytes) };
  return { kind: 'forward', key: s.key, entry: { ...s.entry, bytes: new Uint8Array(s.entry.bytes) } };
}

/**
 * Like CoreDNS's kubernetes plugin, wait a while for the first sync before serving: queries
 * arriving meanwhile wait in the socket's buffer instead of getting SERVFAIL, so a replica
 * restarted behind a ready endpoint does not fail lookups.
 */
const SYNC_WAIT_MS = 5_000;

function firstSync(objects: ObjectCache): Promise<void> {
  if (objects.synced) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, SYNC_WAIT_MS);
    objects.onChange(() => {
      if (!objects.synced) return;
      clearTimeout(timer);
      resolve();
    });
  });
}

try {
  const source = await objectSource(setup.config);
  const objects = new ObjectCache();
  source(objects, jsonLog);
  await firstSync(objects);
  const dns = await startDns(setup.config, { udpFd: setup.fd, objects });
  const family = setup.config.listen.host.includes(':') ? 2 : 1;
  for (const front of setup.fronts) {
    front.on('message', (m: FrontToPrimary) => {
      const shared: SharedWire[] = [];
      // Replies and invalidations travel in order on this one channel, so a front never keeps
      // an answer computed before a change it has already been told about.
      const send = (out: Buffer | null): void => {
        const reply: PrimaryToFront = {
          type: 'answer',
          seq: m.seq,
          out: out ? new Uint8Array(out) : null,
          shared,
        };
        front.postMessage(reply);
      };
      const msg = Buffer.from(m.msg.buffer, m.msg.byteOffset, m.msg.byteLength);
      let r: ReturnType<typeof dns.handler.handle>;
      try {
        r = dns.handler.handle(msg, 'udp', family, (s) => shared.push(toWire(s)));
      } catch {
        send(null);
        return;
      }
      if (r === null || Buffer.isBuffer(r)) send(r);
      else r.then(send, () => send(null));
    });
  }
  let synced = false;
  const reportSync = (): void => {
    if (synced || !objects.synced) return;
    synced = true;
    post({ type: 'synced' });
  };
  objects.onChange(() => {
    for (const front of setup.fronts) front.postMessage({ type: 'invalidate' } satisfies PrimaryToFront);
    reportSync();
  });
  reportSync();
  parent.on('message', (m: ToThread) =>
    post({ type: 'metrics', seq: m.seq, snapshot: dns.metrics.snapshot() }),
  );
  post({ type: 'listening' });
} catch (e) {
  post({ type: 'failed', error: (e as Error).message });
}
