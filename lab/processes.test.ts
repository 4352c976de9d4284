import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { isRunning, parseProcStat } from './processes.js';

describe('process identity', () => {
  it('parses /proc/<pid>/stat even when the command name holds spaces and parentheses', () => {
    const fields = Array.from({ length: 50 }, (_, i) => String(i + 3));
    fields[0] = 'S';
    fields[19] = '987654';
    expect(parseProcStat(`42 (a) b (c) ${fields.join(' ')}`)).toEqual({ state: 'S', startTime: '987654' });
    expect(parseProcStat('garbage')).toBeUndefined();
  });

  it('recognises this process, and not a recycled pid with another start time', () => {
    const stat = parseProcStat(readFileSync(`/proc/${process.pid}/stat`, 'utf8'));
    expect(stat).toBeDefined();
    expect(isRunning({ pid: process.pid, startTime: stat!.startTime })).toBe(true);
    expect(isRunning({ pid: process.pid, startTime: '1' })).toBe(false);
    expect(isRunning({ pid: 2 ** 22 + 1, startTime: stat!.startTime })).toBe(false);
  });
});
