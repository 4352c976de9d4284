import { existsSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { constants } from 'node:os';
import { basename } from 'node:path';
import { CniCode, CniError } from './errors.js';
import { ipBatch } from './exec.js';
import { linkDel } from './netlink.js';
import { NetlinkError, netlink } from './nlexec.js';

/** Reads of this namespace's links through sysfs: no process spawned. */
export const sysfs = {
  exists: (dev: string): boolean => existsSync(`/sys/class/net/${dev}`),
  isBridge: (dev: string): boolean => existsSync(`/sys/class/net/${dev}/bridge`),
  mac: (dev: string): string | undefined => readOr(`/sys/class/net/${dev}/address`),
  mtu: (dev: string): number | undefined => readNumber(`/sys/class/net/${dev}/mtu`),
  ifindex: (dev: string): number | undefined => readNumber(`/sys/class/net/${dev}/ifindex`),
  /** For a veth: its peer's ifindex, in the peer's namespace. */
  iflink: (dev: string): number | undefined => readNumber(`/sys/class/net/${dev}/iflink`),
  master: (dev: string): string | undefined => {
    try {
      return basename(readlinkSync(`/sys/class/net/${dev}/master`));
    } catch {
      return undefined;
    }
  },
};

function readOr(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch {
    return undefined;
  }
}

function readNumber(path: string): number | undefined {
  const v = readOr(path);
  return v === undefined ? undefined : Number(v);
}

export function enableForwarding(): void {
  const path = '/proc/sys/net/ipv4/ip_forward';
  if (readOr(path) !== '1') writeFileSync(path, '1');
}

/** Deletes a link in this namespace; a link already gone is fine. */
export async function deleteLink(dev: string): Promise<void> {
  if (!sysfs.exists(dev)) return;
  try {
    await netlink(`deleting ${dev}`, [linkDel(dev)]);
  } catch (err) {
    if (!(err instanceof NetlinkError && err.errno === constants.errno.ENODEV)) throw err;
  }
}

export interface ContainerView {
  mac: string;
  addrs: string[];
  routes: { dst: string; gateway?: string; dev?: string }[];
}

interface IpAddrJson {
  address?: string;
  addr_info?: { family: string; local: string; prefixlen: number }[];
}

/** Addresses and routes of one interface inside a netns, one spawn. */
export async function inspectContainer(netns: string, ifname: string): Promise<ContainerView | undefined> {
  const out = await ipBatch([`addr show dev ${ifname}`, 'route show'], netns, true);
  if (out.code !== 0) {
    if (/does not exist|Cannot find device/.test(out.stderr)) return undefined;
    throw new CniError(CniCode.Internal, `inspecting ${ifname} in ${netns}: ${out.stderr.trim()}`);
  }
  const [addrText = '[]', routeText = '[]'] = out.stdout.split('\n').filter((l) => l.trim() !== '');
  const [link] = JSON.parse(addrText) as IpAddrJson[];
  if (!link) return undefined;
  return {
    mac: link.address ?? '',
    addrs: (link.addr_info ?? []).filter((a) => a.family === 'inet').map((a) => `${a.local}/${a.prefixlen}`),
    routes: JSON.parse(routeText) as ContainerView['routes'],
  };
}
