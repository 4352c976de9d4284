import { Path, duplicate, immutable, invalid, notSupported, required, type FieldCause } from '../causes.js';
import { PORT_RANGE, dns1123Label, dns1123Subdomain, each, validPort } from './names.js';
import { asArr, asStr, isIPv4, isIPv6, objects, type Obj } from './util.js';

const ADDRESS_TYPES = ['FQDN', 'IPv4', 'IPv6'];
const PROTOCOLS = ['SCTP', 'TCP', 'UDP'];

function validateAddress(addr: unknown, type: string, path: Path): FieldCause[] {
  const s = typeof addr === 'string' ? addr : '';
  if (type === 'IPv4' && !isIPv4(s)) return [invalid(path, addr, 'must be a valid IPv4 address')];
  if (type === 'IPv6' && !isIPv6(s)) return [invalid(path, addr, 'must be a valid IPv6 address')];
  if (type === 'FQDN') return each(path, addr, dns1123Subdomain(s));
  return [];
}

/** EndpointSlice: address type, endpoints and ports (the object has no spec). */
export function validateEndpointSlice(slice: Obj, old?: Obj): FieldCause[] {
  const causes: FieldCause[] = [];
  const type = asStr(slice.addressType) ?? '';
  const typePath = Path.root('addressType');
  if (type === '') causes.push(required(typePath));
  else if (!ADDRESS_TYPES.includes(type)) causes.push(notSupported(typePath, type, ADDRESS_TYPES));
  const endpoints = objects(slice.endpoints);
  if (endpoints.length > 1000)
    causes.push(invalid(Path.root('endpoints'), endpoints.length, 'must have at most 1000 items'));
  endpoints.forEach((ep, i) => {
    const p = Path.root('endpoints').index(i);
    const addresses = asArr(ep.addresses);
    if (addresses.length === 0)
      causes.push(required(p.child('addresses'), 'must contain at least 1 address'));
    else if (addresses.length > 100)
      causes.push(invalid(p.child('addresses'), addresses.length, 'must have at most 100 items'));
    addresses.forEach((a, j) => causes.push(...validateAddress(a, type, p.child('addresses').index(j))));
    const hostname = asStr(ep.hostname);
    if (hostname) causes.push(...each(p.child('hostname'), hostname, dns1123Label(hostname)));
    const nodeName = asStr(ep.nodeName);
    if (nodeName) causes.push(...each(p.child('nodeName'), nodeName, dns1123Subdomain(nodeName)));
  });
  const ports = objects(slice.ports);
  if (ports.length > 100)
    causes.push(invalid(Path.root('ports'), ports.length, 'must have at most 100 items'));
  const names = new Set<string>();
  ports.forEach((port, i) => {
    const p = Path.root('ports').index(i);
    const name = asStr(port.name) ?? '';
    if (name !== '') causes.push(...each(p.child('name'), name, dns1123Label(name)));
    if (names.has(name)) causes.push(duplicate(p.child('name'), name));
    names.add(name);
    if (port.port !== undefined && !validPort(port.port))
      causes.push(invalid(p.child('port'), port.port, PORT_RANGE));
    const proto = asStr(port.protocol);
    if (proto !== undefined && !PROTOCOLS.includes(proto))
      causes.push(notSupported(p.child('protocol'), proto, PROTOCOLS));
  });
  if (old && asStr(old.addressType) && old.addressType !== slice.addressType)
    causes.push(immutable(typePath, slice.addressType));
  return causes;
}
