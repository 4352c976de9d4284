import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { type Command, InvalidArgumentError } from 'commander';
import { install } from './install.js';
import { logLine } from '../kube/log-line.js';

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError(`"${value}" is not a positive integer`);
  return n;
}

/** Adds the `klab` subcommands this folder owns. */
export function registerCniCommands(program: Command): void {
  const cni = program.command('cni').description('the klab-bridge CNI plugin');
  cni
    .command('install')
    .description(
      'write the klab-bridge plugin into a CNI bin dir and a conflist into a CNI conf dir (idempotent)',
    )
    .requiredOption('--bin-dir <dir>', 'CNI plugin directory (CNI_PATH), e.g. /opt/cni/bin')
    .requiredOption('--conf-dir <dir>', 'CNI network config directory, e.g. /etc/cni/net.d')
    .option('--pod-cidr <cidr>', "this node's pod CIDR", '10.244.0.0/24')
    .option('--cluster-cidr <cidr>', 'the whole pod network; never masqueraded')
    .option('--bridge <name>', 'bridge name', 'cni0')
    .option('--name <name>', 'network name', 'klab')
    .option('--ip-masq', 'masquerade pod traffic leaving the cluster', false)
    .option('--mtu <bytes>', 'MTU of the bridge and veths', positiveInt)
    .option('--data-dir <dir>', 'host-local lease directory (default /var/lib/cni/networks)')
    .option('--no-portmap', 'leave portmap out of the chain even when it is in the bin dir')
    .option(
      '--resident-socket <path>',
      'hand calls to the resident plugin (klab cni serve) on this socket when it listens',
    )
    .action(function (this: Command, o: Record<string, unknown>) {
      const binDir = o.binDir as string;
      let result: ReturnType<typeof install>;
      try {
        result = install({
          binDir,
          confDir: o.confDir as string,
          podCidr: o.podCidr as string,
          bridge: o.bridge as string,
          name: o.name as string,
          ipMasq: o.ipMasq as boolean,
          portmap: (o.portmap as boolean) && existsSync(join(binDir, 'portmap')),
          ...(o.clusterCidr ? { clusterCidr: o.clusterCidr as string } : {}),
          ...(o.mtu ? { mtu: o.mtu as number } : {}),
          ...(o.dataDir ? { dataDir: o.dataDir as string } : {}),
          ...(o.residentSocket ? { residentSocket: o.residentSocket as string } : {}),
        });
      } catch (err) {
        this.error((err as Error).message);
      }
      const what = result.changed.length > 0 ? `wrote ${result.changed.join(', ')}` : 'already up to date';
      console.log(`klab cni install: ${what} (plugin ${result.plugin}, conflist ${result.conflist})`);
    });

  cni
    .command('serve')
    .description(
      'run the plugin resident on a unix socket, so each call costs a small client, not a Node start-up',
    )
    .requiredOption('--socket <path>', 'socket to listen on (replaced if stale; mode 0600)')
    .option('--exit-with-stdin', 'exit when stdin closes (the parent that started it is gone)', false)
    .action(async (o: { socket: string; exitWithStdin: boolean }) => {
      const { serveResident } = await import('./resident.js');
      const server = await serveResident(o.socket);
      const stop = () => server.close(() => process.exit(0));
      process.once('SIGTERM', stop);
      process.once('SIGINT', stop);
      if (o.exitWithStdin) process.stdin.on('end', stop).resume();
      process.stdout.write(logLine('cni', 'resident plugin listening', { socket: o.socket }));
    });
}
