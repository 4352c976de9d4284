import { Path, duplicate, forbidden, invalid, required, type FieldCause } from '../causes.js';
import {
  PORT_RANGE,
  checkLabels,
  dns1123Label,
  dns1123Subdomain,
  each,
  portName,
  qualifiedName,
  validPort,
} from './names.js';
import { IP_DETAIL, asArr, asNum, asObj, asStr, isAnyIP, isCIDR, objects, type Obj } from './util.js';

const SPEC = Path.root('spec');

const externallyAccessible = (spec: Obj): boolean =>
  spec.type === 'NodePort' ||
  spec.type === 'LoadBalancer' ||
  ((spec.type ?? 'ClusterIP') === 'ClusterIP' && asArr(spec.externalIPs).length > 0);

function validatePorts(spec: Obj, type: string): FieldCause[] {
  const causes: FieldCause[] = [];
  const ports = objects(spec.ports);
  const names = new Set<string>();
  const keys = new Set<string>();
  const nodePorts = new Set<string>();
  ports.forEach((port, i) => {
    const p = SPEC.child('ports').index(i);
    const name = asStr(port.name) ?? '';
    if (ports.length > 1 && name === '') causes.push(required(p.child('name')));
    if (name !== '') {
      causes.push(...each(p.child('name'), name, dns1123Label(name)));
      if (names.has(name)) causes.push(duplicate(p.child('name'), name));
      names.add(name);
    }
    const appProtocol = asStr(port.appProtocol);
    if (appProtocol) causes.push(...each(p.child('appProtocol'), appProtocol, qualifiedName(appProtocol)));
    if (port.port === undefined) causes.push(required(p.child('port')));
    else if (!validPort(port.port)) causes.push(invalid(p.child('port'), port.port, PORT_RANGE));
    const target = port.targetPort;
    if (typeof target === 'number' && target !== 0 && !validPort(target)) {
      causes.push(invalid(p.child('targetPort'), target, PORT_RANGE));
    } else if (typeof target === 'string') {
      causes.push(...each(p.child('targetPort'), target, portName(target)));
    }
    const nodePort = asNum(port.nodePort);
    if (nodePort !== undefined && nodePort !== 0) {
      if (type !== 'NodePort' && type !== 'LoadBalancer') {
        causes.push(forbidden(p.child('nodePort'), `may not be used when \`type\` is '${type}'`));
      } else if (!validPort(nodePort)) {
        causes.push(invalid(p.child('nodePort'), nodePort, PORT_RANGE));
      } else {
        const key = `${nodePort}/${asStr(port.protocol) ?? 'TCP'}`;
        if (nodePorts.has(key)) causes.push(duplicate(p.child('nodePort'), nodePort));
        nodePorts.add(key);
      }
    }
    const key = `${String(port.port)}/${asStr(port.protocol) ?? 'TCP'}`;
    if (keys.has(key))
      causes.push(duplicate(p, { port: port.port, protocol: asStr(port.protocol) ?? 'TCP' }));
    keys.add(key);
  });
  return causes;
}

function validateClusterIPs(spec: Obj, type: string): FieldCause[] {
  const causes: FieldCause[] = [];
  const clusterIP = asStr(spec.clusterIP) ?? '';
  const clusterIPs = asArr(spec.clusterIPs).map((x) => asStr(x) ?? '');
  if (type === 'ExternalName') {
    if (clusterIP !== '')
      causes.push(forbidden(SPEC.child('clusterIP'), 'may not be set for ExternalName services'));
    return causes;
  }
  if (clusterIP !== '' && clusterIP !== 'None' && !isAnyIP(clusterIP)) {
    causes.push(invalid(SPEC.child('clusterIP'), clusterIP, IP_DETAIL));
  }
  if (clusterIP === 'None' && (type === 'NodePort' || type === 'LoadBalancer')) {
    causes.push(
      invalid(SPEC.child('clusterIPs').index(0), clusterIP, `may not be set to 'None' for ${type} services`),
    );
  }
  clusterIPs.forEach((ip, i) => {
    if (ip !== 'None' && !isAnyIP(ip)) causes.push(invalid(SPEC.child('clusterIPs').index(i), ip, IP_DETAIL));
  });
  if (clusterIPs.length > 0 && clusterIP !== '' && clusterIPs[0] !== clusterIP) {
    causes.push(invalid(SPEC.child('clusterIPs').index(0), clusterIPs[0], 'must be same as clusterIP'));
  }
  if (clusterIPs.length > 2) {
    causes.push(invalid(SPEC.child('clusterIPs'), clusterIPs, 'may only hold up to 2 values'));
  }
  return causes;
}

