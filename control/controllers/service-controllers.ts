/**
 * Service-side controllers: the `default/kubernetes` Service and its EndpointSlice pointing at
 * the API server, and LoadBalancer addresses from MetalLB IPAddressPools written to
 * `status.loadBalancer.ingress` (released when a Service goes or stops being a LoadBalancer; a
 * Service that cannot get one stays pending with an AllocationFailed event, as MetalLB does).
 */
import type { KubeObject } from '../../kube/client.js';
import { type ControllerContext, isConflict, isNotFound, keyOf, pathOf } from './context.js';
import { type AddressPool, type LbService, assignAddress, stillValid } from './lb-ipam.js';
import { WorkQueue } from './queue.js';

export interface ApiServerEndpoint {
  readonly address: string;
  readonly port: number;
}

/** Creates or repairs default/kubernetes and its slice; returns a stopper for the periodic check. */
export function startKubernetesService(
  ctx: ControllerContext,
  endpoint: ApiServerEndpoint,
  periodMs = 10_000,
) {
  const service: KubeObject = {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: {
      name: 'kubernetes',
      namespace: 'default',
      labels: { component: 'apiserver', provider: 'kubernetes' },
    },
    spec: {
      type: 'ClusterIP',
      clusterIP: '10.96.0.1',
      ports: [{ name: 'https', port: 443, protocol: 'TCP', targetPort: endpoint.port }],
      sessionAffinity: 'None',
    },
  };
  const slice: KubeObject = {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: {
      name: 'kubernetes',
      namespace: 'default',
      labels: { 'kubernetes.io/service-name': 'kubernetes' },
    },
    addressType: 'IPv4',
    endpoints: [
      { addresses: [endpoint.address], conditions: { ready: true, serving: true, terminating: false } },
    ],
    ports: [{ name: 'https', port: endpoint.port, protocol: 'TCP' }],
  };
  const ensure = async () => {
    try {
      await ctx.client.get(pathOf('services', 'default', 'kubernetes'));
    } catch (error) {
      if (!isNotFound(error)) throw error;
      await ctx.client.create(pathOf('services', 'default'), service);
    }
    try {
      const current = await ctx.client.get<KubeObject>(pathOf('endpointSlices', 'default', 'kubernetes'));
      if (
        JSON.stringify([current.endpoints, current.ports]) !== JSON.stringify([slice.endpoints, slice.ports])
      ) {
        await ctx.client.replace(pathOf('endpointSlices', 'default', 'kubernetes'), {
          ...slice,
          metadata: { ...slice.metadata, resourceVersion: current.metadata?.resourceVersion },
        });
      }
    } catch (error) {
      if (!isNotFound(error)) throw error;
      await ctx.client.create(pathOf('endpointSlices', 'default'), slice);
    }
  };
  const run = () =>
    ensure().catch((error: unknown) =>
      ctx.log({ msg: 'kubernetes service not ensured', error: String(error) }),
    );
  const first = run();
  const timer = setInterval(run, periodMs).unref();
  return { ready: first, stop: () => clearInterval(timer) };
}

type Svc = LbService & {
  spec?: { type?: string };
  status?: { loadBalancer?: { ingress?: { ip?: string }[] } };
  metadata: { uid?: string; resourceVersion?: string; deletionTimestamp?: string };
};

const heldIP = (s: Svc) => s.status?.loadBalancer?.ingress?.find((i) => i.ip)?.ip;

export function startLoadBalancerIpam(ctx: ControllerContext): WorkQueue {
  const services = ctx.informer('services');
  const pools = ctx.informer('pools');
  const pending = new Set<string>();
  const queue = new WorkQueue((key) => sync(key), {
    name: 'lb-ipam',
    log: (msg, error) => ctx.log({ msg, controller: 'lb-ipam', error: String(error) }),
  });
  services.subscribe({ onAdd: (s) => queue.add(keyOf(s)), onUpdate: (_, s) => queue.add(keyOf(s)) });
  // Releasing an address (deletion, type change) may let a pending Service have it.
  services.subscribe({ onDelete: () => pending.forEach((k) => queue.add(k)) });
  const all = () => services.list().forEach((s) => queue.add(keyOf(s)));
  pools.subscribe({ onAdd: all, onUpdate: all, onDelete: all });

  const inUseExcept = (key: string) =>
    new Set(
      services
        .list()
        .filter((s) => keyOf(s) !== key && (s.spec as { type?: string } | undefined)?.type === 'LoadBalancer')
        .map((s) => heldIP(s as unknown as Svc))
        .filter((ip): ip is string => ip !== undefined),
    );

  async function writeIngress(s: Svc, ip: string | undefined): Promise<void> {
    const ingress = ip === undefined ? [] : [{ ip, ipMode: 'VIP' }];
    await ctx.client.patch(pathOf('services', s.metadata.namespace, s.metadata.name, 'status'), {
      status: { loadBalancer: ip === undefined ? {} : { ingress } },
    });
  }

  async function sync(key: string): Promise<void> {
    const s = services.get(key) as unknown as Svc | undefined;
    if (s === undefined) {
      pending.delete(key);
      return;
    }
    const held = heldIP(s);
    const poolList = pools.list() as unknown as AddressPool[];
    const ref = { apiVersion: 'v1', kind: 'Service', metadata: s.metadata as KubeObject['metadata'] };
    try {
      if (s.spec?.type !== 'LoadBalancer') {
        pending.delete(key);
        if (held !== undefined) {
          await writeIngress(s, undefined);
          pending.forEach((k) => queue.add(k));
        }
        return;
      }
      if (held !== undefined && stillValid(s, held, poolList) && !inUseExcept(key).has(held)) return;
      const result = assignAddress(s, poolList, inUseExcept(key));
      if ('error' in result) {
        if (held !== undefined) await writeIngress(s, undefined);
        if (!pending.has(key)) {
          pending.add(key);
          await ctx.events.record(ref, 'Warning', 'AllocationFailed', result.error, {
            component: 'metallb-controller',
          });
        }
        return;
      }
      pending.delete(key);
      await writeIngress(s, result.ip);
      await ctx.events.record(ref, 'Normal', 'IPAllocated', `Assigned IP ["${result.ip}"]`, {
        component: 'metallb-controller',
      });
    } catch (error) {
      if (isNotFound(error)) return;
      if (isConflict(error)) {
        queue.addAfter(key, 100);
        return;
      }
      throw error;
    }
  }
  return queue;
}
