import { KubeClient } from '../kube/client.js';
import type { KubeObject } from '../kube/client.js';
import { parseGoDuration } from '../kube/duration.js';
import { Informer } from '../kube/informer.js';
import { loadKubeconfig } from '../kube/kubeconfig.js';
import { ProxierHealth, ProxyHttpServers, ServiceHealthServers } from './health.js';
import { detectBackend, hostExec, IptablesApplier } from './iptables/apply.js';
import type { Backend } from './iptables/apply.js';
import { ObjectError, readEndpointSlice, readService } from './objects.js';
import { nodeFactsFromFlags, UsageError } from './render-command.js';
import { ProxySyncEngine } from './sync.js';
import { logLine } from '../kube/log-line.js';

export interface DaemonOptions {
  node: string;
  kubeconfig: string;
  mode: string;
  backend: string;
  clusterCidr: string;
  nodeIp?: string[];
  masqueradeAll?: boolean;
  localhostNodeports: boolean;
  minSyncPeriod: string;
  syncPeriod: string;
  healthzBindAddress: string;
  metricsBindAddress: string;
}

/** Parses a Go-style duration ("500ms", "1s", "30s", "2m", "1h"); the error names the option. */
export function parseDuration(text: string, option: string): number {
  const ms = parseGoDuration(text);
  if (ms === undefined)
    throw new UsageError(`${option}: "${text}" is not a duration like 500ms, 1s, 30s or 1m`);
  return ms;
}

/** Parses "host:port" for a listener; the error names the option. */
export function parseBindAddress(text: string, option: string): { host: string; port: number } {
  const i = text.lastIndexOf(':');
  const port = Number(text.slice(i + 1));
  if (i <= 0 || !Number.isInteger(port) || port < 0 || port > 65535) {
    throw new UsageError(`${option}: "${text}" is not host:port`);
  }
  return { host: text.slice(0, i), port };
}

function log(msg: string, fields: Record<string, unknown> = {}): void {
  process.stdout.write(logLine('proxy', msg, fields));
}

interface NodeObject extends KubeObject {
  metadata: KubeObject['metadata'] & { labels?: Record<string, string> };
  status?: { addresses?: Array<{ type: string; address: string }> };
}

/**
 * `klab proxy`: watches Services, EndpointSlices and its Node through the API and keeps this
 * node's rules in sync, serving /healthz, /metrics and the health-check node ports.
 */
export async function runDaemon(o: DaemonOptions): Promise<void> {
  if (o.mode !== 'iptables')
    throw new UsageError(`--mode: "${o.mode}" is not supported (supported: iptables)`);
  if (!['auto', 'nft', 'legacy'].includes(o.backend)) {
    throw new UsageError(`--iptables-backend: "${o.backend}" is not auto, nft or legacy`);
  }
  const minSyncPeriodMs = parseDuration(o.minSyncPeriod, '--min-sync-period');
  const syncPeriodMs = parseDuration(o.syncPeriod, '--sync-period');
  const healthzAt = parseBindAddress(o.healthzBindAddress, '--healthz-bind-address');
  const metricsAt = parseBindAddress(o.metricsBindAddress, '--metrics-bind-address');
  const client = new KubeClient(loadKubeconfig(o.kubeconfig), 'klab-proxy');

  const nodes = new Informer<NodeObject>(client, '/api/v1/nodes', undefined, {
    fieldSelector: `metadata.name=${o.node}`,
    log: (line) => log(line),
  }).start();
  await nodes.synced;
  const nodeObject = nodes.list()[0];
  const nodeIps =
    o.nodeIp ??
    nodeObject?.status?.addresses?.filter((a) => a.type === 'InternalIP').map((a) => a.address) ??
    [];
  const node = {
    ...nodeFactsFromFlags({ ...o, nodeName: o.node, nodeIp: nodeIps }),
    labels: nodeObject?.metadata.labels,
  };

  const backend: Backend = o.backend === 'auto' ? await detectBackend(hostExec) : (o.backend as Backend);
  log('starting', { node: node.name, nodeIps: node.ips, backend, clusterCIDR: node.clusterCIDR });
  // kube-proxy reports unhealthy when a queued sync waits longer than twice the sync period.
  const health = new ProxierHealth(2 * syncPeriodMs);
  const serviceHealth = new ServiceHealthServers(health, '0.0.0.0', (m) => log(m));
  const engine = new ProxySyncEngine({
    node,
    exec: hostExec,
    applier: new IptablesApplier(hostExec, backend),
    minSyncPeriodMs,
    syncPeriodMs,
    health,
    serviceHealth,
    log,
  });
  const http = new ProxyHttpServers(health, async () => ({
    contentType: engine.metrics.registry.contentType,
    body: await engine.metrics.registry.metrics(),
  }));
  await http.start({ healthz: healthzAt, metrics: metricsAt });
  const guarded = (what: string, fn: () => void) => {
    try {
      fn();
    } catch (err) {
      if (!(err instanceof ObjectError)) throw err;
      log(`ignoring an unreadable ${what}`, { error: err.message });
    }
  };
  const services = new Informer<KubeObject>(client, '/api/v1/services', {
    onAdd: (s) => guarded('Service', () => engine.setService(readService(s, 'Service'))),
    onUpdate: (_p, s) => guarded('Service', () => engine.setService(readService(s, 'Service'))),
    onDelete: (s) => guarded('Service', () => engine.deleteService(readService(s, 'Service'))),
  });
  const slices = new Informer<KubeObject>(client, '/apis/discovery.k8s.io/v1/endpointslices', {
    onAdd: (s) =>
      guarded('EndpointSlice', () => engine.setEndpointSlice(readEndpointSlice(s, 'EndpointSlice'))),
    onUpdate: (_p, s) =>
      guarded('EndpointSlice', () => engine.setEndpointSlice(readEndpointSlice(s, 'EndpointSlice'))),
    onDelete: (s) =>
      guarded('EndpointSlice', () => engine.deleteEndpointSlice(readEndpointSlice(s, 'EndpointSlice'))),
  });
  services.start();
  slices.start();
  // The first sync waits for both caches, so it never removes rules for objects not yet listed.
  await Promise.all([services.synced, slices.synced]);
  engine.start();

  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
  });
  log('stopping; rules stay in place');
  await Promise.all([services.stop(), slices.stop(), nodes.stop()]);
  await engine.stop();
  await Promise.all([http.stop(), serviceHealth.stop()]);
}
