import {
  CORE,
  META,
  atomicList,
  bool,
  bytes,
  enumStr,
  int32,
  int64,
  intOrString,
  keyedList,
  kind,
  listKind,
  obj,
  quantityMap,
  ref,
  refList,
  setList,
  str,
  stringMap,
  time,
  type Definitions,
  type DefNode,
} from '../dsl.js';
import { conditionList } from './meta.js';

const c = (name: string) => `${CORE}${name}`;
const v1 = (k: string) => ({ group: '', version: 'v1', kind: k });
const atomicRefs = (name: string, description: string) =>
  refList(c(name), description, { 'x-kubernetes-list-type': 'atomic' });

/** A kind and its list, under their upstream component names. */
export const withList = (name: string, description: string, node: DefNode): Definitions => {
  const gvk = node['x-kubernetes-group-version-kind']?.[0];
  if (!gvk) throw new Error(`schema definition ${name} has no x-kubernetes-group-version-kind`);
  return {
    [name]: node,
    [`${name}List`]: listKind(`A list of ${gvk.kind} objects. ${description}`, gvk, name),
  };
};

const serviceDefs: Definitions = {
  [c('ServicePort')]: obj(
    'A port the Service exposes.',
    {
      name: str(
        'IANA service name of the port, unique in the Service; required when there are several ports.',
      ),
      protocol: enumStr('IP protocol; defaults to TCP.', ['SCTP', 'TCP', 'UDP'], { default: 'TCP' }),
      appProtocol: str('Application protocol, such as http, https or kubernetes.io/h2c.'),
      port: int32('Port the Service listens on, on its cluster IPs.'),
      targetPort: intOrString(
        'Port number or named container port on the pods; defaults to port. Ignored without a selector.',
      ),
      nodePort: int32('Port on every node for NodePort and LoadBalancer Services; allocated when unset.'),
    },
    ['port'],
  ),
  [c('ClientIPConfig')]: obj('Settings of ClientIP session affinity.', {
    timeoutSeconds: int32('How long a client sticks to one endpoint, 1-86400; defaults to 10800.'),
  }),
  [c('SessionAffinityConfig')]: obj('Session affinity settings.', {
    clientIP: ref(c('ClientIPConfig'), 'ClientIP affinity settings.'),
  }),
  [c('ServiceSpec')]: obj('Desired behaviour of a Service.', {
    ports: keyedList(c('ServicePort'), 'Ports the Service exposes.', {
      mapKeys: ['port', 'protocol'],
      mergeKey: 'port',
      strategy: 'merge',
    }),
    selector: {
      ...stringMap('Labels of the pods that back the Service; without it, endpoints are managed by hand.'),
      'x-kubernetes-map-type': 'atomic',
    },
    clusterIP: str('Virtual IP of the Service; allocated when empty, None for a headless Service.'),
    clusterIPs: atomicList(
      str(''),
      'Virtual IPs of the Service, one per family; the first equals clusterIP.',
    ),
    type: enumStr('How the Service is exposed; defaults to ClusterIP.', [
      'ClusterIP',
      'ExternalName',
      'LoadBalancer',
      'NodePort',
    ]),
    externalIPs: atomicList(str(''), 'Extra IPs on which the nodes accept traffic for the Service.'),
    sessionAffinity: enumStr('Stickiness of clients to endpoints; defaults to None.', ['ClientIP', 'None']),
    loadBalancerIP: str('Requested load-balancer IP (deprecated upstream, honoured by klab).'),
    loadBalancerSourceRanges: atomicList(str(''), 'CIDRs allowed to reach the load balancer.'),
    externalName: str('DNS name the Service aliases, for type ExternalName.'),
    externalTrafficPolicy: enumStr('Whether external traffic may leave the node it arrives on.', [
      'Cluster',
      'Local',
    ]),
    healthCheckNodePort: int32('Node port answering health checks for externalTrafficPolicy Local.'),
    publishNotReadyAddresses: bool('Publish endpoints before they are ready (DNS for headless Services).'),
    sessionAffinityConfig: ref(c('SessionAffinityConfig'), 'Session affinity settings.'),
    ipFamilies: atomicList(enumStr('', ['IPv4', 'IPv6']), 'IP families of the Service, in order.'),
    ipFamilyPolicy: enumStr('How many IP families the Service gets.', [
      'PreferDualStack',
      'RequireDualStack',
      'SingleStack',
    ]),
    allocateLoadBalancerNodePorts: bool('Whether LoadBalancer Services get node ports; defaults to true.'),
    loadBalancerClass: str('Load-balancer implementation that handles this Service.'),
    internalTrafficPolicy: enumStr('Whether in-cluster traffic may leave the node it starts on.', [
      'Cluster',
      'Local',
    ]),
    trafficDistribution: str('Preference for how traffic is spread over endpoints, such as PreferClose.'),
  }),
  [c('PortStatus')]: obj(
    'Status of one load-balancer port.',
    {
      port: int32('Port number.'),
      protocol: str('TCP, UDP or SCTP.'),
      error: str('Problem with the port, in CamelCase.'),
    },
    ['port', 'protocol'],
  ),
  [c('LoadBalancerIngress')]: obj('An address of the load balancer.', {
    ip: str('IP address.'),
    hostname: str('DNS name.'),
    ipMode: str('VIP or Proxy.'),
    ports: atomicRefs('PortStatus', 'Status of the ports.'),
  }),
  [c('LoadBalancerStatus')]: obj('Addresses of a load balancer.', {
    ingress: atomicRefs('LoadBalancerIngress', 'The addresses.'),
  }),
  [c('ServiceStatus')]: obj('Observed state of a Service.', {
    loadBalancer: ref(c('LoadBalancerStatus'), 'Load-balancer addresses, for type LoadBalancer.'),
    conditions: conditionList(`${META}Condition`, 'Current conditions.'),
  }),
  ...withList(
    c('Service'),
    'A stable virtual IP and DNS name in front of a set of pods.',
    kind('A stable virtual IP and DNS name in front of a set of pods.', v1('Service'), {
      spec: ref(c('ServiceSpec'), 'Desired behaviour.'),
      status: ref(c('ServiceStatus'), 'Observed state.'),
    }),
  ),
};

