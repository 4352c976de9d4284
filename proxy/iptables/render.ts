import { cidrContains, endpointString } from '../model.js';
import type { Endpoint, ProxyModel, ServicePort } from '../model.js';
import { endpointChain, isServiceChainName, serviceChains } from './names.js';

export interface IptablesRenderOptions {
  /** Masquerade mark (bit 14 by default), written as iptables-save prints it. */
  masqueradeMark?: string;
  /** Add `--random-fully` to MASQUERADE (kube-proxy does when iptables supports it). */
  randomFully?: boolean;
  /** The nfacct counters exist, so the INVALID drop and localhost NodePorts are counted. */
  nfacct?: boolean;
  /** Drop conntrack-INVALID forwarded packets (kube-proxy skips this when tcp_be_liberal is set). */
  dropInvalid?: boolean;
  /**
   * Partial sync: only the services named here ("namespace/name") get their SVC/SVL/EXT/FW/SEP
   * chains rewritten. Undefined means a full sync.
   */
  changedServices?: ReadonlySet<string>;
  /** nat chains present in the kernel now; our stale service chains among them are deleted. */
  existingNatChains?: Iterable<string>;
  /** Endpoint count above which per-endpoint comments are dropped (kube-proxy: 1000). */
  largeClusterThreshold?: number;
  /**
   * Rendered rules per service port, reused while the port (same model object) and the node
   * context are unchanged, so a partial sync costs O(changed services).
   */
  cache?: FragmentCache;
}

/** The rules one service port contributes, split by where they go. */
export interface PortFragment {
  filter: string[];
  /** KUBE-SERVICES / KUBE-NODEPORTS rules: rewritten on every sync. */
  natTop: string[];
  /** Chain lines and rules of the port's own chains: skipped by partial syncs when unchanged. */
  chains: string[];
  rules: string[];
  active: string[];
}

export type FragmentCache = WeakMap<ServicePort, { context: string; fragment: PortFragment }>;

export interface IptablesRender {
  /** The `iptables-restore --noflush` input. */
  text: string;
  /** Every nat service chain the rules use, also those skipped by a partial sync (computed on demand). */
  activeNatChains(): Set<string>;
  /** Stale chains this render deletes. */
  deletedChains: string[];
  /** Rule counts per table of the complete rule set (as if fully written), for metrics. */
  ruleCounts: { filter: number; nat: number };
  /** nat chains in the complete rule set. */
  natChainCount: number;
  largeClusterMode: boolean;
}

export const DEFAULT_MASQUERADE_MARK = '0x4000';
const LARGE_CLUSTER_THRESHOLD = 1000;
const LOCALHOST_NP_COUNTER = 'localhost_nps_accepted_pkts';
const INVALID_COUNTER = 'ct_state_invalid_dropped_pkts';

/** Collects output lines and counts them. */
class Sink {
  readonly lines: string[] = [];
  count = 0;
  write(line: string): void {
    this.count++;
    this.lines.push(line);
  }
}

const chainLine = (chain: string) => `:${chain} - [0:0]`;

/** kube-proxy's computeProbability: fmt "%0.10f" of 1/n. */
export function probability(n: number): string {
  return (1 / n).toFixed(10);
}

/**
 * Renders the model to exactly the `iptables-restore` input the real kube-proxy (1.30+) writes
 * in iptables mode, in kube-proxy's emission order.
 */
