/** The default lab backend: network namespaces on this machine, a bridge namespace as the LAN. */
import { setMaxListeners } from 'node:events';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { LabError } from '../errors.js';
import { hostAccessIfName, parseNetnsName } from '../names.js';
import {
  createBatch,
  deleteBatch,
  EXT_IP,
  hostConfig,
  lanConfig,
  LAN_PREFIX,
  type LabPlan,
  type NamespaceConfig,
} from '../plan.js';
import type { CreateContext, CreateResult, HostInspection, LabProvider } from '../provider.js';
import type { LabState } from '../state.js';
import {
  configureNamespace,
  deleteLink,
  ensureBrNetfilter,
  ipBatch,
  ipv4Addresses,
  linkExists,
  listNetns,
  netnsExists,
  netnsPids,
} from './ip.js';

async function timed<T>(
  context: CreateContext,
  step: string,
  fn: () => Promise<T>,
  detail?: string,
): Promise<T> {
  if (context.signal.aborted) throw new LabError('INTERRUPTED', `interrupted before: ${step}`);
  const start = performance.now();
  const result = await fn();
  context.onStep({ step, ms: performance.now() - start, detail });
  return result;
}

/** Namespaces of `lab` that exist now, found by the naming convention alone. */
async function labNamespaces(lab: string): Promise<string[]> {
  return (await listNetns()).filter((ns) => parseNetnsName(ns)?.lab === lab);
}

function untilAborted(signal: AbortSignal): Promise<never> {
  return new Promise((_resolve, reject) => {
    // A pending promise alone does not keep Node running; the timer does until the abort.
    const keepAlive = setInterval(() => undefined, 60_000);
    const stop = () => {
      clearInterval(keepAlive);
      reject(new LabError('INTERRUPTED', 'interrupted while paused'));
    };
    if (signal.aborted) stop();
    else signal.addEventListener('abort', stop, { once: true });
  });
}

/** Configures every namespace in parallel; the first failure stops the others before returning. */
async function configureAll(configs: readonly NamespaceConfig[], context: CreateContext): Promise<void> {
  const local = new AbortController();
  const signal = AbortSignal.any([context.signal, local.signal]);
  // One listener per namespace process is expected, not a leak.
  setMaxListeners(configs.length + 2, signal);
  let nodesDone = 0;
  const { failAfterNodes, hangAfterNodes } = context.faults;
  const one = async (config: NamespaceConfig): Promise<void> => {
    await configureNamespace(config, signal);
    if (config.host?.role !== 'node') return;
    nodesDone += 1;
    if (nodesDone === failAfterNodes) {
      throw new LabError(
        'FORCED_FAILURE',
        `forced failure after ${failAfterNodes} nodes (KLAB_LAB_FAIL_AFTER_NODES)`,
        'unset KLAB_LAB_FAIL_AFTER_NODES',
      );
    }
    if (nodesDone === hangAfterNodes) {
      context.warn(`paused after ${hangAfterNodes} nodes (KLAB_LAB_HANG_AFTER_NODES); Ctrl-C to stop`);
      await untilAborted(signal);
    }
  };
  const results = await Promise.allSettled(
    configs.map((c) =>
      one(c).catch((error: unknown) => {
        local.abort();
        throw error;
      }),
    ),
  );
  // Report the failure that caused the others to be cancelled, not a cancellation.
  const failures = results.flatMap((r) => (r.status === 'rejected' ? [r.reason as unknown] : []));
  const root = failures.find((e) => !(e instanceof LabError && e.code === 'INTERRUPTED')) ?? failures[0];
  if (root !== undefined) throw root;
}

