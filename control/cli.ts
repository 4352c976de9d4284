import { readFile, writeFile } from 'node:fs/promises';
import { networkInterfaces } from 'node:os';
import { setFlagsFromString } from 'node:v8';
import { join } from 'node:path';
import { type Command, InvalidArgumentError } from 'commander';
import { parse as parseYaml } from 'yaml';
import { ensureToken, nodeUser, serviceAccountUser, type UserInfo } from './auth.js';
import { renderKubeconfig } from './kubeconfig.js';
import { adminKubeconfigPath, startServer } from './server.js';
import { openStoreFor, type StoreKind } from './open-store.js';
import { extensions } from './layers.js';

function seconds(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0) throw new InvalidArgumentError(`"${value}" is not a non-negative number`);
  return n;
}

function parseListen(value: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d+)$/.exec(value);
  const port = Number(m?.[3]);
  if (!m || !Number.isInteger(port) || port < 0 || port > 65535) {
    throw new InvalidArgumentError(`"${value}" is not HOST:PORT (e.g. 0.0.0.0:6443)`);
  }
  return { host: m[1] ?? m[2] ?? '0.0.0.0', port };
}

/** The address other machines reach this host at: the listen address, or the first non-loopback IPv4. */
function defaultAdvertise(host: string): string {
  if (host !== '0.0.0.0' && host !== '::' && host !== '') return host;
  for (const addrs of Object.values(networkInterfaces())) {
    for (const a of addrs ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  }
  return '127.0.0.1';
}

function parseUser(opts: { node?: string; serviceAccount?: string }): UserInfo {
  if (opts.node && opts.serviceAccount)
    throw new InvalidArgumentError('give either --node or --service-account, not both');
  if (opts.node) return nodeUser(opts.node);
  if (opts.serviceAccount) {
    const [ns, name, ...rest] = opts.serviceAccount.split('/');
    if (!ns || !name || rest.length > 0) {
      throw new InvalidArgumentError(`--service-account "${opts.serviceAccount}" must be NAMESPACE/NAME`);
    }
    return serviceAccountUser(ns, name);
  }
  throw new InvalidArgumentError('give --node NAME or --service-account NAMESPACE/NAME');
}

/** Adds the `klab` subcommands this folder owns. */
export function registerControlCommands(program: Command): void {
  const control = program
    .command('control')
    .description(
      'Run the API server (HTTPS; creates a CA, serving certificate and admin.kubeconfig in the data dir)',
    )
    // Not requiredOption: commander would demand it of `klab control token` as well.
    .option('--data-dir <dir>', 'state, PKI, tokens and admin.kubeconfig (required)')
    .option('--listen <host:port>', 'address to listen on', parseListen, { host: '0.0.0.0', port: 6443 })
    .option('--advertise-address <ip>', 'address put in certificates and kubeconfigs')
    .option(
      '--store <kind>',
      'sqlite or etcd',
      (v: string): StoreKind => {
        if (v !== 'sqlite' && v !== 'etcd')
          throw new InvalidArgumentError(`--store must be sqlite or etcd, got "${v}"`);
        return v;
      },
      'sqlite' as StoreKind,
    )
    .option(
      '--etcd-endpoints <urls>',
      'comma-separated etcd client URLs (with --store etcd)',
      'http://127.0.0.1:2379',
    )
    .option('--service-cidr <cidr>', 'ClusterIP range', '10.96.0.0/12')
    .option('--service-node-port-range <range>', 'NodePort range', '30000-32767')
    .option('--cluster-cidr <cidr>', 'pod network; each Node gets a slice of it', '10.244.0.0/16')
    .option('--node-cidr-mask-size <bits>', 'prefix length of each Node pod CIDR', seconds, 24)
    .option(
      '--node-monitor-grace-period <seconds>',
      'Lease age after which a Node turns NotReady',
      seconds,
      40,
    )
    .option('--pod-eviction-timeout <seconds>', 'how long pods stay on a NotReady Node', seconds, 300)
    .option('--no-controllers', 'serve the API only, without controllers and scheduler')
    .enablePositionalOptions()
    .action(
      async (opts: {
        dataDir?: string;
        listen: { host: string; port: number };
        advertiseAddress?: string;
        store: StoreKind;
        etcdEndpoints: string;
        serviceCidr: string;
        serviceNodePortRange: string;
        clusterCidr: string;
        nodeCidrMaskSize: number;
        nodeMonitorGracePeriod: number;
        podEvictionTimeout: number;
        controllers: boolean;
      }) => {
        const dataDir =
          opts.dataDir ?? control.error("error: required option '--data-dir <dir>' not specified");
        // With a few GB of RAM, V8 lets the old generation grow to 4× the live heap between full
        // collections; the server's short-lived request garbage (more of it with etcd, whose
        // round trips keep it alive past young-generation collections) then held RSS at 310–370
        // MB for a 65 MB live heap at 10k Services + 10k EndpointSlices. Letting it at most double
        // keeps RSS near 245 MB with no measurable CPU per write (bench/api.js).
        setFlagsFromString('--heap-growing-percent=100');
        const server = await startServer({
          dataDir,
          host: opts.listen.host,
          port: opts.listen.port,
          advertiseAddress: opts.advertiseAddress ?? defaultAdvertise(opts.listen.host),
          openStore: openStoreFor(
            opts.store,
            opts.etcdEndpoints
              .split(',')
              .map((s) => s.trim())
              .filter(Boolean),
          ),
          ext: extensions,
          serviceNetwork: { serviceCidr: opts.serviceCidr, nodePortRange: opts.serviceNodePortRange },
          controllers: opts.controllers && {
            clusterCidr: opts.clusterCidr,
            nodeCidrMaskSize: opts.nodeCidrMaskSize,
            lifecycle: {
              gracePeriodMs: opts.nodeMonitorGracePeriod * 1000,
              evictionTimeoutMs: opts.podEvictionTimeout * 1000,
              monitorPeriodMs: 1000,
            },
          },
        });
        const stop = (): void => {
          void server.close().then(() => process.exit(0));
        };
        process.once('SIGTERM', stop);
        process.once('SIGINT', stop);
      },
    );

  control
    .command('token')
    .description('Mint (or reuse) a node or service-account token and write a kubeconfig with it')
    .requiredOption('--data-dir <dir>', 'the API server data dir')
    .option('--node <name>', 'a node token: writes its own Node, Lease and pod status')
    .option('--service-account <ns/name>', 'a service-account token for an add-on')
    .option('--server <url>', 'API server URL (default: the one in admin.kubeconfig)')
    .option('--out <file>', 'kubeconfig to write (default: DATA_DIR/<user>.kubeconfig)')
    .action(
      async (opts: {
        dataDir: string;
        node?: string;
        serviceAccount?: string;
        server?: string;
        out?: string;
      }) => {
        const user = parseUser(opts);
        const admin = parseYaml(await readFile(adminKubeconfigPath(opts.dataDir), 'utf8')) as {
          clusters: { cluster: { server: string; 'certificate-authority-data': string } }[];
        };
        const cluster = admin.clusters[0]?.cluster;
        if (!cluster) throw new Error(`${adminKubeconfigPath(opts.dataDir)} has no cluster`);
        const token = await ensureToken(opts.dataDir, user);
        const file =
          opts.out ?? join(opts.dataDir, `${user.name.replace(/[^A-Za-z0-9.-]+/g, '-')}.kubeconfig`);
        await writeFile(
          file,
          renderKubeconfig({
            server: opts.server ?? cluster.server,
            caCertPem: Buffer.from(cluster['certificate-authority-data'], 'base64').toString('utf8'),
            user: user.name,
            token,
          }),
          { mode: 0o600 },
        );
        console.log(file);
      },
    );
}
