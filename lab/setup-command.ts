import { existsSync, readFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import type { Command } from 'commander';
import { execa } from 'execa';
import { PREREQUISITES, planSetup, type Prerequisite } from './prereqs.js';

const SYSTEM_PATH = ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin'];

function onPath(command: string): boolean {
  const dirs = new Set([...(process.env.PATH ?? '').split(delimiter), ...SYSTEM_PATH]);
  return [...dirs].some((dir) => dir !== '' && existsSync(join(dir, command)));
}

function isDebian(): boolean {
  try {
    return /^ID(_LIKE)?=.*debian/m.test(readFileSync('/etc/os-release', 'utf8'));
  } catch {
    return false;
  }
}

export function missingPrerequisites(): Prerequisite[] {
  return PREREQUISITES.filter((p) => !onPath(p.command));
}

/** Checks the host and installs what is missing; never reinstalls what is there. */
export async function ensureHostPrerequisites(log: (line: string) => void = console.log): Promise<void> {
  const plan = planSetup(missingPrerequisites(), {
    isRoot: process.getuid?.() === 0,
    isDebian: isDebian(),
  });
  if (plan.action === 'nothing') {
    log('host prerequisites: all present');
    return;
  }
  if (plan.action === 'stop') throw new Error(plan.message);
  log(`host prerequisites: installing ${plan.packages.join(' ')}`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  await execa('apt-get', ['update', '-qq'], { env, stdio: 'inherit' });
  await execa('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...plan.packages], {
    env,
    stdio: 'inherit',
  });
  const still = missingPrerequisites();
  if (still.length > 0) {
    throw new Error(
      `apt-get finished but these are still missing: ${still.map((p) => p.command).join(', ')}`,
    );
  }
}

export function registerSetupCommand(program: Command): void {
  program
    .command('setup')
    .description('check the host for the packages klab needs and install the missing ones (root on Debian)')
    .action(async () => {
      try {
        await ensureHostPrerequisites();
      } catch (error) {
        console.error(`klab setup: ${(error as Error).message}`);
        process.exitCode = 1;
      }
    });
}