export const netnsProvider: LabProvider = {
  name: 'netns',

  async preflight(plan: LabPlan): Promise<void> {
    if (!plan.hostAccess) return;
    const holders = [...(await ipv4Addresses()).entries()].filter(([, addrs]) =>
      addrs.some((a) => a.startsWith(`${LAN_PREFIX}.`)),
    );
    if (holders.length > 0) {
      const list = holders.map(([ifname, addrs]) => `${ifname} (${addrs.join(', ')})`).join(', ');
      throw new LabError(
        'HOST_ACCESS_TAKEN',
        `--host-access needs ${plan.hostAccess.ip} on the host, but ${list} already holds the lab LAN ${LAN_PREFIX}.0/24`,
        'bring the other lab down (klab lab list), or start this lab without --host-access',
      );
    }
  },

  async create(plan: LabPlan, context: CreateContext): Promise<CreateResult> {
    const warnings: string[] = [];
    const brNetfilter = await timed(context, 'br_netfilter', ensureBrNetfilter);
    if (!brNetfilter) {
      const warning =
        'br_netfilter is not loaded and modprobe could not load it: bridged pod traffic will bypass iptables';
      warnings.push(warning);
      context.warn(warning);
    }
    const namespaces = plan.hosts.length + 1;
    await timed(
      context,
      'namespaces and LAN links',
      () =>
        ipBatch(createBatch(plan), {
          signal: context.signal,
          what: 'creating namespaces and veths',
          hint: 'run as root; "klab lab list" shows labs that may hold these names',
        }),
      `${namespaces} namespaces, ${plan.hosts.length} veths${plan.hostAccess ? ` + host access ${plan.hostAccess.ifname}` : ''}`,
    );
    const configs = [lanConfig(plan), ...plan.hosts.map((h) => hostConfig(h, { brNetfilter }))];
    await timed(
      context,
      'LAN bridge, addresses, sysctls',
      () => configureAll(configs, context),
      `${namespaces} namespaces in parallel`,
    );
    // The nodes' resolver is ext, as a LAN's DHCP would hand out: cluster DNS forwards there, so
    // lookups of outside names never leave the machine. `ip netns exec` bind-mounts this file.
    await Promise.all(
      plan.hosts
        .filter((h) => h.role === 'node')
        .map(async (h) => {
          await mkdir(`/etc/netns/${h.netns}`, { recursive: true });
          await writeFile(`/etc/netns/${h.netns}/resolv.conf`, `nameserver ${EXT_IP}\n`);
        }),
    );
    return { brNetfilter, warnings };
  },

  async destroy(lab: string, state: LabState | undefined, log: (line: string) => void): Promise<void> {
    const known = state ? [state.lanNetns, ...state.hosts.map((h) => h.netns)] : [];
    const namespaces = [...new Set([...known.filter(netnsExists), ...(await labNamespaces(lab))])];
    await ipBatch(deleteBatch(namespaces), { force: true, what: 'deleting namespaces', hint: '' });
    const left = namespaces.filter(netnsExists);
    if (left.length > 0) {
      throw new LabError(
        'STEP_FAILED',
        `could not delete namespaces: ${left.join(', ')}`,
        'check "ip netns pids <ns>" for processes and run down again',
      );
    }
    if (namespaces.length > 0) log(`deleted ${namespaces.length} namespaces`);
    // Pod sandboxes carry the resolv.conf and hosts files `ip netns exec` bind-mounts.
    await Promise.all(namespaces.map((ns) => rm(`/etc/netns/${ns}`, { recursive: true, force: true })));
    // Deleting the LAN namespace already removed the host-access veth's peer, and with it the pair.
    const access = state?.hostAccess?.ifname ?? hostAccessIfName(lab);
    if (await linkExists(access)) {
      // The kernel may finish removing the pair between the check and the delete.
      await deleteLink(access).catch(async (error: unknown) => {
        if (await linkExists(access)) throw error;
      });
      log(`deleted host-access link ${access}`);
    }
  },

  async listLabs(): Promise<string[]> {
    const labs = new Set<string>();
    for (const ns of await listNetns()) {
      const parsed = parseNetnsName(ns);
      if (parsed) labs.add(parsed.lab);
    }
    return [...labs].sort();
  },

  async exists(lab: string): Promise<boolean> {
    return (await labNamespaces(lab)).length > 0 || (await linkExists(hostAccessIfName(lab)));
  },

  hostCommand(state: LabState, host: string, argv: readonly string[]): string[] {
    const record = state.hosts.find((h) => h.name === host);
    if (!record) throw new LabError('UNKNOWN_HOST', `lab "${state.lab}" has no host "${host}"`);
    return ['ip', 'netns', 'exec', record.netns, ...argv];
  },

  async inspectHosts(state: LabState): Promise<HostInspection[]> {
    return Promise.all(
      state.hosts.map(async (h) => {
        const present = netnsExists(h.netns);
        const addresses = present ? ((await ipv4Addresses(h.netns, h.ifname)).get(h.ifname) ?? []) : [];
        return { host: h.name, present, addresses };
      }),
    );
  },

  async hostPids(lab: string, state: LabState | undefined): Promise<number[]> {
    const known = state ? [state.lanNetns, ...state.hosts.map((h) => h.netns)] : [];
    const namespaces = [...new Set([...known.filter(netnsExists), ...(await labNamespaces(lab))])];
    return (await Promise.all(namespaces.map(netnsPids))).flat();
  },
};
