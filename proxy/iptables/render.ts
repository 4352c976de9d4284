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
  /**
   * Split the nat table into several transactions when one would cost iptables-nft-restore
   * more than this many chain-name list steps (see Stager). Undefined: one transaction.
   */
  stageBudget?: number;
  /** Endpoint count above which per-endpoint comments are dropped (kube-proxy: 1000). */
  largeClusterThreshold?: number;
  /**
   * Rendered rules per service port, reused while the port (same model object) and the node
   * context are unchanged, so a partial sync costs O(changed services).
   */
  cache?: FragmentCache;
  /** `portContext(model, opts)` when the caller already has it. */
  portContext?: { context: PortContext; key: string };
}

/**
 * The rules one service port contributes, split by where they go. Each part is restore text,
 * one line per rule, every line ending in a newline, so a sync concatenates cached strings.
 */
export interface PortFragment {
  filter: string;
  filterCount: number;
  /** KUBE-SERVICES / KUBE-NODEPORTS rules: rewritten on every sync. */
  natTop: string;
  natTopCount: number;
  /** Chain lines and rules of the port's own chains: skipped by partial syncs when unchanged. */
  chains: string;
  chainCount: number;
  rules: string;
  ruleCount: number;
  active: string[];
}

export type FragmentCache = WeakMap<ServicePort, { context: string; fragment: PortFragment }>;

export interface IptablesRender {
  /** The `iptables-restore --noflush` input. */
  text: string;
  /** The same input restricted to the top-level chains (every line of them, in order). */
  topLevelText: string;
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

/**
 * Stage budget for iptables-nft-restore: about 10 million list steps keeps clusters up to some
 * 150 services × 10 endpoints in one transaction and bounds each transaction of larger ones.
 */
export const NFT_STAGE_BUDGET = 10_000_000;

export const DEFAULT_MASQUERADE_MARK = '0x4000';
const LARGE_CLUSTER_THRESHOLD = 1000;
const LOCALHOST_NP_COUNTER = 'localhost_nps_accepted_pkts';
const INVALID_COUNTER = 'ct_state_invalid_dropped_pkts';

/**
 * Builds restore text and counts lines. The parts are joined into one flat string when the text
 * is read: cached fragments live as long as their service, and a flat string is one object for
 * the garbage collector to move, where text appended with `+=` is a rope of two per line (at 10k
 * services, millions of long-lived objects, and GC was half of a full render's time).
 */
class Sink {
  private parts: string[] = [];
  private joined: string | undefined = '';
  count = 0;
  write(line: string): void {
    this.count++;
    this.parts.push(line, '\n');
    this.joined = undefined;
  }
  append(text: string, count: number): void {
    this.count += count;
    this.parts.push(text);
    this.joined = undefined;
  }
  get text(): string {
    if (this.joined === undefined) {
      this.joined = this.parts.join('');
      this.parts = [this.joined];
    }
    return this.joined;
  }
}

/**
 * Groups service-port fragments into nat transactions of bounded cost for iptables-nft-restore.
 *
 * iptables-nft-restore 1.8.9 records every chain name a transaction mentions (each rule's chain
 * and jump target) in a sorted linked list, inserting by walking it from the start; the list is
 * reset at each COMMIT. One transaction thus costs about (lines × chains) steps: a full sync of
 * 10k services × 10 endpoints (430k lines, 110k chains) would spend tens of minutes of CPU in
 * that walk. Each port's chains only jump to each other and to KUBE-MARK-MASQ, so ports can go
 * in separate transactions, each holding whole chains (a chain line and all its rules), so no
 * chain is ever seen half-written; the dispatch chains and stale-chain deletions come last.
 */
class Stager {
  private done = '';
  private chains = '';
  private rules = '';
  private lines = 0;
  private names = 0;

  constructor(readonly budget: number) {}

  add(f: PortFragment): void {
    if (this.budget === Number.POSITIVE_INFINITY) return;
    this.chains += f.chains;
    this.rules += f.rules;
    this.lines += f.chainCount + f.ruleCount;
    this.names += f.chainCount;
    if (this.lines * this.names > this.budget) this.flush();
  }

  private flush(): void {
    if (this.lines > 0) this.done += '*nat\n' + this.chains + this.rules + 'COMMIT\n';
    this.chains = this.rules = '';
    this.lines = this.names = 0;
  }

