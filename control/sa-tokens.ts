/**
 * Bound service-account tokens (TokenRequest, `serviceaccounts/<name>/token`): JWTs signed with
 * a key in the data dir, carrying kube-apiserver's claims, and valid only while the ServiceAccount
 * and the pod they are bound to still exist with the same uids.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { serviceAccountUser, type UserInfo } from './auth.js';
import type { KubeObject } from './objects.js';
import { invalid } from './status.js';

export const ISSUER = 'https://kubernetes.default.svc.cluster.local';
/** Kubelet asks for 3607 s; kube-apiserver then issues a year (--service-account-extend-token-expiration). */
export const KUBELET_EXPIRATION_SECONDS = 3607;
export const EXTENDED_EXPIRATION_SECONDS = 365 * 24 * 3600;
export const MIN_EXPIRATION_SECONDS = 600;
export const DEFAULT_EXPIRATION_SECONDS = 3600;

export interface TokenClaims {
  readonly iss: string;
  readonly sub: string;
  readonly aud: readonly string[];
  readonly iat: number;
  readonly nbf: number;
  readonly exp: number;
  readonly 'kubernetes.io': {
    readonly namespace: string;
    readonly serviceaccount: { readonly name: string; readonly uid: string };
    readonly pod?: { readonly name: string; readonly uid: string };
    readonly warnafter?: number;
  };
}

export interface TokenRequestSpec {
  readonly audiences: string[];
  readonly expirationSeconds: number;
  readonly boundPod?: { readonly name: string; readonly uid?: string };
}

const b64 = (data: string | Buffer): string => Buffer.from(data).toString('base64url');

/** Reads `spec` of a TokenRequest body, with kube-apiserver's validation messages. */
export function parseTokenRequest(body: KubeObject, saName: string): TokenRequestSpec {
  const spec = (body.spec ?? {}) as {
    audiences?: unknown;
    expirationSeconds?: unknown;
    boundObjectRef?: { kind?: unknown; name?: unknown; uid?: unknown } | null;
  };
  const fail = (field: string, message: string): never => {
    throw invalid('TokenRequest', 'authentication.k8s.io', saName, [
      { reason: 'FieldValueInvalid', field, message },
    ]);
  };
  const audiences = spec.audiences ?? [];
  if (!Array.isArray(audiences) || audiences.some((a) => typeof a !== 'string'))
    fail('spec.audiences', 'Invalid value: must be a list of strings');
  const expirationSeconds = spec.expirationSeconds ?? DEFAULT_EXPIRATION_SECONDS;
  if (typeof expirationSeconds !== 'number' || !Number.isInteger(expirationSeconds))
    fail('spec.expirationSeconds', 'Invalid value: must be a whole number of seconds');
  if ((expirationSeconds as number) < MIN_EXPIRATION_SECONDS)
    fail('spec.expirationSeconds', 'Invalid value: may not specify a duration less than 10 minutes');
  const ref = spec.boundObjectRef;
  let boundPod: TokenRequestSpec['boundPod'];
  if (ref) {
    if (ref.kind !== 'Pod')
      fail(
        'spec.boundObjectRef.kind',
        `Unsupported value: ${JSON.stringify(ref.kind)}: supported values: "Pod"`,
      );
    if (typeof ref.name !== 'string' || ref.name === '') fail('spec.boundObjectRef.name', 'Required value');
    boundPod = { name: ref.name as string, ...(typeof ref.uid === 'string' ? { uid: ref.uid } : {}) };
  }
  return {
    audiences: (audiences as string[]).length > 0 ? (audiences as string[]) : [ISSUER],
    expirationSeconds: expirationSeconds as number,
    ...(boundPod ? { boundPod } : {}),
  };
}

/** The claims kube-apiserver puts in a token for this request, at `now` (seconds). */
export function tokenClaims(
  namespace: string,
  serviceAccount: { name: string; uid: string },
  spec: TokenRequestSpec,
  pod: { name: string; uid: string } | undefined,
  now: number,
): TokenClaims {
  const extended = pod !== undefined && spec.expirationSeconds === KUBELET_EXPIRATION_SECONDS;
  return {
    iss: ISSUER,
    sub: serviceAccountUser(namespace, serviceAccount.name).name,
    aud: spec.audiences,
    iat: now,
    nbf: now,
    exp: now + (extended ? EXTENDED_EXPIRATION_SECONDS : spec.expirationSeconds),
    'kubernetes.io': {
      namespace,
      serviceaccount: serviceAccount,
      ...(pod ? { pod } : {}),
      ...(extended ? { warnafter: now + spec.expirationSeconds } : {}),
    },
  };
}

