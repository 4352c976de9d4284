import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  parseEnvFile,
  readHostEnv,
  readState,
  renderEnvFile,
  setHostEnv,
  updateState,
  writeState,
  type LabState,
} from './state.js';

const base: LabState = {
  version: 1,
  lab: 'unit',
  provider: 'netns',
  phase: 'up',
  createdAt: '2026-01-01T00:00:00.000Z',
  nodes: 1,
  lanNetns: 'klab-unit-lan',
  bridge: 'lan0',
  hosts: [],
  hostAccess: null,
  brNetfilter: true,
  warnings: [],
  processes: [],
};

describe('env files', () => {
  it('round-trips KEY=VALUE lines and skips comments', () => {
    const env = { KUBECONFIG: '/run/klab/labs/lab/kubeconfig', A: 'x=y' };
    expect(parseEnvFile(`# preset\n\n${renderEnvFile(env)}`, 'f')).toEqual(env);
  });

  it('names the file and line of a bad entry', () => {
    expect(() => parseEnvFile('A=1\nnonsense\n', '/x/ext.env')).toThrow('/x/ext.env:2: expected KEY=VALUE');
    expect(() => renderEnvFile({ 'BAD KEY': '1' })).toThrow('"BAD KEY"');
  });
});

describe('state directory', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'klab-state-test-'));
    process.env.KLAB_STATE_DIR = dir;
  });
  afterAll(() => {
    delete process.env.KLAB_STATE_DIR;
    rmSync(dir, { recursive: true, force: true });
  });

  it('reads nothing for an unknown lab', async () => {
    expect(await readState('nope')).toBeUndefined();
  });

  it('loses no update when many writers race', async () => {
    await writeState(base);
    await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        updateState('unit', (s) => ({ ...s, warnings: [...s.warnings, `w${i}`] })),
      ),
    );
    expect((await readState('unit'))?.warnings).toHaveLength(20);
  });

  it('merges host env entries', async () => {
    await setHostEnv('unit', 'ext', { KLAB_LAB: 'unit' });
    await setHostEnv('unit', 'ext', { KUBECONFIG: '/k' });
    expect(await readHostEnv('unit', 'ext')).toEqual({ KLAB_LAB: 'unit', KUBECONFIG: '/k' });
  });
});
