/**
 * core/v1 Endpoints derived from the desired EndpointSlices of a Service, for clients that
 * still read Endpoints: ready addresses in `addresses`, the rest in `notReadyAddresses`, one
 * subset per distinct port set.
 */
import type { KubeObject } from '../../kube/client.js';
import type { EndpointSlice, Service } from './endpointslices.js';

export function endpointsFromSlices(service: Service, slices: readonly EndpointSlice[]): KubeObject {
  const subsets = slices
    .filter((s) => s.endpoints.length > 0)
    .map((s) => {
      const address = (e: EndpointSlice['endpoints'][number]) => ({
        ip: e.addresses[0],
        ...(e.hostname ? { hostname: e.hostname } : {}),
        ...(e.nodeName ? { nodeName: e.nodeName } : {}),
        targetRef: e.targetRef,
      });
      const ready = s.endpoints.filter((e) => e.conditions.ready).map(address);
      const notReady = s.endpoints
        .filter((e) => !e.conditions.ready && !e.conditions.terminating)
        .map(address);
      return {
        ...(ready.length > 0 ? { addresses: ready } : {}),
        ...(notReady.length > 0 ? { notReadyAddresses: notReady } : {}),
        ports: (s.ports ?? []).map((p) => ({
          ...(p.name ? { name: p.name } : {}),
          port: p.port,
          protocol: p.protocol,
        })),
      };
    })
    .filter((s) => s.addresses !== undefined || s.notReadyAddresses !== undefined);
  return {
    apiVersion: 'v1',
    kind: 'Endpoints',
    metadata: {
      name: service.metadata.name,
      namespace: service.metadata.namespace,
      labels: { ...(service.metadata.labels ?? {}) },
    },
    ...(subsets.length > 0 ? { subsets } : {}),
  };
}