  /** The completed transactions. */
  finish(): string {
    this.flush();
    return this.done;
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
  const { context, key } = opts.portContext ?? portContext(model, opts);

  const filterChains = new Sink();
  const filterRules = new Sink();
  const natChainsOut = new Sink();
  const natRulesOut = new Sink();
  const natFixedRules = new Sink();
  const natDispatchRules = new Sink();
  const stager = new Stager(opts.stageBudget ?? Number.POSITIVE_INFINITY);
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

  natFixedRules.write(`-A KUBE-POSTROUTING -m mark ! --mark ${mark}/${mark} -j RETURN`);
  natFixedRules.write(`-A KUBE-POSTROUTING -j MARK --xor-mark ${mark}`);
  natFixedRules.write(
    `-A KUBE-POSTROUTING -m comment --comment "kubernetes service traffic requiring SNAT" -j MASQUERADE${opts.randomFully ? ' --random-fully' : ''}`,
  );
  natFixedRules.write(`-A KUBE-MARK-MASQ -j MARK --or-mark ${mark}`);
  const natTopChains = natChainsOut.text;
  natRulesOut.append(natFixedRules.text, natFixedRules.count);

  if (node.localhostNodePorts) {
    // kube-proxy duplicates kubelet's guard against the route_localnet hole (CVE-2020-8558).
    filterChains.write(chainLine('KUBE-FIREWALL'));
    filterRules.write(
      '-A KUBE-FIREWALL -m comment --comment "block incoming localnet connections" -d 127.0.0.0/8 ! -s 127.0.0.0/8 -m conntrack ! --ctstate RELATED,ESTABLISHED,DNAT -j DROP',
    );
  }

  for (const sp of model.ports) {
    const fragment = portFragment(sp, context, key, opts.cache);
    const partialSkip = opts.changedServices !== undefined && !opts.changedServices.has(sp.service);
    filterRules.append(fragment.filter, fragment.filterCount);
    natRulesOut.append(fragment.natTop, fragment.natTopCount);
    natDispatchRules.append(fragment.natTop, fragment.natTopCount);
    if (partialSkip) {
      skippedChains += fragment.chainCount;
      skippedRules += fragment.ruleCount;
    } else {
      natChainsOut.append(fragment.chains, fragment.chainCount);
      natRulesOut.append(fragment.rules, fragment.ruleCount);
      stager.add(fragment);
    }
    fragments.push(fragment);
  }

  let active: Set<string> | undefined;
  const activeNatChains = () => (active ??= activeChains(fragments));
  const deletedChains: string[] = [];
  for (const chain of opts.existingNatChains ?? []) {
    if (!isServiceChainName(chain) || activeNatChains().has(chain)) continue;
    deletedChains.push(chain);
  }
  const deletionChains = new Sink();
  const deletionRules = new Sink();
  writeDeletions(deletedChains, deletionChains, deletionRules);
  natChainsOut.append(deletionChains.text, deletionChains.count);
  natRulesOut.append(deletionRules.text, deletionRules.count);

  const lastRule = `-A KUBE-SERVICES -m comment --comment "kubernetes service nodeports; NOTE: this must be the last rule in this chain" -m addrtype --dst-type LOCAL${node.localhostNodePorts ? '' : ' ! -d 127.0.0.0/8'} -j KUBE-NODEPORTS`;
  natRulesOut.write(lastRule);

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

  const filter = '*filter\n' + filterChains.text + filterRules.text + 'COMMIT\n';
  const natLines = natChainsOut.count + natRulesOut.count;
  const nat =
    natLines * natChainsOut.count <= stager.budget
      ? '*nat\n' + natChainsOut.text + natRulesOut.text + 'COMMIT\n'
      : // Helpers first, then the service chains, then the dispatch chains that jump to them and
        // the deletions of chains nothing refers to any more.
        '*nat\n:KUBE-POSTROUTING - [0:0]\n:KUBE-MARK-MASQ - [0:0]\n' +
        natFixedRules.text +
        'COMMIT\n' +
        stager.finish() +
        '*nat\n:KUBE-SERVICES - [0:0]\n:KUBE-NODEPORTS - [0:0]\n' +
        deletionChains.text +
        natDispatchRules.text +
        deletionRules.text +
        lastRule +
        '\nCOMMIT\n';
  const deletedLines = deletedChains.length;
  return {
    text: filter + nat,
    topLevelText:
      filter + '*nat\n' + natTopChains + natFixedRules.text + natDispatchRules.text + lastRule + '\nCOMMIT\n',
    activeNatChains,
    deletedChains,
    ruleCounts: {
      filter: filterRules.count,
      nat: natRulesOut.count + skippedRules - deletedLines,
    },
    natChainCount: natChainsOut.count + skippedChains - deletedLines,
    largeClusterMode: context.large,
  };
}

/** The node-wide facts every port fragment depends on, and a key to validate cached fragments. */
export function portContext(
  model: ProxyModel,
  opts: Pick<IptablesRenderOptions, 'largeClusterThreshold' | 'nfacct'> = {},
): { context: PortContext; key: string } {
  const node = model.node;
  const clusterCIDR = node.clusterCIDR;
  const context: PortContext = {
    large: model.totalEndpoints > (opts.largeClusterThreshold ?? LARGE_CLUSTER_THRESHOLD),
    ifLocal: clusterCIDR ? ` -s ${clusterCIDR}` : '',
    ifNotLocal: clusterCIDR ? ` ! -s ${clusterCIDR}` : '',
    masqueradeAll: node.masqueradeAll,
    localhostNodePorts: node.localhostNodePorts && opts.nfacct === true,
    nodeIP: node.ips[0],
  };
  return { context, key: JSON.stringify(context) };
}

/** The port's fragment, from the cache while the port object and the context are the same. */
export function portFragment(
  sp: ServicePort,
  context: PortContext,
  key: string,
  cache: FragmentCache | undefined,
): PortFragment {
  const cached = cache?.get(sp);
  if (cached && cached.context === key) return cached.fragment;
  const fragment = renderServicePort(sp, context);
  cache?.set(sp, { context: key, fragment });
  return fragment;
}

/** Every nat service chain the fragments use. */
export function activeChains(fragments: Iterable<PortFragment>): Set<string> {
  const out = new Set<string>();
  for (const f of fragments) for (const chain of f.active) out.add(chain);
  return out;
}

/**
 * The active chain set after the `before` fragments were replaced by the `after` ones, from the
 * set before: O(changed ports) instead of a walk over every port. Updates `active` in place.
 * Service-port and endpoint chain names are unique to their port, so no other port's chain is
 * removed.
 */
export function replaceActiveChains(
  active: Set<string>,
  before: Iterable<PortFragment>,
  after: Iterable<PortFragment>,
): Set<string> {
  for (const f of before) for (const chain of f.active) active.delete(chain);
  for (const f of after) for (const chain of f.active) active.add(chain);
  return active;
}

/** A chain line flushes the chain, so the -X cannot fail on leftover rules. */
function writeDeletions(chains: readonly string[], chainsOut: Sink, rulesOut: Sink): void {
  for (const chain of chains) {
    chainsOut.write(chainLine(chain));
    rulesOut.write(`-X ${chain}`);
  }
}

/**
 * A nat-only restore that rewrites the chains of the given fragments and deletes `stale`
 * chains: for a partial sync whose top-level chains would come out unchanged.
 */
export function renderServiceChains(fragments: readonly PortFragment[], stale: readonly string[]): string {
  const chains = new Sink();
  const rules = new Sink();
  for (const f of fragments) {
    chains.append(f.chains, f.chainCount);
    rules.append(f.rules, f.ruleCount);
  }
  writeDeletions(stale, chains, rules);
  return '*nat\n' + chains.text + rules.text + 'COMMIT\n';
}

export interface PortContext {
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
  const filterRules = new Sink();
  const natTop = new Sink();
  const active: string[] = [];
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
  if (usesCluster) active.push(names.svc);
  if (usesLocal) active.push(names.svl);
  if (usesExt) active.push(names.ext);
  if (usesFW) active.push(names.fw);
  for (const chain of sepChains.values()) active.push(chain);

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
  const chains = new Sink();
  const rules = new Sink();

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
  return {
    filter: filterRules.text,
    filterCount: filterRules.count,
    natTop: natTop.text,
    natTopCount: natTop.count,
    chains: chains.text,
    chainCount: chains.count,
    rules: rules.text,
    ruleCount: rules.count,
    active,
  };
}

function writeEndpointRules(
  rules: Sink,
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
