import { assembleModel, buildServicePorts, sliceServiceKey } from './model.js';
import type { NodeFacts, ProxyModel, ServicePort } from './model.js';
import type { EndpointSliceObject, ServiceObject } from './objects.js';
import { deleteConntrackEntries, staleConntrackEntries } from './conntrack.js';
import { ProxierHealth } from './health.js';
import type { ServiceHealthServers, ServiceHealthState } from './health.js';
import { ProxyMetrics } from './metrics.js';
import type { IptablesApplier } from './iptables/apply.js';
import type { Exec } from './iptables/apply.js';
import { JUMP_RULES, jumpRuleArgs } from './iptables/jumps.js';
import { isServiceChainName, retireUnusedChainNames } from './iptables/names.js';
import {
  activeChains,
  NFT_STAGE_BUDGET,
  portContext,
  portFragment,
  renderIptables,
  renderServiceChains,
  replaceActiveChains,
} from './iptables/render.js';
import type { FragmentCache, IptablesRenderOptions, PortContext, PortFragment } from './iptables/render.js';
import { dropUnchangedTopLevel, topLevelContents } from './iptables/trim.js';
import type { ChainContents } from './iptables/trim.js';

export const TRIGGER_TIME_ANNOTATION = 'endpoints.kubernetes.io/last-change-trigger-time';

export interface SyncEngineOptions {
  node: NodeFacts;
  exec: Exec;
  applier: IptablesApplier;
  /** Shortest time between two syncs (kube-proxy --iptables-min-sync-period, 1 s). */
  minSyncPeriodMs?: number;
  /** Periodic sync, canary check and retry interval (--iptables-sync-period, 30 s). */
  syncPeriodMs?: number;
  /** A full rewrite at least this often (kube-proxy: one hour). */
  fullSyncPeriodMs?: number;
  render?: Omit<IptablesRenderOptions, 'changedServices' | 'existingNatChains' | 'cache' | 'portContext'>;
  /**
   * Leave unchanged top-level chains out of change-driven partial syncs (not what kube-proxy
   * does; periodic and full syncs still rewrite them). Default true.
   */
  skipUnchangedTopLevel?: boolean;
  metrics?: ProxyMetrics;
  health?: ProxierHealth;
  serviceHealth?: ServiceHealthServers;
  log?: (msg: string, fields?: Record<string, unknown>) => void;
  now?: () => number;
}

export interface SyncResult {
  ok: boolean;
  full: boolean;
  bytes: number;
  /** Milliseconds spent rendering, and in iptables-restore alone. */
  renderMs: number;
  restoreMs: number;
  /**
   * Milliseconds spent before the restore on the kernel's state: canary and jump-rule checks
   * (periodic syncs), their installation (full syncs) and listing the nat chains.
   */
  checkMs: number;
  deletedChains: string[];
  error?: string;
}

function objectKey(o: { metadata: { namespace: string; name: string } }): string {
  return `${o.metadata.namespace}/${o.metadata.name}`;
}

/**
 * kube-proxy's sync loop, independent of where objects come from: an object cache fed by
 * set/delete calls (an informer, a file, a test), bounded-frequency syncs, change tracking for
 * partial restores, full syncs on start / periodically / after a failure / when the canary or a
 * chain we own vanished, UDP conntrack clean-up, metrics and health.
 */
export class ProxySyncEngine {
  readonly metrics: ProxyMetrics;
  readonly health: ProxierHealth;
  private readonly services = new Map<string, ServiceObject>();
  private readonly slices = new Map<string, EndpointSliceObject>();
  /** Service → its slices by slice key, and the model's ports per service, kept between syncs. */
  private readonly slicesByService = new Map<string, Map<string, EndpointSliceObject>>();
  private readonly portsByService = new Map<string, ServicePort[]>();
  private readonly fragments: FragmentCache = new WeakMap();
  private lastTopLevel: ChainContents = new Map();
  /** The last model built, and where each of its ports sits in its sorted list. */
  private lastModel: ProxyModel | undefined;
  private portIndex = new Map<ServicePort, number>();
  /** Fragment context and complete-rule-set counts of the last successful sync. */
  private lastContext: string | undefined;
  private lastCounts: RuleCounts = { filter: 0, nat: 0, natChains: 0 };
  private changed = new Set<string>();
  private triggerTimes: number[] = [];
  private needFullSync = true;
  private lastFullSync = 0;
  private lastCleanup = 0;
  private lastSyncStart = Number.NEGATIVE_INFINITY;
  private prevModel: ProxyModel | undefined;
  private prevActive: (() => Set<string>) | undefined;
  private largeClusterMode = false;
  private running: Promise<SyncResult> | undefined;
  private pending = false;
  private checkOnNextSync = false;
  private timer: NodeJS.Timeout | undefined;
  private periodic: NodeJS.Timeout | undefined;
  private stopped = true;
  private readonly now: () => number;
  private readonly minSyncMs: number;
  private readonly syncPeriodMs: number;
  private readonly fullSyncPeriodMs: number;

