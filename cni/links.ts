import type { NetConf } from './config.js';
import { formatCidr, formatIp } from './ipv4.js';
import type { Lease } from './ipam.js';
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

const mtu = (conf: NetConf): string => (conf.mtu ? ` mtu ${conf.mtu}` : '');

export function bridgeCreateLine(a: PodLink): string {
  return `link add ${a.conf.bridge} address ${a.bridgeMac}${mtu(a.conf)} type bridge`;
}

/**
 * `ip -batch` lines for the node side: the bridge (created by the caller's separate first line
 * when missing), the veth pair with its container end created directly inside the pod netns,
 * the port settings and the gateway address on the bridge.
 */
export function hostLines(a: PodLink): string[] {
  const { conf } = a;
  const lines = [
    `link set ${conf.bridge}${conf.promiscMode ? ' promisc on' : ''} up`,
    `link add ${a.hostVeth}${mtu(conf)} address ${a.hostMac} type veth peer name ${a.ifname}${mtu(conf)} address ${a.containerMac} netns ${a.netns}`,
    `link set ${a.hostVeth} master ${conf.bridge}`,
  ];
  if (conf.hairpinMode) lines.push(`link set ${a.hostVeth} type bridge_slave hairpin on`);
  lines.push(`link set ${a.hostVeth} up`);
  if (conf.isGateway) {
    for (const l of a.leases) {
      // replace, not add: concurrent first ADDs race to put the same address on the bridge.
      lines.push(
        `addr replace ${formatCidr({ ip: l.range.gateway, prefix: l.range.subnet.prefix })} dev ${conf.bridge}`,
      );
    }
  }
  return lines;
}

export function routeLine(r: Route, ifname: string, defaultGw: string | undefined): string {
  const gw = r.gw ?? defaultGw;
  return `route add ${r.dst}${gw ? ` via ${gw}` : ''} dev ${ifname}`;
}

/** `ip -batch` lines run inside the pod netns: addresses, link up, routes. */
export function containerLines(ifname: string, leases: Lease[], routes: Route[]): string[] {
  const lines = leases.map(
    (l) => `addr add ${formatCidr({ ip: l.ip, prefix: l.range.subnet.prefix })} dev ${ifname}`,
  );
  lines.push(`link set ${ifname} up`);
  const gw = leases[0] ? formatIp(leases[0].range.gateway) : undefined;
  for (const r of routes) lines.push(routeLine(r, ifname, gw));
  return lines;
}
