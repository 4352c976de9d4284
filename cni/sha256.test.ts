import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { sha256Hex } from './sha256.js';

describe('sha256Hex', () => {
  it('matches the FIPS test vectors and node:crypto across block boundaries', () => {
    expect(sha256Hex('')).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    expect(sha256Hex('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    for (const len of [1, 55, 56, 63, 64, 65, 119, 200]) {
      const text = 'é' + 'x'.repeat(len);
      expect(sha256Hex(text), `length ${len}`).toBe(createHash('sha256').update(text).digest('hex'));
    }
  });
});
