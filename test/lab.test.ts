/**
 * Acceptance tests of the netns lab (issue 2), through the built CLI and the supervisor API.
 * Every packet is sent from inside a lab namespace (traffic rule).
 */
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { netnsProvider } from '../lab/netns/provider.js';
import { isRunning, startProcess } from '../lab/processes.js';
import { readState, type ProcessRecord } from '../lab/state.js';
import { klab, KLAB_JS } from './support/klab-cli.js';
import { randomLabName } from './support/lab-name.js';
import { onLabHost, pings, processAlive, waitFor } from './support/netns.js';

const stateDir = mkdtempSync(join(tmpdir(), 'klab-lab-test-'));
process.env.KLAB_STATE_DIR = stateDir;
afterAll(() => rmSync(stateDir, { recursive: true, force: true }));

function labNamespaces(lab: string): string[] {
  const all = existsSync('/run/netns') ? readdirSync('/run/netns') : [];
  return all.filter((ns) => ns.startsWith(`klab-${lab}-`));
}

async function curlJson(
  lab: string,
  host: string,
  url: string,
): Promise<Record<string, unknown> | undefined> {
  const result = await onLabHost(lab, host, ['curl', '-fsS', '-m', '2', url]);
  return result.exitCode === 0 ? (JSON.parse(result.stdout) as Record<string, unknown>) : undefined;
}

function startEcho(lab: string, host: string, env: Record<string, string> = {}): Promise<ProcessRecord> {
  return startProcess(netnsProvider, lab, host, 'echo', [process.execPath, KLAB_JS, 'echo', '--node', host], {
    env,
    healthUrl: 'http://127.0.0.1:8080/healthz',
  });
}

/** No namespace, state, host-access link or recorded process of `lab` is left. */
async function expectGone(lab: string, pids: readonly ProcessRecord[] = []): Promise<void> {
  expect(labNamespaces(lab)).toEqual([]);
  expect(existsSync(join(stateDir, 'labs', lab))).toBe(false);
  expect(await netnsProvider.exists(lab)).toBe(false);
  for (const p of pids) expect(isRunning(p)).toBe(false);
}

describe('two labs side by side', () => {
  const a = randomLabName();
  const b = randomLabName();

  beforeAll(async () => {
    const [upA, upB] = await Promise.all([
      klab(['lab', 'up', '--name', a]),
      klab(['lab', 'up', '--name', b, '--nodes', '2']),
    ]);
    expect(upA.stderr).toBe('');
    expect(upA.exitCode).toBe(0);
    expect(upB.exitCode).toBe(0);
  });

  afterAll(async () => {
    await Promise.all([klab(['lab', 'down', '--name', a]), klab(['lab', 'down', '--name', b])]);
  });

  it('ext pings every node, and node-1 pings node-3', async () => {
    const targets = ['192.168.56.11', '192.168.56.12', '192.168.56.13'];
    expect(await Promise.all(targets.map((ip) => pings(a, 'ext', ip)))).toEqual([true, true, true]);
    expect(await pings(a, 'node-1', '192.168.56.13')).toBe(true);
  });

  it('lab exec node-2 -- ip -br addr shows 192.168.56.12', async () => {
    const result = await klab(['lab', 'exec', '--name', a, 'node-2', '--', 'ip', '-br', 'addr']);
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toMatch(/^eth1@\S+\s+UP\s+192\.168\.56\.12\/24/m);
  });

  it('lab exec passes stdin, stdout and the exit code through', async () => {
    const failing = await klab(['lab', 'exec', '--name', a, 'ext', '--', 'sh', '-c', 'cat; exit 7'], {
      input: 'hello lab\n',
    });
    expect(failing.stdout).toBe('hello lab');
    expect(failing.exitCode).toBe(7);
    const ok = await klab(['lab', 'exec', '--name', a, 'node-1', '--', 'true']);
    expect(ok.exitCode).toBe(0);
  });

  it('lab exec on an unknown host names the hosts there are', async () => {
    const result = await klab(['lab', 'exec', '--name', a, 'node-9', '--', 'true']);
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain('has no host "node-9"');
    expect(result.stderr).toContain('node-1, node-2, node-3, ext');
  });

  it('nodes carry the sysctls a Kubernetes node needs', async () => {
    const keys = ['net.ipv4.ip_forward', 'net.ipv4.conf.all.rp_filter', 'net.ipv4.conf.all.route_localnet'];
    const result = await onLabHost(a, 'node-1', ['sysctl', '-n', ...keys]);
    expect(result.stdout.split('\n')).toEqual(['1', '0', '1']);
  });

  it('klab echo on node-2, queried from ext, sees client 192.168.56.2; status and logs show it', async () => {
    await startEcho(a, 'node-2');
    const reply = await waitFor('echo on node-2', () =>
      curlJson(a, 'ext', 'http://192.168.56.12:8080/hello'),
    );
    expect(reply).toMatchObject({
      node: 'node-2',
      podIP: '192.168.56.12',
      path: '/hello',
      client: { address: '192.168.56.2' },
    });

    const status = await klab(['lab', 'status', '--name', a, '--json']);
    expect(status.exitCode).toBe(0);
    const parsed = JSON.parse(status.stdout) as {
      healthy: boolean;
      processes: Array<Record<string, unknown>>;
    };
    expect(parsed.healthy).toBe(true);
    expect(parsed.processes).toMatchObject([
      { host: 'node-2', component: 'echo', running: true, healthy: true },
    ]);

    const logs = await klab(['lab', 'logs', '--name', a, 'node-2']);
    expect(logs.exitCode).toBe(0);
    expect(logs.stdout).toContain('"path":"/hello"');
  });

  it("the two labs are independent: the same address reaches each lab's own node", async () => {
    await startEcho(b, 'node-2', { NODE_NAME: `node-2-of-${b}` });
    const fromB = await waitFor('echo in lab b', () => curlJson(b, 'ext', 'http://192.168.56.12:8080/'));
    expect(fromB.node).toBe(`node-2-of-${b}`);
    const fromA = await waitFor('echo in lab a', () => curlJson(a, 'ext', 'http://192.168.56.12:8080/'));
    expect(fromA.node).toBe('node-2');
    // Lab b has two nodes: 192.168.56.13 exists only in lab a.
    expect(await pings(b, 'ext', '192.168.56.13')).toBe(false);
  });

  it('down of one lab removes its processes, namespaces and state, leaves the other, and is idempotent', async () => {
    const recorded = (await readState(b))?.processes ?? [];
    expect(recorded).toHaveLength(1);
    // A process the supervisor does not know about: down must find it by namespace.
    const stray = await onLabHost(b, 'node-1', ['sh', '-c', 'sleep 300 >/dev/null 2>&1 & echo $!']);
    const strayPid = Number(stray.stdout);
    expect(strayPid).toBeGreaterThan(0);

    const first = await klab(['lab', 'down', '--name', b]);
    expect(first.exitCode).toBe(0);
    await expectGone(b, recorded);
    expect(processAlive(strayPid)).toBe(false);
    const second = await klab(['lab', 'down', '--name', b]);
    expect(second.exitCode).toBe(0);
    expect(second.stdout).toContain('nothing to do');

    expect(labNamespaces(a)).toHaveLength(5);
    expect(await pings(a, 'ext', '192.168.56.11')).toBe(true);
    expect(await curlJson(a, 'ext', 'http://192.168.56.12:8080/')).toMatchObject({ node: 'node-2' });
  });

  it('refuses a second up of an existing lab and says how to fix it', async () => {
    const result = await klab(['lab', 'up', '--name', a]);
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain(`lab "${a}" already exists`);
    expect(result.stderr).toContain(`klab lab down --name ${a}`);
  });
});

