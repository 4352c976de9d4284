import {
  META,
  atomicList,
  bool,
  int32,
  int64,
  kind,
  obj,
  ref,
  refList,
  str,
  type Definitions,
} from '../dsl.js';
import { withList } from './core.js';
import { selectorRef } from './meta.js';

const m = (name: string) => `io.metallb.v1beta1.${name}`;
const gvk = (k: string) => ({ group: 'metallb.io', version: 'v1beta1', kind: k });
const selectors = (description: string) =>
  refList(`${META}LabelSelector`, description, { 'x-kubernetes-list-type': 'atomic' });

/** metallb.io/v1beta1 IPAddressPool and L2Advertisement, as MetalLB's CRDs define them. */
export const metallbDefinitions: Definitions = {
  [m('ServiceAllocation')]: obj('Which Services and namespaces may take addresses from the pool.', {
    priority: int32('Lower values are tried first; pools without priority come last.'),
    namespaces: atomicList(str(''), 'Namespaces whose Services may use the pool.'),
    namespaceSelectors: selectors('Namespaces whose Services may use the pool, by label.'),
    serviceSelectors: selectors('Services that may use the pool, by label.'),
  }),
  [m('IPAddressPoolSpec')]: obj(
    'Addresses the pool hands out to LoadBalancer Services.',
    {
      addresses: atomicList(str(''), 'CIDRs (192.168.56.200/29) or ranges (192.168.56.200-192.168.56.250).'),
      autoAssign: bool('Assign from this pool automatically; defaults to true.', { default: true }),
      avoidBuggyIPs: bool('Skip addresses ending in .0 and .255; defaults to false.', { default: false }),
      serviceAllocation: ref(m('ServiceAllocation'), 'Restricts which Services use the pool.'),
    },
    ['addresses'],
  ),
  [m('IPAddressPoolStatus')]: obj('Usage of the pool.', {
    assignedIPv4: int64('IPv4 addresses in use.'),
    assignedIPv6: int64('IPv6 addresses in use.'),
    availableIPv4: int64('IPv4 addresses free.'),
    availableIPv6: int64('IPv6 addresses free.'),
  }),
  ...withList(
    m('IPAddressPool'),
    'A pool of load-balancer addresses.',
    kind(
      'A pool of addresses for LoadBalancer Services.',
      gvk('IPAddressPool'),
      {
        spec: ref(m('IPAddressPoolSpec'), 'The addresses and who may use them.'),
        status: ref(m('IPAddressPoolStatus'), 'Usage of the pool.'),
      },
      ['spec'],
    ),
  ),
  [m('NodeSelectorPreference')]: obj(
    'A weighted preference for announcing nodes.',
    {
      weight: int32('Weight, 1-100.'),
      preference: selectorRef('Preferred nodes.'),
    },
    ['weight', 'preference'],
  ),
  [m('L2AdvertisementSpec')]: obj(
    'Which pools are announced over ARP/NDP, from which nodes and interfaces.',
    {
      ipAddressPools: atomicList(str(''), 'Pools to announce, by name; none and no selector means all.'),
      ipAddressPoolSelectors: selectors('Pools to announce, by label.'),
      nodeSelectors: selectors('Nodes allowed to announce; none means all.'),
      interfaces: atomicList(str(''), 'Interfaces to announce on; none means all.'),
      serviceSelectors: selectors('Services to announce, by label.'),
      preferredNodeSelectors: refList(
        m('NodeSelectorPreference'),
        'Weighted preferences for the announcing node.',
        {
          'x-kubernetes-list-type': 'atomic',
        },
      ),
    },
  ),
  ...withList(
    m('L2Advertisement'),
    'Layer 2 announcement settings.',
    kind('Announces the addresses of some pools with ARP from eligible nodes.', gvk('L2Advertisement'), {
      spec: ref(m('L2AdvertisementSpec'), 'What to announce, where.'),
    }),
  ),
};
