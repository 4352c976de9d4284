import { describe, expect, it } from 'vitest';
import { nextProbeDelayMs } from './probes.js';

describe('nextProbeDelayMs', () => {
  it('retries quickly, doubling, until the first success, never beyond the period', () => {
    expect([1, 2, 3, 4, 5, 6].map((n) => nextProbeDelayMs(2000, n, false))).toEqual([
      100, 200, 400, 800, 1600, 2000,
    ]);
    expect(nextProbeDelayMs(2000, 1000, false)).toBe(2000);
  });

  it('runs every period once the probe has succeeded', () => {
    expect(nextProbeDelayMs(10_000, 1, true)).toBe(10_000);
  });
});