export function renderIptables(model: ProxyModel, opts: IptablesRenderOptions = {}): IptablesRender {
  const node = model.node;
  const mark = opts.masqueradeMark ?? DEFAULT_MASQUERADE_MARK;
  const large = model.totalEndpoints > (opts.largeClusterThreshold ?? LARGE_CLUSTER_THRESHOLD);
  const clusterCIDR = node.clusterCIDR;
  const ifNotLocal = clusterCIDR ? ` ! -s ${clusterCIDR}` : '';
  const ifLocal = clusterCIDR ? ` -s ${clusterCIDR}` : '';
  const nodeIP = node.ips[0];

  const filterChains = new Sink();
  const filterRules = new Sink();
  const natChainsOut = new Sink();
  const natRulesOut = new Sink();
  // A partial sync leaves unchanged services' chains out but still counts them for metrics.
  let skippedChains = 0;
  let skippedRules = 0;
  const fragments: PortFragment[] = [];

  for (const c of [
    'KUBE-SERVICES',
    'KUBE-EXTERNAL-SERVICES',
    'KUBE-FORWARD',
    'KUBE-NODEPORTS',
    'KUBE-PROXY-FIREWALL',
  ])
    filterChains.write(chainLine(c));
  for (const c of ['KUBE-SERVICES', 'KUBE-NODEPORTS', 'KUBE-POSTROUTING', 'KUBE-MARK-MASQ'])
    natChainsOut.write(chainLine(c));

  natRulesOut.write(`-A KUBE-POSTROUTING -m mark ! --mark ${mark}/${mark} -j RETURN`);
  natRulesOut.write(`-A KUBE-POSTROUTING -j MARK --xor-mark ${mark}`);
  natRulesOut.write(
    `-A KUBE-POSTROUTING -m comment --comment "kubernetes service traffic requiring SNAT" -j MASQUERADE${opts.randomFully ? ' --random-fully' : ''}`,
  );
  natRulesOut.write(`-A KUBE-MARK-MASQ -j MARK --or-mark ${mark}`);

  if (node.localhostNodePorts) {
    // kube-proxy duplicates kubelet's guard against the route_localnet hole (CVE-2020-8558).
    filterChains.write(chainLine('KUBE-FIREWALL'));
    filterRules.write(
      '-A KUBE-FIREWALL -m comment --comment "block incoming localnet connections" -d 127.0.0.0/8 ! -s 127.0.0.0/8 -m conntrack ! --ctstate RELATED,ESTABLISHED,DNAT -j DROP',
    );
  }

  const context: PortContext = {
    large,
    ifLocal,
    ifNotLocal,
    masqueradeAll: node.masqueradeAll,
    localhostNodePorts: node.localhostNodePorts && opts.nfacct === true,
    nodeIP,
  };
  const contextKey = JSON.stringify(context);
  for (const sp of model.ports) {
    let fragment: PortFragment;
    const cached = opts.cache?.get(sp);
    if (cached && cached.context === contextKey) {
      fragment = cached.fragment;
    } else {
      fragment = renderServicePort(sp, context);
      opts.cache?.set(sp, { context: contextKey, fragment });
    }
    const partialSkip = opts.changedServices !== undefined && !opts.changedServices.has(sp.service);
    for (const line of fragment.filter) filterRules.write(line);
    for (const line of fragment.natTop) natRulesOut.write(line);
    if (partialSkip) {
      skippedChains += fragment.chains.length;
      skippedRules += fragment.rules.length;
    } else {
      for (const line of fragment.chains) natChainsOut.write(line);
      for (const line of fragment.rules) natRulesOut.write(line);
    }
    fragments.push(fragment);
  }

  let active: Set<string> | undefined;
  const activeNatChains = () => (active ??= new Set(fragments.flatMap((f) => f.active)));
  const deletedChains: string[] = [];
  for (const chain of opts.existingNatChains ?? []) {
    if (!isServiceChainName(chain) || activeNatChains().has(chain)) continue;
    // A chain line flushes the chain, so the -X cannot fail on leftover rules.
    natChainsOut.write(chainLine(chain));
    natRulesOut.write(`-X ${chain}`);
    deletedChains.push(chain);
  }

  natRulesOut.write(
    `-A KUBE-SERVICES -m comment --comment "kubernetes service nodeports; NOTE: this must be the last rule in this chain" -m addrtype --dst-type LOCAL${node.localhostNodePorts ? '' : ' ! -d 127.0.0.0/8'} -j KUBE-NODEPORTS`,
  );

  if (opts.dropInvalid ?? true) {
    filterRules.write(
      `-A KUBE-FORWARD -m conntrack --ctstate INVALID${opts.nfacct ? ` -m nfacct --nfacct-name ${INVALID_COUNTER}` : ''} -j DROP`,
    );
  }
  filterRules.write(
    `-A KUBE-FORWARD -m comment --comment "kubernetes forwarding rules" -m mark --mark ${mark}/${mark} -j ACCEPT`,
  );
  filterRules.write(
    '-A KUBE-FORWARD -m comment --comment "kubernetes forwarding conntrack rule" -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT',
  );

  const text =
    [
      '*filter',
      ...filterChains.lines,
      ...filterRules.lines,
      'COMMIT',
      '*nat',
      ...natChainsOut.lines,
      ...natRulesOut.lines,
      'COMMIT',
    ].join('\n') + '\n';
  const deletedLines = deletedChains.length;
  return {
    text,
    activeNatChains,
    deletedChains,
    ruleCounts: {
      filter: filterRules.count,
      nat: natRulesOut.count + skippedRules - deletedLines,
    },
    natChainCount: natChainsOut.count + skippedChains - deletedLines,
    largeClusterMode: large,
  };
}