  constructor(private readonly o: SyncEngineOptions) {
    this.now = o.now ?? Date.now;
    this.minSyncMs = o.minSyncPeriodMs ?? 1000;
    this.syncPeriodMs = o.syncPeriodMs ?? 30_000;
    this.fullSyncPeriodMs = o.fullSyncPeriodMs ?? 3_600_000;
    this.metrics = o.metrics ?? new ProxyMetrics();
    this.health = o.health ?? new ProxierHealth(2 * this.syncPeriodMs, this.now);
  }

  setService(svc: ServiceObject): void {
    const key = objectKey(svc);
    const old = this.services.get(key);
    if (old && JSON.stringify(old) === JSON.stringify(svc)) return;
    this.services.set(key, svc);
    this.noteServiceChange(key);
  }

  deleteService(ref: { metadata: { namespace: string; name: string } }): void {
    const key = objectKey(ref);
    if (this.services.delete(key)) this.noteServiceChange(key);
  }

  setEndpointSlice(slice: EndpointSliceObject): void {
    const key = objectKey(slice);
    const old = this.slices.get(key);
    if (old && JSON.stringify(old) === JSON.stringify(slice)) return;
    this.slices.set(key, slice);
    this.indexSlice(key, old, slice);
    const trigger = Date.parse(slice.metadata.annotations?.[TRIGGER_TIME_ANNOTATION] ?? '');
    if (!Number.isNaN(trigger)) this.triggerTimes.push(trigger);
    this.noteEndpointChange(old, slice);
  }

  deleteEndpointSlice(slice: EndpointSliceObject): void {
    const key = objectKey(slice);
    const old = this.slices.get(key);
    if (!old) return;
    this.slices.delete(key);
    this.indexSlice(key, old, undefined);
    this.noteEndpointChange(old, undefined);
  }

  private indexSlice(
    key: string,
    old: EndpointSliceObject | undefined,
    next: EndpointSliceObject | undefined,
  ): void {
    const before = old && sliceServiceKey(old);
    if (before) this.slicesByService.get(before)?.delete(key);
    const after = next && sliceServiceKey(next);
    if (!after || !next) return;
    let set = this.slicesByService.get(after);
    if (!set) this.slicesByService.set(after, (set = new Map()));
    set.set(key, next);
  }

  /**
   * The model, rebuilding only the ports of changed services (all of them on a full sync), and,
   * on a partial sync where every changed service kept its port names and protocols, each
   * changed port paired with the one it replaces.
   */
  private model(changed: ReadonlySet<string>, full: boolean): { model: ProxyModel; replaced?: PortPairs } {
    const keys = full ? new Set([...this.services.keys(), ...this.portsByService.keys()]) : changed;
    let replaced: PortPairs | undefined = full ? undefined : [];
    for (const key of keys) {
      const before = this.portsByService.get(key) ?? [];
      const svc = this.services.get(key);
      const slices = [...(this.slicesByService.get(key)?.values() ?? [])];
      const after = svc ? buildServicePorts(svc, slices, this.o.node) : [];
      if (svc) this.portsByService.set(key, after);
      else this.portsByService.delete(key);
      if (!replaced) continue;
      if (!samePorts(before, after)) replaced = undefined;
      else after.forEach((sp, i) => replaced?.push([before[i] as ServicePort, sp]));
    }
    const model = (replaced && this.lastModel && this.replacePorts(replaced)) || this.assemble();
    return { model, replaced };
  }

  private assemble(): ProxyModel {
    const model = assembleModel(this.o.node, this.portsByService.values());
    this.portIndex = new Map(model.ports.map((sp, i) => [sp, i]));
    return (this.lastModel = model);
  }

