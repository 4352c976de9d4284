import { int32, kind, ref, obj, str, type Definitions } from '../dsl.js';
import { withList } from './core.js';

const l = (name: string) => `io.k8s.api.coordination.v1.${name}`;
const micro = (description: string) => ref('io.k8s.apimachinery.pkg.apis.meta.v1.MicroTime', description);

/** coordination.k8s.io/v1 Lease: node heartbeats and leader election. */
export const coordinationDefinitions: Definitions = {
  [l('LeaseSpec')]: obj('Who holds the lease and until when.', {
    holderIdentity: str('Identity of the current holder.'),
    leaseDurationSeconds: int32('Seconds a holder keeps the lease without renewing it.'),
    acquireTime: micro('When the current holder acquired the lease.'),
    renewTime: micro('When the current holder last renewed the lease.'),
    leaseTransitions: int32('How often the lease changed hands.'),
    strategy: str('Strategy for picking leaders in coordinated leader election.'),
    preferredHolder: str('Holder that should take the lease next.'),
  }),
  ...withList(
    l('Lease'),
    'A lease.',
    kind(
      'A lease: a node heartbeat or a leader-election lock.',
      { group: 'coordination.k8s.io', version: 'v1', kind: 'Lease' },
      {
        spec: ref(l('LeaseSpec'), 'Holder and timing of the lease.'),
      },
    ),
  ),
};
