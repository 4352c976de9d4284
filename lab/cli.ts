import type { Command } from 'commander';

/** Adds the `klab` subcommands this folder owns. */
export function registerLabCommands(_program: Command): void {}
