/**
 * `klab echo`, later the built-in image `klab/echo`: an HTTP server answering every path with JSON
 * about who it is and who it sees (the client address and port as the server sees them is how tests
 * tell SNAT from source preservation), a TCP port that echoes bytes, and a UDP port that answers
 * each datagram with the same JSON (so UDP tests see the client address too).
 */
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import {
  createServer as createHttpServer,
  type IncomingHttpHeaders,
  type Server as HttpServer,
} from 'node:http';
import { createServer as createTcpServer, type AddressInfo, type Server as TcpServer } from 'node:net';
import { hostname as osHostname } from 'node:os';
import type { Command } from 'commander';

export interface Endpoint {
  readonly address: string;
  readonly port: number;
}

export interface EchoIdentity {
  /** POD_NAME, else the machine's hostname. */
  readonly hostname: string;
  /** NODE_NAME or --node; null when unknown. */
  readonly node: string | null;
}

export interface EchoRequest {
  readonly protocol: 'http' | 'udp';
  readonly local: Endpoint;
  readonly remote: Endpoint;
  readonly method?: string;
  readonly path?: string;
  readonly headers?: IncomingHttpHeaders;
  /** UDP: the datagram as text. */
  readonly data?: string;
}

export interface EchoReply {
  readonly hostname: string;
  /** The server's own address on this connection; `ip` is the same for non-pod use. */
  readonly podIP: string;
  readonly ip: string;
  readonly node: string | null;
  readonly protocol: 'http' | 'udp';
  readonly server: Endpoint;
  readonly client: Endpoint;
  readonly method?: string;
  readonly path?: string;
  readonly headers?: IncomingHttpHeaders;
  readonly data?: string;
}

/** Dual-stack sockets report IPv4 peers as ::ffff:a.b.c.d; klab is IPv4. */
export function normalizeAddress(address: string): string {
  return address.startsWith('::ffff:') && address.includes('.') ? address.slice('::ffff:'.length) : address;
}

export function buildReply(identity: EchoIdentity, request: EchoRequest): EchoReply {
  const server = { address: normalizeAddress(request.local.address), port: request.local.port };
  const client = { address: normalizeAddress(request.remote.address), port: request.remote.port };
  return {
    hostname: identity.hostname,
    podIP: server.address,
    ip: server.address,
    node: identity.node,
    protocol: request.protocol,
    server,
    client,
    ...(request.method !== undefined ? { method: request.method } : {}),
    ...(request.path !== undefined ? { path: request.path } : {}),
    ...(request.headers !== undefined ? { headers: request.headers } : {}),
    ...(request.data !== undefined ? { data: request.data } : {}),
  };
}

export function identityFromEnv(env: NodeJS.ProcessEnv, nodeFlag: string | undefined): EchoIdentity {
  return { hostname: env.POD_NAME || osHostname(), node: env.NODE_NAME || nodeFlag || null };
}

export interface EchoOptions {
  readonly address: string;
  /** 0 picks a free port. */
  readonly httpPort: number;
  readonly tcpPort: number;
  readonly udpPort: number;
  readonly identity: EchoIdentity;
  readonly log: (line: string) => void;
}

export interface RunningEcho {
  readonly httpPort: number;
  readonly tcpPort: number;
  readonly udpPort: number;
  close(): Promise<void>;
}

function logLine(log: (line: string) => void, fields: Record<string, unknown>): void {
  log(JSON.stringify({ time: new Date().toISOString(), ...fields }));
}

function listen(server: HttpServer | TcpServer, port: number, address: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, address, () => resolve((server.address() as AddressInfo).port));
  });
}

function bindUdp(socket: UdpSocket, port: number, address: string): Promise<number> {
  return new Promise((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(port, address, () => resolve(socket.address().port));
  });
}

