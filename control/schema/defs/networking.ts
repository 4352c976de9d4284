import { CORE, atomicList, int32, kind, obj, ref, refList, str, type Definitions } from '../dsl.js';
import { withList } from './core.js';

const n = (name: string) => `io.k8s.api.networking.v1.${name}`;
const gvk = (k: string) => ({ group: 'networking.k8s.io', version: 'v1', kind: k });
const atomicRefs = (name: string, description: string) =>
  refList(name, description, { 'x-kubernetes-list-type': 'atomic' });

/** networking.k8s.io/v1 Ingress and IngressClass. */
export const networkingDefinitions: Definitions = {
  [n('ServiceBackendPort')]: {
    ...obj('A port of the backend Service; name and number are mutually exclusive.', {
      name: str('Name of the Service port.'),
      number: int32('Number of the Service port.'),
    }),
    'x-kubernetes-map-type': 'atomic',
  },
  [n('IngressServiceBackend')]: obj(
    'A Service backend.',
    {
      name: str('Name of the Service, in the Ingress namespace.'),
      port: ref(n('ServiceBackendPort'), 'Port of the Service.'),
    },
    ['name'],
  ),
  [`${CORE}TypedLocalObjectReference`]: {
    ...obj(
      'Names an object of any kind in the same namespace.',
      {
        apiGroup: str('API group of the referent; empty for the core group.'),
        kind: str('Kind of the referent.'),
        name: str('Name of the referent.'),
      },
      ['kind', 'name'],
    ),
    'x-kubernetes-map-type': 'atomic',
  },
  [n('IngressBackend')]: obj('Where matching requests go; service and resource are mutually exclusive.', {
    service: ref(n('IngressServiceBackend'), 'A Service.'),
    resource: ref(`${CORE}TypedLocalObjectReference`, 'Another object.'),
  }),
  [n('HTTPIngressPath')]: obj(
    'A path and the backend requests to it go to.',
    {
      path: str('Path to match; must start with / for Prefix and Exact.'),
      pathType: str('Exact, Prefix (element-wise on /) or ImplementationSpecific; required.'),
      backend: ref(n('IngressBackend'), 'Where matching requests go.'),
    },
    ['pathType', 'backend'],
  ),
  [n('HTTPIngressRuleValue')]: obj(
    'HTTP paths of a rule.',
    { paths: atomicRefs(n('HTTPIngressPath'), 'The paths; the longest match wins.') },
    ['paths'],
  ),
  [n('IngressRule')]: obj('Routes requests for one host.', {
    host: str('Host to match, exact or *.domain wildcard of one label; empty matches every host.'),
    http: ref(n('HTTPIngressRuleValue'), 'HTTP paths.'),
  }),
  [n('IngressTLS')]: obj('TLS settings for some hosts.', {
    hosts: atomicList(str(''), 'Hosts the certificate covers.'),
    secretName: str('kubernetes.io/tls Secret holding the certificate and key.'),
  }),
  [n('IngressSpec')]: obj('Desired routing of an Ingress.', {
    ingressClassName: str('IngressClass of the controller that implements this Ingress.'),
    defaultBackend: ref(n('IngressBackend'), 'Backend for requests no rule matches.'),
    tls: atomicRefs(n('IngressTLS'), 'TLS settings.'),
    rules: atomicRefs(n('IngressRule'), 'Host rules.'),
  }),
  [n('IngressPortStatus')]: obj(
    'Status of one load-balancer port.',
    {
      port: int32('Port number.'),
      protocol: str('TCP, UDP or SCTP.'),
      error: str('Problem with the port.'),
    },
    ['port', 'protocol'],
  ),
  [n('IngressLoadBalancerIngress')]: obj('An address of the Ingress load balancer.', {
    ip: str('IP address.'),
    hostname: str('DNS name.'),
    ports: atomicRefs(n('IngressPortStatus'), 'Status of the ports.'),
  }),
  [n('IngressLoadBalancerStatus')]: obj('Addresses of the Ingress load balancer.', {
    ingress: atomicRefs(n('IngressLoadBalancerIngress'), 'The addresses.'),
  }),
  [n('IngressStatus')]: obj('Observed state of an Ingress.', {
    loadBalancer: ref(n('IngressLoadBalancerStatus'), 'Addresses the Ingress is reachable at.'),
  }),
  ...withList(
    n('Ingress'),
    'HTTP routing into the cluster.',
    kind('HTTP(S) routing by host and path from outside the cluster to Services.', gvk('Ingress'), {
      spec: ref(n('IngressSpec'), 'Desired routing.'),
      status: ref(n('IngressStatus'), 'Observed state.'),
    }),
  ),
  [n('IngressClassParametersReference')]: obj(
    'Controller-specific parameters.',
    {
      apiGroup: str('API group of the referent.'),
      kind: str('Kind of the referent.'),
      name: str('Name of the referent.'),
      scope: str('Cluster or Namespace.'),
      namespace: str('Namespace of the referent, for Namespace scope.'),
    },
    ['kind', 'name'],
  ),
  [n('IngressClassSpec')]: obj('Which controller implements a class.', {
    controller: str('Name of the controller, such as klab.dev/ingress.'),
    parameters: ref(n('IngressClassParametersReference'), 'Controller-specific parameters.'),
  }),
  ...withList(
    n('IngressClass'),
    'A class of Ingresses.',
    kind('A class of Ingresses and the controller that implements it.', gvk('IngressClass'), {
      spec: ref(n('IngressClassSpec'), 'Which controller implements the class.'),
    }),
  ),
};