/** ValidateService: ports, types, IPs, traffic policies, session affinity. */
export function validateServiceSpec(specValue: unknown): FieldCause[] {
  const spec = asObj(specValue) ?? {};
  const type = asStr(spec.type) ?? 'ClusterIP';
  const causes: FieldCause[] = [];
  const headless = spec.clusterIP === 'None';
  if (asArr(spec.ports).length === 0 && !headless && type !== 'ExternalName')
    causes.push(required(SPEC.child('ports')));
  causes.push(...validatePorts(spec, type));
  causes.push(...validateClusterIPs(spec, type));
  if (type === 'ExternalName') {
    const externalName = (asStr(spec.externalName) ?? '').replace(/\.$/, '');
    if (externalName === '') causes.push(required(SPEC.child('externalName')));
    else causes.push(...each(SPEC.child('externalName'), externalName, dns1123Subdomain(externalName)));
  }
  causes.push(...checkLabels(spec.selector, SPEC.child('selector')));
  asArr(spec.externalIPs).forEach((ip, i) => {
    if (typeof ip !== 'string' || !isAnyIP(ip))
      causes.push(invalid(SPEC.child('externalIPs').index(i), ip, IP_DETAIL));
  });

  if (
    spec.externalTrafficPolicy !== undefined &&
    spec.externalTrafficPolicy !== '' &&
    !externallyAccessible(spec)
  ) {
    causes.push(
      invalid(
        SPEC.child('externalTrafficPolicy'),
        spec.externalTrafficPolicy,
        'may only be set for externally-accessible services',
      ),
    );
  }
  const hcnp = asNum(spec.healthCheckNodePort);
  if (hcnp !== undefined && hcnp !== 0) {
    if (type !== 'LoadBalancer' || spec.externalTrafficPolicy !== 'Local') {
      causes.push(
        invalid(
          SPEC.child('healthCheckNodePort'),
          hcnp,
          "may only be set when `type` is 'LoadBalancer' and `externalTrafficPolicy` is 'Local'",
        ),
      );
    } else if (!validPort(hcnp)) causes.push(invalid(SPEC.child('healthCheckNodePort'), hcnp, PORT_RANGE));
  }
  const ranges = asArr(spec.loadBalancerSourceRanges);
  if (ranges.length > 0 && type !== 'LoadBalancer') {
    causes.push(
      forbidden(SPEC.child('loadBalancerSourceRanges'), "may only be used when `type` is 'LoadBalancer'"),
    );
  }
  ranges.forEach((r, i) => {
    if (typeof r !== 'string' || !isCIDR(r.trim())) {
      causes.push(
        invalid(
          SPEC.child('loadBalancerSourceRanges').index(i),
          r,
          'must be a list of IP ranges. For example, 10.240.0.0/24,10.250.0.0/24 ',
        ),
      );
    }
  });
  const lbIP = asStr(spec.loadBalancerIP);
  if (lbIP && !isAnyIP(lbIP)) causes.push(invalid(SPEC.child('loadBalancerIP'), lbIP, IP_DETAIL));
  if (spec.allocateLoadBalancerNodePorts !== undefined && type !== 'LoadBalancer') {
    causes.push(
      forbidden(
        SPEC.child('allocateLoadBalancerNodePorts'),
        "may only be used when `type` is 'LoadBalancer'",
      ),
    );
  }

  const affinityConfig = asObj(spec.sessionAffinityConfig);
  if (spec.sessionAffinity === 'ClientIP') {
    const timeout = asObj(affinityConfig?.clientIP)?.timeoutSeconds;
    if (typeof timeout === 'number' && (timeout <= 0 || timeout > 86400)) {
      causes.push(
        invalid(
          SPEC.child('sessionAffinityConfig', 'clientIP', 'timeoutSeconds'),
          timeout,
          'must be greater than 0 and less than 86400',
        ),
      );
    }
  } else if (affinityConfig && spec.sessionAffinity !== undefined) {
    causes.push(
      invalid(
        SPEC.child('sessionAffinityConfig'),
        affinityConfig,
        `must not be set when session affinity is ${String(spec.sessionAffinity)}`,
      ),
    );
  }
  const families = asArr(spec.ipFamilies);
  if (spec.ipFamilyPolicy === 'SingleStack' && families.length > 1) {
    causes.push(
      invalid(
        SPEC.child('ipFamilies'),
        families,
        'when spec.ipFamilyPolicy is SingleStack, ipFamilies must not hold more than 1 value',
      ),
    );
  }
  if (families.length === 2 && families[0] === families[1])
    causes.push(duplicate(SPEC.child('ipFamilies').index(1), families[1]));
  return causes;
}

/** A cluster IP, once allocated, stays (unless the Service becomes or leaves ExternalName). */
export function validateServiceUpdate(specValue: unknown, oldSpecValue: unknown): FieldCause[] {
  const spec = asObj(specValue) ?? {};
  const old = asObj(oldSpecValue) ?? {};
  if (spec.type === 'ExternalName' || old.type === 'ExternalName') return [];
  const before = asStr(old.clusterIP) ?? '';
  const after = asStr(spec.clusterIP) ?? '';
  if (before !== '' && after !== '' && before !== after) {
    return [invalid(SPEC.child('clusterIPs').index(0), after, 'may not change once set')];
  }
  return [];
}
