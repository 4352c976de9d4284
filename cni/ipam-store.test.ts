import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseNetConf } from './config.js';
import { formatIp } from './ipv4.js';
import { LeaseStore } from './ipam-store.js';
import { ownerToken, withLock } from './lock.js';

let dataDir: string;

beforeEach(() => {
  dataDir = mkdtempSync(join(tmpdir(), 'kcni-ipam-'));
});

afterEach(() => {
  rmSync(dataDir, { recursive: true, force: true });
});

function store(subnet = '10.9.0.0/24'): LeaseStore {
  const conf = parseNetConf({
    cniVersion: '1.1.0',
    name: 'net',
    type: 't',
    ipam: { type: 'host-local', ranges: [[{ subnet }]], dataDir },
  });
  return new LeaseStore(conf.ipam, conf.name);
}

describe('LeaseStore', () => {
  it('writes host-local lease files and last_reserved_ip, and refuses a duplicate attachment', async () => {
    const s = store();
    const [lease] = await s.allocate('c1', 'eth0');
    expect(formatIp(lease?.ip ?? 0)).toBe('10.9.0.2');
    expect(readFileSync(join(s.dir, '10.9.0.2'), 'utf8')).toBe('c1\r\neth0');
    expect(readFileSync(join(s.dir, 'last_reserved_ip.0'), 'utf8')).toBe('10.9.0.2');
    await expect(s.allocate('c1', 'eth0')).rejects.toThrow(/duplicate allocation/);
    expect(formatIp((await s.allocate('c1', 'eth1'))[0]?.ip ?? 0)).toBe('10.9.0.3');
  });

  it('releases idempotently and does not reuse a freed address at once', async () => {
    const s = store();
    await s.allocate('c1', 'eth0');
    expect((await s.release('c1', 'eth0')).map(formatIp)).toEqual(['10.9.0.2']);
    expect(await s.release('c1', 'eth0')).toEqual([]);
    expect(await s.release('never', 'eth0')).toEqual([]);
    expect(formatIp((await s.allocate('c2', 'eth0'))[0]?.ip ?? 0)).toBe('10.9.0.3');
  });

  it('gives concurrent allocations distinct addresses and fails cleanly when exhausted', async () => {
    const s = store('10.9.0.0/29');
    const results = await Promise.allSettled([1, 2, 3, 4, 5, 6].map((i) => s.allocate(`c${i}`, 'eth0')));
    const ips = results.flatMap((r) => (r.status === 'fulfilled' ? r.value.map((l) => l.ip) : []));
    expect(new Set(ips).size).toBe(5);
    const failed = results.filter((r) => r.status === 'rejected');
    expect(failed).toHaveLength(1);
    expect(String((failed[0] as PromiseRejectedResult).reason)).toMatch(
      /no IP addresses available in range set 0/,
    );
  });

  it('GC keeps valid attachments and frees the rest, with temp files of dead writers', async () => {
    const s = store();
    await s.allocate('keep', 'eth0');
    await s.allocate('stale', 'eth0');
    writeFileSync(join(s.dir, '10.9.0.9.999999999.tmp'), 'x');
    expect((await s.gc([{ containerID: 'keep', ifname: 'eth0' }])).map(formatIp)).toEqual(['10.9.0.3']);
    expect(readdirSync(s.dir).sort()).toEqual(['10.9.0.2', 'last_reserved_ip.0']);
  });
});

describe('withLock', () => {
  it('breaks a lock left by a dead process', async () => {
    const path = join(dataDir, 'lock');
    writeFileSync(path, '999999999 12345');
    expect(await withLock(path, () => 'ran', 2000)).toBe('ran');
    expect(existsSync(path)).toBe(false);
  });

  it('waits for a live holder and times out with code 11', async () => {
    const path = join(dataDir, 'lock');
    const sleeper = spawn('sleep', ['30']);
    try {
      await new Promise((r) => setTimeout(r, 50));
      writeFileSync(path, ownerToken(sleeper.pid));
      await expect(withLock(path, () => 'ran', 300)).rejects.toMatchObject({ code: 11 });
    } finally {
      sleeper.kill();
    }
  });

  it('serialises critical sections', async () => {
    const path = join(dataDir, 'lock');
    let inside = 0;
    let overlap = false;
    await Promise.all(
      Array.from({ length: 10 }, () =>
        withLock(path, async () => {
          inside++;
          if (inside > 1) overlap = true;
          await new Promise((r) => setTimeout(r, 5));
          inside--;
        }),
      ),
    );
    expect(overlap).toBe(false);
  });
});
