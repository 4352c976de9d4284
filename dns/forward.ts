/**
 * Forwards questions to upstream resolvers: UDP first, TCP when the answer comes back truncated,
 * a timeout per try, and the next upstream on failure (CoreDNS's forward plugin, minus health
 * checks). One socket per address family multiplexes all in-flight queries by ID.
 */
import dgram from 'node:dgram';
import net from 'node:net';
import type { WalkedMessage } from './wire.js';
import { CLASS_IN, Encoder, FLAG, SERVER_UDP_SIZE, nameToWire, walkMessage } from './wire.js';

export interface Upstream {
  host: string;
  port: number;
}

export interface ForwardResult {
  bytes: Buffer;
  walked: WalkedMessage;
  upstream: Upstream;
}

interface Pending {
  upstream: Upstream;
  name: string;
  type: number;
  resolve: (r: ForwardResult) => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout;
}

export function upstreamLabel(u: Upstream): string {
  return net.isIPv6(u.host) ? `[${u.host}]:${u.port}` : `${u.host}:${u.port}`;
}

export class Forwarder {
  private sockets = new Map<'udp4' | 'udp6', dgram.Socket>();
  private pending = new Map<number, Pending>();
  private encoder = new Encoder();
  private next = 0;

  constructor(
    readonly upstreams: Upstream[],
    private timeoutMs: number,
    private onAttempt: (u: Upstream) => void = () => undefined,
  ) {}

  /** Resolves one question upstream; rejects when every upstream failed or timed out. */
  async query(name: string, type: number, dnssecOk: boolean): Promise<ForwardResult> {
    if (this.upstreams.length === 0) throw new Error('no upstream resolvers configured');
    const tries = Math.max(2, this.upstreams.length);
    const first = this.next++ % this.upstreams.length;
    let lastError: Error = new Error('no upstream answered');
    for (let i = 0; i < tries; i++) {
      const upstream = this.upstreams[(first + i) % this.upstreams.length] as Upstream;
      try {
        this.onAttempt(upstream);
        const result = await this.udp(upstream, name, type, dnssecOk);
        if (result.walked.flags & FLAG.TC) return await this.tcp(upstream, name, type, dnssecOk);
        return result;
      } catch (e) {
        lastError = e as Error;
      }
    }
    throw lastError;
  }

  close(): void {
    for (const p of this.pending.values()) {
      clearTimeout(p.timer);
      p.reject(new Error('forwarder closed'));
    }
    this.pending.clear();
    for (const s of this.sockets.values()) s.close();
    this.sockets.clear();
  }

  private message(id: number, name: string, type: number, dnssecOk: boolean): Buffer {
    return this.encoder.encode({
      id,
      flags: FLAG.RD,
      question: { wire: nameToWire(name), name, type, class: CLASS_IN },
      answers: [],
      authority: [],
      additional: [],
      opt: { udpSize: SERVER_UDP_SIZE, extendedRcode: 0, dnssecOk },
    });
  }

  private socket(family: 'udp4' | 'udp6'): dgram.Socket {
    let s = this.sockets.get(family);
    if (!s) {
      s = dgram.createSocket(family);
      s.on('message', (msg, rinfo) => this.onMessage(msg, rinfo));
      s.on('error', () => undefined);
      s.unref();
      this.sockets.set(family, s);
    }
    return s;
  }

  private onMessage(msg: Buffer, rinfo: dgram.RemoteInfo): void {
    if (msg.length < 2) return;
    const id = msg.readUInt16BE(0);
    const p = this.pending.get(id);
    if (!p || rinfo.address !== p.upstream.host || rinfo.port !== p.upstream.port) return;
    const walked = walkMessage(msg);
    // A spoofed or confused reply for another question is ignored; the timeout handles the rest.
    if (!walked?.question || walked.question.name !== p.name || walked.question.type !== p.type) return;
    this.pending.delete(id);
    clearTimeout(p.timer);
    p.resolve({ bytes: msg, walked, upstream: p.upstream });
  }

  private udp(upstream: Upstream, name: string, type: number, dnssecOk: boolean): Promise<ForwardResult> {
    let id = Math.floor(Math.random() * 65536);
    while (this.pending.has(id)) id = (id + 1) & 0xffff;
    const msg = this.message(id, name, type, dnssecOk);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`upstream ${upstreamLabel(upstream)} timed out after ${this.timeoutMs} ms`));
      }, this.timeoutMs);
      this.pending.set(id, { upstream, name, type, resolve, reject, timer });
      const socket = this.socket(net.isIPv6(upstream.host) ? 'udp6' : 'udp4');
      socket.send(msg, upstream.port, upstream.host, (err) => {
        if (!err) return;
        this.pending.delete(id);
        clearTimeout(timer);
        reject(err);
      });
    });
  }

  private tcp(upstream: Upstream, name: string, type: number, dnssecOk: boolean): Promise<ForwardResult> {
    const id = Math.floor(Math.random() * 65536);
    const msg = this.message(id, name, type, dnssecOk);
    return new Promise((resolve, reject) => {
      const conn = net.connect({ host: upstream.host, port: upstream.port });
      let data = Buffer.alloc(0);
      const fail = (e: Error): void => {
        conn.destroy();
        reject(e);
      };
      conn.setTimeout(this.timeoutMs, () =>
        fail(new Error(`upstream ${upstreamLabel(upstream)} timed out over TCP`)),
      );
      conn.on('error', fail);
      conn.on('connect', () => {
        const len = Buffer.alloc(2);
        len.writeUInt16BE(msg.length);
        conn.write(Buffer.concat([len, msg]));
      });
      conn.on('data', (chunk) => {
        data = Buffer.concat([data, chunk]);
        if (data.length < 2 || data.length < 2 + data.readUInt16BE(0)) return;
        const reply = data.subarray(2, 2 + data.readUInt16BE(0));
        conn.end();
        const walked = walkMessage(reply);
        if (!walked || walked.id !== id) {
          fail(new Error(`upstream ${upstreamLabel(upstream)} sent a malformed TCP answer`));
          return;
        }
        resolve({ bytes: Buffer.from(reply), walked, upstream });
      });
      conn.on('close', () =>
        reject(new Error(`upstream ${upstreamLabel(upstream)} closed the TCP connection`)),
      );
    });
  }
}
