import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { adoptedRunning, processStartTime } from './runtime.js';

const started: number[] = [];

afterEach(() => {
  for (const pid of started.splice(0)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
});

describe('adoptedRunning', () => {
  it('is true for a live process with its start time, false for another start time', async () => {
    const child = spawn('sleep', ['30'], { stdio: 'ignore' });
    await once(child, 'spawn');
    const pid = child.pid as number;
    started.push(pid);
    const startTime = processStartTime(pid);
    expect(startTime).toMatch(/^\d+$/);
    expect(adoptedRunning(pid, startTime)).toBe(true);
    expect(adoptedRunning(pid, `${startTime}0`)).toBe(false);
    child.kill('SIGKILL');
    await once(child, 'exit');
    expect(adoptedRunning(pid, startTime)).toBe(false);
  });

  it('counts a zombie nobody has reaped yet as exited, although kill(pid, 0) still succeeds', async () => {
    // The exec'd sleep 30 never waits for its child, so `sleep 0.3` stays a zombie once it exits.
    const parent = spawn('sh', ['-c', 'sleep 0.3 & echo $!; exec sleep 30'], {
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    started.push(parent.pid as number);
    const [line] = (await once(parent.stdout, 'data')) as [Buffer];
    const zombie = Number(line.toString().trim());
    const state = () => {
      const stat = readFileSync(`/proc/${zombie}/stat`, 'utf8');
      return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0];
    };
    const deadline = Date.now() + 5000;
    while (state() !== 'Z' && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(state()).toBe('Z');
    expect(() => process.kill(zombie, 0)).not.toThrow();
    expect(adoptedRunning(zombie, undefined)).toBe(false);
  });
});
