/**
 * rtnetlink requests as bytes (linux/netlink.h, linux/rtnetlink.h, linux/if_link.h): the few the
 * plugin sends, built as pure functions so they are tested without a kernel. Host byte order is
 * little-endian on every architecture the plugin supports (x86_64, arm64).
 */
import { formatIp } from './ipv4.js';

const NLMSG_ERROR = 2;
const NLM_F_REQUEST = 0x1;
const NLM_F_ACK = 0x4;
const NLM_F_REPLACE = 0x100;
const NLM_F_EXCL = 0x200;
const NLM_F_CREATE = 0x400;

const RTM_NEWLINK = 16;
const RTM_DELLINK = 17;
const RTM_NEWADDR = 20;
const RTM_NEWROUTE = 24;

const AF_UNSPEC = 0;
const AF_INET = 2;

const IFLA_ADDRESS = 1;
const IFLA_IFNAME = 3;
const IFLA_MTU = 4;
const IFLA_MASTER = 10;
const IFLA_LINKINFO = 18;
const IFLA_NET_NS_FD = 28;
const IFLA_INFO_KIND = 1;
const IFLA_INFO_DATA = 2;
const IFLA_INFO_SLAVE_KIND = 4;
const IFLA_INFO_SLAVE_DATA = 5;
const VETH_INFO_PEER = 1;
const IFLA_BRPORT_MODE = 4;

const IFA_ADDRESS = 1;
const IFA_LOCAL = 2;

const RTA_DST = 1;
const RTA_OIF = 4;
const RTA_GATEWAY = 5;
const RT_TABLE_MAIN = 254;
const RTPROT_BOOT = 3;
const RT_SCOPE_UNIVERSE = 0;
const RT_SCOPE_LINK = 253;
const RTN_UNICAST = 1;

export const IFF_UP = 0x1;
export const IFF_PROMISC = 0x100;

/** One request and what to call it in an error message. */
export interface NlRequest {
  what: string;
  type: number;
  flags: number;
  body: Buffer;
}

const align = (n: number): number => (n + 3) & ~3;

function attr(type: number, payload: Buffer): Buffer {
  const out = Buffer.alloc(align(4 + payload.length));
  out.writeUInt16LE(4 + payload.length, 0);
  out.writeUInt16LE(type, 2);
  payload.copy(out, 4);
  return out;
}

const nest = (type: number, ...attrs: Buffer[]): Buffer => attr(type, Buffer.concat(attrs));
const str = (type: number, s: string): Buffer => attr(type, Buffer.from(`${s}\0`));
const u8 = (type: number, v: number): Buffer => attr(type, Buffer.from([v]));

function u32(type: number, v: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(v >>> 0);
  return attr(type, b);
}

/** An IPv4 address as a 32-bit number (see ipv4.ts), in network order. */
function ip4(type: number, ip: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(ip >>> 0);
  return attr(type, b);
}

function mac(type: number, text: string): Buffer {
  const bytes = text.split(':').map((h) => Number.parseInt(h, 16));
  if (bytes.length !== 6 || bytes.some((b) => !(b >= 0 && b <= 255))) {
    throw new Error(`"${text}" is not a MAC address`);
  }
  return attr(type, Buffer.from(bytes));
}

/** struct ifinfomsg */
function ifinfo(index: number, flags = 0, change = 0): Buffer {
  const b = Buffer.alloc(16);
  b.writeUInt8(AF_UNSPEC, 0);
  b.writeInt32LE(index, 4);
  b.writeUInt32LE(flags, 8);
  b.writeUInt32LE(change, 12);
  return b;
}

export interface LinkOptions {
  mtu?: number | undefined;
  mac?: string | undefined;
}

function linkAttrs(name: string, o: LinkOptions): Buffer[] {
  return [
    str(IFLA_IFNAME, name),
    ...(o.mtu ? [u32(IFLA_MTU, o.mtu)] : []),
    ...(o.mac ? [mac(IFLA_ADDRESS, o.mac)] : []),
  ];
}

const CREATE = NLM_F_CREATE | NLM_F_EXCL;

export function bridgeAdd(name: string, o: LinkOptions): NlRequest {
  return {
    what: `creating bridge ${name}`,
    type: RTM_NEWLINK,
    flags: CREATE,
    body: Buffer.concat([
      ifinfo(0),
      ...linkAttrs(name, o),
      nest(IFLA_LINKINFO, str(IFLA_INFO_KIND, 'bridge')),
    ]),
  };
}

/**
 * A veth pair whose peer is created directly in the namespace open as `peerNsFd` in the process
 * that sends the request.
 */
export function vethAdd(
  name: string,
  o: LinkOptions,
  peer: string,
  po: LinkOptions,
  peerNsFd: number,
): NlRequest {
  const peerInfo = Buffer.concat([ifinfo(0), ...linkAttrs(peer, po), u32(IFLA_NET_NS_FD, peerNsFd)]);
  return {
    what: `creating veth ${name} with peer ${peer}`,
    type: RTM_NEWLINK,
    flags: CREATE,
    body: Buffer.concat([
      ifinfo(0),
      ...linkAttrs(name, o),
      nest(IFLA_LINKINFO, str(IFLA_INFO_KIND, 'veth'), nest(IFLA_INFO_DATA, attr(VETH_INFO_PEER, peerInfo))),
    ]),
  };
}

