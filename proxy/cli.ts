import type { Command } from 'commander';
import { runDaemon } from './daemon.js';
import { ObjectError } from './objects.js';
import { DEFAULT_CLUSTER_CIDR, renderCommand, UsageError } from './render-command.js';

function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

/** Adds the `klab` subcommands this folder owns. */
export function registerProxyCommands(program: Command): void {
  const proxy = program
    .command('proxy')
    .description(
      "kube-proxy: watch Services, EndpointSlices and this Node and keep the node's iptables rules in sync " +
        '(run in the node network namespace); `klab proxy render` prints rules offline',
    )
    .option('--node <name>', 'this node (required to run)')
    .option('--kubeconfig <file>', 'kubeconfig to reach the API (required to run)')
    .option('--mode <mode>', 'proxy mode', 'iptables')
    .option('--iptables-backend <backend>', 'auto (detect like kube-proxy), nft or legacy', 'auto')
    .option(
      '--cluster-cidr <cidr>',
      'pod CIDR for the local-traffic detector ("" for none)',
      DEFAULT_CLUSTER_CIDR,
    )
    .option('--node-ip <ip>', "node IP (repeatable; default: the Node's InternalIP)", collect)
    .option('--masquerade-all', 'SNAT all traffic to cluster IPs')
    .option('--no-localhost-nodeports', 'do not accept NodePorts on 127.0.0.0/8')
    .option('--min-sync-period <duration>', 'shortest time between syncs', '1s')
    .option('--sync-period <duration>', 'periodic sync and canary check interval', '30s')
    .option('--healthz-bind-address <host:port>', '/healthz listener', '0.0.0.0:10256')
    .option('--metrics-bind-address <host:port>', '/metrics listener', '127.0.0.1:10249')
    .action(async (opts) => {
      if (!opts.node || !opts.kubeconfig) {
        process.stderr.write(
          'klab proxy: --node and --kubeconfig are required (or use `klab proxy render`)\n',
        );
        process.exitCode = 1;
        return;
      }
      try {
        await runDaemon({ ...opts, backend: opts.iptablesBackend });
      } catch (err) {
        if (err instanceof UsageError) {
          process.stderr.write(`klab proxy: ${err.message}\n`);
          process.exitCode = 1;
          return;
        }
        throw err;
      }
    });

  proxy
    .command('render')
    .description(
      'Print, offline, the iptables-restore input kube-proxy would apply on a node, from a YAML stream ' +
        'or List of Services and EndpointSlices (as kubectl get -o yaml prints them)',
    )
    .option('--mode <mode>', 'proxy mode', 'iptables')
    .requiredOption('-f, --file <file>', 'objects file (YAML or JSON; - for stdin)')
    .option('--node-name <name>', 'node whose endpoints count as local (default: this host name)')
    .option('--node-ip <ip>', 'node IP (repeatable; the first is the primary)', collect)
    .option(
      '--cluster-cidr <cidr>',
      'pod CIDR for the local-traffic detector ("" for none)',
      DEFAULT_CLUSTER_CIDR,
    )
    .option('--masquerade-all', 'SNAT all traffic to cluster IPs')
    .option('--no-localhost-nodeports', 'do not accept NodePorts on 127.0.0.0/8')
    .option('--canonical', "sort as upstream kube-proxy's tests do, for diffing")
    .action((opts) => {
      try {
        process.stdout.write(renderCommand({ ...opts, localhostNodeports: opts.localhostNodeports }));
      } catch (err) {
        if (err instanceof UsageError || err instanceof ObjectError) {
          process.stderr.write(`klab proxy render: ${err.message}\n`);
          process.exitCode = 1;
          return;
        }
        throw err;
      }
    });
}
