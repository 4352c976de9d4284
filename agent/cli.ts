import type { Command } from 'commander';

/** Adds the `klab` subcommands this folder owns. */
export function registerAgentCommands(_program: Command): void {}
