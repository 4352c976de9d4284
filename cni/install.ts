import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseNetConf } from './config.js';
import { CniError } from './errors.js';
import { network, parseCidr } from './ipv4.js';
import { PERL } from './nlexec.js';
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
  /** Socket of a resident plugin (`klab cni serve`) the launcher hands calls to when it listens. */
  residentSocket?: string;
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

function perlQuote(s: string): string {
  return `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

/**
 * The executable when a resident plugin may be listening: perl without modules starts in a
 * fraction of Node's time and needs nothing else. It connects first and reads stdin only after,
 * so when nothing listens it execs the plugin under node with stdin untouched. A resident
 * plugin that dies mid-call yields code 11 (try again later): the call may have half happened.
 * AF_UNIX and SOCK_STREAM are both 1 on Linux.
 */
export function renderResidentLauncher(socket: string, nodePath: string, entry: string): string {
  const cannotRun = JSON.stringify({ code: 999, msg: `klab-bridge: cannot run ${nodePath}` });
  const noAnswer = JSON.stringify({
    code: 11,
    msg: `klab-bridge: the resident plugin at ${socket} did not answer; try again`,
  });
  const q = perlQuote;
  return String.raw`#!${PERL}
# klab-bridge CNI plugin, written by klab cni install.
my ($sock, $node, $entry) = (${q(socket)}, ${q(nodePath)}, ${q(entry)});
delete @ENV{'NODE_OPTIONS', 'NODE_EXTRA_CA_CERTS'};
my $s;
unless (socket($s, 1, 1, 0) && connect($s, pack('S Z*', 1, $sock))) {
  exec { $node } $node, $entry, @ARGV;
  print ${q(cannotRun)}, "\n";
  exit 1;
}
$SIG{PIPE} = 'IGNORE';
binmode STDIN;
binmode STDOUT;
select((select($s), $| = 1)[0]);
my $req = join('', map { "$_=$ENV{$_}\0" } grep { /^CNI_/ } keys %ENV) . "\0";
{ local $/; my $in = <STDIN>; $req .= $in if defined $in; }
print {$s} $req;
shutdown($s, 1);
my $reply = do { local $/; <$s> };
if (defined $reply && $reply =~ /\A(\d+)\n/) {
  print substr($reply, length($1) + 1);
  exit $1;
}
print ${q(noAnswer)}, "\n";
exit 1;
`;
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
  const launcher =
    o.residentSocket !== undefined && existsSync(PERL)
      ? renderResidentLauncher(o.residentSocket, nodePath, entry)
      : renderLauncher(nodePath, entry);
  if (writeIfChanged(plugin, launcher, 0o755)) changed.push(plugin);
  if (writeIfChanged(conflist, conflistText, 0o644)) changed.push(conflist);
  return { plugin, conflist, changed };
}
