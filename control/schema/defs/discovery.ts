import {
  CORE,
  arr,
  bool,
  enumStr,
  int32,
  kind,
  obj,
  ref,
  refList,
  setList,
  str,
  stringMap,
  type Definitions,
} from '../dsl.js';
import { withList } from './core.js';

const d = (name: string) => `io.k8s.api.discovery.v1.${name}`;

/** discovery.k8s.io/v1 EndpointSlice. */
export const discoveryDefinitions: Definitions = {
  [d('EndpointConditions')]: obj('Readiness of an endpoint.', {
    ready: bool('Ready to receive traffic; unset means ready.'),
    serving: bool('Ready, regardless of termination.'),
    terminating: bool('Being terminated.'),
  }),
  [d('ForZone')]: obj('A zone to serve.', { name: str('Zone name.') }, ['name']),
  [d('ForNode')]: obj('A node to serve.', { name: str('Node name.') }, ['name']),
  [d('EndpointHints')]: obj('Topology hints for consumers.', {
    forZones: refList(d('ForZone'), 'Zones this endpoint should serve.', {
      'x-kubernetes-list-type': 'atomic',
    }),
    forNodes: refList(d('ForNode'), 'Nodes this endpoint should serve.', {
      'x-kubernetes-list-type': 'atomic',
    }),
  }),
  [d('Endpoint')]: obj(
    'One backend of a Service.',
    {
      addresses: setList('Addresses of the endpoint, of the slice addressType; consumers use the first.'),
      conditions: ref(d('EndpointConditions'), 'Readiness of the endpoint.'),
      hostname: str('Host name of the endpoint, a DNS label.'),
      targetRef: ref(`${CORE}ObjectReference`, 'Object behind the endpoint, usually a Pod.'),
      deprecatedTopology: stringMap('Deprecated topology labels.'),
      nodeName: str('Node hosting the endpoint.'),
      zone: str('Zone of the endpoint.'),
      hints: ref(d('EndpointHints'), 'Topology hints.'),
    },
    ['addresses'],
  ),
  [d('EndpointPort')]: {
    ...obj('A port of every endpoint in the slice.', {
      name: str('Name of the port, matching the Service port name; may be empty.'),
      protocol: enumStr('IP protocol; defaults to TCP.', ['SCTP', 'TCP', 'UDP']),
      port: int32('Port number; unset means every port.'),
      appProtocol: str('Application protocol.'),
    }),
    'x-kubernetes-map-type': 'atomic',
  },
  ...withList(
    d('EndpointSlice'),
    'A subset of the endpoints of a Service.',
    kind(
      'A subset of the endpoints of a Service; kube-proxy and DNS read these.',
      { group: 'discovery.k8s.io', version: 'v1', kind: 'EndpointSlice' },
      {
        addressType: enumStr('Type of every address in the slice; cannot change.', ['FQDN', 'IPv4', 'IPv6']),
        endpoints: refList(d('Endpoint'), 'The endpoints, at most 1000.', {
          'x-kubernetes-list-type': 'atomic',
        }),
        ports: arr({ $ref: d('EndpointPort') }, 'Ports of every endpoint, at most 100.', {
          'x-kubernetes-list-type': 'atomic',
        }),
      },
      ['addressType', 'endpoints'],
    ),
  ),
};
