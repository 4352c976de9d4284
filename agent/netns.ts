import { existsSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { execa } from 'execa';

/**
 * The agent must run in the machine's mount namespace (not under `ip netns exec`): the /run/netns
 * bind mounts made here must be visible to everyone — `ip netns exec <pod>`, `klab lab down`.
 */
async function ip(args: string[]): Promise<void> {
  const r = await execa('ip', args, { reject: false });
  if (r.exitCode !== 0) throw new Error(`ip ${args.join(' ')}: ${String(r.stderr).trim()}`);
}

export const netnsExists = (name: string) => existsSync(`/run/netns/${name}`);

/** A pod sandbox: its namespace with loopback up, and the files `ip netns exec` bind-mounts. */
export async function createSandbox(name: string, resolvConf: string, hosts: string): Promise<void> {
  if (!netnsExists(name)) await ip(['netns', 'add', name]);
  await ip(['-n', name, 'link', 'set', 'lo', 'up']);
  await mkdir(`/etc/netns/${name}`, { recursive: true });
  await writeFile(`/etc/netns/${name}/resolv.conf`, resolvConf);
  await writeFile(`/etc/netns/${name}/hosts`, hosts);
}

/** Rewrites the sandbox's /etc/hosts once the pod has its address. */
export async function writeSandboxHosts(name: string, hosts: string): Promise<void> {
  await writeFile(`/etc/netns/${name}/hosts`, hosts);
}

export async function deleteSandbox(name: string): Promise<void> {
  if (netnsExists(name)) await ip(['netns', 'delete', name]);
  await rm(`/etc/netns/${name}`, { recursive: true, force: true });
}
