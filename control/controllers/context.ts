/**
 * What every controller loop shares: the API client, one informer per watched collection
 * (shared by all loops, as client-go's shared informers are), an event recorder and the clock.
 */
import {
  type KubeClient,
  type KubeObject,
  type ResourceRef,
  ApiError,
  resourcePath,
} from '../../kube/client.js';
import { EventRecorder } from '../../kube/events.js';
import { Informer } from '../../kube/informer.js';
import { keyOf } from '../../kube/keys.js';

export type Log = (fields: Record<string, unknown>) => void;

const REFS = {
  services: { group: '', version: 'v1', plural: 'services' },
  pods: { group: '', version: 'v1', plural: 'pods' },
  nodes: { group: '', version: 'v1', plural: 'nodes' },
  endpoints: { group: '', version: 'v1', plural: 'endpoints' },
  endpointSlices: { group: 'discovery.k8s.io', version: 'v1', plural: 'endpointslices' },
  replicaSets: { group: 'apps', version: 'v1', plural: 'replicasets' },
  deployments: { group: 'apps', version: 'v1', plural: 'deployments' },
  leases: { group: 'coordination.k8s.io', version: 'v1', plural: 'leases' },
  pools: { group: 'metallb.io', version: 'v1beta1', plural: 'ipaddresspools' },
} as const satisfies Record<string, ResourceRef>;

/** What each informer watches; node Leases live in kube-node-lease only. */
const WATCH_NAMESPACE: Partial<Record<keyof typeof REFS, string>> = { leases: 'kube-node-lease' };

export type InformerName = keyof typeof REFS;

export class ControllerContext {
  private readonly informers = new Map<InformerName, Informer<KubeObject>>();
  readonly events: EventRecorder;

  constructor(
    readonly client: KubeClient,
    readonly log: Log,
    readonly now: () => Date = () => new Date(),
  ) {
    this.events = new EventRecorder(
      client,
      (reason, error) => log({ msg: 'event not recorded', reason, error: error.message }),
      now,
    );
  }

  informer(name: InformerName): Informer<KubeObject> {
    let inf = this.informers.get(name);
    if (inf === undefined) {
      inf = new Informer<KubeObject>(
        this.client,
        resourcePath(REFS[name], { namespace: WATCH_NAMESPACE[name] }),
        undefined,
        {
          log: (line) => this.log({ msg: line, informer: name }),
        },
      );
      this.informers.set(name, inf);
    }
    return inf;
  }

  async startInformers(): Promise<void> {
    for (const inf of this.informers.values()) inf.start();
    await Promise.all([...this.informers.values()].map((i) => i.synced));
  }

  async stop(): Promise<void> {
    await Promise.all([...this.informers.values()].map((i) => i.stop()));
  }
}

/** The REST path of an object (or, without a name, a collection) of a known resource. */
export function pathOf(
  resource: InformerName,
  namespace: string | undefined,
  name?: string,
  subresource?: string,
): string {
  return resourcePath(REFS[resource], { namespace, name, subresource });
}

export const isNotFound = (e: unknown) => e instanceof ApiError && e.status === 404;
export const isConflict = (e: unknown) => e instanceof ApiError && e.status === 409;

export { keyOf };
