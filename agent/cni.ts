import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface CniNetwork {
  readonly binDir: string;
  readonly confDir: string;
  readonly conflist: string;
  readonly ifName: string;
  /** A mount namespace with the node's sysfs to run the plugin in, while there is one (keepSysfs). */
  readonly sysfs?: SysfsNamespace;
}

/** One attachment a runtime still owns, as CNI GC lists them. */
export interface Attachment {
  readonly containerID: string;
  readonly ifname: string;
}

export interface PluginConfig {
  readonly type: string;
  /** The request configuration: the plugin object with the list's name and cniVersion. */
  readonly config: string;
  /** CHECK exists from spec 0.4.0 on and the list may turn it off with `disableCheck` (libcni). */
  readonly check: boolean;
  /** GC exists from spec 1.1.0 on and the list may turn it off with `disableGC`. */
  readonly gc: boolean;
}

/** Whether dotted version `a` is at least `b` (CNI versions are plain x.y.z). */
export function versionAtLeast(a: string, b: string): boolean {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const x = pa[i] ?? 0;
    const y = pb[i] ?? 0;
    if (x !== y) return x > y;
  }
  return true;
}

/** The first plugin of the conflist as a runtime hands it over: name and cniVersion injected. */
export function pluginConfig(conflistText: string, where: string): PluginConfig {
  let list: {
    name?: unknown;
    cniVersion?: unknown;
    plugins?: unknown;
    disableCheck?: unknown;
    disableGC?: unknown;
  };
  try {
    list = JSON.parse(conflistText) as typeof list;
  } catch (error) {
    throw new Error(`${where}: not JSON: ${(error as Error).message}`);
  }
  const first = Array.isArray(list.plugins)
    ? (list.plugins[0] as Record<string, unknown> | undefined)
    : undefined;
  if (!first || typeof first.type !== 'string') throw new Error(`${where}: has no plugins[0].type`);
  if (typeof list.name !== 'string' || typeof list.cniVersion !== 'string')
    throw new Error(`${where}: needs string "name" and "cniVersion"`);
  return {
    type: first.type,
    config: JSON.stringify({ ...first, name: list.name, cniVersion: list.cniVersion }),
    check: list.disableCheck !== true && versionAtLeast(list.cniVersion, '0.4.0'),
    gc: list.disableGC !== true && versionAtLeast(list.cniVersion, '1.1.0'),
  };
}

/** GC's request configuration: the attachments still in use under `cni.dev/valid-attachments`. */
export function gcConfig(config: string, attachments: readonly Attachment[]): string {
  const valid = attachments.map((a) => ({ containerID: a.containerID, ifname: a.ifname }));
  return JSON.stringify({ ...(JSON.parse(config) as object), 'cni.dev/valid-attachments': valid });
}

/** The first IPv4 address of an ADD result, without its prefix length. */
export function resultAddress(stdout: string): string {
  const result = JSON.parse(stdout) as { ips?: { address?: string }[] };
  const address = result.ips?.[0]?.address;
  if (!address) throw new Error(`CNI ADD result has no ips: ${stdout.slice(0, 200)}`);
  return address.split('/')[0] as string;
}

/**
 * The plugin reads /sys/class/net, which shows the namespace that mounted /sys; when the agent
 * shares the machine's mount namespace from a node's network namespace, the plugin gets a fresh
 * sysfs of its own, as `ip netns exec` would give it.
 */
const OWN_SYSFS = [
  '--mount',
  '--propagation',
  'slave',
  'sh',
  '-c',
  'umount -l /sys && mount -t sysfs sysfs /sys && exec "$0" "$@"',
];

/**
 * A mount namespace like the one OWN_SYSFS makes, kept by a process that lives as long as the
 * agent, so each plugin call only has to enter it (one `nsenter` exec) instead of unsharing and
 * remounting /sys (a shell, `umount` and `mount`: about three times the CPU per call). Namespaces
 * created later still show up in it: its mounts are slaves of the machine's, as OWN_SYSFS's are.
 */
export interface SysfsNamespace {
  /** `/proc/<pid>/ns/mnt` once /sys is remounted there, undefined before and after the keeper lives. */
  path(): string | undefined;
  stop(): Promise<void>;
}

