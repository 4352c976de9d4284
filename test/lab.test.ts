/**
 * Acceptance tests of the netns lab (issue 2), through the built CLI and the supervisor API.
 * Every packet is sent from inside a lab namespace (traffic rule).
 */
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LabError } from '../lab/errors.js';
import { labDown, labUp } from '../lab/lifecycle.js';
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

const quiet = { provider: netnsProvider, log: () => undefined };
const upQuietly = (
  name: string,
  nodes: number,
  extra: { hostAccess?: boolean; failAfterNodes?: number } = {},
) =>
  labUp(
    { name, nodes, hostAccess: extra.hostAccess },
    { ...quiet, signal: new AbortController().signal, onStep: () => undefined, faults: extra },
  );

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
    // Lab a through the CLI (the user's path), lab b through the library, at the same time.
    const [upA] = await Promise.all([klab(['lab', 'up', '--name', a, '--no-cluster']), upQuietly(b, 2)]);
    expect(upA.stderr).toBe('');
    expect(upA.exitCode).toBe(0);
    expect(upA.stdout).toContain('✓ namespaces and LAN links');
    expect(upA.stdout).toContain(`lab "${a}" is up in`);
  });

  afterAll(async () => {
    await Promise.all([labDown(a, quiet), labDown(b, quiet)]);
  });

  it('ext pings every node, and node-1 pings node-3', async () => {
    const targets = ['192.168.56.11', '192.168.56.12', '192.168.56.13'];
    expect(await Promise.all(targets.map((ip) => pings(a, 'ext', ip)))).toEqual([true, true, true]);
    expect(await pings(a, 'node-1', '192.168.56.13')).toBe(true);
  });

  it('nodes carry the sysctls a Kubernetes node needs', async () => {
    const keys = ['net/ipv4/ip_forward', 'net/ipv4/conf/all/rp_filter', 'net/ipv4/conf/all/route_localnet'];
    const result = await onLabHost(a, 'node-1', ['cat', ...keys.map((k) => `/proc/sys/${k}`)]);
    expect(result.stdout.split('\n')).toEqual(['1', '0', '1']);
  });

  describe('through the CLI', () => {
    it('lab exec node-2 -- ip -br addr shows 192.168.56.12', async () => {
      const result = await klab(['lab', 'exec', '--name', a, 'node-2', '--', 'ip', '-br', 'addr']);
      expect(result.exitCode).toBe(0);
      expect(result.stdout).toMatch(/^eth1@\S+\s+UP\s+192\.168\.56\.12\/24/m);
    });

    it('lab exec passes stdin, stdout and the exit code through', async () => {
      const result = await klab(['lab', 'exec', '--name', a, 'ext', '--', 'sh', '-c', 'cat; exit 7'], {
        input: 'hello lab\n',
      });
      expect(result.stdout).toBe('hello lab');
      expect(result.exitCode).toBe(7);
    });

    it('lab exec on an unknown host names the hosts there are', async () => {
      const result = await klab(['lab', 'exec', '--name', a, 'node-9', '--', 'true']);
      expect(result.exitCode).toBe(1);
      expect(result.stderr).toContain('has no host "node-9"');
      expect(result.stderr).toContain('node-1, node-2, node-3, ext');
    });

    it('lab shell runs the shell on the host with the host env file loaded', async () => {
      const result = await klab(['lab', 'shell', '--name', a, 'node-3'], {
        input: 'echo "on=$KLAB_HOST"; ip -br -4 addr show dev eth1; exit 3\n',
        env: { SHELL: '/bin/bash' },
      });
      expect(result.stdout).toContain('on=node-3');
      expect(result.stdout).toContain('192.168.56.13/24');
      expect(result.exitCode).toBe(3);
    });
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

    const [status, logs] = await Promise.all([
      klab(['lab', 'status', '--name', a, '--json']),
      klab(['lab', 'logs', '--name', a, 'node-2']),
    ]);
    expect(status.exitCode).toBe(0);
    const parsed = JSON.parse(status.stdout) as {
      healthy: boolean;
      processes: Array<Record<string, unknown>>;
    };
    expect(parsed.healthy).toBe(true);
    expect(parsed.processes).toMatchObject([
      { host: 'node-2', component: 'echo', running: true, healthy: true },
    ]);
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
});

