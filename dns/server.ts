/**
 * The sockets: one UDP socket and one TCP listener on the same address and port. TCP follows
 * RFC 7766 framing (two-byte length) with pipelining and an idle timeout. Any failure while
 * answering one message is contained to that message.
 */
import dgram from 'node:dgram';
import net from 'node:net';
import type { DnsHandler, Transport } from './handler.js';

/**
 * Replies go to the literal address a datagram came from; dgram's default resolver would
 * still defer every send by a tick through dns.lookup.
 */
export function literalLookup(
  address: string,
  _options: unknown,
  callback: (err: Error | null, address: string, family: number) => void,
): void {
  callback(null, address, address.includes(':') ? 6 : 4);
}

export interface ListenAddress {
  host: string;
  port: number;
}

export interface RunningServer {
  /** The bound port (useful when 0 asked for a random one). */
  port: number;
  close(): Promise<void>;
}

const TCP_IDLE_MS = 10_000;

function reply(
  handler: DnsHandler,
  msg: Buffer,
  transport: Transport,
  family: 1 | 2,
  send: (out: Buffer) => void,
): void {
  let r: ReturnType<DnsHandler['handle']>;
  try {
    r = handler.handle(msg, transport, family);
  } catch {
    // A bug on one message must not take the server down; the client retries or times out.
    return;
  }
  if (r === null) return;
  if (Buffer.isBuffer(r)) {
    send(r);
    return;
  }
  r.then(
    (out) => {
      if (out) send(out);
    },
    () => undefined,
  );
}

function bindUdp(handler: DnsHandler, addr: ListenAddress, fd?: number): Promise<dgram.Socket> {
  const family = net.isIPv6(addr.host) ? 2 : 1;
  const socket = dgram.createSocket({ type: family === 2 ? 'udp6' : 'udp4', lookup: literalLookup });
  socket.on('message', (msg, rinfo) => {
    reply(handler, msg, 'udp', family, (out) => socket.send(out, rinfo.port, rinfo.address));
  });
  return new Promise((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(fd === undefined ? { address: addr.host, port: addr.port } : { fd }, () => {
      socket.off('error', reject);
      socket.on('error', () => undefined);
      resolve(socket);
    });
  });
}

function serveTcpConnection(handler: DnsHandler, conn: net.Socket, family: 1 | 2): void {
  let buffered = Buffer.alloc(0);
  conn.setTimeout(TCP_IDLE_MS, () => conn.destroy());
  conn.on('error', () => undefined);
  conn.on('data', (chunk) => {
    buffered = buffered.length === 0 ? chunk : Buffer.concat([buffered, chunk]);
    while (buffered.length >= 2) {
      const len = buffered.readUInt16BE(0);
      if (buffered.length < 2 + len) break;
      const msg = buffered.subarray(2, 2 + len);
      buffered = buffered.subarray(2 + len);
      reply(handler, msg, 'tcp', family, (out) => {
        if (conn.destroyed) return;
        const frame = Buffer.allocUnsafe(2 + out.length);
        frame.writeUInt16BE(out.length, 0);
        out.copy(frame, 2);
        conn.write(frame);
      });
    }
  });
}

function listenTcp(
  handler: DnsHandler,
  addr: ListenAddress,
  connections: Set<net.Socket>,
): Promise<net.Server> {
  const family = net.isIPv6(addr.host) ? 2 : 1;
  const server = net.createServer((conn) => {
    connections.add(conn);
    conn.on('close', () => connections.delete(conn));
    serveTcpConnection(handler, conn, family);
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: addr.host, port: addr.port }, () => {
      server.off('error', reject);
      resolve(server);
    });
  });
}

function closeTcp(tcp: net.Server, connections: Set<net.Socket>): Promise<void> {
  return new Promise<void>((r) => {
    tcp.close(() => r());
    // Idle clients would otherwise hold close() open until their idle timeout.
    for (const c of connections) c.destroy();
  });
}

/**
 * Serves UDP and TCP on `addr`. Port 0 picks a port free for both. With `udpFd` the UDP side
 * reads an already bound socket (shared with other threads) and `addr` names its port.
 */
export async function startServer(
  handler: DnsHandler,
  addr: ListenAddress,
  udpFd?: number,
): Promise<RunningServer> {
  for (let attempt = 0; ; attempt++) {
    const udp = await bindUdp(handler, addr, udpFd);
    const port = udp.address().port;
    const connections = new Set<net.Socket>();
    try {
      const tcp = await listenTcp(handler, { host: addr.host, port }, connections);
      return {
        port,
        close: async () => {
          await new Promise<void>((r) => udp.close(() => r()));
          await closeTcp(tcp, connections);
        },
      };
    } catch (e) {
      udp.close();
      // With a random port the TCP side may be taken; try another. A fixed port is final.
      if (addr.port !== 0 || udpFd !== undefined || attempt >= 5) throw e;
    }
  }
}
