import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** Go's time.Time String() layout, as kube-proxy's healthz JSON prints timestamps. */
export function goTimeString(ms: number): string {
  const d = new Date(ms);
  const pad = (n: number, w = 2) => String(n).padStart(w, '0');
  const frac = d.getUTCMilliseconds() ? `.${pad(d.getUTCMilliseconds(), 3).replace(/0+$/, '')}` : '';
  return (
    `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ` +
    `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}${frac} +0000 UTC`
  );
}

/**
 * kube-proxy's proxier health: healthy unless a sync has been queued for longer than the
 * timeout (2 × sync period upstream) without a successful one since.
 */
export class ProxierHealth {
  lastUpdated = 0;
  private oldestPendingQueued = 0;

  constructor(
    readonly timeoutMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  queued(): void {
    if (this.oldestPendingQueued === 0) this.oldestPendingQueued = this.now();
  }

  updated(): void {
    this.lastUpdated = this.now();
    this.oldestPendingQueued = 0;
  }

  isHealthy(): boolean {
    return this.oldestPendingQueued === 0 || this.now() - this.oldestPendingQueued < this.timeoutMs;
  }

  /** The /healthz answer: status and kube-proxy's JSON body. */
  healthz(): { status: number; body: string } {
    const healthy = this.isHealthy();
    return {
      status: healthy ? 200 : 503,
      body: `{"lastUpdated": "${goTimeString(this.lastUpdated)}","currentTime": "${goTimeString(this.now())}", "nodeEligible": true}`,
    };
  }
}

export interface ServiceHealthState {
  namespace: string;
  name: string;
  /** Ready endpoints of the service on this node. */
  localEndpoints: number;
}

/** The health-check NodePort answer, as kube-proxy's service health server writes it. */
export function serviceHealthAnswer(
  s: ServiceHealthState,
  proxyHealthy: boolean,
): { status: number; headers: Record<string, string>; body: string } {
  const body = [
    '{',
    '\t"service": {',
    `\t\t"namespace": ${JSON.stringify(s.namespace)},`,
    `\t\t"name": ${JSON.stringify(s.name)}`,
    '\t},',
    `\t"localEndpoints": ${s.localEndpoints},`,
    `\t"serviceProxyHealthy": ${proxyHealthy}`,
    '}',
  ].join('\n');
  return {
    status: s.localEndpoints > 0 && proxyHealthy ? 200 : 503,
    headers: {
      'Content-Type': 'application/json',
      'X-Content-Type-Options': 'nosniff',
      'X-Load-Balancing-Endpoint-Weight': String(s.localEndpoints),
    },
    body,
  };
}

function listen(server: Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

function close(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.closeAllConnections();
    server.close(() => resolve());
  });
}

/** /healthz and /livez on 10256 and /metrics on 10249, as kube-proxy serves them. */
export class ProxyHttpServers {
  private servers: Server[] = [];

  constructor(
    private readonly health: ProxierHealth,
    private readonly metrics: () => Promise<{ contentType: string; body: string }>,
  ) {}

  /** Starts both listeners; returns the ports actually bound (0 asks for any free port). */
  async start(o: {
    healthz: { host: string; port: number };
    metrics: { host: string; port: number };
  }): Promise<{ healthz: number; metrics: number }> {
    const healthz = createServer((req, res) => {
      const path = (req.url ?? '').split('?')[0];
      if (path !== '/healthz' && path !== '/livez') {
        res.writeHead(404).end('404 page not found\n');
        return;
      }
      const a = this.health.healthz();
      res
        .writeHead(a.status, { 'Content-Type': 'application/json', 'X-Content-Type-Options': 'nosniff' })
        .end(a.body);
    });
    const metrics = createServer((req, res) => {
      const path = (req.url ?? '').split('?')[0];
      if (path === '/healthz') {
        res.writeHead(200).end('ok');
        return;
      }
      if (path !== '/metrics') {
        res.writeHead(404).end('404 page not found\n');
        return;
      }
      this.metrics().then(
        (m) => res.writeHead(200, { 'Content-Type': m.contentType }).end(m.body),
        (err: Error) => res.writeHead(500).end(err.message),
      );
    });
    this.servers.push(healthz, metrics);
    return {
      healthz: await listen(healthz, o.healthz.port, o.healthz.host),
      metrics: await listen(metrics, o.metrics.port, o.metrics.host),
    };
  }

  async stop(): Promise<void> {
    await Promise.all(this.servers.map(close));
    this.servers = [];
  }
}

/** One HTTP listener per healthCheckNodePort, kept in step with the services after each sync. */
export class ServiceHealthServers {
  private readonly listeners = new Map<number, { server: Server; state: ServiceHealthState }>();

  constructor(
    private readonly health: ProxierHealth,
    private readonly host = '0.0.0.0',
    private readonly log: (msg: string) => void = () => undefined,
  ) {}

  /** Makes the listeners match `desired` (health-check node port → service state). */
  async sync(desired: Map<number, ServiceHealthState>): Promise<void> {
    for (const [port, l] of this.listeners) {
      if (!desired.has(port)) {
        this.listeners.delete(port);
        await close(l.server);
      }
    }
    for (const [port, state] of desired) {
      const existing = this.listeners.get(port);
      if (existing) {
        existing.state = state;
        continue;
      }
      const entry = { server: createServer(), state };
      entry.server.on('request', (_req, res) => {
        const a = serviceHealthAnswer(entry.state, this.health.isHealthy());
        res.writeHead(a.status, a.headers).end(a.body);
      });
      try {
        await listen(entry.server, port, this.host);
        this.listeners.set(port, entry);
      } catch (err) {
        this.log(
          `health check node port ${port} for ${state.namespace}/${state.name}: ${(err as Error).message}`,
        );
      }
    }
  }

  ports(): number[] {
    return [...this.listeners.keys()];
  }

  async stop(): Promise<void> {
    await this.sync(new Map());
  }
}
