import { apiVersionOf, type ResourceInfo } from '../resources.js';
import type { JsonObject } from '../store/types.js';
import { ageSince } from './age.js';
import {
  configMapPrinter,
  endpointsPrinter,
  eventPrinter,
  namespacePrinter,
  nodePrinter,
  secretPrinter,
  serviceAccountPrinter,
  servicePrinter,
} from './core.js';
import {
  deploymentPrinter,
  endpointSlicePrinter,
  ingressClassPrinter,
  ingressPrinter,
  ipAddressPoolPrinter,
  l2AdvertisementPrinter,
  leasePrinter,
  replicaSetPrinter,
} from './others.js';
import { podPrinter } from './pod.js';
import { AGE, NAME, type Printer } from './printer.js';
import { obj, str } from './util.js';

export type { Column, Printer } from './printer.js';
export { humanDuration } from './age.js';

const PRINTERS: Record<string, Printer> = {
  '/Pod': podPrinter,
  '/Service': servicePrinter,
  '/Node': nodePrinter,
  '/Namespace': namespacePrinter,
  '/Endpoints': endpointsPrinter,
  '/ConfigMap': configMapPrinter,
  '/Secret': secretPrinter,
  '/ServiceAccount': serviceAccountPrinter,
  '/Event': eventPrinter,
  'apps/Deployment': deploymentPrinter,
  'apps/ReplicaSet': replicaSetPrinter,
  'discovery.k8s.io/EndpointSlice': endpointSlicePrinter,
  'networking.k8s.io/Ingress': ingressPrinter,
  'networking.k8s.io/IngressClass': ingressClassPrinter,
  'coordination.k8s.io/Lease': leasePrinter,
  'metallb.io/IPAddressPool': ipAddressPoolPrinter,
  'metallb.io/L2Advertisement': l2AdvertisementPrinter,
};

/** Kinds without their own printer get kube's default: name and age. */
const DEFAULT_PRINTER: Printer = {
  columns: [NAME, AGE],
  cells: (o, now) => [str(obj(o.metadata).name), ageSince(obj(o.metadata).creationTimestamp, now)],
};

export function printerFor(info: Pick<ResourceInfo, 'group' | 'kind'>): Printer {
  return PRINTERS[`${info.group}/${info.kind}`] ?? DEFAULT_PRINTER;
}

export interface TableOptions {
  /** What each row carries: nothing, PartialObjectMetadata (kube's default), or the object. */
  includeObject: 'None' | 'Metadata' | 'Object';
  now: Date;
  /** Leave out columnDefinitions (watch events after the first). */
  noHeaders?: boolean;
}

/**
 * A `meta.k8s.io/v1` Table of the objects, with every column (wide ones at priority 1); the
 * caller fills `metadata.resourceVersion` and `metadata.continue`.
 */
export function toTable(info: ResourceInfo, objects: JsonObject[], opts: TableOptions): JsonObject {
  const printer = printerFor(info);
  const rows = objects.map((o) => {
    const row: JsonObject = { cells: printer.cells(o, opts.now) };
    if (opts.includeObject === 'Metadata') {
      row.object = { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: obj(o.metadata) };
    } else if (opts.includeObject === 'Object') {
      row.object = { apiVersion: apiVersionOf(info), kind: info.kind, ...o };
    }
    return row;
  });
  return {
    kind: 'Table',
    apiVersion: 'meta.k8s.io/v1',
    metadata: {},
    columnDefinitions: opts.noHeaders ? [] : printer.columns,
    rows,
  };
}
