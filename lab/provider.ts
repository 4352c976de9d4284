/**
 * What a lab backend does. The netns provider (lab/netns/) builds the lab from network namespaces
 * on this machine; a Vagrant provider can implement the same contract with VMs, so the lab commands,
 * the process supervisor and the tests never know which one runs underneath.
 */
import type { LabPlan } from './plan.js';
import type { LabState } from './state.js';

export interface StepReport {
  readonly step: string;
  readonly ms: number;
  readonly detail?: string;
}

export interface CreateContext {
  /** Aborted on Ctrl-C: the provider stops at the next step and the caller cleans up. */
  readonly signal: AbortSignal;
  readonly onStep: (report: StepReport) => void;
  readonly warn: (message: string) => void;
  /** Test-only fault injection, see lab/README.md. */
  readonly faults: Faults;
}

export interface Faults {
  /** Throw once this many nodes are configured. */
  readonly failAfterNodes?: number;
  /** Wait (until aborted) once this many nodes are configured. */
  readonly hangAfterNodes?: number;
}

/** What create() found out about the machine, kept in lab.json. */
export interface CreateResult {
  readonly brNetfilter: boolean;
  readonly warnings: readonly string[];
}

export interface HostInspection {
  readonly host: string;
  /** The host's namespace (or VM) exists. */
  readonly present: boolean;
  /** Addresses actually configured on its LAN interface. */
  readonly addresses: readonly string[];
}

export interface LabProvider {
  readonly name: string;
  /** Checks that stop `up` before anything is created (e.g. host access already taken). */
  preflight(plan: LabPlan): Promise<void>;
  create(plan: LabPlan, context: CreateContext): Promise<CreateResult>;
  /** Removes everything of lab `lab`, from its state when known, else by naming convention. */
  destroy(lab: string, state: LabState | undefined, log: (line: string) => void): Promise<void>;
  /** Labs that have kernel objects (or VMs), whether or not they have state. */
  listLabs(): Promise<string[]>;
  /** Whether any object of lab `lab` exists. */
  exists(lab: string): Promise<boolean>;
  /** The argv that runs `argv` on `host` of the lab. */
  hostCommand(state: LabState, host: string, argv: readonly string[]): string[];
  inspectHosts(state: LabState): Promise<HostInspection[]>;
  /** Pids still running on the lab's hosts (the last resort of `down`). */
  hostPids(lab: string, state: LabState | undefined): Promise<number[]>;
}
