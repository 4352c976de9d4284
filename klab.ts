#!/usr/bin/env node
import { Command } from 'commander';
import { registerAgentCommands } from './agent/cli.js';
import { registerCniCommands } from './cni/cli.js';
import { registerControlCommands } from './control/cli.js';
import { registerDnsCommands } from './dns/cli.js';
import { registerLabCommands } from './lab/cli.js';
import { registerSetupCommand } from './lab/setup-command.js';
import { registerProxyCommands } from './proxy/cli.js';

const program = new Command('klab')
  .description(
    'A Kubernetes-compatible cluster for networking labs: control plane, agents, CNI, kube-proxy, DNS',
  )
  .showHelpAfterError()
  .enablePositionalOptions();

registerSetupCommand(program);
registerLabCommands(program);
registerControlCommands(program);
registerCniCommands(program);
registerProxyCommands(program);
registerDnsCommands(program);
registerAgentCommands(program);

await program.parseAsync(process.argv);
