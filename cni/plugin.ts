import { accessSync, constants, existsSync } from 'node:fs';
import { constants as os } from 'node:os';
import { dirname } from 'node:path';
import { decode, parseNetConf, type NetConf } from './config.js';
import { parseEnv, type CniEnv } from './env.js';
import { CniCode, CniError } from './errors.js';
import { formatCidr, formatIp, parseCidr } from './ipv4.js';
import { freeCount } from './ipam.js';
import { LeaseStore } from './ipam-store.js';
import { deleteLink, enableForwarding, inspectContainer, sysfs } from './kernel.js';
import { bridgeCreate, containerRequests, hostRequests, type PodLink } from './links.js';
import { addMasq, listMasqChains, masqKnownDeleteRules, removeMasq } from './masq.js';
import { bridgeMac, chainName, randomMac, vethName } from './names.js';
import { NetlinkError, PEER_NS_FD, netlink } from './nlexec.js';
import { buildResult, podRoutes } from './result.js';
import type { Result } from './types.js';
import { LATEST_VERSION, versionResult } from './version.js';

function requireNetns(env: CniEnv): void {
  if (!existsSync(env.netns)) {
    throw new CniError(CniCode.InvalidNetns, `CNI_NETNS: network namespace ${env.netns} does not exist`);
  }
}

function ifindex(dev: string, index: number | undefined): number {
  if (index === undefined) throw new CniError(CniCode.Internal, `${dev} vanished while being set up`);
  return index;
}

async function setUpHost(link: PodLink): Promise<void> {
  const { bridge } = link.conf;
  if (sysfs.exists(bridge) && !sysfs.isBridge(bridge)) {
    throw new CniError(CniCode.Internal, `bridge: ${bridge} already exists but is not a bridge`);
  }
  if (!sysfs.exists(bridge)) {
    try {
      await netlink('setting up the host side', [bridgeCreate(link)]);
    } catch (err) {
      // Another ADD created the bridge between the check and ours.
      if (!(err instanceof NetlinkError && err.errno === os.errno.EEXIST && sysfs.isBridge(bridge)))
        throw err;
    }
  }
  const reqs = hostRequests(link, ifindex(bridge, sysfs.ifindex(bridge)), PEER_NS_FD);
  await netlink('setting up the host side', reqs, { peerNetns: link.netns });
}

async function undoAdd(env: CniEnv, conf: NetConf, store: LeaseStore, hostVeth: string, ownsVeth: boolean) {
  const steps = [
    () => (ownsVeth ? deleteLink(hostVeth) : Promise.resolve()),
    () =>
      conf.ipMasq ? removeMasq((c) => c.chain === chainName(conf.name, env.containerId)) : Promise.resolve(),
    () => store.release(env.containerId, env.ifname),
  ];
  for (const step of steps)
    await step().catch((err: Error) => process.stderr.write(`cleanup: ${err.message}\n`));
}

async function add(env: CniEnv, conf: NetConf): Promise<Result> {
  requireNetns(env);
  const store = new LeaseStore(conf.ipam, conf.name);
  const leases = await store.allocate(env.containerId, env.ifname);
  const link: PodLink = {
    conf,
    ifname: env.ifname,
    netns: env.netns,
    hostVeth: vethName(env.containerId, env.ifname),
    hostMac: randomMac(),
    containerMac: randomMac(),
    bridgeMac: bridgeMac(conf.bridge),
    leases,
  };
  // A veth that already exists belongs to someone else: a failed ADD must not delete it.
  const vethExisted = sysfs.exists(link.hostVeth);
  try {
    await setUpHost(link);
    const index = ifindex(env.ifname, sysfs.iflink(link.hostVeth));
    await netlink(
      'configuring the pod interface',
      containerRequests(env.ifname, index, leases, podRoutes(conf, leases)),
      { netns: env.netns },
    );
    if (conf.isGateway) enableForwarding();
    if (conf.ipMasq) await addMasq(conf.name, env.containerId, leases, conf.nonMasqueradeCIDRs);
  } catch (err) {
    await undoAdd(env, conf, store, link.hostVeth, !vethExisted);
    throw err;
  }
  const mtu = sysfs.mtu(link.hostVeth);
  const withMtu = mtu === undefined ? {} : { mtu };
  return buildResult(
    conf,
    {
      bridge: { name: conf.bridge, mac: sysfs.mac(conf.bridge) ?? link.bridgeMac },
      hostVeth: { name: link.hostVeth, mac: link.hostMac, ...withMtu },
      container: { name: env.ifname, mac: link.containerMac, ...withMtu, sandbox: env.netns },
    },
    leases,
  );
}

/** Best effort and idempotent: whatever is already gone is skipped. */
async function del(env: CniEnv, conf: NetConf): Promise<void> {
  // Deleting the host end removes the pair, and works whether or not the netns still exists.
  await deleteLink(vethName(env.containerId, env.ifname));
  const released = await new LeaseStore(conf.ipam, conf.name).release(env.containerId, env.ifname);
  if (conf.ipMasq) {
    const chain = chainName(conf.name, env.containerId);
    const known =
      released.length > 0 ? masqKnownDeleteRules(conf.name, env.containerId, released) : undefined;
    await removeMasq((c) => c.chain === chain, known);
  }
}

function fail(msg: string): never {
  throw new CniError(CniCode.Internal, `CHECK: ${msg}`);
}

/** `ip -j route` prints "default" and bare host addresses. */
function sameRoute(dst: string, actual: string): boolean {
  const normal = actual === 'default' ? '0.0.0.0/0' : actual.includes('/') ? actual : `${actual}/32`;
  const a = parseCidr(normal);
  const d = parseCidr(dst);
  return a !== undefined && d !== undefined && a.ip === d.ip && a.prefix === d.prefix;
}

