import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run } from './exec.js';
import { IFF_UP, linkDel, linkSetFlags } from './netlink.js';
import { NetlinkError, closeNetlink, netlink, setNetlinkAnswerTimeout } from './nlexec.js';

/**
 * The netlink helper against a throwaway namespace, on a veth pair whose names exist nowhere
 * else: a request that went to the wrong namespace fails instead of touching the host.
 */

const id = randomBytes(3).toString('hex');
const NS = `kcni-nl-${id}`;
const PATH = `/run/netns/${NS}`;
const DEV = `knl${id}`;

async function flags(): Promise<string> {
  return (await run('ip', ['-n', NS, '-o', 'link', 'show', DEV])).stdout;
}

beforeAll(async () => {
  for (const args of [
    ['netns', 'add', NS],
    ['-n', NS, 'link', 'add', DEV, 'type', 'veth', 'peer', 'name', `${DEV}p`],
  ]) {
    const out = await run('ip', args);
    if (out.code !== 0) throw new Error(`ip ${args.join(' ')}: ${out.stderr}`);
  }
});

afterAll(async () => {
  await closeNetlink();
  await run('ip', ['netns', 'del', NS]);
});

describe('netlink helper', () => {
  it('sends requests inside another namespace and reports the first the kernel refuses', async () => {
    expect(await flags()).not.toContain(',UP');
    await netlink('test', [linkSetFlags(DEV, IFF_UP, IFF_UP)], { netns: PATH });
    expect(await flags()).toContain(',UP');

    const refused = netlink(
      'test',
      [linkSetFlags(DEV, 0, IFF_UP), linkDel('nosuch0'), linkSetFlags(DEV, IFF_UP, IFF_UP)],
      {
        netns: PATH,
      },
    );
    await expect(refused).rejects.toThrow('test: deleting nosuch0: ENODEV');
    await expect(refused).rejects.toBeInstanceOf(NetlinkError);
    // The requests after the refused one were not sent.
    expect(await flags()).not.toContain(',UP');
  });

  it('says why it cannot enter a namespace, and starts again after it was ended', async () => {
    await expect(
      netlink('test', [linkSetFlags(DEV, IFF_UP, IFF_UP)], { netns: `${PATH}-gone` }),
    ).rejects.toThrow(`opening ${PATH}-gone: No such file or directory`);
    await closeNetlink();
    await netlink('test', [linkSetFlags(DEV, IFF_UP, IFF_UP)], { netns: PATH });
    expect(await flags()).toContain(',UP');
  });

  it('kills a helper that gives no answer, fails that request clearly, and serves the next one', async () => {
    // Opening a FIFO for reading blocks until a writer comes: a real helper, really stuck.
    const dir = mkdtempSync(join(tmpdir(), 'kcni-nl-'));
    const fifo = join(dir, 'netns');
    try {
      const made = await run('mkfifo', [fifo]);
      expect(made.code, made.stderr).toBe(0);
      setNetlinkAnswerTimeout(300);
      const started = Date.now();
      await expect(netlink('test', [linkSetFlags(DEV, 0, IFF_UP)], { netns: fifo })).rejects.toThrow(
        'netlink helper gave no answer for 300 ms and was killed',
      );
      expect(Date.now() - started).toBeLessThan(5_000);
      setNetlinkAnswerTimeout(10_000);
      await netlink('test', [linkSetFlags(DEV, IFF_UP, IFF_UP)], { netns: PATH });
      expect(await flags()).toContain(',UP');
      await netlink('test', [linkSetFlags(DEV, 0, IFF_UP)], { netns: PATH });
      expect(await flags()).not.toContain(',UP');
    } finally {
      setNetlinkAnswerTimeout(10_000);
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
