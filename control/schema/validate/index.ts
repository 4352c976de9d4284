import type { ResourceInfo } from '../../resources.js';
import type { JsonObject } from '../../store/types.js';
import { Path, immutable, type FieldCause } from '../causes.js';
import { checkAgainstSchema } from '../check.js';
import { schemaForResource } from '../kinds.js';
import { validateDeploymentSpec, validateReplicaSetSpec, validateSelectorUpdate } from './apps.js';
import { validateEndpointSlice } from './discovery.js';
import { validateMetadata } from './metadata.js';
import {
  validateConfigMap,
  validateEvent,
  validateIPAddressPoolSpec,
  validateL2AdvertisementSpec,
  validateLeaseSpec,
  validateNamespaceSpec,
  validateNodeSpec,
  validateSecret,
} from './misc.js';
import { dns1035Label, dns1123Label, dns1123Subdomain } from './names.js';
import { validateIngressClassSpec, validateIngressSpec } from './networking.js';
import { podUpdateForbidden, validatePodSpec } from './pod.js';
import { validateServiceSpec, validateServiceUpdate } from './service.js';
import { asObj, jsonEqual, type Obj } from './util.js';

type KindRules = (obj: Obj, old?: Obj) => FieldCause[];

const SPEC = Path.root('spec');

/** Per-kind rules beyond metadata and types, keyed by `<group>/<Kind>`. */
const RULES: Record<string, KindRules> = {
  '/Namespace': (o) => validateNamespaceSpec(o.spec),
  '/Node': (o) => validateNodeSpec(o.spec),
  '/Pod': (o, old) => [
    ...validatePodSpec(o.spec, SPEC, { template: false }),
    ...(old ? podUpdateForbidden(asObj(o.spec) ?? {}, asObj(old.spec) ?? {}, jsonEqual) : []),
  ],
  '/Service': (o, old) => [
    ...validateServiceSpec(o.spec),
    ...(old ? validateServiceUpdate(o.spec, old.spec) : []),
  ],
  '/ConfigMap': (o, old) => validateConfigMap(o, old),
  '/Secret': (o, old) => validateSecret(o, old),
  '/Event': (o) => validateEvent(o),
  'apps/Deployment': (o, old) => [
    ...validateDeploymentSpec(o.spec),
    ...(old ? validateSelectorUpdate(o.spec, old.spec) : []),
  ],
  'apps/ReplicaSet': (o, old) => [
    ...validateReplicaSetSpec(o.spec),
    ...(old ? validateSelectorUpdate(o.spec, old.spec) : []),
  ],
  'discovery.k8s.io/EndpointSlice': (o, old) => validateEndpointSlice(o, old),
  'networking.k8s.io/Ingress': (o) => validateIngressSpec(o.spec),
  'networking.k8s.io/IngressClass': (o, old) => [
    ...validateIngressClassSpec(o.spec),
    ...(old && asObj(old.spec)?.controller !== asObj(o.spec)?.controller
      ? [immutable(SPEC.child('controller'), asObj(o.spec)?.controller)]
      : []),
  ],
  'coordination.k8s.io/Lease': (o) => validateLeaseSpec(o.spec),
  'metallb.io/IPAddressPool': (o) => validateIPAddressPoolSpec(o.spec),
  'metallb.io/L2Advertisement': (o) => validateL2AdvertisementSpec(o.spec),
};

/** How object names of each kind are checked (most kinds take DNS-1123 subdomains). */
function nameCheck(info: ResourceInfo): (name: string) => string[] {
  if (info.group === '' && info.kind === 'Namespace') return dns1123Label;
  if (info.group === '' && info.kind === 'Service') return dns1035Label;
  return dns1123Subdomain;
}

/**
 * Every problem with an object about to be stored: wrong JSON types, or else metadata and the
 * kind's own rules (plus immutable fields when `old` is given). Unknown fields are not reported
 * here; see unknownFields.
 */
export function validateObject(info: ResourceInfo, obj: JsonObject, old?: JsonObject): FieldCause[] {
  // kube-apiserver cannot decode a mistyped body at all, so type errors come alone: the kind's
  // rules would only misread the values.
  const typeCauses = checkAgainstSchema(schemaForResource(info), obj);
  if (typeCauses.length > 0) return typeCauses;
  const rules = RULES[`${info.group}/${info.kind}`];
  const causes = [
    ...validateMetadata(info, obj.metadata, nameCheck(info), old ? asObj(old.metadata) : undefined),
    ...(rules ? rules(obj, old) : []),
  ];
  const seen = new Set<string>();
  return causes.filter((c) => {
    const key = `${c.field}\u0000${c.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
