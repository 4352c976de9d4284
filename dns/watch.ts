/**
 * Feeds the object cache from the API server: list-then-watch informers for Services,
 * EndpointSlices and Namespaces (what CoreDNS's kubernetes plugin watches with `pods insecure`).
 * The cache is marked synced once all three initial lists have arrived, which ends the
 * SERVFAIL-before-sync period and turns /ready green.
 */
import type { KubeObject } from '../kube/client.js';
import { KubeClient } from '../kube/client.js';
import { Informer } from '../kube/informer.js';
import type { Connection } from '../kube/kubeconfig.js';
import type { Log } from './log.js';
import type { EventType, WatchedKind } from './store.js';
import type { ObjectCache } from './store.js';

const COLLECTIONS: [WatchedKind, string][] = [
  ['Service', '/api/v1/services'],
  ['EndpointSlice', '/apis/discovery.k8s.io/v1/endpointslices'],
  ['Namespace', '/api/v1/namespaces'],
];

/** Starts the informers; returns a function that stops them. */
export function feedFromApi(connection: Connection, objects: ObjectCache, log: Log): () => Promise<void> {
  const client = new KubeClient(connection, 'klab-dns');
  const informers = COLLECTIONS.map(([kind, path]) => {
    const apply = (type: EventType, o: KubeObject): void => {
      try {
        objects.applyRaw(type, o, kind);
      } catch (e) {
        // One malformed object must not stop the watch; it is simply not served.
        log('warn', 'object ignored', { kind, error: (e as Error).message });
      }
    };
    return new Informer<KubeObject>(
      client,
      path,
      {
        onAdd: (o) => apply('ADDED', o),
        onUpdate: (_old, o) => apply('MODIFIED', o),
        onDelete: (o) => apply('DELETED', o),
      },
      { log: (line) => log('warn', line) },
    ).start();
  });
  void Promise.all(informers.map((i) => i.synced)).then(() => {
    objects.markSynced();
    log('info', 'API objects synced', { server: connection.server });
  });
  return async () => {
    await Promise.all(informers.map((i) => i.stop()));
  };
}
