import { describe, expect, it } from 'vitest';
import { failureDetail, runCommand } from './run.js';

describe('runCommand', () => {
  it('feeds stdin and collects stdout, stderr and the exit code', async () => {
    const result = await runCommand('sh', ['-c', 'cat; echo oops >&2; exit 3'], { input: 'in\n' });
    expect(result).toMatchObject({ exitCode: 3, stdout: 'in\n', stderr: 'oops\n', canceled: false });
    expect(failureDetail(result)).toBe('oops');
  });

  it('reports a command that cannot start instead of throwing', async () => {
    const result = await runCommand('/nonexistent/klab-test-command', []);
    expect(result.exitCode).toBeUndefined();
    expect(failureDetail(result)).toContain('ENOENT');
  });

  it('stops the command when the signal aborts', async () => {
    const controller = new AbortController();
    const running = runCommand('sleep', ['30'], { signal: controller.signal });
    setTimeout(() => controller.abort(), 50);
    const result = await running;
    expect(result.canceled).toBe(true);
    expect(result.exitCode).toBeUndefined();
  });
});