const endpointsDefs: Definitions = {
  [c('ObjectReference')]: {
    ...obj('Refers to any object.', {
      kind: str('Kind of the referent.'),
      namespace: str('Namespace of the referent.'),
      name: str('Name of the referent.'),
      uid: str('UID of the referent.'),
      apiVersion: str('API version of the referent.'),
      resourceVersion: str('resourceVersion of the referent.'),
      fieldPath: str('A part of the referent, such as spec.containers{web}.'),
    }),
    'x-kubernetes-map-type': 'atomic',
  },
  [c('EndpointAddress')]: {
    ...obj(
      'One endpoint address.',
      {
        ip: str('IP address of the endpoint.'),
        hostname: str('Host name of the endpoint.'),
        nodeName: str('Node hosting the endpoint.'),
        targetRef: ref(c('ObjectReference'), 'Object behind the endpoint, usually a Pod.'),
      },
      ['ip'],
    ),
    'x-kubernetes-map-type': 'atomic',
  },
  [c('EndpointPort')]: {
    ...obj(
      'One endpoint port.',
      {
        name: str('Name of the port, matching the Service port name.'),
        port: int32('Port number.'),
        protocol: str('TCP, UDP or SCTP; defaults to TCP.'),
        appProtocol: str('Application protocol.'),
      },
      ['port'],
    ),
    'x-kubernetes-map-type': 'atomic',
  },
  [c('EndpointSubset')]: obj('Addresses sharing the same ports.', {
    addresses: atomicRefs('EndpointAddress', 'Ready addresses.'),
    notReadyAddresses: atomicRefs('EndpointAddress', 'Addresses that are not ready.'),
    ports: atomicRefs('EndpointPort', 'Ports of these addresses.'),
  }),
  ...withList(
    c('Endpoints'),
    'The legacy endpoint list of a Service.',
    kind('The legacy endpoint list of a Service; EndpointSlices replace it.', v1('Endpoints'), {
      subsets: atomicRefs('EndpointSubset', 'Groups of addresses and ports.'),
    }),
  ),
};

