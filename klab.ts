#!/usr/bin/env node
/**
 * The `klab` command. Each top-level command's module is loaded only when that command runs:
 * every node runs several klab daemons, and loading the whole tree (API server, DNS, CNI, …)
 * for each would cost seconds of start-up and tens of MB per process.
 */
import { Command } from 'commander';

interface Group {
  /** The top-level commands the module registers, with the one-line help shown before loading it. */
  readonly commands: Readonly<Record<string, string>>;
  load(program: Command): Promise<void>;
}

const GROUPS: readonly Group[] = [
  {
    commands: {
      setup: 'check the host for the packages klab needs and install the missing ones (root on Debian)',
    },
    load: async (p) => (await import('./lab/setup-command.js')).registerSetupCommand(p),
  },
  {
    commands: {
      lab: 'build and use network-namespace labs (up, down, status, exec, shell, logs, …)',
    },
    load: async (p) => (await import('./lab/cli.js')).registerLabCommands(p),
  },
  {
    // Every klab/echo pod starts this: loading the lab commands too tripled its start-up CPU.
    commands: { echo: 'an HTTP/TCP/UDP echo server that reports who called it (the klab/echo image)' },
    load: async (p) => (await import('./agent/images/echo.js')).registerEchoCommand(p),
  },
  {
    commands: { control: 'the Kubernetes-compatible API server with its controllers and scheduler' },
    load: async (p) => (await import('./control/cli.js')).registerControlCommands(p),
  },
  {
    commands: { agent: "the node agent (kubelet's role): registers the Node, runs its pods" },
    load: async (p) => (await import('./agent/cli.js')).registerAgentCommands(p),
  },
  {
    commands: { cni: 'the klab-bridge CNI plugin: install it, inspect it' },
    load: async (p) => (await import('./cni/cli.js')).registerCniCommands(p),
  },
  {
    commands: { proxy: 'kube-proxy: run it, or render the rules a node would get' },
    load: async (p) => (await import('./proxy/cli.js')).registerProxyCommands(p),
  },
  {
    commands: { dns: 'the cluster DNS server' },
    load: async (p) => (await import('./dns/cli.js')).registerDnsCommands(p),
  },
];

const program = new Command('klab')
  .description(
    'A Kubernetes-compatible cluster for networking labs: control plane, agents, CNI, kube-proxy, DNS',
  )
  .showHelpAfterError()
  .enablePositionalOptions();

const args = process.argv.slice(2);
const words = args.filter((a) => !a.startsWith('-'));
const wanted = words[0] === 'help' ? words[1] : words[0];
const group = GROUPS.find((g) => wanted !== undefined && Object.hasOwn(g.commands, wanted));
if (group) {
  await group.load(program);
} else {
  // Help or an unknown command: list every command without loading any of them.
  for (const g of GROUPS) {
    for (const [name, description] of Object.entries(g.commands))
      program.command(name).description(description);
  }
}

await program.parseAsync(process.argv);