describe('failures and interruptions leave nothing behind', () => {
  const labs: string[] = [];
  const fresh = () => {
    const name = randomLabName();
    labs.push(name);
    return name;
  };

  afterAll(async () => {
    await Promise.all(labs.map((lab) => labDown(lab, quiet)));
  });

  /** Starts `klab lab up` that pauses after one node (KLAB_LAB_HANG_AFTER_NODES) and waits for it. */
  async function pausedUp(lab: string, nodes: number) {
    const child = execa(
      process.execPath,
      [KLAB_JS, 'lab', 'up', '--name', lab, '--nodes', String(nodes), '--no-cluster'],
      {
        env: { KLAB_LAB_HANG_AFTER_NODES: '1' },
        reject: false,
      },
    );
    let stdout = '';
    child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    try {
      await waitFor(
        'up to pause',
        async () => (stdout.includes('paused after 1 nodes') ? true : undefined),
        40_000,
      );
    } catch (error) {
      // A paused up waits forever; interrupt it so it cleans up after itself.
      child.kill('SIGINT');
      await child;
      throw error;
    }
    // Wrapped: returning the subprocess itself from an async function would await its end.
    return { child };
  }

  it('an up that fails after two nodes cleans up by itself', async () => {
    const lab = fresh();
    await expect(upQuietly(lab, 4, { failAfterNodes: 2 })).rejects.toThrow('forced failure after 2 nodes');
    await expectGone(lab);
  });

  it('refuses a second up, naming the fix', async () => {
    const lab = fresh();
    await upQuietly(lab, 1);
    const refused = await upQuietly(lab, 1).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(LabError);
    expect(refused).toMatchObject({
      code: 'LAB_EXISTS',
      hint: `take it down first: klab lab down --name ${lab}`,
    });
    expect(labNamespaces(lab)).toHaveLength(3);
    expect(await labDown(lab, quiet)).toBe(true);
    await expectGone(lab);
  });

  it('Ctrl-C during up cleans up and exits 130', async () => {
    const lab = fresh();
    const { child } = await pausedUp(lab, 3);
    child.kill('SIGINT');
    const result = await child;
    expect(result.exitCode).toBe(130);
    expect(result.stderr).toContain('up was interrupted');
    await expectGone(lab);
  });

  it('down removes a crashed up by naming convention alone, without state', async () => {
    const lab = fresh();
    const { child } = await pausedUp(lab, 2);
    child.kill('SIGKILL');
    await child;
    rmSync(join(stateDir, 'labs', lab), { recursive: true, force: true });
    expect(await netnsProvider.listLabs()).toContain(lab);
    expect(await labDown(lab, quiet)).toBe(true);
    await expectGone(lab);
  });

  it('--host-access adds kl-<lab> with 192.168.56.1 on the host, and down removes it (no packets sent)', async () => {
    const lab = fresh();
    await upQuietly(lab, 1, { hostAccess: true });
    const link = await execa('ip', ['-br', '-4', 'addr', 'show', 'dev', `kl-${lab}`], { reject: false });
    expect(link.stdout).toContain('192.168.56.1/24');
    await labDown(lab, quiet);
    await expectGone(lab);
    const after = await execa('ip', ['link', 'show', 'dev', `kl-${lab}`], { reject: false });
    expect(after.exitCode).not.toBe(0);
  });

  it('the CLI rejects a bad name before creating anything', async () => {
    const result = await klab(['lab', 'up', '--name', 'Bad_Name']);
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain('lab name "Bad_Name" may only hold');
  });
});