describe('failures and interruptions leave nothing behind', () => {
  const labs: string[] = [];
  const fresh = () => {
    const name = randomLabName();
    labs.push(name);
    return name;
  };

  afterAll(async () => {
    await Promise.all(labs.map((lab) => klab(['lab', 'down', '--name', lab])));
  });

  it('an up that fails after two nodes cleans up by itself', async () => {
    const lab = fresh();
    const result = await klab(['lab', 'up', '--name', lab, '--nodes', '4'], {
      env: { KLAB_LAB_FAIL_AFTER_NODES: '2' },
    });
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain('forced failure after 2 nodes');
    expect(result.stdout).toContain('cleaning up');
    await expectGone(lab);
  });

  it('Ctrl-C during up cleans up and exits 130', async () => {
    const lab = fresh();
    const child = execa(process.execPath, [KLAB_JS, 'lab', 'up', '--name', lab], {
      env: { KLAB_LAB_HANG_AFTER_NODES: '1' },
      reject: false,
    });
    let stdout = '';
    child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    await waitFor('up to pause', async () => (stdout.includes('paused after 1 nodes') ? true : undefined));
    child.kill('SIGINT');
    const result = await child;
    expect(result.exitCode).toBe(130);
    expect(result.stdout).toContain('paused after 1 nodes');
    await expectGone(lab);
  });

  it('down removes a crashed up by naming convention alone, without state', async () => {
    const lab = fresh();
    const child = execa(process.execPath, [KLAB_JS, 'lab', 'up', '--name', lab, '--nodes', '2'], {
      env: { KLAB_LAB_HANG_AFTER_NODES: '1' },
      reject: false,
    });
    let stdout = '';
    child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    await waitFor('up to pause', async () => (stdout.includes('paused after 1 nodes') ? true : undefined));
    child.kill('SIGKILL');
    await child;
    rmSync(join(stateDir, 'labs', lab), { recursive: true, force: true });
    const listed = await klab(['lab', 'list']);
    expect(listed.stdout).toMatch(new RegExp(`^${lab} .*no state`, 'm'));
    const down = await klab(['lab', 'down', '--name', lab]);
    expect(down.exitCode).toBe(0);
    await expectGone(lab);
  });

  it('--host-access adds kl-<lab> with 192.168.56.1 on the host, and down removes it (no packets sent)', async () => {
    const lab = fresh();
    const up = await klab(['lab', 'up', '--name', lab, '--nodes', '1', '--host-access']);
    expect(up.exitCode).toBe(0);
    const link = await execa('ip', ['-br', '-4', 'addr', 'show', 'dev', `kl-${lab}`], { reject: false });
    expect(link.stdout).toContain('192.168.56.1/24');
    const down = await klab(['lab', 'down', '--name', lab]);
    expect(down.exitCode).toBe(0);
    await expectGone(lab);
    const after = await execa('ip', ['link', 'show', 'dev', `kl-${lab}`], { reject: false });
    expect(after.exitCode).not.toBe(0);
  });

  it('rejects bad names and node counts before creating anything', async () => {
    const badName = await klab(['lab', 'up', '--name', 'Bad_Name']);
    expect(badName.exitCode).toBe(1);
    expect(badName.stderr).toContain('lab name "Bad_Name" may only hold');
    const badNodes = await klab(['lab', 'up', '--name', fresh(), '--nodes', '0']);
    expect(badNodes.exitCode).toBe(1);
    expect(badNodes.stderr).toContain('node count 0');
  });
});
