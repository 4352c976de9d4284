/**
 * The EndpointSlice controller loop: a Service's key is queued whenever the Service, one of
 * the pods its selector matches (before or after a change), or one of its managed slices
 * changes; each sync computes the slices with `reconcileEndpointSlices` and writes only the
 * difference, then mirrors the result into core/v1 Endpoints for older clients.
 */
import type { KubeObject } from '../../kube/client.js';
import { type ControllerContext, isConflict, isNotFound, keyOf, pathOf } from './context.js';
import {
  type EndpointSlice,
  MANAGED_BY,
  MANAGED_BY_LABEL,
  type Pod,
  SERVICE_NAME_LABEL,
  type Service,
  reconcileEndpointSlices,
} from './endpointslices.js';
import { endpointsFromSlices } from './endpoints-mirror.js';
import { WorkQueue } from './queue.js';

const selects = (svc: KubeObject, pod: KubeObject) => {
  const selector = (svc as unknown as Service).spec?.selector;
  if (selector === undefined || Object.keys(selector).length === 0) return false;
  const labels = pod.metadata?.labels ?? {};
  return Object.entries(selector).every(([k, v]) => labels[k] === v);
};

export function startEndpointSliceController(ctx: ControllerContext): WorkQueue {
  const services = ctx.informer('services');
  const pods = ctx.informer('pods');
  const slices = ctx.informer('endpointSlices');
  const endpoints = ctx.informer('endpoints');
  const queue = new WorkQueue((key) => sync(key), {
    name: 'endpointslice',
    concurrency: 4,
    log: (msg, error) => ctx.log({ msg, controller: 'endpointslice', error: String(error) }),
  });

  const enqueueForPod = (pod: KubeObject) => {
    for (const svc of services.list()) {
      if (svc.metadata?.namespace === pod.metadata?.namespace && selects(svc, pod)) queue.add(keyOf(svc));
    }
  };
  services.subscribe({
    onAdd: (s) => queue.add(keyOf(s)),
    onUpdate: (_, s) => queue.add(keyOf(s)),
    onDelete: (s) => queue.add(keyOf(s)),
  });
  pods.subscribe({
    onAdd: enqueueForPod,
    onUpdate: (old, pod) => {
      enqueueForPod(old);
      enqueueForPod(pod);
    },
    onDelete: enqueueForPod,
  });
  const enqueueForSlice = (slice: KubeObject) => {
    const service = slice.metadata?.labels?.[SERVICE_NAME_LABEL];
    if (service !== undefined && slice.metadata?.labels?.[MANAGED_BY_LABEL] === MANAGED_BY) {
      queue.add(`${slice.metadata?.namespace}/${service}`);
    }
  };
  slices.subscribe({
    onAdd: enqueueForSlice,
    onUpdate: (_, s) => enqueueForSlice(s),
    onDelete: enqueueForSlice,
  });
  endpoints.subscribe({ onUpdate: (_, e) => queue.add(keyOf(e)), onDelete: (e) => queue.add(keyOf(e)) });

  async function sync(key: string): Promise<void> {
    const [namespace, name] = key.split('/') as [string, string];
    const service = services.get(key) as unknown as Service | undefined;
    const existing = slices
      .list()
      .filter(
        (s) => s.metadata?.namespace === namespace && s.metadata?.labels?.[SERVICE_NAME_LABEL] === name,
      );
    if (service === undefined) {
      // Owner references let the garbage collector remove the slices; Endpoints have no owner.
      if (endpoints.get(key) === undefined) return;
      await ctx.client.delete(pathOf('endpoints', namespace, name)).catch((error: unknown) => {
        if (!isNotFound(error)) throw error;
      });
      return;
    }
    // Slices of a Service without a selector are the user's to manage.
    if (service.spec.selector === undefined || service.metadata.deletionTimestamp) return;
    const nsPods = pods.list().filter((p) => p.metadata?.namespace === namespace) as unknown as Pod[];
    const changes = reconcileEndpointSlices(service, nsPods, existing as unknown as EndpointSlice[]);
    for (const slice of changes.create) {
      await ctx.client.create(pathOf('endpointSlices', namespace), slice as unknown as KubeObject);
    }
    for (const slice of changes.update) {
      try {
        await ctx.client.replace(
          pathOf('endpointSlices', namespace, slice.metadata.name),
          slice as unknown as KubeObject,
        );
      } catch (error) {
        if (!isConflict(error) && !isNotFound(error)) throw error;
        queue.addAfter(key, 100);
      }
    }
    for (const slice of changes.delete) {
      try {
        await ctx.client.delete(pathOf('endpointSlices', namespace, slice.metadata.name));
      } catch (error) {
        if (!isNotFound(error)) throw error;
      }
    }
    await mirror(key, service, changes.desired);
  }

  /** Writes core/v1 Endpoints when they differ from what the pods say they should be. */
  async function mirror(key: string, service: Service, slices: readonly EndpointSlice[]): Promise<void> {
    const namespace = service.metadata.namespace as string;
    const desired = endpointsFromSlices(service, slices);
    const current = endpoints.get(key);
    const same = (a: KubeObject | undefined) =>
      a !== undefined &&
      JSON.stringify([a.subsets ?? [], a.metadata?.labels ?? {}]) ===
        JSON.stringify([desired.subsets ?? [], desired.metadata?.labels ?? {}]);
    if (same(current)) return;
    try {
      if (current === undefined) await ctx.client.create(pathOf('endpoints', namespace), desired);
      else
        await ctx.client.replace(pathOf('endpoints', namespace, service.metadata.name), {
          ...desired,
          metadata: { ...desired.metadata, resourceVersion: current.metadata?.resourceVersion },
        });
    } catch (error) {
      if (!isConflict(error) && !isNotFound(error)) throw error;
      queue.addAfter(key, 100);
    }
  }

  return queue;
}