export function keepSysfs(log: (msg: string, fields?: Record<string, unknown>) => void): SysfsNamespace {
  // The keeper says it is ready on stdout, then waits on the agent's stdin pipe: it exits with it.
  const c = spawn('unshare', [...OWN_SYSFS, 'sh', '-c', 'echo ready && exec cat'], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  let path: string | undefined;
  let stopped = false;
  c.stdout.once('data', () => {
    if (c.exitCode === null && c.signalCode === null) path = `/proc/${c.pid}/ns/mnt`;
  });
  c.on('error', (e) => log('sysfs namespace keeper failed to start', { error: String(e) }));
  const exited = new Promise<void>((resolve) =>
    c.once('exit', (code, signal) => {
      path = undefined;
      if (!stopped) log('sysfs namespace keeper exited; plugin calls unshare again', { code, signal });
      resolve();
    }),
  );
  return {
    path: () => path,
    stop: async () => {
      stopped = true;
      path = undefined;
      if (c.exitCode !== null || c.signalCode !== null || c.pid === undefined) return;
      c.stdin.end();
      await exited;
    },
  };
}

export interface Resident {
  stop(): Promise<void>;
}

/**
 * Keeps the resident plugin (`klab cni serve`) running beside the agent, with the same sysfs
 * the executable gets, restarting it a second after it dies. The launcher falls back to running
 * the plugin itself meanwhile. It exits with the agent: its stdin is the agent's pipe.
 */
export function startResident(
  klabArgv: readonly string[],
  socket: string,
  log: (msg: string, fields?: Record<string, unknown>) => void,
): Resident {
  let child: ChildProcess | undefined;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  const launch = () => {
    const argv = [...klabArgv, 'cni', 'serve', '--socket', socket, '--exit-with-stdin'];
    const c = spawn('unshare', [...OWN_SYSFS, ...argv], { stdio: ['pipe', 'inherit', 'inherit'] });
    child = c;
    c.on('error', (e) => log('resident CNI plugin failed to start', { error: String(e) }));
    c.on('exit', (code, signal) => {
      if (stopped) return;
      log('resident CNI plugin exited; restarting', { code, signal });
      timer = setTimeout(launch, 1000);
    });
  };
  launch();
  return {
    stop: async () => {
      stopped = true;
      clearTimeout(timer);
      const c = child;
      if (!c || c.exitCode !== null || c.signalCode !== null) return;
      const exited = new Promise((r) => c.once('exit', r));
      c.stdin?.end();
      await exited;
    },
  };
}

function execPlugin(
  plugin: string,
  env: Record<string, string>,
  stdin: string,
  sysfs: SysfsNamespace | undefined,
): Promise<string> {
  const ns = sysfs?.path();
  const argv = ns === undefined ? [...OWN_SYSFS, plugin] : [`--mount=${ns}`, plugin];
  return new Promise((resolve, reject) => {
    const child = spawn(ns === undefined ? 'unshare' : 'nsenter', argv, {
      env: { PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin', ...env },
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString('utf8')));
    child.stderr.on('data', (c: Buffer) => (err += c.toString('utf8')));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code === 0) resolve(out);
      else
        reject(
          new Error(
            `CNI ${env.CNI_COMMAND}${env.CNI_CONTAINERID ? ` for ${env.CNI_CONTAINERID}` : ''} failed (exit ${code}): ${out || err}`,
          ),
        );
    });
    child.stdin.end(stdin);
  });
}

function readPluginConfig(net: CniNetwork): PluginConfig {
  const where = join(net.confDir, net.conflist);
  return pluginConfig(readFileSync(where, 'utf8'), where);
}

/**
 * Calls the plugin exactly as a container runtime does: CNI_* environment, config on stdin. CHECK
 * needs the ADD result as `prevResult` and is skipped (answering '') when the list disables it.
 */
export async function cniCall(
  net: CniNetwork,
  command: 'ADD' | 'DEL' | 'CHECK',
  containerId: string,
  netns: string,
  prevResult?: string,
): Promise<string> {
  const { type, config, check } = readPluginConfig(net);
  if (command === 'CHECK' && !check) return '';
  const stdin = prevResult
    ? JSON.stringify({ ...JSON.parse(config), prevResult: JSON.parse(prevResult) })
    : config;
  return execPlugin(
    join(net.binDir, type),
    {
      CNI_COMMAND: command,
      CNI_CONTAINERID: containerId,
      CNI_NETNS: `/run/netns/${netns}`,
      CNI_IFNAME: net.ifName,
      CNI_PATH: net.binDir,
    },
    stdin,
    net.sysfs,
  );
}

/**
 * CNI GC: the plugin releases what it holds for attachments not listed. Skipped (false) below spec
 * 1.1.0 or with `disableGC`, as libcni does. The runtime must not run it beside ADD or DEL.
 */
export async function cniGC(net: CniNetwork, valid: readonly Attachment[]): Promise<boolean> {
  const { type, config, gc } = readPluginConfig(net);
  if (!gc) return false;
  await execPlugin(
    join(net.binDir, type),
    { CNI_COMMAND: 'GC', CNI_PATH: net.binDir },
    gcConfig(config, valid),
    net.sysfs,
  );
  return true;
}
