import type { ResourceInfo } from '../../resources.js';
import { Path, forbidden, immutable, invalid, required, type FieldCause } from '../causes.js';
import { checkAnnotations, checkLabels, dns1123Label, each, qualifiedName } from './names.js';
import { asArr, asObj, asStr, objects, type Obj } from './util.js';

const META = Path.root('metadata');

/** ObjectMeta rules: names, namespace, labels, annotations, owner references, finalizers. */
export function validateMetadata(
  info: ResourceInfo,
  metaValue: unknown,
  nameCheck: (name: string) => string[],
  oldMeta?: Obj,
): FieldCause[] {
  const meta = asObj(metaValue) ?? {};
  const causes: FieldCause[] = [];
  const name = asStr(meta.name) ?? '';
  const generateName = asStr(meta.generateName) ?? '';
  if (generateName !== '') {
    // A prefix may end in '-': the server appends a random suffix to it.
    const masked = generateName.endsWith('-') ? `${generateName.slice(0, -1)}a` : generateName;
    causes.push(...each(META.child('generateName'), generateName, nameCheck(masked)));
  }
  if (name === '') {
    if (generateName === '') causes.push(required(META.child('name'), 'name or generateName is required'));
  } else {
    causes.push(...each(META.child('name'), name, nameCheck(name)));
  }
  const namespace = asStr(meta.namespace) ?? '';
  if (info.namespaced) {
    if (namespace === '') causes.push(required(META.child('namespace')));
    else causes.push(...each(META.child('namespace'), namespace, dns1123Label(namespace)));
  } else if (namespace !== '') {
    causes.push(forbidden(META.child('namespace'), 'not allowed on this type'));
  }
  causes.push(...checkLabels(meta.labels, META.child('labels')));
  causes.push(...checkAnnotations(meta.annotations, META.child('annotations')));
  causes.push(...validateOwnerReferences(meta.ownerReferences));
  asArr(meta.finalizers).forEach((f, i) => {
    if (typeof f === 'string') causes.push(...each(META.child('finalizers').index(i), f, qualifiedName(f)));
  });
  if (oldMeta) {
    for (const field of ['name', 'namespace', 'uid'] as const) {
      const before = asStr(oldMeta[field]) ?? '';
      const after = asStr(meta[field]) ?? '';
      if (before !== '' && after !== '' && before !== after) causes.push(immutable(META.child(field), after));
    }
  }
  return causes;
}

function validateOwnerReferences(value: unknown): FieldCause[] {
  const path = META.child('ownerReferences');
  const causes: FieldCause[] = [];
  const refs = objects(value);
  const controllers: string[] = [];
  for (const ref of refs) {
    const apiVersion = asStr(ref.apiVersion) ?? '';
    if (apiVersion === '')
      causes.push(invalid(path.child('apiVersion'), apiVersion, 'version must not be empty'));
    const kind = asStr(ref.kind) ?? '';
    if (kind === '') causes.push(invalid(path.child('kind'), kind, 'kind must not be empty'));
    const name = asStr(ref.name) ?? '';
    if (name === '') causes.push(invalid(path.child('name'), name, 'name must not be empty'));
    const uid = asStr(ref.uid) ?? '';
    if (uid === '') causes.push(invalid(path.child('uid'), uid, 'uid must not be empty'));
    if (ref.controller === true) controllers.push(`${kind}/${name}`);
  }
  if (controllers.length > 1) {
    causes.push(
      invalid(
        path,
        refs,
        `Only one reference can have Controller set to true. Found "true" in references for ${controllers.join(' and ')}`,
      ),
    );
  }
  return causes;
}
