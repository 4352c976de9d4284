import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { goTimeString, ProxierHealth, ProxyHttpServers, ServiceHealthServers } from './health.js';
import { ProxyMetrics } from './metrics.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const srv = createServer().listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

describe('ProxierHealth', () => {
  it('is unhealthy once a queued sync waits longer than the timeout', () => {
    let now = 1_000_000;
    const h = new ProxierHealth(60_000, () => now);
    expect(h.isHealthy()).toBe(true);
    h.queued();
    now += 59_000;
    expect(h.isHealthy()).toBe(true);
    now += 2_000;
    expect(h.healthz().status).toBe(503);
    h.updated();
    expect(h.healthz()).toEqual({
      status: 200,
      body: `{"lastUpdated": "${goTimeString(now)}","currentTime": "${goTimeString(now)}", "nodeEligible": true}`,
    });
  });

  it('prints times like Go time.Time', () => {
    expect(goTimeString(Date.UTC(2024, 0, 2, 3, 4, 5, 600))).toBe('2024-01-02 03:04:05.6 +0000 UTC');
  });
});

describe('HTTP servers on loopback', () => {
  it('serves /healthz and /metrics', async () => {
    const health = new ProxierHealth(60_000);
    const metrics = new ProxyMetrics();
    metrics.restoreFailures.inc();
    const s = new ProxyHttpServers(health, async () => ({
      contentType: metrics.registry.contentType,
      body: await metrics.registry.metrics(),
    }));
    cleanups.push(() => s.stop());
    const ports = await s.start({
      healthz: { host: '127.0.0.1', port: 0 },
      metrics: { host: '127.0.0.1', port: 0 },
    });
    const hz = await fetch(`http://127.0.0.1:${ports.healthz}/healthz`);
    expect(hz.status).toBe(200);
    expect(await hz.json()).toMatchObject({ nodeEligible: true });
    const m = await (await fetch(`http://127.0.0.1:${ports.metrics}/metrics`)).text();
    expect(m).toContain('kubeproxy_sync_proxy_rules_iptables_restore_failures_total 1');
    expect(m).toContain('kubeproxy_network_programming_duration_seconds_bucket');
  });

  it('answers health-check node ports 200 with local endpoints, 503 without, and closes removed ones', async () => {
    const health = new ProxierHealth(60_000);
    const s = new ServiceHealthServers(health, '127.0.0.1');
    cleanups.push(() => s.stop());
    const port = await freePort();
    await s.sync(new Map([[port, { namespace: 'demo', name: 'web', localEndpoints: 2 }]]));
    const ok = await fetch(`http://127.0.0.1:${port}/`);
    expect(ok.status).toBe(200);
    expect(ok.headers.get('x-load-balancing-endpoint-weight')).toBe('2');
    expect(await ok.json()).toEqual({
      service: { namespace: 'demo', name: 'web' },
      localEndpoints: 2,
      serviceProxyHealthy: true,
    });
    await s.sync(new Map([[port, { namespace: 'demo', name: 'web', localEndpoints: 0 }]]));
    expect((await fetch(`http://127.0.0.1:${port}/`)).status).toBe(503);
    await s.sync(new Map());
    await expect(fetch(`http://127.0.0.1:${port}/`)).rejects.toThrow();
  });
});
