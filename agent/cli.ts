import { createServer } from 'node:http';
import type { Command } from 'commander';
import { Agent } from './agent.js';
import { logLine } from '../kube/log-line.js';

function seconds(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0)
    throw new Error(`expected a positive whole number of seconds, got "${value}"`);
  return n;
}

function port(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new Error(`expected a port 0-65535, got "${value}"`);
  return n;
}

interface AgentFlags {
  node: string;
  kubeconfig: string;
  nodeIp: string;
  controlPlane: boolean;
  cniBinDir: string;
  cniConfDir: string;
  clusterCidr: string;
  stateDir: string;
  netnsPrefix: string;
  leaseSeconds: number;
  clusterDns: string;
  clusterDomain: string;
  resolvConf: string;
  cniCheckPeriod: number;
  healthzPort: number;
}

/** Adds the `klab` subcommands this folder owns. */
export function registerAgentCommands(program: Command): void {
  program
    .command('agent')
    .description(
      "Node agent (the kubelet's role): registers the Node, renews its Lease, runs the pods bound to it",
    )
    .requiredOption('--node <name>', 'Node name to register')
    .requiredOption('--kubeconfig <file>', 'kubeconfig with this node’s token')
    .requiredOption('--node-ip <ip>', 'InternalIP to report (the LAN address)')
    .option('--control-plane', 'label the Node node-role.kubernetes.io/control-plane', false)
    .option('--cni-bin-dir <dir>', 'where the CNI plugin is installed', '/opt/cni/bin')
    .option('--cni-conf-dir <dir>', 'where the conflist is written', '/etc/cni/net.d')
    .option('--cluster-cidr <cidr>', 'pod network of the whole cluster (not masqueraded)', '10.244.0.0/16')
    .option('--state-dir <dir>', 'pod state files, container logs and IPAM leases', '/var/lib/klab/agent')
    .option('--netns-prefix <prefix>', 'prefix of pod sandbox namespace names', 'klab-')
    .option('--lease-seconds <n>', 'how often the node Lease is renewed', seconds, 10)
    .option('--cluster-dns <ip>', 'nameserver in pods’ resolv.conf', '10.96.0.10')
    .option('--cluster-domain <domain>', 'cluster domain', 'cluster.local')
    .option(
      '--resolv-conf <file>',
      'the node’s resolv.conf, given to pods with dnsPolicy Default',
      '/etc/resolv.conf',
    )
    .option(
      '--cni-check-period <seconds>',
      'how often each pod’s network is verified with CNI CHECK',
      seconds,
      60,
    )
    .option('--healthz-port <port>', 'healthz on 127.0.0.1 (0 = off)', port, 10248)
    .action(async (f: AgentFlags) => {
      const log = (msg: string, fields: Record<string, unknown> = {}) =>
        process.stdout.write(logLine('agent', msg, fields));
      const agent = new Agent({
        node: f.node,
        kubeconfig: f.kubeconfig,
        nodeIP: f.nodeIp,
        controlPlane: f.controlPlane,
        cniBinDir: f.cniBinDir,
        cniConfDir: f.cniConfDir,
        clusterCidr: f.clusterCidr,
        stateDir: f.stateDir,
        netnsPrefix: f.netnsPrefix,
        leaseSeconds: f.leaseSeconds,
        dnsIP: f.clusterDns,
        clusterDomain: f.clusterDomain,
        resolvConf: f.resolvConf,
        cniCheckPeriodSeconds: f.cniCheckPeriod,
        log,
      });
      let healthy = false;
      const health = createServer((_req, res) => {
        res.writeHead(healthy ? 200 : 503).end(healthy ? 'ok' : 'starting');
      });
      if (f.healthzPort > 0) health.listen(f.healthzPort, '127.0.0.1');
      const stop = () => {
        health.close();
        void agent.stop().then(() => process.exit(0));
      };
      process.once('SIGTERM', stop);
      process.once('SIGINT', stop);
      try {
        await agent.start();
        healthy = true;
      } catch (error) {
        console.error(`klab agent: ${(error as Error).message}`);
        process.exit(1);
      }
    });
}
