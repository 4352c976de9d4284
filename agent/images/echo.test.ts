import { createSocket } from 'node:dgram';
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  buildReply,
  identityFromEnv,
  normalizeAddress,
  parsePort,
  startEcho,
  type RunningEcho,
} from './echo.js';

describe('buildReply', () => {
  it('reports identity, both ends and the request (golden)', () => {
    expect(
      buildReply(
        { hostname: 'echo-7d9f', node: 'node-2' },
        {
          protocol: 'http',
          local: { address: '::ffff:10.244.2.5', port: 8080 },
          remote: { address: '::ffff:192.168.56.2', port: 40000 },
          method: 'GET',
          path: '/x?y=1',
          headers: { host: 'echo' },
        },
      ),
    ).toEqual({
      hostname: 'echo-7d9f',
      podIP: '10.244.2.5',
      ip: '10.244.2.5',
      node: 'node-2',
      protocol: 'http',
      server: { address: '10.244.2.5', port: 8080 },
      client: { address: '192.168.56.2', port: 40000 },
      method: 'GET',
      path: '/x?y=1',
      headers: { host: 'echo' },
    });
  });

  it('leaves real IPv6 addresses alone', () => {
    expect(normalizeAddress('::1')).toBe('::1');
    expect(normalizeAddress('::ffff:10.0.0.1')).toBe('10.0.0.1');
  });

  it('takes POD_NAME and NODE_NAME over the hostname and the --node flag', () => {
    expect(identityFromEnv({ POD_NAME: 'p', NODE_NAME: 'n' }, 'flag')).toEqual({ hostname: 'p', node: 'n' });
    expect(identityFromEnv({}, 'flag').node).toBe('flag');
    expect(identityFromEnv({}, undefined).node).toBeNull();
  });

  it('rejects bad ports naming the flag', () => {
    expect(parsePort('9000', '--tcp-port')).toBe(9000);
    expect(() => parsePort('70000', '--tcp-port')).toThrow('--tcp-port must be a port number');
    expect(() => parsePort('http', '--port')).toThrow('--port');
  });
});

describe('echo server on loopback', () => {
  let echo: RunningEcho;
  const lines: string[] = [];

  beforeAll(async () => {
    echo = await startEcho({
      address: '127.0.0.1',
      httpPort: 0,
      tcpPort: 0,
      udpPort: 0,
      identity: { hostname: 'unit', node: 'node-x' },
      log: (line) => lines.push(line),
    });
  });
  afterAll(() => echo.close());

  it('answers any HTTP path with the client address it sees and logs one JSON line', async () => {
    const response = await fetch(`http://127.0.0.1:${echo.httpPort}/some/path`, {
      headers: { 'x-test': '1' },
    });
    const body = (await response.json()) as Record<string, unknown>;
    expect(body).toMatchObject({
      hostname: 'unit',
      node: 'node-x',
      podIP: '127.0.0.1',
      path: '/some/path',
      method: 'GET',
      client: { address: '127.0.0.1' },
      headers: { 'x-test': '1' },
    });
    const logged = lines
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .find((l) => l.path === '/some/path');
    expect(logged).toMatchObject({ protocol: 'http', status: 200, client: { address: '127.0.0.1' } });
  });

  it('echoes TCP bytes back', async () => {
    const echoed = await new Promise<string>((resolve, reject) => {
      const socket = connect(echo.tcpPort, '127.0.0.1', () => socket.end('ping over tcp'));
      let data = '';
      socket.on('data', (chunk) => (data += chunk.toString()));
      socket.on('end', () => resolve(data));
      socket.on('error', reject);
    });
    expect(echoed).toBe('ping over tcp');
  });

  it('answers a UDP datagram with JSON holding the client address and the data', async () => {
    const socket = createSocket('udp4');
    try {
      const reply = await new Promise<Record<string, unknown>>((resolve, reject) => {
        socket.on('message', (msg) => resolve(JSON.parse(msg.toString()) as Record<string, unknown>));
        socket.on('error', reject);
        socket.send('hello udp', echo.udpPort, '127.0.0.1');
      });
      expect(reply).toMatchObject({
        protocol: 'udp',
        data: 'hello udp',
        client: { address: '127.0.0.1', port: socket.address().port },
      });
    } finally {
      socket.close();
    }
  });

  it('fails clearly when a port is taken', async () => {
    await expect(
      startEcho({
        address: '127.0.0.1',
        httpPort: echo.httpPort,
        tcpPort: 0,
        udpPort: 0,
        identity: { hostname: 'h', node: null },
        log: () => undefined,
      }),
    ).rejects.toThrow('EADDRINUSE');
  });
});