/** Sets `flags` (within `change`) on the link named `name`. */
export function linkSetFlags(name: string, flags: number, change: number): NlRequest {
  return {
    what: `setting flags of ${name}`,
    type: RTM_NEWLINK,
    flags: 0,
    body: Buffer.concat([ifinfo(0, flags, change), str(IFLA_IFNAME, name)]),
  };
}

export function linkSetMaster(name: string, masterIndex: number): NlRequest {
  return {
    what: `attaching ${name} to its bridge`,
    type: RTM_NEWLINK,
    flags: 0,
    body: Buffer.concat([ifinfo(0), str(IFLA_IFNAME, name), u32(IFLA_MASTER, masterIndex)]),
  };
}

/** Hairpin mode on a bridge port (IFLA_BRPORT_MODE, what `bridge_slave hairpin on` sets). */
export function bridgePortHairpin(name: string): NlRequest {
  return {
    what: `setting hairpin mode on ${name}`,
    type: RTM_NEWLINK,
    flags: 0,
    body: Buffer.concat([
      ifinfo(0),
      str(IFLA_IFNAME, name),
      nest(
        IFLA_LINKINFO,
        str(IFLA_INFO_SLAVE_KIND, 'bridge'),
        nest(IFLA_INFO_SLAVE_DATA, u8(IFLA_BRPORT_MODE, 1)),
      ),
    ]),
  };
}

export function linkDel(name: string): NlRequest {
  return {
    what: `deleting ${name}`,
    type: RTM_DELLINK,
    flags: 0,
    body: Buffer.concat([ifinfo(0), str(IFLA_IFNAME, name)]),
  };
}

/** An IPv4 address on interface `index`; `replace` succeeds when it is already there. */
export function addrAdd(index: number, ip: number, prefix: number, replace: boolean): NlRequest {
  const head = Buffer.alloc(8);
  head.writeUInt8(AF_INET, 0);
  head.writeUInt8(prefix, 1);
  head.writeUInt8(RT_SCOPE_UNIVERSE, 3);
  head.writeUInt32LE(index, 4);
  return {
    what: `adding ${formatIp(ip)}/${prefix} to interface ${index}`,
    type: RTM_NEWADDR,
    flags: replace ? NLM_F_CREATE | NLM_F_REPLACE : CREATE,
    body: Buffer.concat([head, ip4(IFA_LOCAL, ip), ip4(IFA_ADDRESS, ip)]),
  };
}

/** An IPv4 route in the main table out of interface `oif`, through `gateway` when given. */
export function routeAdd(dst: number, prefix: number, oif: number, gateway: number | undefined): NlRequest {
  const head = Buffer.alloc(12);
  head.writeUInt8(AF_INET, 0);
  head.writeUInt8(prefix, 1);
  head.writeUInt8(RT_TABLE_MAIN, 4);
  head.writeUInt8(RTPROT_BOOT, 5);
  head.writeUInt8(gateway === undefined ? RT_SCOPE_LINK : RT_SCOPE_UNIVERSE, 6);
  head.writeUInt8(RTN_UNICAST, 7);
  return {
    what: `adding route to ${formatIp(dst)}/${prefix}`,
    type: RTM_NEWROUTE,
    flags: CREATE,
    body: Buffer.concat([
      head,
      ...(prefix > 0 ? [ip4(RTA_DST, dst)] : []),
      ...(gateway === undefined ? [] : [ip4(RTA_GATEWAY, gateway)]),
      u32(RTA_OIF, oif),
    ]),
  };
}

/** The requests as one buffer of netlink messages, numbered 1.. so replies can be matched. */
export function encode(reqs: readonly NlRequest[]): Buffer {
  return Buffer.concat(
    reqs.map((r, i) => {
      const head = Buffer.alloc(16);
      head.writeUInt32LE(16 + r.body.length, 0);
      head.writeUInt16LE(r.type, 4);
      head.writeUInt16LE(NLM_F_REQUEST | NLM_F_ACK | r.flags, 6);
      head.writeUInt32LE(i + 1, 8);
      return Buffer.concat([head, r.body]);
    }),
  );
}

/** The first failed request (its index and errno, positive), if any, from the kernel's acks. */
export function firstError(replies: Buffer): { index: number; errno: number } | undefined {
  for (let at = 0; at + 16 <= replies.length;) {
    const len = replies.readUInt32LE(at);
    if (len < 16) break;
    if (replies.readUInt16LE(at + 4) === NLMSG_ERROR && len >= 20) {
      const err = replies.readInt32LE(at + 16);
      if (err !== 0) return { index: replies.readUInt32LE(at + 8) - 1, errno: -err };
    }
    at += align(len);
  }
  return undefined;
}
