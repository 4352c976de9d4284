import { describe, expect, it } from 'vitest';
import { WorkQueue } from './queue.js';

describe('WorkQueue', () => {
  it('deduplicates queued keys and reruns a key changed while it was processed', async () => {
    const seen: string[] = [];
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const q = new WorkQueue(
      async (key) => {
        seen.push(key);
        if (key === 'a' && seen.length === 1) await gate;
      },
      { name: 't' },
    );
    q.add('a');
    q.add('b');
    q.add('b');
    q.add('a');
    release();
    await q.idle();
    expect(seen).toEqual(['a', 'b', 'a']);
  });

  it('retries failures with back-off until they succeed', async () => {
    let attempts = 0;
    const q = new WorkQueue(
      async () => {
        attempts++;
        if (attempts < 3) throw new Error('not yet');
      },
      { name: 't', baseDelayMs: 1 },
    );
    q.add('x');
    await new Promise((r) => setTimeout(r, 50));
    await q.idle();
    expect(attempts).toBe(3);
    q.stop();
  });
});
