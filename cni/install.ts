import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseNetConf } from './config.js';
import { CniError } from './errors.js';
import { network, parseCidr } from './ipv4.js';
import { LATEST_VERSION, SUPPORTED_VERSIONS } from './version.js';

export interface InstallOptions {
  binDir: string;
  confDir: string;
  podCidr: string;
  bridge: string;
  name: string;
  clusterCidr?: string;
  ipMasq: boolean;
  mtu?: number;
  dataDir?: string;
  portmap: boolean;
}

export const PLUGIN_TYPE = 'klab-bridge';
export const CONFLIST_NAME = '10-klab.conflist';

function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/**
 * The executable a runtime finds on CNI_PATH. NODE_OPTIONS and NODE_EXTRA_CA_CERTS are dropped:
 * the plugin needs neither, and loading a CA bundle alone costs tens of milliseconds per call.
 */
export function renderLauncher(nodePath: string, entry: string): string {
  return [
    '#!/bin/sh',
    '# klab-bridge CNI plugin, written by `klab cni install`.',
    'unset NODE_OPTIONS NODE_EXTRA_CA_CERTS',
    `exec ${shellQuote(nodePath)} ${shellQuote(entry)} "$@"`,
    '',
  ].join('\n');
}

export function renderConflist(o: InstallOptions): string {
  const plugin: Record<string, unknown> = {
    type: PLUGIN_TYPE,
    bridge: o.bridge,
    isGateway: true,
    isDefaultGateway: true,
    ipMasq: o.ipMasq,
    ...(o.clusterCidr ? { nonMasqueradeCIDRs: [o.clusterCidr] } : {}),
    hairpinMode: true,
    ...(o.mtu ? { mtu: o.mtu } : {}),
    ipam: {
      type: 'host-local',
      ranges: [[{ subnet: o.podCidr }]],
      ...(o.dataDir ? { dataDir: o.dataDir } : {}),
    },
  };
  // Validate exactly what a runtime will hand the plugin, so a bad flag fails here, not per pod.
  parseNetConf({ ...plugin, cniVersion: LATEST_VERSION, name: o.name });
  const plugins = [
    plugin,
    ...(o.portmap ? [{ type: 'portmap', capabilities: { portMappings: true }, snat: true }] : []),
  ];
  const conflist = {
    cniVersion: LATEST_VERSION,
    cniVersions: [...SUPPORTED_VERSIONS],
    name: o.name,
    plugins,
  };
  return JSON.stringify(conflist, null, 2) + '\n';
}

/** The built plugin entry of this checkout (dist/cni/plugin-main.js). */
export function pluginEntry(): string {
  const candidates = [
    new URL('./plugin-main.js', import.meta.url),
    new URL('../dist/cni/plugin-main.js', import.meta.url),
  ];
  for (const url of candidates) {
    const path = fileURLToPath(url);
    if (existsSync(path)) return path;
  }
  throw new Error(
    `the plugin is not built: none of ${candidates.map((u) => fileURLToPath(u)).join(', ')} exists (run npm run build)`,
  );
}

/** Writes only when the content differs, through a rename, so a runtime never reads half a file. */
function writeIfChanged(path: string, content: string, mode: number): boolean {
  const same = existsSync(path) && readFileSync(path, 'utf8') === content;
  if (!same) {
    writeFileSync(`${path}.tmp`, content, { mode });
    renameSync(`${path}.tmp`, path);
  }
  chmodSync(path, mode);
  return !same;
}

export interface Installed {
  plugin: string;
  conflist: string;
  changed: string[];
}

function checkNetwork(flag: string, value: string | undefined): void {
  if (value === undefined) return;
  const cidr = parseCidr(value);
  if (!cidr || network(cidr) !== cidr.ip) {
    throw new Error(`klab cni install: ${flag} "${value}" is not an IPv4 network CIDR such as 10.244.1.0/24`);
  }
}

export function install(o: InstallOptions, nodePath = process.execPath, entry = pluginEntry()): Installed {
  checkNetwork('--pod-cidr', o.podCidr);
  checkNetwork('--cluster-cidr', o.clusterCidr);
  let conflistText: string;
  try {
    conflistText = renderConflist(o);
  } catch (err) {
    if (err instanceof CniError) throw new Error(`klab cni install: ${err.message}`);
    throw err;
  }
  mkdirSync(o.binDir, { recursive: true });
  mkdirSync(o.confDir, { recursive: true });
  const plugin = join(o.binDir, PLUGIN_TYPE);
  const conflist = join(o.confDir, CONFLIST_NAME);
  const changed: string[] = [];
  if (writeIfChanged(plugin, renderLauncher(nodePath, entry), 0o755)) changed.push(plugin);
  if (writeIfChanged(conflist, conflistText, 0o644)) changed.push(conflist);
  return { plugin, conflist, changed };
}
