import type { NetConf } from './config.js';
import { parseCidr, parseIp } from './ipv4.js';
import type { Lease } from './ipam.js';
import {
  IFF_PROMISC,
  IFF_UP,
  addrAdd,
  bridgeAdd,
  bridgePortHairpin,
  linkSetFlags,
  linkSetMaster,
  routeAdd,
  vethAdd,
  type NlRequest,
} from './netlink.js';
import type { Route } from './types.js';

export interface PodLink {
  conf: NetConf;
  ifname: string;
  netns: string;
  hostVeth: string;
  hostMac: string;
  containerMac: string;
  bridgeMac: string;
  leases: Lease[];
}

export function bridgeCreate(a: PodLink): NlRequest {
  return bridgeAdd(a.conf.bridge, { mtu: a.conf.mtu, mac: a.bridgeMac });
}

/**
 * The node side, sent in the node namespace: the bridge up, the veth pair with its container end
 * created directly inside the pod netns (held as `peerNsFd`), the port settings and the gateway
 * address on the bridge (`bridgeIndex`).
 */
export function hostRequests(a: PodLink, bridgeIndex: number, peerNsFd: number): NlRequest[] {
  const { conf } = a;
  const flags = IFF_UP | (conf.promiscMode ? IFF_PROMISC : 0);
  const reqs = [
    linkSetFlags(conf.bridge, flags, flags),
    vethAdd(
      a.hostVeth,
      { mtu: conf.mtu, mac: a.hostMac },
      a.ifname,
      { mtu: conf.mtu, mac: a.containerMac },
      peerNsFd,
    ),
    linkSetMaster(a.hostVeth, bridgeIndex),
  ];
  if (conf.hairpinMode) reqs.push(bridgePortHairpin(a.hostVeth));
  reqs.push(linkSetFlags(a.hostVeth, IFF_UP, IFF_UP));
  if (conf.isGateway) {
    // replace, not add: concurrent first ADDs race to put the same address on the bridge.
    for (const l of a.leases) reqs.push(addrAdd(bridgeIndex, l.range.gateway, l.range.subnet.prefix, true));
  }
  return reqs;
}

function parsed<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw new Error(`${what} is not an IPv4 address or CIDR`);
  return value;
}

/** The pod side, sent inside the pod netns to its interface `index`: addresses, link up, routes. */
export function containerRequests(
  ifname: string,
  index: number,
  leases: Lease[],
  routes: Route[],
): NlRequest[] {
  const reqs = leases.map((l) => addrAdd(index, l.ip, l.range.subnet.prefix, false));
  reqs.push(linkSetFlags(ifname, IFF_UP, IFF_UP));
  const defaultGw = leases[0]?.range.gateway;
  for (const r of routes) {
    const dst = parsed(parseCidr(r.dst), `route dst ${r.dst}`);
    const gw = r.gw === undefined ? defaultGw : parsed(parseIp(r.gw), `route gw ${r.gw}`);
    reqs.push(routeAdd(dst.ip, dst.prefix, index, gw));
  }
  return reqs;
}
