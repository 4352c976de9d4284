/**
 * What kube-apiserver's Node authorizer walks to decide whether a node may read a Secret or a
 * ConfigMap: the objects named by the pods bound to it (plugin/pkg/auth/authorizer/node, whose
 * graph takes a pod's references from podutil.VisitPodSecretNames and
 * VisitPodConfigmapNames). Pure: the caller supplies the pods.
 */

interface Named {
  name?: string;
}

interface Container {
  envFrom?: { configMapRef?: Named; secretRef?: Named }[];
  env?: { valueFrom?: { configMapKeyRef?: Named; secretKeyRef?: Named } }[];
}

interface Volume {
  secret?: { secretName?: string };
  configMap?: Named;
  projected?: { sources?: { secret?: Named; configMap?: Named }[] };
  csi?: { nodePublishSecretRef?: Named };
  azureFile?: { secretName?: string };
  [source: string]: unknown;
}

interface PodSpec {
  imagePullSecrets?: Named[];
  containers?: Container[];
  initContainers?: Container[];
  ephemeralContainers?: Container[];
  volumes?: Volume[];
}

/** A stored pod: its spec has passed validation, so the shapes above hold where fields are set. */
export interface PodLike {
  readonly spec?: unknown;
  readonly [field: string]: unknown;
}

export interface PodReferences {
  readonly secrets: ReadonlySet<string>;
  readonly configMaps: ReadonlySet<string>;
}

/** Volume sources that name their Secret as `secretRef.name`, as the upstream visitor lists them. */
const SECRET_REF_SOURCES = ['cephfs', 'cinder', 'flexVolume', 'rbd', 'scaleIO', 'iscsi', 'storageos'];

/** Every Secret and ConfigMap a pod names: image pull secrets, env, envFrom and volumes. */
export function podReferences(pod: PodLike): PodReferences {
  const secrets = new Set<string>();
  const configMaps = new Set<string>();
  const add = (set: Set<string>, name: string | undefined) => {
    if (name) set.add(name);
  };
  const spec = (pod.spec ?? {}) as PodSpec;
  for (const s of spec.imagePullSecrets ?? []) add(secrets, s.name);
  for (const c of [
    ...(spec.initContainers ?? []),
    ...(spec.containers ?? []),
    ...(spec.ephemeralContainers ?? []),
  ]) {
    for (const f of c.envFrom ?? []) {
      add(configMaps, f.configMapRef?.name);
      add(secrets, f.secretRef?.name);
    }
    for (const e of c.env ?? []) {
      add(configMaps, e.valueFrom?.configMapKeyRef?.name);
      add(secrets, e.valueFrom?.secretKeyRef?.name);
    }
  }
  for (const v of spec.volumes ?? []) {
    add(secrets, v.secret?.secretName);
    add(configMaps, v.configMap?.name);
    for (const p of v.projected?.sources ?? []) {
      add(secrets, p.secret?.name);
      add(configMaps, p.configMap?.name);
    }
    add(secrets, v.csi?.nodePublishSecretRef?.name);
    add(secrets, v.azureFile?.secretName);
    for (const source of SECRET_REF_SOURCES) {
      add(secrets, (v[source] as { secretRef?: Named } | undefined)?.secretRef?.name);
    }
  }
  return { secrets, configMaps };
}

/** Pods from the watch cache are the same objects until they change: their references are kept. */
const referencesOf = new WeakMap<PodLike, PodReferences>();

/** Whether any of the pods (those bound to the asking node, in the object's namespace) names it. */
export function referencedBy(
  pods: readonly PodLike[],
  kind: 'secrets' | 'configmaps',
  name: string,
): boolean {
  return pods.some((p) => {
    let refs = referencesOf.get(p);
    if (refs === undefined) referencesOf.set(p, (refs = podReferences(p)));
    return (kind === 'secrets' ? refs.secrets : refs.configMaps).has(name);
  });
}