interface PortContext {
  large: boolean;
  ifLocal: string;
  ifNotLocal: string;
  masqueradeAll: boolean;
  localhostNodePorts: boolean;
  nodeIP: string | undefined;
}

function quoted(comment: string): string {
  return comment.includes(' ') ? `"${comment}"` : comment;
}

/** The rules of one service port, in kube-proxy's order within each destination. */
function renderServicePort(sp: ServicePort, c: PortContext): PortFragment {
  const f: PortFragment = { filter: [], natTop: [], chains: [], rules: [], active: [] };
  const filterRules = { write: (l: string) => f.filter.push(l) };
  const natTop = { write: (l: string) => f.natTop.push(l) };
  const spn = sp.name;
  const proto = sp.protocol.toLowerCase();
  const m = `-m ${proto} -p ${proto}`;
  const names = serviceChains(sp);
  const hasEndpoints = sp.hasEndpoints;
  const usesCluster = sp.clusterEndpoints.length > 0;
  const usesLocal = sp.localEndpoints.length > 0;

  const internalChain = sp.internalPolicyLocal ? names.svl : names.svc;
  const hasInternal = sp.internalPolicyLocal ? usesLocal && hasEndpoints : hasEndpoints;
  const externalPolicyChain = sp.externalPolicyLocal ? names.svl : names.svc;
  const hasExternal = sp.externalPolicyLocal ? usesLocal && hasEndpoints : hasEndpoints;
  const usesExt = hasEndpoints && sp.externallyAccessible;
  const usesFW = hasEndpoints && sp.loadBalancerIPs.length > 0 && sp.loadBalancerSourceRanges.length > 0;
  const lbChain = usesFW ? names.fw : names.ext;

  const sepChains = new Map<Endpoint, string>();
  for (const ep of sp.reachableEndpoints) sepChains.set(ep, endpointChain(sp, ep));
  if (usesCluster) f.active.push(names.svc);
  if (usesLocal) f.active.push(names.svl);
  if (usesExt) f.active.push(names.ext);
  if (usesFW) f.active.push(names.fw);
  for (const chain of sepChains.values()) f.active.push(chain);

  let internalFilterTarget = '';
  let internalFilterComment = '';
  let externalFilterTarget = '';
  let externalFilterComment = '';
  if (!hasEndpoints) {
    internalFilterTarget = externalFilterTarget = 'REJECT';
    internalFilterComment = externalFilterComment = `"${spn} has no endpoints"`;
  } else {
    if (!hasInternal) {
      internalFilterTarget = 'DROP';
      internalFilterComment = `"${spn} has no local endpoints"`;
    }
    if (!hasExternal) {
      externalFilterTarget = 'DROP';
      externalFilterComment = `"${spn} has no local endpoints"`;
    }
  }

  const dst = (ip: string, port: number) => `${m} -d ${ip} --dport ${port}`;

  if (hasInternal) {
    natTop.write(
      `-A KUBE-SERVICES -m comment --comment "${spn} cluster IP" ${dst(sp.clusterIP, sp.port)} -j ${internalChain}`,
    );
  } else {
    filterRules.write(
      `-A KUBE-SERVICES -m comment --comment ${internalFilterComment} ${dst(sp.clusterIP, sp.port)} -j ${internalFilterTarget}`,
    );
  }

  for (const ip of sp.externalIPs) {
    if (hasEndpoints) {
      natTop.write(
        `-A KUBE-SERVICES -m comment --comment "${spn} external IP" ${dst(ip, sp.port)} -j ${names.ext}`,
      );
    }
    if (!hasExternal) {
      filterRules.write(
        `-A KUBE-EXTERNAL-SERVICES -m comment --comment ${externalFilterComment} ${dst(ip, sp.port)} -j ${externalFilterTarget}`,
      );
    }
  }

  for (const ip of sp.loadBalancerIPs) {
    if (hasEndpoints) {
      natTop.write(
        `-A KUBE-SERVICES -m comment --comment "${spn} loadbalancer IP" ${dst(ip, sp.port)} -j ${lbChain}`,
      );
    }
    if (usesFW) {
      filterRules.write(
        `-A KUBE-PROXY-FIREWALL -m comment --comment "${spn} traffic not accepted by ${names.fw}" ${dst(ip, sp.port)} -j DROP`,
      );
    }
  }
  if (!hasExternal) {
    for (const ip of sp.loadBalancerIPs) {
      filterRules.write(
        `-A KUBE-EXTERNAL-SERVICES -m comment --comment ${externalFilterComment} ${dst(ip, sp.port)} -j ${externalFilterTarget}`,
      );
    }
  }

  if (sp.nodePort !== 0) {
    if (hasEndpoints) {
      if (c.localhostNodePorts) {
        natTop.write(
          `-A KUBE-NODEPORTS -m comment --comment ${quoted(spn)} ${m} -d 127.0.0.0/8 --dport ${sp.nodePort} -m nfacct --nfacct-name ${LOCALHOST_NP_COUNTER} -j ${names.ext}`,
        );
      }
      natTop.write(
        `-A KUBE-NODEPORTS -m comment --comment ${quoted(spn)} ${m} --dport ${sp.nodePort} -j ${names.ext}`,
      );
    }
    if (!hasExternal) {
      filterRules.write(
        `-A KUBE-EXTERNAL-SERVICES -m comment --comment ${externalFilterComment} -m addrtype --dst-type LOCAL ${m} --dport ${sp.nodePort} -j ${externalFilterTarget}`,
      );
    }
  }

  if (sp.healthCheckNodePort !== 0) {
    filterRules.write(
      `-A KUBE-NODEPORTS -m comment --comment "${spn} health check node port" -m tcp -p tcp --dport ${sp.healthCheckNodePort} -j ACCEPT`,
    );
  }

  // Everything below lives in per-service chains, which a partial sync may skip.
  const chains = { write: (l: string) => f.chains.push(l) };
  const rules = { write: (l: string) => f.rules.push(l) };

  if (hasInternal) {
    const match = `-m comment --comment "${spn} cluster IP" ${dst(sp.clusterIP, sp.port)}`;
    if (c.masqueradeAll) rules.write(`-A ${internalChain} ${match} -j KUBE-MARK-MASQ`);
    else if (c.ifNotLocal) rules.write(`-A ${internalChain} ${match}${c.ifNotLocal} -j KUBE-MARK-MASQ`);
  }

  if (usesExt) {
    chains.write(chainLine(names.ext));
    if (!sp.externalPolicyLocal) {
      rules.write(
        `-A ${names.ext} -m comment --comment "masquerade traffic for ${spn} external destinations" -j KUBE-MARK-MASQ`,
      );
    } else {
      if (c.ifLocal) {
        rules.write(
          `-A ${names.ext} -m comment --comment "pod traffic for ${spn} external destinations"${c.ifLocal} -j ${names.svc}`,
        );
      }
      rules.write(
        `-A ${names.ext} -m comment --comment "masquerade LOCAL traffic for ${spn} external destinations" -m addrtype --src-type LOCAL -j KUBE-MARK-MASQ`,
      );
      rules.write(
        `-A ${names.ext} -m comment --comment "route LOCAL traffic for ${spn} external destinations" -m addrtype --src-type LOCAL -j ${names.svc}`,
      );
    }
    if (hasExternal) rules.write(`-A ${names.ext} -j ${externalPolicyChain}`);
  }

  if (usesFW) {
    chains.write(chainLine(names.fw));
    const head = `-A ${names.fw} -m comment --comment "${spn} loadbalancer IP"`;
    let allowFromNode = false;
    for (const cidr of sp.loadBalancerSourceRanges) {
      rules.write(`${head} -s ${cidr} -j ${names.ext}`);
      if (c.nodeIP !== undefined && cidrContains(cidr, c.nodeIP)) allowFromNode = true;
    }
    // A node reaching its own VIP loops back with the VIP as source; let it through.
    if (allowFromNode) for (const ip of sp.loadBalancerIPs) rules.write(`${head} -s ${ip} -j ${names.ext}`);
    rules.write(
      `-A ${names.fw} -m comment --comment "other traffic to ${spn} will be dropped by KUBE-PROXY-FIREWALL"`,
    );
  }

  if (usesCluster) {
    chains.write(chainLine(names.svc));
    writeEndpointRules(rules, sp, names.svc, sp.clusterEndpoints, sepChains, c.large);
  }
  if (usesLocal) {
    chains.write(chainLine(names.svl));
    writeEndpointRules(rules, sp, names.svl, sp.localEndpoints, sepChains, c.large);
  }

  const svcComment = c.large ? '' : ` -m comment --comment ${quoted(spn)}`;
  for (const [ep, sep] of sepChains) {
    chains.write(chainLine(sep));
    rules.write(`-A ${sep}${svcComment} -s ${ep.ip} -j KUBE-MARK-MASQ`);
    const recent = sp.affinitySeconds > 0 ? ` -m recent --name ${sep} --set` : '';
    rules.write(`-A ${sep}${svcComment}${recent} ${m} -j DNAT --to-destination ${endpointString(ep)}`);
  }
  return f;
}

function writeEndpointRules(
  rules: { write(line: string): void },
  sp: ServicePort,
  chain: string,
  endpoints: Endpoint[],
  sepChains: Map<Endpoint, string>,
  large: boolean,
): void {
  const comment = (ep: Endpoint) =>
    large ? '' : ` -m comment --comment "${sp.name} -> ${endpointString(ep)}"`;
  if (sp.affinitySeconds > 0) {
    for (const ep of endpoints) {
      const sep = sepChains.get(ep) as string;
      rules.write(
        `-A ${chain}${comment(ep)} -m recent --name ${sep} --rcheck --seconds ${sp.affinitySeconds} --reap -j ${sep}`,
      );
    }
  }
  const n = endpoints.length;
  endpoints.forEach((ep, i) => {
    const stat = i < n - 1 ? ` -m statistic --mode random --probability ${probability(n - i)}` : '';
    rules.write(`-A ${chain}${comment(ep)}${stat} -j ${sepChains.get(ep) as string}`);
  });
}
