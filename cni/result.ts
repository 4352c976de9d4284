import type { NetConf } from './config.js';
import { formatCidr, formatIp } from './ipv4.js';
import type { Lease } from './ipam.js';
import type { Interface, Result, Route } from './types.js';

export interface Attached {
  bridge: Interface;
  hostVeth: Interface;
  container: Interface;
}

/** Routes the pod gets: IPAM's, plus a default route via the first gateway for isDefaultGateway. */
export function podRoutes(conf: NetConf, leases: Lease[]): Route[] {
  const routes = conf.ipam.routes.map((r) => ({ ...r }));
  const first = leases[0];
  if (conf.isDefaultGateway && first && !routes.some((r) => r.dst === '0.0.0.0/0')) {
    routes.push({ dst: '0.0.0.0/0', gw: formatIp(first.range.gateway) });
  }
  return routes;
}

function forVersion(iface: Interface, version: string): Interface {
  if (version !== '1.0.0') return iface;
  const { name, mac, sandbox } = iface;
  return { name, ...(mac ? { mac } : {}), ...(sandbox !== undefined ? { sandbox } : {}) };
}

/**
 * The ADD result: any prevResult of a chain first, then [bridge, host veth, container iface],
 * with ips pointing at the container interface (as the reference bridge plugin reports).
 */
export function buildResult(conf: NetConf, attached: Attached, leases: Lease[]): Result {
  const prev = conf.prevResult;
  const prevIfaces = prev?.interfaces ?? [];
  const interfaces = [...prevIfaces, attached.bridge, attached.hostVeth, attached.container].map((i) =>
    forVersion(i, conf.cniVersion),
  );
  const containerIndex = interfaces.length - 1;
  const ips = [
    ...(prev?.ips ?? []),
    ...leases.map((l) => ({
      address: formatCidr({ ip: l.ip, prefix: l.range.subnet.prefix }),
      gateway: formatIp(l.range.gateway),
      interface: containerIndex,
    })),
  ];
  const result: Result = { cniVersion: conf.cniVersion, interfaces, ips };
  const routes = [...(prev?.routes ?? []), ...podRoutes(conf, leases)];
  if (routes.length > 0) result.routes = routes;
  const dns = conf.dns ?? prev?.dns;
  if (dns) result.dns = dns;
  return result;
}
