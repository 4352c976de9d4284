import { ageSince } from './age.js';
import { AGE, NAME, col, wide, type Printer } from './printer.js';
import {
  formatSelector,
  int,
  list,
  listWithMore,
  loadBalancerAddresses,
  obj,
  str,
  strings,
  type Obj,
} from './util.js';

const name = (o: Obj) => str(obj(o.metadata).name);
const age = (o: Obj, now: Date) => ageSince(obj(o.metadata).creationTimestamp, now);

const containerCells = (template: unknown): [string, string] => {
  const containers = list(obj(obj(template).spec).containers);
  return [containers.map((c) => str(c.name)).join(','), containers.map((c) => str(c.image)).join(',')];
};

const workloadWide = [
  wide('Containers', 'Names of the containers in the pod template.'),
  wide('Images', 'Images of the containers in the pod template.'),
  wide('Selector', 'Label selector of the pods.'),
];

export const deploymentPrinter: Printer = {
  columns: [
    NAME,
    col('Ready', 'Ready pods out of desired pods.'),
    col('Up-to-date', 'Pods running the current template.', { type: 'integer' }),
    col('Available', 'Pods ready for at least minReadySeconds.', { type: 'integer' }),
    AGE,
    ...workloadWide,
  ],
  cells(d, now) {
    const spec = obj(d.spec);
    const status = obj(d.status);
    const desired = spec.replicas === undefined ? 1 : int(spec.replicas);
    return [
      name(d),
      `${int(status.readyReplicas)}/${desired}`,
      int(status.updatedReplicas),
      int(status.availableReplicas),
      age(d, now),
      ...containerCells(spec.template),
      formatSelector(spec.selector),
    ];
  },
};

export const replicaSetPrinter: Printer = {
  columns: [
    NAME,
    col('Desired', 'Desired number of pods.', { type: 'integer' }),
    col('Current', 'Pods that exist.', { type: 'integer' }),
    col('Ready', 'Ready pods.', { type: 'integer' }),
    AGE,
    ...workloadWide,
  ],
  cells(rs, now) {
    const spec = obj(rs.spec);
    const status = obj(rs.status);
    return [
      name(rs),
      spec.replicas === undefined ? 1 : int(spec.replicas),
      int(status.replicas),
      int(status.readyReplicas),
      age(rs, now),
      ...containerCells(spec.template),
      formatSelector(spec.selector),
    ];
  },
};

export const endpointSlicePrinter: Printer = {
  columns: [
    NAME,
    col('AddressType', 'Type of the addresses in the slice.'),
    col('Ports', 'Ports of the endpoints.'),
    col('Endpoints', 'Addresses of the endpoints.'),
    AGE,
  ],
  cells(slice, now) {
    const ports = list(slice.ports).map((p) =>
      typeof p.port === 'number' ? String(int(p.port)) : typeof p.name === 'string' ? p.name : '*',
    );
    const addresses = list(slice.endpoints).flatMap((e) => strings(e.addresses));
    return [
      name(slice),
      str(slice.addressType),
      listWithMore(ports, 3, '<unset>'),
      listWithMore(addresses, 3, '<unset>'),
      age(slice, now),
    ];
  },
};

export const ingressPrinter: Printer = {
  columns: [
    NAME,
    col('Class', 'IngressClass of the Ingress.'),
    col('Hosts', 'Hosts the rules match; * for every host.'),
    col('Address', 'Addresses the Ingress is reachable at.'),
    col('Ports', 'Ports the Ingress serves: 80, and 443 with TLS.'),
    AGE,
  ],
  cells(ing, now) {
    const spec = obj(ing.spec);
    const rules = list(spec.rules);
    // Like kube's printer: stop at three hosts, and count the remaining rules (not hosts) as more.
    const hosts: string[] = [];
    let more = false;
    for (const r of rules) {
      if (hosts.length === 3) more = true;
      if (!more && str(r.host) !== '') hosts.push(str(r.host));
    }
    const hostCell =
      hosts.length === 0 ? '*' : more ? `${hosts.join(',')} + ${rules.length - 3} more...` : hosts.join(',');
    return [
      name(ing),
      typeof spec.ingressClassName === 'string' ? spec.ingressClassName : '<none>',
      hostCell,
      loadBalancerAddresses(obj(ing.status).loadBalancer),
      list(spec.tls).length > 0 ? '80, 443' : '80',
      age(ing, now),
    ];
  },
};

export const ingressClassPrinter: Printer = {
  columns: [
    NAME,
    col('Controller', 'Controller that implements the class.'),
    col('Parameters', 'Object holding controller parameters.'),
    AGE,
  ],
  cells(ic, now) {
    const spec = obj(ic.spec);
    const params = spec.parameters ? obj(spec.parameters) : undefined;
    const group = params && str(params.apiGroup) !== '' ? `.${str(params.apiGroup)}` : '';
    return [
      name(ic),
      str(spec.controller),
      params ? `${str(params.kind)}${group}/${str(params.name)}` : '<none>',
      age(ic, now),
    ];
  },
};

export const leasePrinter: Printer = {
  columns: [NAME, col('Holder', 'Current holder of the lease.'), AGE],
  cells: (l, now) => [name(l), str(obj(l.spec).holderIdentity), age(l, now)],
};

/**
 * MetalLB's kinds are custom resources upstream; their columns follow MetalLB's CRD printer
 * columns, with list values shown as JSON the way kube-apiserver prints them for CRDs.
 */
const jsonCell = (v: unknown): string | null => (v === undefined ? null : JSON.stringify(v));

export const ipAddressPoolPrinter: Printer = {
  columns: [
    NAME,
    col('Auto Assign', 'Whether addresses are assigned from the pool automatically.', { type: 'boolean' }),
    col('Avoid Buggy IPs', 'Whether .0 and .255 addresses are skipped.', { type: 'boolean' }),
    col('Addresses', 'Address ranges of the pool.'),
    col('Age', 'Time since the object was created.', { type: 'date' }),
  ],
  cells(pool, now) {
    const spec = obj(pool.spec);
    return [
      name(pool),
      typeof spec.autoAssign === 'boolean' ? spec.autoAssign : null,
      typeof spec.avoidBuggyIPs === 'boolean' ? spec.avoidBuggyIPs : null,
      jsonCell(spec.addresses),
      age(pool, now),
    ];
  },
};

export const l2AdvertisementPrinter: Printer = {
  columns: [
    NAME,
    col('IPAddressPools', 'Pools announced, by name.'),
    col('IPAddressPool Selectors', 'Pools announced, by label.'),
    col('Interfaces', 'Interfaces announced on.'),
    col('Node Selectors', 'Nodes allowed to announce.', { priority: 10 }),
    col('Age', 'Time since the object was created.', { type: 'date' }),
  ],
  cells(l2, now) {
    const spec = obj(l2.spec);
    return [
      name(l2),
      jsonCell(spec.ipAddressPools),
      jsonCell(spec.ipAddressPoolSelectors),
      jsonCell(spec.interfaces),
      jsonCell(spec.nodeSelectors),
      age(l2, now),
    ];
  },
};
