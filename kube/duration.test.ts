import { describe, expect, it } from 'vitest';
import { parseGoDuration } from './duration.js';

describe('parseGoDuration', () => {
  it('reads Go durations in milliseconds', () => {
    expect(parseGoDuration('500ms')).toBe(500);
    expect(parseGoDuration('5s')).toBe(5000);
    expect(parseGoDuration('1.5m')).toBe(90_000);
    expect(parseGoDuration('1m30s')).toBe(90_000);
    expect(parseGoDuration('0')).toBe(0);
  });

  it('refuses what is not a duration', () => {
    for (const bad of ['', '30', '5 s', 's', '-1s', '1d', '1s2'])
      expect(parseGoDuration(bad), bad).toBeUndefined();
  });
});