async function check(env: CniEnv, conf: NetConf): Promise<void> {
  const prev = conf.prevResult;
  if (!prev)
    throw new CniError(CniCode.InvalidConfig, 'invalid network config: prevResult: required for CHECK');
  requireNetns(env);
  const ifaces = prev.interfaces ?? [];
  const index = ifaces.findIndex((i) => i.name === env.ifname && i.sandbox);
  if (index < 0) fail(`prevResult has no interface ${env.ifname} with a sandbox`);
  const expectedIps = (prev.ips ?? []).filter((ip) => ip.interface === index).map((ip) => ip.address);
  const held = new LeaseStore(conf.ipam, conf.name).held(env.containerId, env.ifname).map(formatIp);
  for (const address of expectedIps) {
    if (!held.includes(address.split('/')[0] ?? '')) fail(`no IPAM reservation for ${address}`);
  }
  if (!sysfs.isBridge(conf.bridge)) fail(`bridge ${conf.bridge} is missing`);
  const hostVeth = vethName(env.containerId, env.ifname);
  if (sysfs.master(hostVeth) !== conf.bridge)
    fail(`host veth ${hostVeth} is missing or not on ${conf.bridge}`);
  const view = await inspectContainer(env.netns, env.ifname);
  if (!view) fail(`interface ${env.ifname} is missing in ${env.netns}`);
  const mac = ifaces[index]?.mac;
  if (mac && view.mac !== mac) fail(`${env.ifname} has MAC ${view.mac}, expected ${mac}`);
  for (const address of expectedIps) {
    if (!view.addrs.includes(address)) fail(`${env.ifname} lacks address ${address}`);
  }
  for (const r of prev.routes ?? []) {
    const found = view.routes.some(
      (a) => sameRoute(r.dst, a.dst) && (r.gw === undefined || a.gateway === r.gw),
    );
    if (!found) fail(`route to ${r.dst}${r.gw ? ` via ${r.gw}` : ''} is missing`);
  }
  if (conf.ipMasq) {
    const chain = chainName(conf.name, env.containerId);
    const found = (await listMasqChains()).find((c) => c.chain === chain);
    if (!found) fail(`masquerade chain ${chain} is missing`);
    if (!found.rules.some((r) => r.endsWith('-j MASQUERADE')))
      fail(`masquerade chain ${chain} has no MASQUERADE rule`);
    for (const address of expectedIps) {
      if (!found.jumps.some((j) => j.includes(`-s ${address.split('/')[0]}/32 `))) {
        fail(`POSTROUTING rule for ${address} into ${chain} is missing`);
      }
    }
  }
}

function writableDir(dir: string): boolean {
  for (let d = dir; ; d = dirname(d)) {
    if (existsSync(d)) {
      try {
        accessSync(d, constants.W_OK);
        return true;
      } catch {
        return false;
      }
    }
    if (d === '/') return false;
  }
}

async function status(conf: NetConf): Promise<void> {
  if (!writableDir(conf.ipam.dataDir)) {
    throw new CniError(CniCode.NotAvailable, `ipam.dataDir ${conf.ipam.dataDir} is not writable`);
  }
  const used = new LeaseStore(conf.ipam, conf.name).used();
  conf.ipam.ranges.forEach((set, i) => {
    if (freeCount(set, used) === 0) {
      const subnets = set.map((r) => formatCidr(r.subnet)).join(', ');
      throw new CniError(CniCode.NotAvailable, `no free addresses in ipam.ranges[${i}] (${subnets})`);
    }
  });
}

async function gc(conf: NetConf): Promise<void> {
  const valid = conf.validAttachments;
  if (!valid)
    throw new CniError(
      CniCode.InvalidConfig,
      'invalid network config: cni.dev/valid-attachments: required for GC',
    );
  const errors: string[] = [];
  await new LeaseStore(conf.ipam, conf.name).gc(valid).catch((err: Error) => errors.push(err.message));
  if (conf.ipMasq) {
    const ids = new Set(valid.map((a) => a.containerID));
    await removeMasq(
      (c) => c.network === conf.name && c.containerId !== undefined && !ids.has(c.containerId),
    ).catch((err: Error) => errors.push(err.message));
  }
  if (errors.length > 0) throw new CniError(CniCode.Internal, `GC: ${errors.join('; ')}`);
}

export interface Reply {
  stdout: string;
  exitCode: number;
}

/** One plugin invocation: the CNI environment and stdin in, stdout and exit code out. */
export async function invoke(vars: NodeJS.ProcessEnv, stdin: string): Promise<Reply> {
  let version = LATEST_VERSION;
  try {
    const env = parseEnv(vars);
    if (env.command === 'VERSION')
      return { stdout: JSON.stringify(versionResult(LATEST_VERSION)), exitCode: 0 };
    const raw = decode(stdin);
    if (typeof raw.cniVersion === 'string') version = raw.cniVersion;
    const conf = parseNetConf(raw);
    switch (env.command) {
      case 'ADD':
        return { stdout: JSON.stringify(await add(env, conf)), exitCode: 0 };
      case 'DEL':
        await del(env, conf);
        break;
      case 'CHECK':
        await check(env, conf);
        break;
      case 'STATUS':
        await status(conf);
        break;
      case 'GC':
        await gc(conf);
        break;
    }
    return { stdout: '', exitCode: 0 };
  } catch (err) {
    const e = err instanceof CniError ? err : new CniError(CniCode.Internal, (err as Error).message);
    return { stdout: JSON.stringify(e.toWire(version)), exitCode: 1 };
  }
}
