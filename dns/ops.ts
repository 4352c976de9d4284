/**
 * The operations endpoints CoreDNS exposes: `/health` (liveness, 200 "OK"), `/ready` (200 once
 * the API cache has synced, else 503 naming what is not ready) and `/metrics` (Prometheus).
 * Endpoints configured on the same port share one HTTP server.
 */
import http from 'node:http';

export interface OpsHandlers {
  /** Names of the parts that are not ready yet; empty when ready. */
  notReady(): string[];
  metrics(): Promise<{ contentType: string; body: string }>;
}

export interface OpsPorts {
  host: string;
  healthPort: number;
  readyPort: number;
  metricsPort: number;
}

export interface RunningOps {
  health: number;
  ready: number;
  metrics: number;
  close(): Promise<void>;
}

type Route = (res: http.ServerResponse) => void | Promise<void>;

function text(res: http.ServerResponse, status: number, body: string): void {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8' });
  res.end(body);
}

function listen(host: string, port: number, routes: Map<string, Route>): Promise<http.Server> {
  const server = http.createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    const route = routes.get(path);
    if (!route) {
      text(res, 404, `404 page not found: ${path}\n`);
      return;
    }
    Promise.resolve(route(res)).catch((e: Error) => text(res, 500, `${e.message}\n`));
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve(server);
    });
  });
}

export async function startOps(ports: OpsPorts, h: OpsHandlers): Promise<RunningOps> {
  const routes: Record<string, [number, string, Route]> = {
    health: [ports.healthPort, '/health', (res) => text(res, 200, 'OK')],
    ready: [
      ports.readyPort,
      '/ready',
      (res) => {
        const missing = h.notReady();
        if (missing.length === 0) text(res, 200, 'OK');
        else text(res, 503, missing.join(', '));
      },
    ],
    metrics: [
      ports.metricsPort,
      '/metrics',
      async (res) => {
        const m = await h.metrics();
        res.writeHead(200, { 'content-type': m.contentType });
        res.end(m.body);
      },
    ],
  };
  // Port 0 means "any free port" and is never shared; equal fixed ports share a server.
  const groups: { port: number; names: string[]; table: Map<string, Route> }[] = [];
  for (const [name, [port, path, route]] of Object.entries(routes)) {
    let g = port !== 0 ? groups.find((x) => x.port === port) : undefined;
    if (!g) {
      g = { port, names: [], table: new Map() };
      groups.push(g);
    }
    g.names.push(name);
    g.table.set(path, route);
  }
  const servers: http.Server[] = [];
  const bound: Record<string, number> = {};
  try {
    for (const g of groups) {
      const server = await listen(ports.host, g.port, g.table);
      servers.push(server);
      for (const name of g.names) bound[name] = (server.address() as { port: number }).port;
    }
  } catch (e) {
    for (const s of servers) s.close();
    throw e;
  }
  return {
    health: bound.health as number,
    ready: bound.ready as number,
    metrics: bound.metrics as number,
    close: async () => {
      await Promise.all(
        servers.map(
          (s) =>
            new Promise<void>((r) => {
              s.close(() => r());
              s.closeAllConnections();
            }),
        ),
      );
    },
  };
}
