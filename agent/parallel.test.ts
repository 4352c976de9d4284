import { describe, expect, it } from 'vitest';
import { Limiter } from './parallel.js';

describe('Limiter', () => {
  it('runs every call once with at most `limit` under way, later ones in call order', async () => {
    const limiter = new Limiter(3);
    let running = 0;
    let peak = 0;
    const started: number[] = [];
    const results = await Promise.all(
      [1, 2, 3, 4, 5, 6, 7].map((n) =>
        limiter.run(async () => {
          started.push(n);
          running++;
          peak = Math.max(peak, running);
          await new Promise((r) => setTimeout(r, 5 * (n % 3)));
          running--;
          return n * 10;
        }),
      ),
    );
    expect(results).toEqual([10, 20, 30, 40, 50, 60, 70]);
    expect(started).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(peak).toBe(3);
  });

  it('frees the slot of a call that fails', async () => {
    const limiter = new Limiter(1);
    await expect(limiter.run(() => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    await expect(limiter.run(() => Promise.resolve('next'))).resolves.toBe('next');
  });

  it('rejects a limit that is not a positive integer', () => {
    expect(() => new Limiter(0)).toThrow('limit 0 is not a positive integer');
  });
});
