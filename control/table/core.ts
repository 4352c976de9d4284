import { ageSince } from './age.js';
import { AGE, NAME, col, wide, type Printer } from './printer.js';
import {
  formatLabels,
  int,
  list,
  listWithMore,
  loadBalancerAddresses,
  obj,
  orNone,
  str,
  strings,
  type Obj,
} from './util.js';

const name = (o: Obj) => str(obj(o.metadata).name);
const age = (o: Obj, now: Date) => ageSince(obj(o.metadata).creationTimestamp, now);

/** EXTERNAL-IP of a Service, per type; `<pending>` for a LoadBalancer still without an address. */
export function serviceExternalIP(spec: Obj, status: Obj): string {
  const externalIPs = strings(spec.externalIPs);
  switch (str(spec.type) || 'ClusterIP') {
    case 'ClusterIP':
    case 'NodePort':
      return externalIPs.length > 0 ? externalIPs.join(',') : '<none>';
    case 'LoadBalancer': {
      const lb = loadBalancerAddresses(status.loadBalancer);
      if (externalIPs.length > 0) return [...(lb ? lb.split(',') : []), ...externalIPs].join(',');
      return lb || '<pending>';
    }
    case 'ExternalName':
      return str(spec.externalName);
    default:
      return '<unknown>';
  }
}

/** `80:30080/TCP,53/UDP`. */
export function servicePorts(ports: unknown): string {
  return list(ports)
    .map((p) => {
      const protocol = str(p.protocol) || 'TCP';
      return int(p.nodePort) > 0
        ? `${int(p.port)}:${int(p.nodePort)}/${protocol}`
        : `${int(p.port)}/${protocol}`;
    })
    .join(',');
}

export const servicePrinter: Printer = {
  columns: [
    NAME,
    col('Type', 'How the Service is exposed.'),
    col('Cluster-IP', 'Virtual IP of the Service inside the cluster.'),
    col(
      'External-IP',
      'Addresses outside the cluster: load-balancer IPs, external IPs or the external name.',
    ),
    col('Port(s)', 'Service ports, with node ports and protocols.'),
    AGE,
    wide('Selector', 'Labels of the pods behind the Service.'),
  ],
  cells(svc, now) {
    const spec = obj(svc.spec);
    return [
      name(svc),
      str(spec.type),
      orNone(str(spec.clusterIP)),
      serviceExternalIP(spec, obj(svc.status)),
      orNone(servicePorts(spec.ports)),
      age(svc, now),
      formatLabels(spec.selector),
    ];
  },
};

/** Roles from `node-role.kubernetes.io/<role>` and `kubernetes.io/role` labels, sorted. */
export function nodeRoles(labels: unknown): string[] {
  const roles = new Set<string>();
  for (const [k, v] of Object.entries(obj(labels))) {
    if (k.startsWith('node-role.kubernetes.io/')) {
      const role = k.slice('node-role.kubernetes.io/'.length);
      if (role !== '') roles.add(role);
    } else if (k === 'kubernetes.io/role' && typeof v === 'string' && v !== '') roles.add(v);
  }
  return [...roles].sort();
}

const nodeAddress = (status: Obj, type: string) =>
  list(status.addresses).find((a) => a.type === type)?.address;

export const nodePrinter: Printer = {
  columns: [
    NAME,
    col('Status', 'Readiness of the node, and whether scheduling is disabled.'),
    col('Roles', 'Roles of the node, from its node-role labels.'),
    AGE,
    col('Version', 'Version the node agent reports.'),
    wide('Internal-IP', 'Internal IP address of the node.'),
    wide('External-IP', 'External IP address of the node.'),
    wide('OS-Image', 'Operating system of the node.'),
    wide('Kernel-Version', 'Kernel version of the node.'),
    wide('Container-Runtime', 'Runtime the node runs containers with.'),
  ],
  cells(node, now) {
    const status = obj(node.status);
    const ready = list(status.conditions).find((c) => c.type === 'Ready');
    const states = [ready ? (ready.status === 'True' ? 'Ready' : 'NotReady') : 'Unknown'];
    if (obj(node.spec).unschedulable === true) states.push('SchedulingDisabled');
    const info = obj(status.nodeInfo);
    const unknown = (s: string) => (s === '' ? '<unknown>' : s);
    return [
      name(node),
      states.join(','),
      orNone(nodeRoles(obj(node.metadata).labels).join(',')),
      age(node, now),
      str(info.kubeletVersion),
      orNone(str(nodeAddress(status, 'InternalIP'))),
      orNone(str(nodeAddress(status, 'ExternalIP'))),
      unknown(str(info.osImage)),
      unknown(str(info.kernelVersion)),
      unknown(str(info.containerRuntimeVersion)),
    ];
  },
};

