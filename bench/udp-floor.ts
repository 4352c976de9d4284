/**
 * The floor under any DNS server written on Node.js 20's dgram: a responder that does no DNS
 * work at all — it turns each datagram into its own reply by setting the QR bit and sends it
 * back — run the way `klab dns serve --workers N` runs (N worker threads reading one shared UDP
 * socket). bench/dns.ts measures it side by side with klab and unbound, so the table shows how
 * much of the gap to unbound the runtime's per-datagram path alone accounts for.
 *
 *   node dist/bench/udp-floor.js [threads]   prints "port N" once every thread listens
 */
import dgram from 'node:dgram';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { literalLookup } from '../dns/server.js';
import { bindShared } from '../dns/threads.js';

/** The QR ("this is a response") bit of the header's third byte. */
const QR = 0x80;

if (isMainThread) {
  const threads = Number(process.argv[2] ?? '2');
  if (!Number.isInteger(threads) || threads < 1)
    throw new Error(`threads must be a positive integer, got ${process.argv[2]}`);
  const bound = bindShared('127.0.0.1', 0);
  let listening = 0;
  for (let i = 0; i < threads; i++) {
    const worker = new Worker(new URL(import.meta.url), { workerData: { fd: bound.handle.fd } });
    worker.on('message', () => {
      if (++listening === threads) console.log(`port ${bound.port}`);
    });
    worker.on('error', (e) => {
      console.error(`udp-floor thread: ${e.message}`);
      process.exit(1);
    });
  }
} else {
  const socket = dgram.createSocket({ type: 'udp4', lookup: literalLookup });
  socket.on('message', (msg, rinfo) => {
    if (msg.length < 12) return;
    msg[2] = (msg[2] as number) | QR;
    socket.send(msg, rinfo.port, rinfo.address);
  });
  socket.bind({ fd: (workerData as { fd: number }).fd }, () => parentPort?.postMessage('listening'));
}
