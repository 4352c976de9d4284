/** `klab lab status`: what the lab should have (lab.json) checked against what is there. */
import { processStatuses, type ProcessStatus } from './processes.js';
import type { HostInspection, LabProvider } from './provider.js';
import type { LabState } from './state.js';
import { LAN_PREFIX_LENGTH } from './plan.js';

export interface HostStatus {
  readonly name: string;
  readonly role: string;
  readonly netns: string;
  readonly ip: string;
  readonly addresses: readonly string[];
  readonly ok: boolean;
  readonly problem?: string;
}

export interface LabStatus {
  readonly lab: string;
  readonly provider: string;
  readonly phase: LabState['phase'];
  readonly createdAt: string;
  readonly healthy: boolean;
  readonly hosts: readonly HostStatus[];
  readonly hostAccess: LabState['hostAccess'];
  readonly brNetfilter: boolean;
  readonly warnings: readonly string[];
  readonly processes: readonly ProcessStatus[];
}

export function judgeHosts(state: LabState, inspections: readonly HostInspection[]): HostStatus[] {
  return state.hosts.map((h) => {
    const seen = inspections.find((i) => i.host === h.name);
    const want = `${h.ip}/${LAN_PREFIX_LENGTH}`;
    const base = { name: h.name, role: h.role, netns: h.netns, ip: h.ip, addresses: seen?.addresses ?? [] };
    if (!seen?.present) return { ...base, ok: false, problem: 'namespace missing' };
    if (!seen.addresses.includes(want)) return { ...base, ok: false, problem: `${h.ifname} lacks ${want}` };
    return { ...base, ok: true };
  });
}

export function summarize(state: LabState, hosts: HostStatus[], processes: ProcessStatus[]): LabStatus {
  const processesOk = processes.every((p) => p.running && p.healthy !== false);
  return {
    lab: state.lab,
    provider: state.provider,
    phase: state.phase,
    createdAt: state.createdAt,
    healthy: state.phase === 'up' && hosts.every((h) => h.ok) && processesOk,
    hosts,
    hostAccess: state.hostAccess,
    brNetfilter: state.brNetfilter,
    warnings: state.warnings,
    processes,
  };
}

export async function gatherStatus(provider: LabProvider, state: LabState): Promise<LabStatus> {
  const [inspections, processes] = await Promise.all([
    provider.inspectHosts(state),
    processStatuses(provider, state),
  ]);
  return summarize(state, judgeHosts(state, inspections), processes);
}

function table(rows: readonly (readonly string[])[]): string[] {
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, cell.length)));
  return rows.map((row) =>
    row
      .map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd(),
  );
}

export function renderStatus(status: LabStatus): string {
  const lines = [
    `lab "${status.lab}": ${status.healthy ? 'healthy' : status.phase === 'up' ? 'DEGRADED' : 'INCOMPLETE (up did not finish)'}` +
      ` (${status.provider} provider, created ${status.createdAt})`,
    '',
    ...table([
      ['HOST', 'ROLE', 'ADDRESS', 'NAMESPACE', 'STATE'],
      ...status.hosts.map((h) => [h.name, h.role, h.ip, h.netns, h.ok ? 'ok' : (h.problem ?? 'broken')]),
    ]),
    '',
    `host access: ${status.hostAccess ? `${status.hostAccess.ifname} ${status.hostAccess.ip}/${LAN_PREFIX_LENGTH}` : 'off'}`,
    `br_netfilter: ${status.brNetfilter ? 'loaded' : 'NOT loaded (bridged pod traffic bypasses iptables)'}`,
    ...status.warnings.map((w) => `warning: ${w}`),
    '',
  ];
  if (status.processes.length === 0) {
    lines.push('processes: none');
  } else {
    lines.push(
      ...table([
        ['HOST', 'COMPONENT', 'PID', 'STATE', 'HEALTH', 'LOG'],
        ...status.processes.map((p) => [
          p.host,
          p.component,
          String(p.pid),
          p.running ? 'running' : 'EXITED',
          p.healthy === undefined ? '-' : p.healthy ? 'healthy' : 'UNHEALTHY',
          p.log,
        ]),
      ]),
    );
  }
  return lines.join('\n');
}
