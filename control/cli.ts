import type { Command } from 'commander';

/** Adds the `klab` subcommands this folder owns. */
export function registerControlCommands(_program: Command): void {}
