import { fileURLToPath } from 'node:url';
import { run, type Ran } from './netns.js';

/** The built CLI (`npm run build` first; the project's test command does). */
export const KLAB_JS = fileURLToPath(new URL('../../dist/klab.js', import.meta.url));

export interface KlabOptions {
  readonly env?: Readonly<Record<string, string>>;
  readonly input?: string;
  readonly timeoutMs?: number;
}

/** Runs `node dist/klab.js …args` without throwing; check `exitCode`, `stdout`, `stderr`. */
export function klab(args: readonly string[], options: KlabOptions = {}): Promise<Ran> {
  return run([process.execPath, KLAB_JS, ...args], options);
}
