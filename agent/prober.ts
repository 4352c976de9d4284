/**
 * kubelet's probe results as a pure state machine. Each probe kind counts consecutive results and
 * flips only at its threshold; a startup probe gates the other two until it succeeds once; a
 * liveness or startup probe that reaches its failure threshold asks for the container to be
 * killed (the restart policy then decides whether it starts again).
 */
import type { ContainerSpec, Probe } from './pod.js';

export type ProbeKind = 'startup' | 'liveness' | 'readiness';

export interface ProberState {
  /** The startup probe succeeded, or there is none. */
  readonly started: boolean;
  /** The readiness result (true without a readiness probe once started). */
  readonly ready: boolean;
  /** Consecutive same results of each kind: positive successes, negative failures. */
  readonly streak: Readonly<Record<ProbeKind, number>>;
}

export type ProbeAction =
  | { readonly kind: 'none' }
  | { readonly kind: 'started' }
  | { readonly kind: 'ready'; readonly ready: boolean }
  | { readonly kind: 'kill'; readonly probe: 'liveness' | 'startup' };

const PROBE_FIELD = {
  startup: 'startupProbe',
  liveness: 'livenessProbe',
  readiness: 'readinessProbe',
} as const;

export function probeOf(spec: ContainerSpec, kind: ProbeKind): Probe | undefined {
  return spec[PROBE_FIELD[kind]];
}

/** kubelet's defaults: period 10 s, timeout 1 s, failure threshold 3, success threshold 1. */
export function probeTiming(probe: Probe) {
  return {
    initialDelayMs: (probe.initialDelaySeconds ?? 0) * 1000,
    periodMs: Math.max(1, probe.periodSeconds ?? 10) * 1000,
    timeoutMs: Math.max(1, probe.timeoutSeconds ?? 1) * 1000,
    failureThreshold: Math.max(1, probe.failureThreshold ?? 3),
    successThreshold: Math.max(1, probe.successThreshold ?? 1),
  };
}

/**
 * A freshly started container: not started while a startup probe exists, not ready while a
 * readiness (or startup) probe exists. `kept` carries what a restarted agent knew, so adopting
 * a container changes neither (kubelet issues #78733, #142305).
 */
export function initialProberState(
  spec: ContainerSpec,
  kept?: { started?: boolean; ready?: boolean },
): ProberState {
  const started = kept?.started ?? !spec.startupProbe;
  const ready = kept?.ready ?? (started && !spec.readinessProbe);
  return { started, ready, streak: { startup: 0, liveness: 0, readiness: 0 } };
}

/** Whether a probe of this kind runs now: liveness and readiness wait for startup; startup stops once passed. */
export function probeActive(spec: ContainerSpec, state: ProberState, kind: ProbeKind): boolean {
  if (!probeOf(spec, kind)) return false;
  return kind === 'startup' ? !state.started : state.started;
}

/** Folds one probe attempt into the state and says what the agent must do about it. */
export function probeResult(
  spec: ContainerSpec,
  state: ProberState,
  kind: ProbeKind,
  ok: boolean,
): { state: ProberState; action: ProbeAction } {
  const probe = probeOf(spec, kind);
  if (!probe || !probeActive(spec, state, kind)) return { state, action: { kind: 'none' } };
  const t = probeTiming(probe);
  const prev = state.streak[kind];
  const run = ok ? Math.max(0, prev) + 1 : Math.min(0, prev) - 1;
  const next: ProberState = { ...state, streak: { ...state.streak, [kind]: run } };
  // Liveness and startup must have successThreshold 1 (API validation); readiness may ask more.
  const succeeded = ok && run >= (kind === 'readiness' ? t.successThreshold : 1);
  const failed = !ok && -run >= t.failureThreshold;
  switch (kind) {
    case 'startup':
      if (succeeded) {
        const ready = !spec.readinessProbe;
        return { state: { ...next, started: true, ready }, action: { kind: 'started' } };
      }
      return { state: next, action: failed ? { kind: 'kill', probe: 'startup' } : { kind: 'none' } };
    case 'liveness':
      return { state: next, action: failed ? { kind: 'kill', probe: 'liveness' } : { kind: 'none' } };
    case 'readiness':
      if (succeeded && !state.ready)
        return { state: { ...next, ready: true }, action: { kind: 'ready', ready: true } };
      if (failed && state.ready)
        return { state: { ...next, ready: false }, action: { kind: 'ready', ready: false } };
      return { state: next, action: { kind: 'none' } };
  }
}
