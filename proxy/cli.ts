import type { Command } from 'commander';

/** Adds the `klab` subcommands this folder owns. */
export function registerProxyCommands(_program: Command): void {}
