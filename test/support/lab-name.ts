import { randomBytes } from 'node:crypto';

const ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';

/** A lab name for a test: `t` plus five random characters, so parallel test files never collide. */
export function randomLabName(prefix = 't'): string {
  const bytes = randomBytes(5);
  return prefix + [...bytes].map((b) => ALPHABET[b % ALPHABET.length]).join('');
}
