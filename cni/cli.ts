import type { Command } from 'commander';

/** Adds the `klab` subcommands this folder owns. */
export function registerCniCommands(_program: Command): void {}
