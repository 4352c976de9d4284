import { describe, expect, it } from 'vitest';
import type { ContainerSpec } from './pod.js';
import {
  initialProberState,
  probeActive,
  type ProbeKind,
  probeResult,
  type ProberState,
  probeTiming,
} from './prober.js';

const http = { httpGet: { port: 8080 } };

/** Feeds results in order and collects the actions that were not 'none'. */
function feed(spec: ContainerSpec, state: ProberState, steps: [ProbeKind, boolean][]) {
  const actions: string[] = [];
  for (const [kind, ok] of steps) {
    const r = probeResult(spec, state, kind, ok);
    state = r.state;
    if (r.action.kind === 'kill') actions.push(`kill:${r.action.probe}`);
    else if (r.action.kind === 'ready') actions.push(`ready:${r.action.ready}`);
    else if (r.action.kind !== 'none') actions.push(r.action.kind);
  }
  return { state, actions };
}

describe('prober', () => {
  it('uses kubelet defaults for unset timing fields', () => {
    expect(probeTiming({})).toEqual({
      initialDelayMs: 0,
      periodMs: 10_000,
      timeoutMs: 1000,
      failureThreshold: 3,
      successThreshold: 1,
    });
  });

  it('starts a container ready only without readiness and startup probes', () => {
    expect(initialProberState({ name: 'c' })).toMatchObject({ started: true, ready: true });
    expect(initialProberState({ name: 'c', readinessProbe: http })).toMatchObject({
      started: true,
      ready: false,
    });
    expect(initialProberState({ name: 'c', startupProbe: http })).toMatchObject({
      started: false,
      ready: false,
    });
    expect(
      initialProberState({ name: 'c', readinessProbe: http }, { ready: true, started: true }).ready,
    ).toBe(true);
  });

  it('kills on the failureThreshold-th consecutive liveness failure; a success resets the count', () => {
    const spec: ContainerSpec = { name: 'c', livenessProbe: { ...http, failureThreshold: 3 } };
    const r = feed(spec, initialProberState(spec), [
      ['liveness', false],
      ['liveness', false],
      ['liveness', true],
      ['liveness', false],
      ['liveness', false],
      ['liveness', false],
    ]);
    expect(r.actions).toEqual(['kill:liveness']);
  });

  it('flips readiness only at its thresholds', () => {
    const spec: ContainerSpec = {
      name: 'c',
      readinessProbe: { ...http, successThreshold: 2, failureThreshold: 2 },
    };
    const r = feed(spec, initialProberState(spec), [
      ['readiness', true],
      ['readiness', true],
      ['readiness', true],
      ['readiness', false],
      ['readiness', true],
      ['readiness', false],
      ['readiness', false],
    ]);
    expect(r.actions).toEqual(['ready:true', 'ready:false']);
    expect(r.state.ready).toBe(false);
  });

  it('gates liveness and readiness behind the startup probe, which stops once it passed', () => {
    const spec: ContainerSpec = {
      name: 'c',
      startupProbe: { ...http, failureThreshold: 30 },
      livenessProbe: { ...http, failureThreshold: 1 },
      readinessProbe: http,
    };
    let state = initialProberState(spec);
    expect(probeActive(spec, state, 'liveness')).toBe(false);
    expect(probeActive(spec, state, 'readiness')).toBe(false);
    expect(probeActive(spec, state, 'startup')).toBe(true);
    const gated = feed(spec, state, [['liveness', false]]);
    expect(gated.actions).toEqual([]);
    const r = feed(spec, state, [
      ['startup', false],
      ['startup', true],
      ['readiness', true],
    ]);
    expect(r.actions).toEqual(['started', 'ready:true']);
    state = r.state;
    expect(probeActive(spec, state, 'startup')).toBe(false);
    expect(feed(spec, state, [['liveness', false]]).actions).toEqual(['kill:liveness']);
  });

  it('kills a container whose startup probe never passes', () => {
    const spec: ContainerSpec = { name: 'c', startupProbe: { ...http, failureThreshold: 2 } };
    const r = feed(spec, initialProberState(spec), [
      ['startup', false],
      ['startup', false],
    ]);
    expect(r.actions).toEqual(['kill:startup']);
    expect(r.state.started).toBe(false);
  });
});
