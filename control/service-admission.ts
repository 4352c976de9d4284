/**
 * Service admission: ClusterIPs, NodePorts and healthCheckNodePorts are assigned when a
 * Service is written, as kube-apiserver's Service storage does, so a taken or out-of-range
 * request is a 422 naming the field and nothing is stored. The books are rebuilt from the
 * stored Services on start and follow deletions through the Services watch cache.
 */
import {
  ServiceAdmissionError,
  ServiceAllocations,
  type ServiceObject,
} from './controllers/service-allocations.js';
import type { KubeObject } from './objects.js';
import type { Admission } from './registry.js';
import type { ResourceInfo } from './resources.js';
import { invalid } from './status.js';
import type { WatchCache } from './store/index.js';

export interface ServiceNetwork {
  readonly serviceCidr: string;
  readonly nodePortRange: string;
}

export class ServiceAdmission implements Admission {
  readonly allocations: ServiceAllocations;
  private stopWatch: (() => void) | undefined;
  private stopped = false;

  constructor(network: ServiceNetwork) {
    this.allocations = new ServiceAllocations(network.serviceCidr, network.nodePortRange);
  }

  /** Rebuilds the books from the cache's Services and releases what deleted Services held. */
  follow(services: WatchCache, prefix: string): void {
    const list = services.list(prefix);
    this.allocations.repair(list.items.map((i) => i.value as ServiceObject));
    const watcher = services.watch(prefix, list.revision, {
      onEvent: (event) => {
        if (event.type === 'DELETED') this.allocations.release(event.value as ServiceObject);
      },
      onError: () => {
        // The cache cut the watch (it restarted): rebuild from its state once it is back.
        this.stopWatch = undefined;
        if (!this.stopped) setTimeout(() => !this.stopped && this.follow(services, prefix), 1_000).unref();
      },
    });
    this.stopWatch = () => watcher.close();
  }

  stop(): void {
    this.stopped = true;
    this.stopWatch?.();
  }

  admit(info: ResourceInfo, object: KubeObject, old: KubeObject | undefined) {
    if (info.group !== '' || info.plural !== 'services') {
      return { object, commit: () => undefined, rollback: () => undefined };
    }
    try {
      return this.allocations.admit(object as ServiceObject, old as ServiceObject | undefined) as {
        object: KubeObject;
        commit(): void;
        rollback(): void;
      };
    } catch (error) {
      if (!(error instanceof ServiceAdmissionError)) throw error;
      throw invalid(
        info.kind,
        info.group,
        object.metadata?.name ?? '',
        error.problems.map((p) => ({
          reason: 'FieldValueInvalid',
          field: p.field,
          message: `Invalid value: ${JSON.stringify(p.value)}: ${p.message}`,
        })),
      );
    }
  }
}