export function signToken(claims: TokenClaims, key: Buffer): string {
  const unsigned = `${b64(JSON.stringify({ alg: 'HS256', typ: 'JWT' }))}.${b64(JSON.stringify(claims))}`;
  return `${unsigned}.${createHmac('sha256', key).update(unsigned).digest('base64url')}`;
}

/** The claims of a token this key signed, still within its lifetime; undefined otherwise. */
export function verifyToken(token: string, key: Buffer, now: number): TokenClaims | undefined {
  const parts = token.split('.');
  if (parts.length !== 3) return undefined;
  const [header, payload, signature] = parts as [string, string, string];
  const want = createHmac('sha256', key).update(`${header}.${payload}`).digest();
  const got = Buffer.from(signature, 'base64url');
  if (got.length !== want.length || !timingSafeEqual(got, want)) return undefined;
  let claims: TokenClaims;
  try {
    claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as TokenClaims;
  } catch {
    return undefined;
  }
  if (claims.iss !== ISSUER || typeof claims.exp !== 'number' || typeof claims.nbf !== 'number')
    return undefined;
  if (now >= claims.exp || now < claims.nbf) return undefined;
  return claims;
}

/** The signing key, created on first start (DATA_DIR/sa.key, 0600). */
export async function ensureSigningKey(dataDir: string): Promise<Buffer> {
  const path = join(dataDir, 'sa.key');
  if (existsSync(path)) return Buffer.from((await readFile(path, 'utf8')).trim(), 'base64');
  const key = randomBytes(32);
  const tmp = `${path}.${process.pid}.tmp`;
  await writeFile(tmp, `${key.toString('base64')}\n`, { mode: 0o600 });
  await rename(tmp, path);
  return key;
}

export type TokenObjectKind = 'ServiceAccount' | 'Pod';

/** Looks an object up by kind; undefined when absent. */
export type ObjectLookup = (
  kind: TokenObjectKind,
  namespace: string,
  name: string,
) => KubeObject | undefined | Promise<KubeObject | undefined>;

/** Whether the object exists with this uid. */
export type UidCheck = (
  kind: TokenObjectKind,
  namespace: string,
  name: string,
  uid: string,
) => Promise<boolean>;

const uidOf = (obj: KubeObject | undefined): string | undefined =>
  (obj?.metadata as { uid?: string } | undefined)?.uid;

/**
 * A UidCheck that reads the watch caches and asks storage only when a cache does not show the
 * object with the token's uid: a cache trails storage by a moment, so only storage may refuse.
 * A valid token thus costs no storage read; kube-apiserver's token getter likewise reads its
 * informers' listers first and falls back to a live read.
 */
export function cachedUidCheck(cached: ObjectLookup, stored: ObjectLookup): UidCheck {
  return async (kind, namespace, name, uid) =>
    uidOf(await cached(kind, namespace, name)) === uid || uidOf(await stored(kind, namespace, name)) === uid;
}

/**
 * Authenticates a bound token: signature and lifetime, then the ServiceAccount and the bound pod
 * must still exist with the uids the token names (deleting the pod revokes its token).
 */
export async function authenticateToken(
  token: string,
  key: Buffer,
  now: number,
  exists: UidCheck,
): Promise<UserInfo | undefined> {
  const claims = verifyToken(token, key, now);
  const k8s = claims?.['kubernetes.io'];
  if (!k8s) return undefined;
  if (!(await exists('ServiceAccount', k8s.namespace, k8s.serviceaccount.name, k8s.serviceaccount.uid)))
    return undefined;
  if (k8s.pod && !(await exists('Pod', k8s.namespace, k8s.pod.name, k8s.pod.uid))) return undefined;
  return serviceAccountUser(k8s.namespace, k8s.serviceaccount.name);
}
