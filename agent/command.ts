import { join } from 'node:path';

export interface AgentLaunch {
  /** The built `klab.js` to run. */
  readonly klabJs: string;
  readonly node: string;
  readonly nodeIp: string;
  readonly kubeconfig: string;
  /** The node's agent folder: CNI binaries and config under `cni/`, pod state under `agent/`. */
  readonly dir: string;
  /** Prefix of the pod sandbox namespaces (a lab passes `klab-<lab>-`). */
  readonly netnsPrefix: string;
  readonly controlPlane?: boolean;
  readonly extraArgs?: readonly string[];
}

/**
 * The command that starts `klab agent` inside a node's network namespace. It first re-enters
 * this process's mount namespace: `ip netns exec` gives each process a private one, which would
 * hide the pod namespaces the agent mounts under /run/netns from the rest of the machine.
 */
export function agentCommand(o: AgentLaunch): string[] {
  return [
    'nsenter',
    `--mount=/proc/${process.pid}/ns/mnt`,
    '--',
    process.execPath,
    o.klabJs,
    'agent',
    '--node',
    o.node,
    '--kubeconfig',
    o.kubeconfig,
    '--node-ip',
    o.nodeIp,
    ...(o.controlPlane ? ['--control-plane'] : []),
    '--cni-bin-dir',
    join(o.dir, 'cni', 'bin'),
    '--cni-conf-dir',
    join(o.dir, 'cni', 'net.d'),
    '--state-dir',
    join(o.dir, 'agent'),
    '--netns-prefix',
    o.netnsPrefix,
    ...(o.extraArgs ?? []),
  ];
}
