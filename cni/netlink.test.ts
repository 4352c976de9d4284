import { describe, expect, it } from 'vitest';
import { parseIp } from './ipv4.js';
import {
  addrAdd,
  bridgePortHairpin,
  encode,
  firstError,
  linkSetFlags,
  routeAdd,
  vethAdd,
} from './netlink.js';

/** Attributes as [type, payload] from `at` to the end of `b`. */
function attrs(b: Buffer, at = 0): [number, Buffer][] {
  const out: [number, Buffer][] = [];
  while (at + 4 <= b.length) {
    const len = b.readUInt16LE(at);
    out.push([b.readUInt16LE(at + 2), b.subarray(at + 4, at + len)]);
    at += (len + 3) & ~3;
  }
  return out;
}

const get = (list: [number, Buffer][], type: number): Buffer => {
  const found = list.find(([t]) => t === type)?.[1];
  if (!found) throw new Error(`no attribute ${type}`);
  return found;
};

describe('rtnetlink requests', () => {
  it('numbers messages from 1 with REQUEST|ACK and the request flags', () => {
    const msgs = encode([linkSetFlags('br0', 1, 1), addrAdd(7, 1, 24, true)]);
    expect(msgs.readUInt32LE(0)).toBe(16 + 16 + 8); // header, ifinfomsg, "br0\0" attribute
    expect([msgs.readUInt16LE(4), msgs.readUInt16LE(6), msgs.readUInt32LE(8)]).toEqual([16, 0x5, 1]);
    const second = msgs.subarray(40);
    expect([second.readUInt16LE(4), second.readUInt16LE(6), second.readUInt32LE(8)]).toEqual([20, 0x505, 2]);
  });

  it('encodes a veth whose peer is created in another namespace', () => {
    const r = vethAdd(
      'veth1',
      { mtu: 1400, mac: '02:00:00:00:00:01' },
      'eth0',
      { mac: '02:00:00:00:00:02' },
      100,
    );
    expect(r.flags).toBe(0x600); // CREATE|EXCL
    const top = attrs(r.body, 16);
    expect(get(top, 3).toString()).toBe('veth1\0');
    expect(get(top, 4).readUInt32LE()).toBe(1400);
    expect([...get(top, 1)]).toEqual([2, 0, 0, 0, 0, 1]);
    const info = attrs(get(top, 18));
    expect(get(info, 1).toString()).toBe('veth\0');
    const peer = get(attrs(get(info, 2)), 1);
    const peerAttrs = attrs(peer, 16);
    expect(get(peerAttrs, 3).toString()).toBe('eth0\0');
    expect([...get(peerAttrs, 1)]).toEqual([2, 0, 0, 0, 0, 2]);
    expect(get(peerAttrs, 28).readUInt32LE()).toBe(100);
    expect(peerAttrs.some(([t]) => t === 4)).toBe(false);
  });

  it('encodes hairpin as bridge port slave data', () => {
    const info = attrs(get(attrs(bridgePortHairpin('veth1').body, 16), 18));
    expect(get(info, 4).toString()).toBe('bridge\0');
    expect([...get(attrs(get(info, 5)), 4)]).toEqual([1]);
  });

  it('encodes addresses in network order with prefix, scope and index', () => {
    const r = addrAdd(3, parseIp('10.244.1.5') ?? 0, 24, false);
    expect([...r.body.subarray(0, 4)]).toEqual([2, 24, 0, 0]);
    expect(r.body.readUInt32LE(4)).toBe(3);
    const a = attrs(r.body, 8);
    expect([...get(a, 2)]).toEqual([10, 244, 1, 5]);
    expect([...get(a, 1)]).toEqual([10, 244, 1, 5]);
    expect(r.flags).toBe(0x600);
    expect(addrAdd(3, 1, 24, true).flags).toBe(0x500); // CREATE|REPLACE
  });

  it('encodes routes: default via a gateway, or on-link with a destination', () => {
    const def = routeAdd(0, 0, 2, parseIp('10.244.1.1'));
    expect([...def.body.subarray(0, 8)]).toEqual([2, 0, 0, 0, 254, 3, 0, 1]);
    const a = attrs(def.body, 12);
    expect(a.map(([t]) => t)).toEqual([5, 4]);
    expect([...get(a, 5)]).toEqual([10, 244, 1, 1]);
    const onLink = routeAdd(parseIp('10.96.0.0') ?? 0, 12, 2, undefined);
    expect(onLink.body[6]).toBe(253);
    expect([...get(attrs(onLink.body, 12), 1)]).toEqual([10, 96, 0, 0]);
  });

  it('rejects a malformed MAC', () => {
    expect(() => vethAdd('v', { mac: '02:00:00:00:00' }, 'eth0', {}, 100)).toThrow('not a MAC address');
  });
});

function ack(seq: number, err: number): Buffer {
  const b = Buffer.alloc(36);
  b.writeUInt32LE(36, 0);
  b.writeUInt16LE(2, 4);
  b.writeUInt32LE(seq, 8);
  b.writeInt32LE(err, 16);
  return b;
}

describe('kernel replies', () => {
  it('finds the first refused request and its errno', () => {
    expect(firstError(Buffer.concat([ack(1, 0), ack(2, 0)]))).toBeUndefined();
    expect(firstError(Buffer.concat([ack(1, 0), ack(2, -17)]))).toEqual({ index: 1, errno: 17 });
  });
});
