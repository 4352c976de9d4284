/**
 * `klab lab rules <node> [--service ns/name]`: the node's live rules (`iptables-save` inside its
 * namespace), grouped by service port with each chain labelled (proxy/iptables/group.ts).
 */
import { groupRules, matchesService, renderRulesView, RulesParseError } from '../proxy/iptables/group.js';
import { LabError } from './errors.js';
import type { LabProvider } from './provider.js';
import { failureDetail, runCommand } from './run.js';
import type { LabState } from './state.js';

const SERVICE_REF = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?\/[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;

export async function nodeRules(
  provider: LabProvider,
  state: LabState,
  node: string,
  service: string | undefined,
): Promise<string> {
  const host = state.hosts.find((h) => h.name === node);
  if (!host || host.role !== 'node') {
    const nodes = state.hosts.filter((h) => h.role === 'node').map((h) => h.name);
    throw new LabError(
      'UNKNOWN_HOST',
      `lab "${state.lab}" has no node "${node}" (kube-proxy runs on nodes only)`,
      `nodes are: ${nodes.join(', ')}`,
    );
  }
  if (service !== undefined && !SERVICE_REF.test(service))
    throw new LabError(
      'BAD_USAGE',
      `--service: "${service}" is not <namespace>/<name>`,
      'e.g. --service default/web',
    );
  const [command, ...args] = provider.hostCommand(state, node, ['iptables-save']);
  const saved = await runCommand(command as string, args);
  if (saved.exitCode !== 0)
    throw new LabError('STEP_FAILED', `iptables-save on ${node} failed: ${failureDetail(saved)}`);
  let view;
  try {
    view = groupRules(saved.stdout);
  } catch (error) {
    if (!(error instanceof RulesParseError)) throw error;
    throw new LabError('STEP_FAILED', `cannot read iptables-save output of ${node}: ${error.message}`);
  }
  if (service !== undefined && !view.services.some((s) => matchesService(s.service, service))) {
    const known = [...new Set(view.services.map((s) => s.service.split(':')[0]))];
    throw new LabError(
      'BAD_USAGE',
      `${node} has no kube-proxy rules for Service ${service}`,
      known.length > 0
        ? `services with rules there: ${known.join(', ')}`
        : 'kube-proxy has written no service rules yet',
    );
  }
  return renderRulesView(view, { service });
}