  /**
   * When the changed services kept their port names, their new ports take the old ones'
   * places in the sorted list: no re-sort of every port on an endpoint change.
   */
  private replacePorts(replaced: PortPairs): ProxyModel | undefined {
    const last = this.lastModel as ProxyModel;
    const ports = last.ports.slice();
    let totalEndpoints = last.totalEndpoints;
    for (const [before, after] of replaced) {
      const i = this.portIndex.get(before);
      if (i === undefined) return undefined;
      ports[i] = after;
      this.portIndex.delete(before);
      this.portIndex.set(after, i);
      totalEndpoints += after.endpoints.length - before.endpoints.length;
    }
    return (this.lastModel = { node: last.node, ports, totalEndpoints });
  }

  private noteServiceChange(key: string): void {
    this.metrics.serviceChanges.inc();
    this.changed.add(key);
    this.requestSync();
  }

  private noteEndpointChange(
    old: EndpointSliceObject | undefined,
    next: EndpointSliceObject | undefined,
  ): void {
    this.metrics.endpointChanges.inc();
    for (const s of [old, next]) {
      const svc = s && sliceServiceKey(s);
      if (svc) this.changed.add(svc);
    }
    this.requestSync();
  }

  /** Starts the loop: a full sync at once, then periodic syncs. */
  start(): void {
    this.stopped = false;
    this.needFullSync = true;
    this.requestSync();
    this.periodic = setInterval(() => {
      this.checkOnNextSync = true;
      this.requestSync();
    }, this.syncPeriodMs);
  }

