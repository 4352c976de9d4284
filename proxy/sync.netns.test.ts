/**
 * The sync engine's bookkeeping against real iptables-nft in a throwaway namespace (kpx-s*):
 * what each sync writes, how its time is split, and that the active-chain set it keeps between
 * endpoint-only syncs matches the kernel. Time comes from a clock that only the commands move
 * (a restore 7 ms, any other command 100 ms), so the split is exact.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EndpointSliceObject, ServiceObject } from './objects.js';
import { ProxySyncEngine } from './sync.js';
import { hostExec, IptablesApplier } from './iptables/apply.js';
import type { Exec } from './iptables/apply.js';
import { endpointChain, serviceChains } from './iptables/names.js';

const ns = `kpx-s${randomBytes(3).toString('hex')}`;
let clock = 0;
let lastRestore = '';
const exec: Exec = async (file, args, input) => {
  const r = await hostExec('nsenter', [`--net=/run/netns/${ns}`, file, ...args], input);
  const restore = file.endsWith('-restore');
  if (restore) lastRestore = input ?? '';
  clock += restore ? 7 : 100;
  return r;
};
const applier = new IptablesApplier(exec, 'nft');

function service(name: string, ip: string, port = 'http'): ServiceObject {
  return {
    metadata: { namespace: 'demo', name },
    spec: { clusterIP: ip, ports: [{ name: port, port: 80, protocol: 'TCP' }] },
  };
}

function slice(name: string, ips: string[], port = 'http'): EndpointSliceObject {
  return {
    metadata: { namespace: 'demo', name: `${name}-abc`, labels: { 'kubernetes.io/service-name': name } },
    addressType: 'IPv4',
    endpoints: ips.map((ip) => ({ addresses: [ip], nodeName: 'node-1' })),
    ports: [{ name: port, port: 8080, protocol: 'TCP' }],
  };
}

const engine = new ProxySyncEngine({
  node: {
    name: 'node-1',
    ips: ['192.168.56.11'],
    clusterCIDR: '10.244.0.0/16',
    masqueradeAll: false,
    localhostNodePorts: true,
  },
  exec,
  applier,
  minSyncPeriodMs: 0,
  now: () => clock,
});

/** nat rules as iptables-save prints them, without counters and the header. */
async function natRules(): Promise<string[]> {
  return (await applier.save('nat')).split('\n').filter((l) => l.startsWith('-A ') || l.startsWith(':'));
}

beforeAll(async () => {
  const r = await hostExec('ip', ['netns', 'add', ns]);
  if (r.code !== 0) throw new Error(`ip netns add ${ns}: ${r.stderr}`);
});

afterAll(async () => {
  await engine.stop();
  await hostExec('ip', ['netns', 'del', ns]);
});

describe('sync engine against iptables-nft', () => {
  it('times the restore apart from the canary, jump-rule and chain-listing commands', async () => {
    engine.setService(service('web', '10.96.0.20'));
    engine.setEndpointSlice(slice('web', ['10.244.1.2', '10.244.2.2']));
    engine.setService(service('other', '10.96.0.21'));
    engine.setEndpointSlice(slice('other', ['10.244.3.2']));
    const r = await engine.syncNow();
    expect(r).toMatchObject({ ok: true, full: true, restoreMs: 7, renderMs: 0 });
    // iptables-save, three canary chains, and -N/-C/-I for each of the 14 jump rules.
    expect(r.checkMs).toBe(100 * (1 + 3 + 14 * 3));
  });

  it('an endpoint change writes only that service’s chains; the result is what a full sync writes', async () => {
    const gone = endpointChain({ name: 'demo/web:http', protocol: 'TCP' }, { ip: '10.244.1.2', port: 8080 });
    engine.setEndpointSlice(slice('web', ['10.244.2.2', '10.244.4.2']));
    const r = await engine.syncNow();
    expect(r).toMatchObject({ ok: true, full: false, restoreMs: 7, checkMs: 100, deletedChains: [gone] });
    expect(lastRestore).not.toContain('KUBE-SERVICES');
    expect(lastRestore).toContain(`:${serviceChains({ name: 'demo/web:http', protocol: 'TCP' }).svc} `);
    expect(lastRestore).not.toContain('demo/other');
    const partial = await natRules();
    engine.forceFullSync();
    expect(await engine.syncNow()).toMatchObject({ ok: true, full: true });
    expect(await natRules()).toEqual(partial);
  });

  it('keeps the active chains of endpoint-only syncs: a chain one of them added, deleted by hand, forces a full sync', async () => {
    engine.setEndpointSlice(slice('web', ['10.244.2.2', '10.244.5.2']));
    expect(await engine.syncNow()).toMatchObject({ ok: true, full: false });
    // The dropped endpoint's chain left the set: this endpoint-only sync stays partial.
    engine.setEndpointSlice(slice('other', ['10.244.3.2', '10.244.6.2']));
    expect(await engine.syncNow()).toMatchObject({ ok: true, full: false });

    const added = endpointChain({ name: 'demo/web:http', protocol: 'TCP' }, { ip: '10.244.5.2', port: 8080 });
    const svc = serviceChains({ name: 'demo/web:http', protocol: 'TCP' }).svc;
    for (const args of [
      ['-F', svc],
      ['-F', added],
      ['-X', added],
    ]) {
      expect((await exec('iptables-nft', ['-t', 'nat', ...args])).code).toBe(0);
    }
    engine.setEndpointSlice(slice('other', ['10.244.3.2']));
    expect(await engine.syncNow()).toMatchObject({ ok: true, full: true });
    expect((await natRules()).some((l) => l.startsWith(`-A ${added} `))).toBe(true);
  });

  it('a renamed port rewrites the top-level chains', async () => {
    engine.setService(service('other', '10.96.0.21', 'web'));
    engine.setEndpointSlice(slice('other', ['10.244.3.2'], 'web'));
    expect(await engine.syncNow()).toMatchObject({ ok: true, full: false });
    expect(lastRestore).toContain(':KUBE-SERVICES - [0:0]');
    expect(lastRestore).toContain('demo/other:web');
  });
});
