import { execa } from 'execa';
import type { KubeObject } from '../kube/client.js';

/** The routing protocol number marking the routes the agent owns, so a restart finds them. */
export const ROUTE_PROTO = '75';

export interface Route {
  readonly dst: string;
  readonly via: string;
}

/** host-gw: every other node's pod CIDR through that node's InternalIP. */
export function desiredRoutes(self: string, nodes: readonly KubeObject[]): Route[] {
  const routes: Route[] = [];
  for (const node of nodes) {
    if (node.metadata?.name === self) continue;
    const cidr = (node.spec as { podCIDR?: string } | undefined)?.podCIDR;
    const addresses = (node.status as { addresses?: { type: string; address: string }[] } | undefined)
      ?.addresses;
    const via = addresses?.find((a) => a.type === 'InternalIP')?.address;
    if (cidr && via) routes.push({ dst: cidr, via });
  }
  return routes.sort((a, b) => a.dst.localeCompare(b.dst));
}

/** What to replace and what to delete to turn `current` into `desired`. */
export function diffRoutes(
  current: readonly Route[],
  desired: readonly Route[],
): { replace: Route[]; remove: Route[] } {
  const key = (r: Route) => `${r.dst} via ${r.via}`;
  const have = new Set(current.map(key));
  const want = new Set(desired.map((r) => r.dst));
  return {
    replace: desired.filter((r) => !have.has(key(r))),
    remove: current.filter((r) => !want.has(r.dst)),
  };
}

export async function currentRoutes(): Promise<Route[]> {
  const r = await execa('ip', ['-j', 'route', 'show', 'proto', ROUTE_PROTO]);
  const rows = JSON.parse(String(r.stdout) || '[]') as { dst: string; gateway?: string }[];
  return rows.filter((row) => row.gateway).map((row) => ({ dst: row.dst, via: row.gateway as string }));
}

/** Applies the difference in one `ip -batch`; returns how many routes changed. */
export async function syncRoutes(desired: readonly Route[]): Promise<number> {
  const { replace, remove } = diffRoutes(await currentRoutes(), desired);
  const lines = [
    ...remove.map((r) => `route del ${r.dst} proto ${ROUTE_PROTO}`),
    ...replace.map((r) => `route replace ${r.dst} via ${r.via} proto ${ROUTE_PROTO}`),
  ];
  if (lines.length === 0) return 0;
  const r = await execa('ip', ['-batch', '-'], { input: lines.join('\n') + '\n', reject: false });
  if (r.exitCode !== 0) throw new Error(`ip -batch (routes): ${String(r.stderr).trim()}`);
  return lines.length;
}