const nodeDefs: Definitions = {
  [c('Taint')]: obj(
    'Repels pods that do not tolerate it.',
    {
      key: str('Taint key.'),
      value: str('Taint value.'),
      effect: enumStr('Effect on pods that do not tolerate it.', [
        'NoExecute',
        'NoSchedule',
        'PreferNoSchedule',
      ]),
      timeAdded: time('When a NoExecute taint was added.'),
    },
    ['key', 'effect'],
  ),
  [c('NodeSpec')]: obj('Desired state of a node.', {
    podCIDR: str('Pod address range of the node.'),
    podCIDRs: {
      ...setList('Pod address ranges of the node, one per family.'),
      'x-kubernetes-patch-strategy': 'merge',
    },
    providerID: str('ID of the node at its provider.'),
    unschedulable: bool('Keep new pods off the node.'),
    taints: atomicRefs('Taint', 'Taints of the node.'),
    externalID: str('Deprecated.'),
  }),
  [c('NodeCondition')]: obj(
    'One aspect of the node state.',
    {
      type: str('Ready, MemoryPressure, DiskPressure, PIDPressure or NetworkUnavailable.'),
      status: str('True, False or Unknown.'),
      lastHeartbeatTime: time('When the condition was last reported.'),
      lastTransitionTime: time('When status last changed.'),
      reason: str('CamelCase reason for the last transition.'),
      message: str('Human-readable details.'),
    },
    ['type', 'status'],
  ),
  [c('NodeAddress')]: obj(
    'An address of the node.',
    {
      type: str('Hostname, InternalIP, ExternalIP, InternalDNS or ExternalDNS.'),
      address: str('The address.'),
    },
    ['type', 'address'],
  ),
  [c('DaemonEndpoint')]: obj('A port of a node daemon.', { Port: int32('Port number.') }, ['Port']),
  [c('NodeDaemonEndpoints')]: obj('Ports of the node daemons.', {
    kubeletEndpoint: ref(c('DaemonEndpoint'), 'Port of the node agent.'),
  }),
  [c('NodeSystemInfo')]: obj(
    'Facts about the node.',
    {
      machineID: str('Machine ID.'),
      systemUUID: str('System UUID.'),
      bootID: str('Boot ID.'),
      kernelVersion: str('Kernel version (uname -r).'),
      osImage: str('Operating system name.'),
      containerRuntimeVersion: str('Runtime name and version.'),
      kubeletVersion: str('Version of the node agent.'),
      kubeProxyVersion: str('Deprecated.'),
      operatingSystem: str('linux.'),
      architecture: str('CPU architecture.'),
      swap: obj('Swap of the node.', { capacity: int64('Swap size in bytes.') }),
    },
    [
      'machineID',
      'systemUUID',
      'bootID',
      'kernelVersion',
      'osImage',
      'containerRuntimeVersion',
      'kubeletVersion',
      'kubeProxyVersion',
      'operatingSystem',
      'architecture',
    ],
  ),
  [c('ContainerImage')]: obj('An image on the node.', {
    names: atomicList(str(''), 'Names of the image.'),
    sizeBytes: int64('Size of the image.'),
  }),
  [c('AttachedVolume')]: obj(
    'A volume attached to the node.',
    {
      name: str('Name of the volume.'),
      devicePath: str('Device path.'),
    },
    ['name', 'devicePath'],
  ),
  [c('NodeRuntimeHandler')]: obj('A runtime handler of the node.', {
    name: str('Handler name.'),
    features: obj('Features of the handler.', {
      recursiveReadOnlyMounts: bool('Supports recursive read-only mounts.'),
      userNamespaces: bool('Supports user namespaces.'),
    }),
  }),
  [c('NodeStatus')]: obj('Observed state of a node.', {
    capacity: quantityMap('Total resources of the node.'),
    allocatable: quantityMap('Resources available to pods.'),
    phase: str('Deprecated.'),
    conditions: conditionList(c('NodeCondition'), 'Current conditions.'),
    addresses: keyedList(c('NodeAddress'), 'Addresses of the node.', {
      mapKeys: ['type'],
      mergeKey: 'type',
      strategy: 'merge',
    }),
    daemonEndpoints: ref(c('NodeDaemonEndpoints'), 'Ports of the node daemons.'),
    nodeInfo: ref(c('NodeSystemInfo'), 'Facts about the node.'),
    images: atomicRefs('ContainerImage', 'Images on the node.'),
    volumesInUse: atomicList(str(''), 'Volumes in use.'),
    volumesAttached: atomicRefs('AttachedVolume', 'Volumes attached.'),
    runtimeHandlers: atomicRefs('NodeRuntimeHandler', 'Runtime handlers.'),
    features: obj('Features of the node.', { supplementalGroupsPolicy: bool('Supports the policy.') }),
  }),
  ...withList(
    c('Node'),
    'A machine that runs pods.',
    kind('A machine that runs pods; in a netns lab, a network namespace.', v1('Node'), {
      spec: ref(c('NodeSpec'), 'Desired state.'),
      status: ref(c('NodeStatus'), 'Observed state.'),
    }),
  ),
};