export const namespacePrinter: Printer = {
  columns: [NAME, col('Status', 'Lifecycle phase of the namespace.'), AGE],
  cells: (ns, now) => [name(ns), str(obj(ns.status).phase), age(ns, now)],
};

/** `10.244.1.5:8080,10.244.2.7:8080 + 3 more...`. */
export function formatEndpoints(subsets: unknown): string {
  const all = list(subsets);
  if (all.length === 0) return '<none>';
  const items: string[] = [];
  for (const ss of all) {
    const addresses = list(ss.addresses).map((a) => str(a.ip));
    const ports = list(ss.ports);
    if (ports.length === 0) items.push(...addresses);
    for (const p of ports) {
      for (const ip of addresses)
        items.push(ip.includes(':') ? `[${ip}]:${int(p.port)}` : `${ip}:${int(p.port)}`);
    }
  }
  return listWithMore(items, 3, '');
}

export const endpointsPrinter: Printer = {
  columns: [NAME, col('Endpoints', 'Ready endpoint addresses and ports.'), AGE],
  cells: (ep, now) => [name(ep), formatEndpoints(ep.subsets), age(ep, now)],
};

export const configMapPrinter: Printer = {
  columns: [NAME, col('Data', 'Number of keys.', { type: 'integer' }), AGE],
  cells: (cm, now) => [
    name(cm),
    Object.keys(obj(cm.data)).length + Object.keys(obj(cm.binaryData)).length,
    age(cm, now),
  ],
};

export const secretPrinter: Printer = {
  columns: [
    NAME,
    col('Type', 'Type of the secret.'),
    col('Data', 'Number of keys.', { type: 'integer' }),
    AGE,
  ],
  cells: (s, now) => [name(s), str(s.type), Object.keys(obj(s.data)).length, age(s, now)],
};

export const serviceAccountPrinter: Printer = {
  columns: [NAME, col('Secrets', 'Number of token secrets listed.', { type: 'integer' }), AGE],
  cells: (sa, now) => [name(sa), list(sa.secrets).length, age(sa, now)],
};

export const eventPrinter: Printer = {
  columns: [
    col('Last Seen', 'Time since the event last happened.'),
    col('Type', 'Normal or Warning.'),
    col('Reason', 'Short reason for the event.'),
    col('Object', 'Object the event is about.'),
    wide('Subobject', 'Part of the object, such as a container.'),
    wide('Source', 'Component that reported the event.'),
    col('Message', 'What happened.'),
    wide('First Seen', 'Time since the event first happened.'),
    wide('Count', 'How often the event happened.', 'integer'),
    wide('Name', 'Name of the event object.'),
  ],
  cells(ev, now) {
    const firstTs = str(ev.firstTimestamp);
    const first = firstTs !== '' ? ageSince(firstTs, now) : ageSince(ev.eventTime, now);
    let last = str(ev.lastTimestamp) !== '' ? ageSince(ev.lastTimestamp, now) : first;
    let count = int(ev.count);
    const series = ev.series ? obj(ev.series) : undefined;
    if (series) {
      last = ageSince(series.lastObservedTime, now);
      count = int(series.count);
    } else if (count === 0) count = 1;
    const involved = obj(ev.involvedObject);
    const kind = str(involved.kind).toLowerCase();
    const target = str(involved.name) !== '' ? `${kind}/${str(involved.name)}` : kind;
    const source = obj(ev.source);
    const component = str(source.component) || str(ev.reportingComponent);
    const host = str(source.host) || str(ev.reportingInstance);
    return [
      last,
      str(ev.type),
      str(ev.reason),
      target,
      str(involved.fieldPath),
      host === '' ? component : `${component}, ${host}`,
      str(ev.message).trim(),
      first,
      count,
      name(ev),
    ];
  },
};
