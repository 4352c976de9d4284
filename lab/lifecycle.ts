/**
 * `up` and `down` of a lab, provider-independent: state file first (so even a crashed `up` can be
 * taken down), then the provider's kernel work, and clean-up of everything on any failure.
 */
import { existsSync } from 'node:fs';
import { LabError } from './errors.js';
import { validateLabName } from './names.js';
import { planLab, type PlanOptions } from './plan.js';
import { stopProcesses } from './processes.js';
import type { Faults, LabProvider, StepReport } from './provider.js';
import { labDir, readState, removeLabDir, setHostEnv, writeState, type LabState } from './state.js';

export interface UpIo {
  readonly provider: LabProvider;
  readonly signal: AbortSignal;
  readonly onStep: (report: StepReport) => void;
  readonly log: (line: string) => void;
  readonly faults?: Faults;
}

export async function labUp(options: PlanOptions, io: UpIo): Promise<LabState> {
  const plan = planLab(options);
  if ((await readState(plan.lab)) || (await io.provider.exists(plan.lab))) {
    throw new LabError(
      'LAB_EXISTS',
      `lab "${plan.lab}" already exists`,
      `take it down first: klab lab down --name ${plan.lab}`,
    );
  }
  await io.provider.preflight(plan);
  const initial: LabState = {
    version: 1,
    lab: plan.lab,
    provider: io.provider.name,
    phase: 'creating',
    createdAt: new Date().toISOString(),
    nodes: plan.nodes,
    lanNetns: plan.lanNetns,
    bridge: plan.bridge,
    hosts: plan.hosts.map(({ name, role, netns, ip, ifname }) => ({ name, role, netns, ip, ifname })),
    hostAccess: plan.hostAccess ? { ifname: plan.hostAccess.ifname, ip: plan.hostAccess.ip } : null,
    brNetfilter: false,
    warnings: [],
    processes: [],
  };
  await writeState(initial);
  try {
    const result = await io.provider.create(plan, {
      signal: io.signal,
      onStep: io.onStep,
      warn: (message) => io.log(`warning: ${message}`),
      faults: io.faults ?? {},
    });
    await Promise.all(
      plan.hosts.map((h) => setHostEnv(plan.lab, h.name, { KLAB_LAB: plan.lab, KLAB_HOST: h.name })),
    );
    if (io.signal.aborted) throw new LabError('INTERRUPTED', 'interrupted');
    const state: LabState = {
      ...initial,
      phase: 'up',
      brNetfilter: result.brNetfilter,
      warnings: result.warnings,
    };
    await writeState(state);
    return state;
  } catch (error) {
    io.log(`cleaning up lab "${plan.lab}" …`);
    try {
      await labDown(plan.lab, { provider: io.provider, log: io.log });
    } catch (cleanupError) {
      io.log(
        `clean-up failed too: ${(cleanupError as Error).message}; run "klab lab down --name ${plan.lab}"`,
      );
    }
    throw error;
  }
}

export interface DownIo {
  readonly provider: LabProvider;
  readonly log: (line: string) => void;
}

/** Idempotent: removes processes, kernel objects and the state directory of `lab`, if any. */
export async function labDown(lab: string, io: DownIo): Promise<boolean> {
  validateLabName(lab);
  let state: LabState | undefined;
  try {
    state = await readState(lab);
  } catch (error) {
    io.log(`ignoring unreadable state: ${(error as Error).message}`);
  }
  const existed = state !== undefined || (await io.provider.exists(lab));
  const stopped = await stopProcesses(io.provider, lab, state);
  if (stopped > 0) io.log(`stopped ${stopped} processes`);
  await io.provider.destroy(lab, state, io.log);
  if (existsSync(labDir(lab))) {
    await removeLabDir(lab);
    io.log(`removed ${labDir(lab)}`);
  }
  return existed;
}
