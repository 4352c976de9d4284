import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { install, pluginEntry } from './install.js';
import { formatReply, parseRequest, serveResident } from './resident.js';

let dir: string;
let servers: Server[] = [];
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'kcni-resident-'));
});
afterEach(async () => {
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  servers = [];
  rmSync(dir, { recursive: true, force: true });
});

const socketPath = () => join(dir, 'klab-bridge.sock');

function launcher(): string {
  return install(
    {
      binDir: join(dir, 'bin'),
      confDir: join(dir, 'net.d'),
      podCidr: '10.244.2.0/24',
      bridge: 'cni0',
      name: 'klab',
      ipMasq: false,
      portmap: false,
      residentSocket: socketPath(),
    },
    process.execPath,
    pluginEntry(),
  ).plugin;
}

function call(exe: string, env: Record<string, string>, stdin: string) {
  return new Promise<{ code: number; out: Record<string, unknown> }>((resolve, reject) => {
    const child = execFile(exe, { env: { PATH: process.env.PATH, ...env } }, (err, stdout) => {
      if (err && typeof err.code !== 'number') return reject(err);
      resolve({ code: typeof err?.code === 'number' ? err.code : 0, out: JSON.parse(stdout) });
    });
    child.stdin?.end(stdin);
  });
}

describe('resident wire format', () => {
  it('reads CNI_ variables then stdin', () => {
    const buf = Buffer.from('CNI_COMMAND=ADD\0CNI_ARGS=A=1;B=2\0\0{"x":"\0y"}');
    expect(parseRequest(buf)).toEqual({
      env: { CNI_COMMAND: 'ADD', CNI_ARGS: 'A=1;B=2' },
      stdin: '{"x":"\0y"}',
    });
  });

  it('rejects other variables and an unterminated environment, with code 5', () => {
    expect(() => parseRequest(Buffer.from('PATH=/bin\0\0'))).toThrow(/"PATH=\/bin" is not a CNI_ variable/);
    expect(() => parseRequest(Buffer.from('CNI_COMMAND=ADD'))).toThrow(/not terminated/);
  });

  it('replies with the exit code on the first line', () => {
    expect(formatReply({ exitCode: 0, stdout: '' })).toBe('0\n');
    expect(formatReply({ exitCode: 1, stdout: '{"code":4}' })).toBe('1\n{"code":4}\n');
  });
});

describe('the resident launcher', () => {
  it('hands the call to the resident plugin, errors and exit codes included', async () => {
    const server = await serveResident(socketPath());
    servers.push(server);
    expect(statSync(socketPath()).mode & 0o777).toBe(0o600);
    let connections = 0;
    server.on('connection', () => connections++);
    const exe = launcher();
    expect(await call(exe, { CNI_COMMAND: 'VERSION' }, '{"cniVersion":"1.0.0"}')).toEqual({
      code: 0,
      out: { cniVersion: '1.1.0', supportedVersions: ['1.0.0', '1.1.0'] },
    });
    const bad = await call(exe, { CNI_COMMAND: 'ADD', CNI_IFNAME: 'eth0' }, '{}');
    expect(bad.code).toBe(1);
    expect(bad.out).toMatchObject({
      code: 4,
      msg: 'required env variables [CNI_CONTAINERID,CNI_NETNS] missing',
    });
    expect(connections).toBe(2);
  });

  it('runs the plugin itself when nothing listens on the socket', async () => {
    const exe = launcher();
    const version = await call(exe, { CNI_COMMAND: 'VERSION' }, '{}');
    expect(version.out.supportedVersions).toEqual(['1.0.0', '1.1.0']);
    // A socket file nobody listens on, as a killed resident leaves it: connect is refused.
    execFileSync('perl', [
      '-e',
      'socket(S, 1, 1, 0) && bind(S, pack("S Z*", 1, $ARGV[0])) or die',
      socketPath(),
    ]);
    const bad = await call(exe, { CNI_COMMAND: 'NOPE' }, '{}');
    expect(bad.code).toBe(1);
    expect(bad.out).toMatchObject({ code: 4, msg: expect.stringMatching(/unknown CNI_COMMAND: NOPE/) });
  });

  it('answers code 11 when the resident plugin dies mid-call', async () => {
    const dying = createServer((s) => s.destroy());
    servers.push(dying);
    await new Promise<void>((r) => dying.listen(socketPath(), r));
    expect(await call(launcher(), { CNI_COMMAND: 'VERSION' }, '{}')).toMatchObject({
      code: 1,
      out: { code: 11 },
    });
  });
});
