import { describe, expect, it } from 'vitest';
import { namedNetns, run } from './exec.js';

describe('exec helpers', () => {
  it('recognises netns paths ip -n can open by name', () => {
    expect(namedNetns('/var/run/netns/pod1')).toBe('pod1');
    expect(namedNetns('/run/netns/pod1')).toBe('pod1');
    expect(namedNetns('/proc/42/ns/net')).toBeUndefined();
    expect(namedNetns('/var/run/netns/a/b')).toBeUndefined();
  });

  it('runs a command with stdin and reports its exit code', async () => {
    expect(await run('sh', ['-c', 'cat; echo err >&2; exit 3'], 'in')).toEqual({
      code: 3,
      stdout: 'in',
      stderr: 'err\n',
    });
  });
});
