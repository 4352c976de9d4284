import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  DEFAULT_CACHE_SIZE,
  loadConfigFile,
  parseHostPort,
  parseResolvConf,
  resolveConfig,
} from './config.js';

const dir = mkdtempSync(join(tmpdir(), 'klab-dns-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('configuration', () => {
  it('defaults to kubeadm Corefile values and the resolv.conf nameservers', () => {
    const c = resolveConfig([], () => 'search x\nnameserver 10.0.0.2\nnameserver fe80::1%eth0\n');
    expect(c).toMatchObject({
      listen: { host: '0.0.0.0', port: 53 },
      zone: 'cluster.local',
      ttl: 30,
      pods: 'insecure',
      cacheSize: DEFAULT_CACHE_SIZE,
      healthPort: 8080,
      readyPort: 8181,
      metricsPort: 9153,
      workers: 1,
      lameduckMs: 5000,
    });
    expect(c.upstreams).toEqual([
      { host: '10.0.0.2', port: 53 },
      { host: 'fe80::1', port: 53 },
    ]);
  });

  it('parses IP, IP:port and [IPv6]:port, and names what is wrong', () => {
    expect(parseHostPort('10.0.0.1', 53, 'x')).toEqual({ host: '10.0.0.1', port: 53 });
    expect(parseHostPort('10.0.0.1:5353', 53, 'x')).toEqual({ host: '10.0.0.1', port: 5353 });
    expect(parseHostPort('[fd00::1]:54', 53, 'x')).toEqual({ host: 'fd00::1', port: 54 });
    expect(parseHostPort('fd00::1', 53, 'x')).toEqual({ host: 'fd00::1', port: 53 });
    expect(() => parseHostPort('dns.google', 53, 'upstream 1')).toThrow(
      /upstream 1: "dns.google" is not an IP/,
    );
    expect(() => parseHostPort('1.1.1.1:99999', 53, 'listen')).toThrow(/listen: port of "1.1.1.1:99999"/);
  });

  it('lets flags override the file and rejects bad values with their name', () => {
    const file = join(dir, 'dns.yaml');
    writeFileSync(file, 'zone: lab.example\nttl: 5\nupstreams: ["192.0.2.1:5300"]\n');
    const c = resolveConfig([loadConfigFile(file), { ttl: '60' }], () => '');
    expect([c.zone, c.ttl, c.upstreams]).toEqual(['lab.example', 60, [{ host: '192.0.2.1', port: 5300 }]]);
    expect(() => resolveConfig([{ ttl: '5000' }], () => '')).toThrow(/ttl must be an integer from 0 to 3600/);
    expect(() => resolveConfig([{ zone: 'bad..zone' }], () => '')).toThrow(/zone: "bad..zone"/);
    expect(() => resolveConfig([{ pods: 'verified' }], () => '')).toThrow(/pods: must be/);
    expect(() => resolveConfig([{ lameduck: '5' }], () => '')).toThrow(/lameduck must be a duration/);
    expect(resolveConfig([{ lameduck: '500ms' }], () => '').lameduckMs).toBe(500);
    writeFileSync(file, 'zone: a\nttll: 5\n');
    expect(() => loadConfigFile(file)).toThrow(/unknown key "ttll"/);
  });

  it('refuses to forward to itself', () => {
    expect(() => resolveConfig([{ listen: '127.0.0.1:53', upstreams: ['127.0.0.1'] }], () => '')).toThrow(
      /forwarding loop/,
    );
  });

  it('reads only nameserver lines from resolv.conf', () => {
    expect(parseResolvConf('# nameserver 1.1.1.1\noptions ndots:5\nnameserver 192.0.2.53\n')).toEqual([
      { host: '192.0.2.53', port: 53 },
    ]);
  });
});
