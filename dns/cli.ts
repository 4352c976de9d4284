import type { Command } from 'commander';

/** Adds the `klab` subcommands this folder owns. */
export function registerDnsCommands(_program: Command): void {}