  /** Stops scheduling and waits for a sync in flight; installed rules stay as they are. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.periodic);
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.running;
  }

  /** Queues a sync no sooner than min-sync-period after the previous one started. */
  requestSync(): void {
    this.health.queued();
    this.metrics.lastQueuedTimestamp.set(this.now() / 1000);
    if (this.stopped) return;
    if (this.running) {
      this.pending = true;
      return;
    }
    if (this.timer) return;
    const wait = Math.max(0, this.lastSyncStart + this.minSyncMs - this.now());
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.syncNow();
    }, wait);
  }

  /** Runs one sync now (after any sync in flight). */
  async syncNow(): Promise<SyncResult> {
    while (this.running) await this.running;
    this.running = this.syncOnce().finally(() => {
      this.running = undefined;
      if (this.pending && !this.stopped) {
        this.pending = false;
        this.requestSync();
      }
    });
    return this.running;
  }

  /** Forces the next sync to be a full one (kube-proxy's forceSyncProxyRules). */
  forceFullSync(): void {
    this.needFullSync = true;
    this.requestSync();
  }

  private async driftDetected(): Promise<boolean> {
    const a = this.o.applier;
    if (!(await a.canariesPresent())) return true;
    for (const rule of JUMP_RULES) {
      if (!(await a.ruleExists(rule.table, rule.from, jumpRuleArgs(rule)))) return true;
    }
    return false;
  }

  private async syncOnce(): Promise<SyncResult> {
    const start = this.now();
    this.lastSyncStart = start;
    const applier = this.o.applier;
    const log = this.o.log ?? (() => undefined);
    let full = this.needFullSync || start - this.lastFullSync >= this.fullSyncPeriodMs;
    const periodic = this.checkOnNextSync;
    this.checkOnNextSync = false;
    if (!full && periodic && (await this.driftDetected())) {
      log('canary chain or jump rule missing; full resync');
      full = true;
    }

    let existing: string[] | undefined;
    if (full || !this.largeClusterMode || start - this.lastCleanup >= this.syncPeriodMs) {
      existing = await applier.natChains();
      if (!full && this.prevActive && !containsAll(new Set(existing), this.prevActive())) {
        log('a chain kube-proxy wrote is gone; full resync');
        full = true;
      }
    }
    let checkMs = this.now() - start;
    const changed = this.changed;
    const triggers = this.triggerTimes;
    this.changed = new Set();
    this.triggerTimes = [];

    const renderStart = this.now();
    // One generation of memoised chain names per full sync (at least hourly).
    if (full) retireUnusedChainNames();
    const { model, replaced } = this.model(changed, full);
    const context = portContext(model, this.o.render);
    const trim = !full && !periodic && (this.o.skipUnchangedTopLevel ?? true);
    const out =
      (trim && replaced && this.serviceChainsOnly(model, replaced, existing, context)) ||
      this.renderAll(model, full ? undefined : changed, existing, trim, context);
    const text = out.text;
    const renderMs = this.now() - renderStart;
    this.largeClusterMode = out.largeClusterMode;

    let restoreMs = 0;
    try {
      if (full) {
        const t = this.now();
        await applier.ensureCanaries();
        await applier.ensureJumpRules();
        checkMs += this.now() - t;
      }
      const t = this.now();
      try {
        await applier.restore(text);
      } finally {
        restoreMs = this.now() - t;
      }
    } catch (err) {
      const error = (err as Error).message;
      log('sync failed; next sync is a full one', { error, full });
      this.metrics.restoreFailures.inc();
      if (!full) this.metrics.partialRestoreFailures.inc();
      this.needFullSync = true;
      // The render may have updated the last active-chain set for rules that never landed; the
      // full sync that follows does not read it.
      this.prevActive = undefined;
      for (const c of changed) this.changed.add(c);
      this.triggerTimes.push(...triggers);
      if (!this.stopped && !this.timer) {
        this.timer = setTimeout(() => {
          this.timer = undefined;
          void this.syncNow();
        }, this.minSyncMs);
      }
      return {
        ok: false,
        full,
        bytes: text.length,
        renderMs,
        restoreMs,
        checkMs,
        deletedChains: [],
        error,
      };
    }
    const end = this.now();

    this.needFullSync = false;
    if (full) this.lastFullSync = start;
    if (existing) this.lastCleanup = start;
    this.prevActive = out.activeNatChains;
    if (out.topLevel) this.lastTopLevel = out.topLevel;
    this.lastContext = out.context;
    this.lastCounts = out.counts;
    this.recordMetrics(model, out, full, (end - start) / 1000, triggers, end);
    this.health.updated();
    await this.o.serviceHealth?.sync(serviceHealthStates(model));

    const deletions = staleConntrackEntries(this.prevModel, model);
    this.prevModel = model;
    for (const e of await deleteConntrackEntries(this.o.exec, deletions))
      log('conntrack clean-up failed', { error: e });
    log('synced', { full, bytes: text.length, renderMs, restoreMs, checkMs, changed: changed.size });
    return {
      ok: true,
      full,
      bytes: text.length,
      renderMs,
      restoreMs,
      checkMs,
      deletedChains: out.deletedChains,
    };
  }

  /** The whole rule set rendered; on a partial sync only the changed services' chains are written. */
  private renderAll(
    model: ProxyModel,
    changed: ReadonlySet<string> | undefined,
    existing: string[] | undefined,
    trim: boolean,
    context: { context: PortContext; key: string },
  ): SyncRender {
    const out = renderIptables(model, {
      stageBudget: this.o.applier.backend === 'nft' ? NFT_STAGE_BUDGET : undefined,
      ...this.o.render,
      changedServices: changed,
      existingNatChains: existing,
      cache: this.fragments,
      portContext: context,
    });
    const topLevel = topLevelContents(out.topLevelText);
    const text = trim ? dropUnchangedTopLevel(out.text, this.lastTopLevel, topLevel) : out.text;
    return {
      text,
      // A full render writes everything: its counts are the written counts.
      written: text === out.text ? out.ruleCounts : undefined,
      topLevel,
      activeNatChains: out.activeNatChains,
      deletedChains: out.deletedChains,
      counts: { ...out.ruleCounts, natChains: out.natChainCount },
      context: context.key,
      largeClusterMode: out.largeClusterMode,
    };
  }

  /**
   * Beyond kube-proxy: when the changed services contribute exactly the same top-level rules as
   * before (an endpoint change, the common case), write only their own chains and delete the
   * chains they no longer use, without touching or even rebuilding the top-level chains. That
   * makes an endpoint change cost O(changed services), not O(all services). Undefined when
   * the shortcut does not apply.
   */
  private serviceChainsOnly(
    model: ProxyModel,
    replaced: PortPairs,
    existing: string[] | undefined,
    { context, key }: { context: PortContext; key: string },
  ): SyncRender | undefined {
    if (key !== this.lastContext) return undefined;
    const fragment = (sp: ServicePort) => portFragment(sp, context, key, this.fragments);
    const before: PortFragment[] = [];
    const written: PortFragment[] = [];
    const counts = { ...this.lastCounts };
    for (const [a, b] of replaced) {
      const fa = fragment(a);
      const fb = fragment(b);
      if (fa.filter !== fb.filter || fa.natTop !== fb.natTop) return undefined;
      counts.nat += fb.ruleCount - fa.ruleCount;
      counts.natChains += fb.chainCount - fa.chainCount;
      before.push(fa);
      written.push(fb);
    }
    // The last sync's active set, updated for the replaced ports; once computed, the previous
    // set is no longer referenced.
    let previous = this.prevActive;
    let active: Set<string> | undefined;
    const activeNatChains = () => {
      if (active) return active;
      active = previous
        ? replaceActiveChains(previous(), before, written)
        : activeChains(model.ports.map(fragment));
      previous = undefined;
      return active;
    };
    const unused = new Set<string>();
    for (const f of before) for (const chain of f.active) unused.add(chain);
    for (const f of written) for (const chain of f.active) unused.delete(chain);
    for (const chain of existing ?? []) {
      if (isServiceChainName(chain) && !activeNatChains().has(chain)) unused.add(chain);
    }
    const deletedChains = [...unused];
    return {
      text: renderServiceChains(written, deletedChains),
      activeNatChains,
      deletedChains,
      counts,
      context: key,
      largeClusterMode: context.large,
    };
  }

  private recordMetrics(
    model: ProxyModel,
    { counts, text, written }: SyncRender,
    full: boolean,
    seconds: number,
    triggers: number[],
    end: number,
  ): void {
    const m = this.metrics;
    m.syncDuration.observe(seconds);
    (full ? m.fullSyncDuration : m.partialSyncDuration).observe(seconds);
    m.lastSyncTimestamp.set(end / 1000);
    m.rulesTotal.set({ table: 'filter' }, counts.filter);
    m.rulesTotal.set({ table: 'nat' }, counts.nat);
    const last = written ?? rulesPerTable(text);
    m.rulesLast.set({ table: 'filter' }, last.filter);
    m.rulesLast.set({ table: 'nat' }, last.nat);
    let internal = 0;
    let external = 0;
    for (const sp of model.ports) {
      if (!sp.hasEndpoints) continue;
      if (sp.internalPolicyLocal && sp.localEndpoints.length === 0) internal++;
      if (sp.externalPolicyLocal && sp.localEndpoints.length === 0) external++;
    }
    m.noLocalEndpoints.set({ traffic_policy: 'internal' }, internal);
    m.noLocalEndpoints.set({ traffic_policy: 'external' }, external);
    for (const t of triggers) if (t <= end) m.networkProgrammingDuration.observe((end - t) / 1000);
  }
}

