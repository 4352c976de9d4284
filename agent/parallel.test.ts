import { describe, expect, it } from 'vitest';
import { forEachLimit } from './parallel.js';

describe('forEachLimit', () => {
  it('visits every item once with at most `limit` under way', async () => {
    let running = 0;
    let peak = 0;
    const seen: number[] = [];
    await forEachLimit([1, 2, 3, 4, 5, 6, 7], 3, async (n) => {
      running++;
      peak = Math.max(peak, running);
      await new Promise((r) => setTimeout(r, 5 * (n % 3)));
      seen.push(n);
      running--;
    });
    expect(seen.sort()).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(peak).toBe(3);
  });

  it('does nothing for no items', async () => {
    let calls = 0;
    await forEachLimit([], 4, async () => {
      calls++;
    });
    expect(calls).toBe(0);
  });
});
