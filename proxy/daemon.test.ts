import { describe, expect, it } from 'vitest';
import { parseBindAddress, parseDuration } from './daemon.js';

describe('daemon flags', () => {
  it('parses Go-style durations', () => {
    expect(parseDuration('1s', '--x')).toBe(1000);
    expect(parseDuration('500ms', '--x')).toBe(500);
    expect(parseDuration('1.5m', '--x')).toBe(90_000);
    expect(() => parseDuration('30', '--sync-period')).toThrow('--sync-period: "30" is not a duration');
  });

  it('parses host:port bind addresses', () => {
    expect(parseBindAddress('0.0.0.0:10256', '--x')).toEqual({ host: '0.0.0.0', port: 10256 });
    expect(() => parseBindAddress('10256', '--healthz-bind-address')).toThrow('--healthz-bind-address');
    expect(() => parseBindAddress('a:99999', '--x')).toThrow('not host:port');
  });
});
