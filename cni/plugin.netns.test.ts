import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run } from './exec.js';
import { install } from './install.js';
import { spawnResident } from './resident.js';
import { chainName, vethName } from './names.js';
import type { Result } from './types.js';

/**
 * Conformance of the built plugin against real namespaces. The plugin runs inside a throwaway
 * "node" namespace, so its bridge, veths, sysctls and NAT rules never reach the host's.
 */

const ENTRY = fileURLToPath(new URL('../dist/cni/plugin-main.js', import.meta.url));
const KLAB_JS = fileURLToPath(new URL('../dist/klab.js', import.meta.url));
/** What a runtime executes: the plugin itself, or the launcher of the resident plugin. */
let plugin: string[] = [process.execPath, ENTRY];
const id = randomBytes(3).toString('hex');
const NODE = `kcni-node-${id}`;
const BRIDGE = `kbr${id}`;
const SUBNET = '10.250.1';
let dataDir: string;
const pods: string[] = [];
const sleepers: ChildProcess[] = [];

async function sh(cmd: string, ...args: string[]): Promise<string> {
  const out = await run(cmd, args);
  if (out.code !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${out.stderr}`);
  return out.stdout;
}

let podSeq = 0;
async function newPod(): Promise<string> {
  const name = `kcni-${id}-p${podSeq++}`;
  await sh('ip', 'netns', 'add', name);
  pods.push(name);
  return name;
}

function conf(
  patch: Record<string, unknown> = {},
  ipamPatch: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    cniVersion: '1.1.0',
    name: `kcni${id}`,
    type: 'klab-bridge',
    bridge: BRIDGE,
    isGateway: true,
    isDefaultGateway: true,
    hairpinMode: true,
    ipam: {
      type: 'host-local',
      ranges: [[{ subnet: `${SUBNET}.0/24` }]],
      routes: [{ dst: '10.96.0.0/12' }],
      dataDir,
      ...ipamPatch,
    },
    ...patch,
  };
}

interface Call {
  code: number;
  out: Record<string, unknown> & Partial<Result>;
  raw: string;
}

async function cni(
  command: string,
  vars: Record<string, string>,
  stdin: unknown,
  killAfterMs?: number,
): Promise<Call> {
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '/usr/sbin:/usr/bin',
    CNI_COMMAND: command,
    CNI_PATH: '/opt/cni/bin',
    ...vars,
  };
  const text = typeof stdin === 'string' ? stdin : JSON.stringify(stdin);
  const out = await new Promise<{ code: number; stdout: string }>((resolve, reject) => {
    const child = spawn('ip', ['netns', 'exec', NODE, ...plugin], { env });
    let stdout = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? 1, stdout }));
    child.stdin.end(text);
    // ip netns exec execs the plugin in place, so this pid is the plugin itself.
    if (killAfterMs !== undefined) setTimeout(() => child.kill('SIGKILL'), killAfterMs);
  });
  const parsed = (): Call['out'] => {
    try {
      return out.stdout.trim() ? JSON.parse(out.stdout) : {};
    } catch {
      if (killAfterMs === undefined) throw new Error(`not JSON: ${out.stdout}`);
      return {};
    }
  };
  return { code: out.code, out: parsed(), raw: out.stdout };
}

const pod = (netns: string, containerId: string, ifname = 'eth0') => ({
  CNI_CONTAINERID: containerId,
  CNI_NETNS: `/var/run/netns/${netns}`,
  CNI_IFNAME: ifname,
});

const leases = (): string[] => {
  const dir = join(dataDir, `kcni${id}`);
  return existsSync(dir)
    ? readdirSync(dir)
        .filter((f) => /^\d+\.\d+\.\d+\.\d+$/.test(f))
        .sort()
    : [];
};

/**
 * The node's links by name and address. Not operstate: a bridge drops to NO-CARRIER on its own
 * when the kernel finishes removing an earlier test's last veth.
 */
const nodeLinks = async (): Promise<string> =>
  (await sh('ip', '-n', NODE, '-br', 'link'))
    .split('\n')
    .map((l) =>
      l
        .split(/\s+/)
        .filter((_f, i) => i !== 1 && i !== 3)
        .join(' '),
    )
    .join('\n');
const natRules = async (): Promise<string> => sh('ip', 'netns', 'exec', NODE, 'iptables-save', '-t', 'nat');

beforeAll(async () => {
  if (!existsSync(ENTRY)) throw new Error(`${ENTRY} is missing: run npm run build before these tests`);
  dataDir = mkdtempSync(join(tmpdir(), 'kcni-data-'));
  await sh('ip', 'netns', 'add', NODE);
});

afterAll(async () => {
  for (const s of sleepers) s.kill();
  for (const p of pods) await run('ip', ['netns', 'del', p]);
  await run('ip', ['netns', 'del', NODE]);
  rmSync(dataDir, { recursive: true, force: true });
});

describe('klab-bridge in namespaces', () => {
  it('VERSION lists the supported versions', async () => {
    const r = await cni('VERSION', {}, { cniVersion: '1.1.0' });
    expect(r).toMatchObject({ code: 0, out: { cniVersion: '1.1.0', supportedVersions: ['1.0.0', '1.1.0'] } });
  });

  it('ADD (1.1.0) returns the spec result and configures the kernel to match', async () => {
    const p = await newPod();
    const r = await cni('ADD', pod(p, 'shape11'), conf());
    expect(r.code).toBe(0);
    const veth = vethName('shape11', 'eth0');
    const [br, host, cont] = r.out.interfaces ?? [];
    expect(r.out.cniVersion).toBe('1.1.0');
    expect(br).toMatchObject({ name: BRIDGE, mac: expect.stringMatching(/^([0-9a-f]{2}:){5}[0-9a-f]{2}$/) });
    expect(host).toMatchObject({ name: veth, mtu: 1500 });
    expect(host?.sandbox).toBeUndefined();
    expect(cont).toMatchObject({ name: 'eth0', mtu: 1500, sandbox: `/var/run/netns/${p}` });
    expect(r.out.ips).toEqual([
      { address: expect.stringMatching(/^10\.250\.1\.\d+\/24$/), gateway: `${SUBNET}.1`, interface: 2 },
    ]);
    expect(r.out.routes).toEqual([{ dst: '10.96.0.0/12' }, { dst: '0.0.0.0/0', gw: `${SUBNET}.1` }]);
    const address = r.out.ips?.[0]?.address ?? '';

    const podAddr = JSON.parse(await sh('ip', '-n', p, '-j', 'addr', 'show', 'eth0'))[0];
    expect(podAddr.address).toBe(cont?.mac);
    expect(
      podAddr.addr_info.map((a: { local: string; prefixlen: number }) => `${a.local}/${a.prefixlen}`),
    ).toContain(address);
    const routes = await sh('ip', '-n', p, 'route');
    expect(routes).toContain(`default via ${SUBNET}.1 dev eth0`);
    expect(routes).toContain(`10.96.0.0/12 via ${SUBNET}.1 dev eth0`);
    expect(await sh('ip', '-n', NODE, 'addr', 'show', BRIDGE)).toContain(`inet ${SUBNET}.1/24`);
    const port = JSON.parse(await sh('ip', '-n', NODE, '-d', '-j', 'link', 'show', veth))[0];
    expect(port.master).toBe(BRIDGE);
    expect(port.linkinfo.info_slave_data.hairpin).toBe(true);
    expect((await sh('ip', 'netns', 'exec', NODE, 'cat', '/proc/sys/net/ipv4/ip_forward')).trim()).toBe('1');
    await sh('ip', 'netns', 'exec', p, 'ping', '-c1', '-W2', `${SUBNET}.1`);
    expect((await cni('DEL', pod(p, 'shape11'), conf())).code).toBe(0);
  });

  it('ADD (1.0.0) leaves out the 1.1 interface fields; a /proc/PID/ns/net netns path works', async () => {
    const p = await newPod();
    const sleeper = spawn('ip', ['netns', 'exec', p, 'sleep', '60']);
    sleepers.push(sleeper);
    await new Promise((r) => setTimeout(r, 200));
    const { stdout: pid } = await run('pgrep', ['-P', String(sleeper.pid)]);
    const netns = `/proc/${pid.trim() || sleeper.pid}/ns/net`;
    const vars = { CNI_CONTAINERID: 'shape10', CNI_NETNS: netns, CNI_IFNAME: 'eth0' };
    const r = await cni('ADD', vars, conf({ cniVersion: '1.0.0' }));
    expect(r.code).toBe(0);
    expect(r.out.cniVersion).toBe('1.0.0');
    expect(r.out.interfaces?.[2]).toEqual({ name: 'eth0', mac: expect.any(String), sandbox: netns });
    expect(r.out.interfaces?.[1]?.mtu).toBeUndefined();
    expect(await sh('ip', '-n', p, 'addr', 'show', 'eth0')).toContain(r.out.ips?.[0]?.address ?? 'none');
    expect((await cni('DEL', vars, conf({ cniVersion: '1.0.0' }))).code).toBe(0);
  });

  it('refuses a second ADD for the same container and ifname, leaving the first intact', async () => {
    const p = await newPod();
    const first = await cni('ADD', pod(p, 'dup'), conf());
    expect(first.code).toBe(0);
    const before = leases();
    const second = await cni('ADD', pod(p, 'dup'), conf());
    expect(second.code).not.toBe(0);
    expect(second.out).toMatchObject({
      cniVersion: '1.1.0',
      code: expect.any(Number),
      msg: expect.stringContaining('dup'),
    });
    expect(leases()).toEqual(before);
    await sh('ip', 'netns', 'exec', p, 'ping', '-c1', '-W2', `${SUBNET}.1`);
    expect((await cni('DEL', pod(p, 'dup'), conf())).code).toBe(0);
  });

  it('DEL twice succeeds; DEL after the netns is gone and DEL without a netns free the lease', async () => {
    const p = await newPod();
    expect((await cni('ADD', pod(p, 'del1'), conf())).code).toBe(0);
    const count = leases().length;
    expect((await cni('DEL', pod(p, 'del1'), conf())).code).toBe(0);
    expect(leases()).toHaveLength(count - 1);
    expect(await nodeLinks()).not.toContain(vethName('del1', 'eth0'));
    expect((await cni('DEL', pod(p, 'del1'), conf())).code).toBe(0);

    const q = await newPod();
    expect((await cni('ADD', pod(q, 'del2'), conf())).code).toBe(0);
    await sh('ip', 'netns', 'del', q);
    expect((await cni('DEL', pod(q, 'del2'), conf())).code).toBe(0);
    expect(leases()).toHaveLength(count - 1);

    const s = await newPod();
    expect((await cni('ADD', pod(s, 'del3'), conf())).code).toBe(0);
    expect((await cni('DEL', { CNI_CONTAINERID: 'del3', CNI_IFNAME: 'eth0' }, conf())).code).toBe(0);
    expect(leases()).toHaveLength(count - 1);
    expect(await nodeLinks()).not.toContain(vethName('del3', 'eth0'));
    expect((await cni('DEL', pod(s, 'never-added'), conf())).code).toBe(0);
  });

  it('CHECK passes after ADD and notices a removed route or address', async () => {
    const p = await newPod();
    const add = await cni('ADD', pod(p, 'chk'), conf());
    const withPrev = conf({ prevResult: add.out });
    expect((await cni('CHECK', pod(p, 'chk'), withPrev)).code).toBe(0);
    expect(await cni('CHECK', pod(p, 'chk'), conf())).toMatchObject({
      code: 1,
      out: { code: 7, msg: expect.stringContaining('prevResult') },
    });
    await sh('ip', '-n', p, 'route', 'del', '10.96.0.0/12');
    expect(await cni('CHECK', pod(p, 'chk'), withPrev)).toMatchObject({
      code: 1,
      out: { msg: expect.stringContaining('10.96.0.0/12') },
    });
    await sh('ip', '-n', p, 'route', 'add', '10.96.0.0/12', 'via', `${SUBNET}.1`);
    expect((await cni('CHECK', pod(p, 'chk'), withPrev)).code).toBe(0);
    await sh('ip', '-n', p, 'addr', 'del', add.out.ips?.[0]?.address ?? '', 'dev', 'eth0');
    expect(await cni('CHECK', pod(p, 'chk'), withPrev)).toMatchObject({
      code: 1,
      out: { msg: expect.stringContaining('lacks address') },
    });
    expect((await cni('DEL', pod(p, 'chk'), conf())).code).toBe(0);
  });

  it('bad config, bad input or missing environment get the right code and change nothing', async () => {
    const p = await newPod();
    const links = await nodeLinks();
    const before = leases();
    const cases: [Record<string, string>, unknown, number, string][] = [
      [{ CNI_CONTAINERID: 'bad' }, conf(), 4, 'CNI_NETNS,CNI_IFNAME'],
      [pod(p, 'bad'), '{"cniVersion":', 6, 'decoding'],
      [pod(p, 'bad'), conf({ cniVersion: '0.1.0' }), 1, '0.1.0'],
      [pod(p, 'bad'), conf({ mtu: 'big' }), 7, 'mtu'],
      [pod(p, 'bad'), conf({}, { ranges: [[{ subnet: '10.250.1.5/24' }]] }), 7, 'ipam.ranges[0][0].subnet'],
      [{ ...pod(p, 'bad'), CNI_NETNS: '/var/run/netns/kcni-nonexistent' }, conf(), 8, 'CNI_NETNS'],
    ];
    for (const [vars, stdin, code, needle] of cases) {
      const r = await cni('ADD', vars, stdin);
      expect(r.code, JSON.stringify(r.out)).toBe(1);
      expect(r.out.code).toBe(code);
      expect(String(r.out.msg)).toContain(needle);
    }
    expect(await cni('FROB', pod(p, 'bad'), conf())).toMatchObject({
      code: 1,
      out: { code: 4, msg: expect.stringContaining('CNI_COMMAND') },
    });
    expect(await nodeLinks()).toBe(links);
    expect(leases()).toEqual(before);
  });

  it('20 concurrent ADDs get 20 distinct addresses', async () => {
    const ns = await Promise.all(Array.from({ length: 20 }, () => newPod()));
    const results = await Promise.all(ns.map((p, i) => cni('ADD', pod(p, `conc${i}`), conf())));
    expect(results.map((r) => r.code)).toEqual(Array(20).fill(0));
    const addrs = results.map((r) => r.out.ips?.[0]?.address);
    expect(new Set(addrs).size).toBe(20);
    const dels = await Promise.all(ns.map((p, i) => cni('DEL', pod(p, `conc${i}`), conf())));
    expect(dels.map((r) => r.code)).toEqual(Array(20).fill(0));
    expect(leases().filter((l) => addrs.includes(`${l}/24`))).toEqual([]);
    // 40 plugin processes at once: on a loaded 2-core machine this alone can take a minute.
  }, 240_000);

  it('two pods on one bridge reach each other', async () => {
    const [a, b] = [await newPod(), await newPod()];
    const ra = await cni('ADD', pod(a, 'pinga'), conf());
    const rb = await cni('ADD', pod(b, 'pingb'), conf());
    const ipB = rb.out.ips?.[0]?.address.split('/')[0] ?? '';
    const ipA = ra.out.ips?.[0]?.address.split('/')[0] ?? '';
    await sh('ip', 'netns', 'exec', a, 'ping', '-c1', '-W2', ipB);
    await sh('ip', 'netns', 'exec', b, 'ping', '-c1', '-W2', ipA);
    await cni('DEL', pod(a, 'pinga'), conf());
    await cni('DEL', pod(b, 'pingb'), conf());
  });

  it('ipMasq installs the per-pod NAT chain, CHECK sees it, DEL removes it', async () => {
    const p = await newPod();
    const masq = conf({ ipMasq: true, nonMasqueradeCIDRs: ['10.250.0.0/16'] });
    const add = await cni('ADD', pod(p, 'masq'), masq);
    expect(add.code).toBe(0);
    const chain = chainName(`kcni${id}`, 'masq');
    const ip = add.out.ips?.[0]?.address.split('/')[0] ?? '';
    const rules = await natRules();
    expect(rules).toContain(
      `-A POSTROUTING -s ${ip}/32 -m comment --comment "name: \\"kcni${id}\\" id: \\"masq\\"" -j ${chain}`,
    );
    expect(rules).toContain(`-A ${chain} -d 10.250.0.0/16`);
    expect(rules).toContain(`-A ${chain} ! -d 224.0.0.0/4`);
    expect((await cni('CHECK', pod(p, 'masq'), { ...masq, prevResult: add.out })).code).toBe(0);
    await sh('ip', 'netns', 'exec', NODE, 'iptables', '-t', 'nat', '-F', chain);
    expect((await cni('CHECK', pod(p, 'masq'), { ...masq, prevResult: add.out })).out.msg).toContain(
      'no MASQUERADE rule',
    );
    expect((await cni('DEL', pod(p, 'masq'), masq)).code).toBe(0);
    expect(await natRules()).not.toContain(chain);
    expect((await cni('DEL', pod(p, 'masq'), masq)).code).toBe(0);
  });

  it('GC frees the leases and NAT chains of attachments that are not valid', async () => {
    const [a, b] = [await newPod(), await newPod()];
    const masq = conf({ ipMasq: true });
    const keep = await cni('ADD', pod(a, 'gckeep'), masq);
    const stale = await cni('ADD', pod(b, 'gcstale'), masq);
    const staleIp = stale.out.ips?.[0]?.address.split('/')[0] ?? '';
    writeFileSync(join(dataDir, `kcni${id}`, `${SUBNET}.250`), 'crashed\r\neth0');
    const valid = [{ containerID: 'gckeep', ifname: 'eth0' }];
    expect(await cni('GC', {}, { ...masq, 'cni.dev/valid-attachments': valid })).toMatchObject({
      code: 0,
      raw: '',
    });
    expect(leases()).toEqual([keep.out.ips?.[0]?.address.split('/')[0]]);
    expect(leases()).not.toContain(staleIp);
    const rules = await natRules();
    expect(rules).toContain(chainName(`kcni${id}`, 'gckeep'));
    expect(rules).not.toContain(chainName(`kcni${id}`, 'gcstale'));
    expect((await cni('GC', {}, masq)).out.code).toBe(7);
    await cni('DEL', pod(a, 'gckeep'), masq);
    await cni('DEL', pod(b, 'gcstale'), masq);
  });

  it('STATUS answers 0 when ready and 50 when the pool is exhausted', async () => {
    expect(await cni('STATUS', {}, conf())).toMatchObject({ code: 0, raw: '' });
    const tiny = conf({}, { ranges: [[{ subnet: '10.250.9.0/30' }]] });
    const p = await newPod();
    expect((await cni('ADD', pod(p, 'tiny'), tiny)).code).toBe(0);
    expect(await cni('STATUS', {}, tiny)).toMatchObject({ code: 1, out: { code: 50 } });
    const q = await newPod();
    expect((await cni('ADD', pod(q, 'tiny2'), tiny)).out.msg).toContain('no IP addresses available');
    expect(await nodeLinks()).not.toContain(vethName('tiny2', 'eth0'));
    expect((await cni('DEL', pod(p, 'tiny'), tiny)).code).toBe(0);
    expect((await cni('STATUS', {}, tiny)).code).toBe(0);
  });

  it('a plugin killed at any point never hands an address out twice, and DEL cleans up after it', async () => {
    const before = leases();
    const killed = await Promise.all(Array.from({ length: 5 }, () => newPod()));
    await Promise.all(killed.map((p, i) => cni('ADD', pod(p, `kill${i}`), conf(), 30 + i * 250)));
    // The lock and store must still work for the next pods, whatever the killed ones left.
    const live = await Promise.all(Array.from({ length: 5 }, () => newPod()));
    const adds = await Promise.all(live.map((p, i) => cni('ADD', pod(p, `live${i}`), conf())));
    expect(adds.map((r) => r.code)).toEqual(Array(5).fill(0));
    const seen = new Map<string, string>();
    for (const p of [...killed, ...live]) {
      const links = JSON.parse((await run('ip', ['-n', p, '-j', 'addr', 'show'])).stdout) as {
        addr_info: { family: string; local: string }[];
      }[];
      for (const a of links
        .flatMap((l) => l.addr_info)
        .filter((x) => x.family === 'inet' && x.local !== '127.0.0.1')) {
        expect(seen.get(a.local), `${a.local} is in ${p} and ${seen.get(a.local)}`).toBeUndefined();
        seen.set(a.local, p);
        expect(leases()).toContain(a.local);
      }
    }
    const dels = await Promise.all([
      ...killed.map((p, i) => cni('DEL', pod(p, `kill${i}`), conf())),
      ...live.map((p, i) => cni('DEL', pod(p, `live${i}`), conf())),
    ]);
    expect(dels.map((r) => r.code)).toEqual(Array(10).fill(0));
    expect(leases()).toEqual(before);
    const links = await nodeLinks();
    for (let i = 0; i < 5; i++) expect(links).not.toContain(vethName(`kill${i}`, 'eth0'));
  }, 240_000);
});

describe('klab-bridge through the resident plugin', () => {
  let resident: ChildProcess | undefined;

  beforeAll(async () => {
    const socket = join(dataDir, 'klab-bridge.sock');
    resident = await spawnResident(['ip', 'netns', 'exec', NODE, process.execPath, KLAB_JS], socket);
    const installed = install(
      {
        binDir: join(dataDir, 'bin'),
        confDir: join(dataDir, 'net.d'),
        podCidr: `${SUBNET}.0/24`,
        bridge: BRIDGE,
        name: `kcni${id}`,
        ipMasq: false,
        portmap: false,
        residentSocket: socket,
      },
      process.execPath,
      ENTRY,
    );
    plugin = [installed.plugin];
  });

  afterAll(async () => {
    plugin = [process.execPath, ENTRY];
    if (resident && resident.exitCode === null) {
      const exited = new Promise((r) => resident?.once('exit', r));
      resident.stdin?.end();
      await exited;
    }
  });

  it('ADD, CHECK and DEL behave as the executable does, and pods reach their gateway', async () => {
    const p = await newPod();
    const add = await cni('ADD', pod(p, 'res1'), conf());
    expect(add.code).toBe(0);
    expect(add.out.interfaces?.[2]).toMatchObject({ name: 'eth0', sandbox: `/var/run/netns/${p}` });
    await sh('ip', 'netns', 'exec', p, 'ping', '-c1', '-W2', `${SUBNET}.1`);
    expect((await cni('CHECK', pod(p, 'res1'), conf({ prevResult: add.out }))).code).toBe(0);
    const again = await cni('ADD', pod(p, 'res1'), conf());
    expect(again).toMatchObject({ code: 1, out: { code: 999 } });
    expect((await cni('DEL', pod(p, 'res1'), conf())).code).toBe(0);
    expect((await cni('DEL', pod(p, 'res1'), conf())).code).toBe(0);
    expect(await nodeLinks()).not.toContain(vethName('res1', 'eth0'));
  });

  it('10 concurrent ADDs in the one resident process get 10 distinct addresses', async () => {
    const ps = await Promise.all(Array.from({ length: 10 }, () => newPod()));
    const adds = await Promise.all(ps.map((p, i) => cni('ADD', pod(p, `resc${i}`), conf())));
    expect(adds.map((a) => a.code)).toEqual(adds.map(() => 0));
    const ips = new Set(adds.map((a) => a.out.ips?.[0]?.address));
    expect(ips.size).toBe(10);
    await Promise.all(ps.map((p, i) => cni('DEL', pod(p, `resc${i}`), conf())));
    expect(leases().filter((l) => [...ips].some((ip) => ip?.startsWith(`${l}/`)))).toEqual([]);
  });
});