/** Changed service ports, each with the port it replaces. */
type PortPairs = Array<[before: ServicePort, after: ServicePort]>;

function containsAll(set: ReadonlySet<string>, items: Iterable<string>): boolean {
  for (const item of items) if (!set.has(item)) return false;
  return true;
}

function samePorts(a: readonly ServicePort[], b: readonly ServicePort[]): boolean {
  return (
    a.length === b.length && a.every((sp, i) => sp.name === b[i]?.name && sp.protocol === b[i]?.protocol)
  );
}

/** `-A` lines per table of restore text, counted without splitting it into lines. */
function rulesPerTable(text: string): { filter: number; nat: number } {
  const nat = text.indexOf('*nat\n');
  const count = (from: number, to: number) => {
    let n = 0;
    for (let i = text.indexOf('\n-A ', from); i !== -1 && i < to; i = text.indexOf('\n-A ', i + 1)) n++;
    return n;
  };
  return nat === -1
    ? { filter: count(0, text.length), nat: 0 }
    : { filter: count(0, nat), nat: count(nat, text.length) };
}

interface RuleCounts {
  filter: number;
  nat: number;
  natChains: number;
}

/** What one sync writes, and what the engine remembers of it. */
interface SyncRender {
  text: string;
  /** Rules per table in `text`, when known without counting. */
  written?: { filter: number; nat: number };
  /** Contents of the top-level chains; undefined when they were not rendered (unchanged). */
  topLevel?: ChainContents;
  activeNatChains: () => Set<string>;
  deletedChains: string[];
  /** Counts of the complete rule set, as if fully written. */
  counts: RuleCounts;
  context: string;
  largeClusterMode: boolean;
}

/** Local ready endpoint IPs per health-check node port: what the LB asks each node about. */
export function serviceHealthStates(model: ProxyModel): Map<number, ServiceHealthState> {
  const ips = new Map<number, { namespace: string; name: string; ips: Set<string> }>();
  for (const sp of model.ports) {
    if (!sp.healthCheckNodePort) continue;
    const [namespace = '', name = ''] = sp.service.split('/');
    let entry = ips.get(sp.healthCheckNodePort);
    if (!entry) ips.set(sp.healthCheckNodePort, (entry = { namespace, name, ips: new Set() }));
    for (const ep of sp.endpoints) if (ep.local && ep.ready) entry.ips.add(ep.ip);
  }
  const out = new Map<number, ServiceHealthState>();
  for (const [port, e] of ips)
    out.set(port, { namespace: e.namespace, name: e.name, localEndpoints: e.ips.size });
  return out;
}
