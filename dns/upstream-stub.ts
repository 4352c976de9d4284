/**
 * A tiny authoritative server built on dns2 (UDP and TCP on one loopback port), standing in for
 * "the internet" in tests and benchmarks so nothing ever leaves the machine. It serves A records
 * from a table and NXDOMAIN + SOA for every other name, and counts the questions it received.
 */
import { Packet, TCPServer, UDPServer } from 'dns2';
import { RCODE } from './wire.js';

export interface StubZone {
  /** Suffix this stub is authoritative for, e.g. "example.test". */
  origin: string;
  /** name → addresses (A records). */
  a: Record<string, string[]>;
  ttl: number;
  /** SOA minimum for negative answers. */
  negativeTtl: number;
}

export interface RunningStub {
  port: number;
  /** Questions received, keyed "name|type". */
  queries: Map<string, number>;
  close(): Promise<void>;
}

/** Listens on `host`:`port` (0: any free port), UDP and TCP on the same port. */
export async function startUpstreamStub(zone: StubZone, host = '127.0.0.1', port = 0): Promise<RunningStub> {
  const queries = new Map<string, number>();
  const handle = (request: Packet, send: (r: Packet) => Promise<Buffer>): void => {
    const response = Packet.createResponseFromRequest(request);
    response.header.aa = 1;
    response.header.ra = 1;
    const q = request.questions[0];
    if (!q) return;
    const name = q.name.toLowerCase();
    const key = `${name}|${q.type}`;
    queries.set(key, (queries.get(key) ?? 0) + 1);
    const addresses = zone.a[name];
    if (addresses) {
      if (q.type === Packet.TYPE.A) {
        for (const address of addresses) {
          response.answers.push({
            name: q.name,
            type: Packet.TYPE.A,
            class: Packet.CLASS.IN,
            ttl: zone.ttl,
            address,
          } as never);
        }
      }
    } else {
      response.header.rcode = RCODE.NXDOMAIN;
    }
    if (response.answers.length === 0) {
      response.authorities.push({
        name: zone.origin,
        type: Packet.TYPE.SOA,
        class: Packet.CLASS.IN,
        ttl: zone.negativeTtl,
        primary: `ns.${zone.origin}`,
        admin: `hostmaster.${zone.origin}`,
        serial: 1,
        refresh: 3600,
        retry: 600,
        expiration: 86400,
        minimum: zone.negativeTtl,
      } as never);
    }
    void send(response).catch(() => undefined);
  };
  const udp = new UDPServer(handle);
  await udp.listen(port, host);
  const bound = udp.address().port;
  const tcp = new TCPServer(handle);
  await new Promise<void>((resolve, reject) => {
    tcp.once('error', reject);
    tcp.listen(bound, host, () => resolve());
  });
  return {
    port: bound,
    queries,
    close: async () => {
      await new Promise<void>((r) => udp.close(() => r()));
      await new Promise<void>((r) => tcp.close(() => r()));
    },
  };
}