export async function startEcho(options: EchoOptions): Promise<RunningEcho> {
  const { identity, log } = options;
  const http = createHttpServer((req, res) => {
    const reply = buildReply(identity, {
      protocol: 'http',
      local: { address: req.socket.localAddress ?? '', port: req.socket.localPort ?? 0 },
      remote: { address: req.socket.remoteAddress ?? '', port: req.socket.remotePort ?? 0 },
      method: req.method ?? 'GET',
      path: req.url ?? '/',
      headers: req.headers,
    });
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(`${JSON.stringify(reply)}\n`);
    logLine(log, {
      protocol: 'http',
      client: reply.client,
      method: reply.method,
      path: reply.path,
      status: 200,
    });
    // Drain the body so keep-alive clients can send the next request.
    req.resume();
  });
  const tcp = createTcpServer((socket) => {
    const client = { address: normalizeAddress(socket.remoteAddress ?? ''), port: socket.remotePort ?? 0 };
    logLine(log, { protocol: 'tcp', client });
    socket.on('error', () => socket.destroy());
    socket.pipe(socket);
  });
  const udp = createSocket('udp4');
  udp.on('message', (data, remote) => {
    // Node cannot read a datagram's destination address (no IP_PKTINFO), so a wildcard-bound
    // socket reports 0.0.0.0 as the server address; bind --address to see the real one.
    const local = udp.address();
    const reply = buildReply(identity, {
      protocol: 'udp',
      local: { address: local.address, port: local.port },
      remote: { address: remote.address, port: remote.port },
      data: data.toString('utf8'),
    });
    udp.send(`${JSON.stringify(reply)}\n`, remote.port, remote.address);
    logLine(log, { protocol: 'udp', client: reply.client, bytes: data.length });
  });
  const closeAll = async () => {
    http.closeAllConnections();
    await Promise.all([
      new Promise<void>((resolve) => http.close(() => resolve())),
      new Promise<void>((resolve) => tcp.close(() => resolve())),
      new Promise<void>((resolve) => udp.close(() => resolve())),
    ]);
  };
  try {
    const [httpPort, tcpPort, udpPort] = await Promise.all([
      listen(http, options.httpPort, options.address),
      listen(tcp, options.tcpPort, options.address),
      bindUdp(udp, options.udpPort, options.address),
    ]);
    return { httpPort, tcpPort, udpPort, close: closeAll };
  } catch (error) {
    for (const server of [http, tcp]) if (server.listening) server.close();
    udp.removeAllListeners('message');
    try {
      udp.close();
    } catch {
      // not bound
    }
    throw error;
  }
}

export function parsePort(value: string, flag: string): number {
  const port = Number(value);
  if (!/^\d+$/.test(value) || port > 65535) {
    throw new Error(`${flag} must be a port number 0-65535 (0 picks a free one), got "${value}"`);
  }
  return port;
}

export interface EchoFlags {
  readonly port: string;
  readonly tcpPort: string;
  readonly udpPort: string;
  readonly address: string;
  readonly node?: string;
}

export const ECHO_DEFAULTS = { port: '8080', tcpPort: '9000', udpPort: '9000', address: '0.0.0.0' } as const;

/** Runs the echo server until SIGTERM or SIGINT: `klab echo` and the image's own entry (echo-main). */
export async function runEcho(opts: EchoFlags): Promise<void> {
  let echo: RunningEcho;
  try {
    echo = await startEcho({
      address: opts.address,
      httpPort: parsePort(opts.port, '--port'),
      tcpPort: parsePort(opts.tcpPort, '--tcp-port'),
      udpPort: parsePort(opts.udpPort, '--udp-port'),
      identity: identityFromEnv(process.env, opts.node),
      log: (line) => console.log(line),
    });
  } catch (error) {
    console.error(`klab echo: ${(error as Error).message}`);
    process.exitCode = 1;
    return;
  }
  logLine(console.log, {
    msg: 'listening',
    address: opts.address,
    http: echo.httpPort,
    tcp: echo.tcpPort,
    udp: echo.udpPort,
  });
  const stop = () => {
    void echo.close().then(() => process.exit(0));
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

export function registerEchoCommand(program: Command): void {
  program
    .command('echo')
    .description('HTTP/TCP/UDP echo server that reports its host, node and the client address it sees')
    .option('--port <port>', 'HTTP port', ECHO_DEFAULTS.port)
    .option('--tcp-port <port>', 'TCP echo port', ECHO_DEFAULTS.tcpPort)
    .option('--udp-port <port>', 'UDP port (answers with JSON)', ECHO_DEFAULTS.udpPort)
    .option('--address <ip>', 'address to listen on', ECHO_DEFAULTS.address)
    .option('--node <name>', 'node name to report (NODE_NAME wins)')
    .action(runEcho);
}
