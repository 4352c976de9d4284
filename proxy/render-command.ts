import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { buildModel, isIPv4, normalizeCIDR } from './model.js';
import type { NodeFacts } from './model.js';
import { parseObjects } from './objects.js';
import { canonicalRestore } from './iptables/canonical.js';
import { renderIptables } from './iptables/render.js';

export interface RenderCommandOptions {
  mode: string;
  file: string;
  nodeName?: string;
  nodeIp?: string[];
  clusterCidr: string;
  masqueradeAll?: boolean;
  localhostNodeports: boolean;
  canonical?: boolean;
}

export const DEFAULT_CLUSTER_CIDR = '10.244.0.0/16';

/** Raised for bad command-line input; the message names the option. */
export class UsageError extends Error {}

/** Checks the node-related flags and turns them into NodeFacts. */
export function nodeFactsFromFlags(o: {
  nodeName?: string;
  nodeIp?: string[];
  clusterCidr: string;
  masqueradeAll?: boolean;
  localhostNodeports: boolean;
}): NodeFacts {
  for (const ip of o.nodeIp ?? []) {
    if (!isIPv4(ip)) throw new UsageError(`--node-ip: "${ip}" is not an IPv4 address`);
  }
  let clusterCIDR: string | undefined;
  if (o.clusterCidr !== '') {
    clusterCIDR = normalizeCIDR(o.clusterCidr);
    if (!clusterCIDR)
      throw new UsageError(`--cluster-cidr: "${o.clusterCidr}" is not an IPv4 CIDR (a.b.c.d/n)`);
  }
  return {
    name: o.nodeName ?? hostname(),
    ips: o.nodeIp ?? [],
    clusterCIDR,
    masqueradeAll: o.masqueradeAll === true,
    localhostNodePorts: o.localhostNodeports,
  };
}

/** `klab proxy render`: objects file → the exact iptables-restore input for one node. */
export function renderCommand(o: RenderCommandOptions): string {
  if (o.mode !== 'iptables')
    throw new UsageError(`--mode: "${o.mode}" is not supported (supported: iptables)`);
  let text: string;
  try {
    text = readFileSync(o.file === '-' ? 0 : o.file, 'utf8');
  } catch (err) {
    throw new UsageError(`-f ${o.file}: cannot read: ${(err as Error).message}`);
  }
  const model = buildModel(parseObjects(text, o.file === '-' ? 'stdin' : o.file), nodeFactsFromFlags(o));
  const out = renderIptables(model).text;
  return o.canonical ? canonicalRestore(out) : out;
}
