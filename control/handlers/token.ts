/**
 * TokenRequest (`POST …/serviceaccounts/<name>/token`): mints a bound token for an existing
 * ServiceAccount. A node may only ask for the service account of a pod bound to it, bound to
 * that pod, as the NodeRestriction admission plugin enforces.
 */
import type { UserInfo } from '../auth.js';
import { metaOf, timestamp, type KubeObject } from '../objects.js';
import type { Registry } from '../registry.js';
import { findResource } from '../resources.js';
import type { ResourcePath } from '../routes.js';
import { parseTokenRequest, signToken, tokenClaims } from '../sa-tokens.js';
import { ApiError, conflict, internalError, notFound } from '../status.js';

const serviceAccounts = findResource('', 'v1', 'serviceaccounts')!;
const pods = findResource('', 'v1', 'pods')!;

function nodeForbidden(user: UserInfo, reason: string): ApiError {
  return new ApiError(
    403,
    'Forbidden',
    `serviceaccounts "token" is forbidden: User "${user.name}" ${reason}`,
  );
}

export async function createToken(
  registry: Registry,
  key: Buffer | undefined,
  user: UserInfo,
  path: ResourcePath,
  body: KubeObject,
  now: Date,
): Promise<KubeObject> {
  if (!key) throw internalError('this API server has no service-account signing key');
  const namespace = path.namespace!;
  const saName = path.name!;
  const spec = parseTokenRequest(body, saName);
  const sa = await registry.find(serviceAccounts, namespace, saName);
  if (!sa) throw notFound(serviceAccounts, saName);
  let pod: { name: string; uid: string } | undefined;
  let podSpec: { nodeName?: string; serviceAccountName?: string } | undefined;
  if (spec.boundPod) {
    const live = await registry.find(pods, namespace, spec.boundPod.name);
    if (!live) throw notFound(pods, spec.boundPod.name);
    const uid = metaOf(live).uid as string;
    if (spec.boundPod.uid !== undefined && spec.boundPod.uid !== uid) {
      throw conflict(
        serviceAccounts,
        saName,
        `the UID in the bound object reference (${spec.boundPod.uid}) does not match the UID in record (${uid}). The object might have been deleted and then recreated`,
      );
    }
    pod = { name: spec.boundPod.name, uid };
    podSpec = live.spec as typeof podSpec;
  }
  const node = /^system:node:(.+)$/.exec(user.name)?.[1];
  if (node !== undefined && user.groups.includes('system:nodes')) {
    if (!pod || !podSpec) throw nodeForbidden(user, 'may only request tokens bound to a pod');
    if (podSpec.nodeName !== node)
      throw nodeForbidden(user, `may only request tokens for pods bound to node "${node}"`);
    if ((podSpec.serviceAccountName ?? 'default') !== saName)
      throw nodeForbidden(user, `may only request tokens for the service account of pod "${pod.name}"`);
  }
  const claims = tokenClaims(
    namespace,
    { name: saName, uid: metaOf(sa).uid as string },
    spec,
    pod,
    Math.floor(now.getTime() / 1000),
  );
  return {
    kind: 'TokenRequest',
    apiVersion: 'authentication.k8s.io/v1',
    metadata: { name: saName, namespace },
    spec: {
      audiences: spec.audiences,
      expirationSeconds: claims.exp - claims.iat,
      boundObjectRef: pod ? { kind: 'Pod', apiVersion: 'v1', name: pod.name, uid: pod.uid } : null,
    },
    status: { token: signToken(claims, key), expirationTimestamp: timestamp(new Date(claims.exp * 1000)) },
  };
}