const miscDefs: Definitions = {
  [c('NamespaceSpec')]: obj('Desired state of a namespace.', {
    finalizers: atomicList(str(''), 'Finalizers that must run before the namespace is removed.'),
  }),
  [c('NamespaceCondition')]: obj(
    'One aspect of the namespace state.',
    {
      type: str('Condition type.'),
      status: str('True, False or Unknown.'),
      lastTransitionTime: time('When status last changed.'),
      reason: str('CamelCase reason.'),
      message: str('Details.'),
    },
    ['type', 'status'],
  ),
  [c('NamespaceStatus')]: obj('Observed state of a namespace.', {
    phase: enumStr('Lifecycle phase.', ['Active', 'Terminating']),
    conditions: conditionList(c('NamespaceCondition'), 'Current conditions.'),
  }),
  ...withList(
    c('Namespace'),
    'A scope for names.',
    kind('A scope for names; deleting it deletes what it holds.', v1('Namespace'), {
      spec: ref(c('NamespaceSpec'), 'Desired state.'),
      status: ref(c('NamespaceStatus'), 'Observed state.'),
    }),
  ),
  ...withList(
    c('Pod'),
    'A group of containers sharing one network namespace.',
    kind('A group of containers sharing one network namespace and IP address.', v1('Pod'), {
      spec: ref(c('PodSpec'), 'Desired state.'),
      status: ref(c('PodStatus'), 'Observed state.'),
    }),
  ),
  ...withList(
    c('ConfigMap'),
    'Configuration data.',
    kind('Non-secret configuration data as key/value pairs.', v1('ConfigMap'), {
      data: stringMap('UTF-8 values by key.'),
      binaryData: {
        type: 'object',
        description: 'Binary values by key, base64 in JSON.',
        additionalProperties: bytes(''),
      },
      immutable: bool('When true, data cannot change.'),
    }),
  ),
  ...withList(
    c('Secret'),
    'Secret data.',
    kind('Secret data such as tokens, keys and certificates.', v1('Secret'), {
      data: {
        type: 'object',
        description: 'Values by key, base64 in JSON.',
        additionalProperties: bytes(''),
      },
      stringData: stringMap('Write-only plain-text values merged into data.'),
      type: str('Type of the secret, such as Opaque or kubernetes.io/tls.'),
      immutable: bool('When true, data cannot change.'),
    }),
  ),
  ...withList(
    c('ServiceAccount'),
    'An identity for processes in pods.',
    kind('An identity for processes in pods.', v1('ServiceAccount'), {
      secrets: keyedList(c('ObjectReference'), 'Deprecated list of token secrets.', {
        mapKeys: ['name'],
        mergeKey: 'name',
        strategy: 'merge',
      }),
      imagePullSecrets: atomicRefs('LocalObjectReference', 'Secrets for pulling images.'),
      automountServiceAccountToken: bool('Whether pods mount the token by default.'),
    }),
  ),
  [c('EventSource')]: obj('Component that reported an event.', {
    component: str('Component name.'),
    host: str('Node name.'),
  }),
  [c('EventSeries')]: obj('A series of repeated events.', {
    count: int32('Occurrences in the series.'),
    lastObservedTime: ref(`${META}MicroTime`, 'Time of the last occurrence.'),
  }),
  ...withList(
    c('Event'),
    'Something that happened to an object.',
    kind(
      'A report of something that happened to an object.',
      v1('Event'),
      {
        involvedObject: ref(c('ObjectReference'), 'The object the event is about.'),
        reason: str('Short CamelCase reason.'),
        message: str('Human-readable description.'),
        source: ref(c('EventSource'), 'Reporting component.'),
        firstTimestamp: time('First occurrence.'),
        lastTimestamp: time('Latest occurrence.'),
        count: int32('Number of occurrences.'),
        type: str('Normal or Warning.'),
        eventTime: ref(`${META}MicroTime`, 'First observation.'),
        series: ref(c('EventSeries'), 'Data about repeated events.'),
        action: str('What was done or failed.'),
        related: ref(c('ObjectReference'), 'A second object involved.'),
        reportingComponent: str('Controller that emitted the event.'),
        reportingInstance: str('Instance of that controller.'),
      },
      ['metadata', 'involvedObject'],
    ),
  ),
};

/** The core (v1) group, except pod internals which live in pod.ts. */
export const coreDefinitions: Definitions = { ...serviceDefs, ...endpointsDefs, ...nodeDefs, ...miscDefs };
