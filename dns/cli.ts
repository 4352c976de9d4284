import { readFileSync } from 'node:fs';
import { setFlagsFromString } from 'node:v8';
import type { Command } from 'commander';
import type { ConfigInput } from './config.js';
import { loadConfigFile, resolveConfig } from './config.js';
import { jsonLog } from './log.js';
import { runDns } from './threads.js';

interface ServeFlags {
  config?: string;
  listen?: string;
  objects?: string;
  kubeconfig?: string;
  zone?: string;
  ttl?: string;
  pods?: string;
  upstream?: string[];
  upstreamTimeout?: string;
  cacheSize?: string;
  opsHost?: string;
  healthPort?: string;
  readyPort?: string;
  metricsPort?: string;
  workers?: string;
  lameduck?: string;
}

/** The resolv.conf of the network namespace we run in (ip netns exec bind-mounts its own). */
function readResolvConf(): string {
  try {
    return readFileSync('/etc/resolv.conf', 'utf8');
  } catch {
    return '';
  }
}

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

/** Adds the `klab dns` subcommands. */
export function registerDnsCommands(program: Command): void {
  const dns = program
    .command('dns')
    .description('cluster DNS: the Kubernetes DNS spec, forwarding and cache');
  dns
    .command('serve')
    .description('serve cluster DNS (UDP and TCP), forward other names, expose /health, /ready and /metrics')
    .option('--config <file>', 'YAML/JSON config (keys as the long flags in camelCase); flags override it')
    .option('--listen <ip:port>', 'DNS listen address (default 0.0.0.0:53)')
    .option('--kubeconfig <file>', 'watch Services, EndpointSlices and Namespaces through this kubeconfig')
    .option('--objects <file>', 'serve a static snapshot of Services/EndpointSlices/Namespaces (YAML stream)')
    .option('--zone <domain>', 'cluster domain (default cluster.local)')
    .option('--ttl <seconds>', 'TTL of cluster records and the SOA minimum (default 30)')
    .option('--pods <mode>', 'pod records: insecure or disabled (default insecure)')
    .option(
      '--upstream <ip[:port]>',
      'upstream resolver, repeatable (default: resolv.conf nameservers)',
      collect,
    )
    .option('--upstream-timeout <ms>', 'per-try upstream timeout (default 2000)')
    .option('--cache-size <n>', 'forward cache capacity in answers (default 9984)')
    .option('--ops-host <ip>', 'address of the health/ready/metrics endpoints (default 0.0.0.0)')
    .option('--health-port <port>', '/health port (default 8080)')
    .option('--ready-port <port>', '/ready port (default 8181)')
    .option('--metrics-port <port>', '/metrics port (default 9153)')
    .option('--workers <n>', 'DNS threads sharing the UDP socket (default 1; 2 uses both cores)')
    .option(
      '--lameduck <duration>',
      'keep answering this long after SIGTERM (default 5s, as kubeadm sets it)',
    )
    .action(async (flags: ServeFlags) => {
      const fromFlags: ConfigInput = {
        listen: flags.listen,
        objects: flags.objects,
        kubeconfig: flags.kubeconfig,
        zone: flags.zone,
        ttl: flags.ttl,
        pods: flags.pods,
        upstreams: flags.upstream,
        upstreamTimeoutMs: flags.upstreamTimeout,
        cacheSize: flags.cacheSize,
        opsHost: flags.opsHost,
        healthPort: flags.healthPort,
        readyPort: flags.readyPort,
        metricsPort: flags.metricsPort,
        workers: flags.workers,
        lameduck: flags.lameduck,
      };
      const fromFile = flags.config ? loadConfigFile(flags.config) : {};
      const config = resolveConfig([fromFile, fromFlags], readResolvConf);
      if (config.upstreams.length === 0) {
        jsonLog('warn', 'no upstream resolvers: names outside the cluster zone will get SERVFAIL');
      }
      // Before the DNS threads start, so their heaps are created with it too: V8 then trades
      // heap headroom and code caches for memory, which kept RSS with 10k services under the
      // 100 MB budget after dnsperf runs (96 MB against 104 MB) at no measured QPS cost.
      setFlagsFromString('--optimize-for-size');
      await runDns(config, jsonLog);
    });
}
