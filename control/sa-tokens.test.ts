import { describe, expect, it } from 'vitest';
import type { ApiError } from './status.js';
import {
  authenticateToken,
  cachedUidCheck,
  EXTENDED_EXPIRATION_SECONDS,
  ISSUER,
  parseTokenRequest,
  signToken,
  tokenClaims,
  verifyToken,
  type ObjectLookup,
} from './sa-tokens.js';

const key = Buffer.alloc(32, 7);
const sa = { name: 'coredns', uid: 'sa-uid' };
const pod = { name: 'coredns-1', uid: 'pod-uid' };
const T = 1_800_000_000;

describe('parseTokenRequest', () => {
  it('defaults audiences to the issuer and the lifetime to an hour', () => {
    expect(parseTokenRequest({ spec: {} }, 'coredns')).toEqual({
      audiences: [ISSUER],
      expirationSeconds: 3600,
    });
    expect(
      parseTokenRequest(
        {
          spec: {
            audiences: ['api'],
            expirationSeconds: 3607,
            boundObjectRef: { kind: 'Pod', name: 'p', uid: 'u' },
          },
        },
        'x',
      ),
    ).toEqual({ audiences: ['api'], expirationSeconds: 3607, boundPod: { name: 'p', uid: 'u' } });
  });

  it('answers 422 naming the field for short lifetimes and objects other than pods', () => {
    const err = (body: object) => {
      try {
        parseTokenRequest({ spec: body }, 'coredns');
      } catch (e) {
        return e as ApiError;
      }
      throw new Error('accepted');
    };
    expect(err({ expirationSeconds: 60 }).message).toBe(
      'TokenRequest "coredns" is invalid: spec.expirationSeconds: Invalid value: may not specify a duration less than 10 minutes',
    );
    expect(err({ boundObjectRef: { kind: 'Secret', name: 's' } }).code).toBe(422);
    expect(err({ boundObjectRef: { kind: 'Pod' } }).message).toContain(
      'spec.boundObjectRef.name: Required value',
    );
  });
});

describe('tokens', () => {
  it('carries kube-apiserver’s claims; kubelet’s 3607 s becomes a year with warnafter', () => {
    const claims = tokenClaims('kube-system', sa, { audiences: [ISSUER], expirationSeconds: 3607 }, pod, T);
    expect(claims).toEqual({
      iss: ISSUER,
      sub: 'system:serviceaccount:kube-system:coredns',
      aud: [ISSUER],
      iat: T,
      nbf: T,
      exp: T + EXTENDED_EXPIRATION_SECONDS,
      'kubernetes.io': { namespace: 'kube-system', serviceaccount: sa, pod, warnafter: T + 3607 },
    });
    expect(tokenClaims('a', sa, { audiences: [], expirationSeconds: 3607 }, undefined, T).exp).toBe(T + 3607);
  });

  it('verifies its own signature and lifetime only', () => {
    const claims = tokenClaims('kube-system', sa, { audiences: [ISSUER], expirationSeconds: 600 }, pod, T);
    const token = signToken(claims, key);
    expect(verifyToken(token, key, T + 10)).toEqual(claims);
    expect(verifyToken(token, key, T + 600)).toBeUndefined();
    expect(verifyToken(token, Buffer.alloc(32, 8), T + 10)).toBeUndefined();
    const [h, , s] = token.split('.');
    const forged = Buffer.from(JSON.stringify({ ...claims, sub: 'system:admin' })).toString('base64url');
    expect(verifyToken(`${h}.${forged}.${s}`, key, T + 10)).toBeUndefined();
    expect(verifyToken('a.b', key, T)).toBeUndefined();
  });

  /** Objects by `Kind/name` → uid, read through a lookup that counts its calls. */
  const objectsLookup = (objects: Map<string, string>) => {
    const calls = { n: 0 };
    const lookup: ObjectLookup = async (kind, _ns, name) => {
      calls.n += 1;
      const uid = objects.get(`${kind}/${name}`);
      return uid === undefined ? undefined : { metadata: { name, uid } };
    };
    return { lookup, calls };
  };

  it('authenticates as the service account while the account and the bound pod exist with their uids', async () => {
    const token = signToken(
      tokenClaims('kube-system', sa, { audiences: [ISSUER], expirationSeconds: 3600 }, pod, T),
      key,
    );
    const objects = new Map<string, string>([
      ['ServiceAccount/coredns', 'sa-uid'],
      ['Pod/coredns-1', 'pod-uid'],
    ]);
    const { lookup } = objectsLookup(objects);
    const exists = cachedUidCheck(lookup, lookup);
    expect(await authenticateToken(token, key, T + 1, exists)).toEqual({
      name: 'system:serviceaccount:kube-system:coredns',
      groups: ['system:serviceaccounts', 'system:serviceaccounts:kube-system', 'system:authenticated'],
    });
    objects.set('Pod/coredns-1', 'recreated');
    expect(await authenticateToken(token, key, T + 1, exists)).toBeUndefined();
    objects.set('Pod/coredns-1', 'pod-uid');
    objects.delete('ServiceAccount/coredns');
    expect(await authenticateToken(token, key, T + 1, exists)).toBeUndefined();
  });

  it('reads storage only when the cache does not show the object with the token’s uid', async () => {
    const token = signToken(
      tokenClaims('kube-system', sa, { audiences: [ISSUER], expirationSeconds: 3600 }, pod, T),
      key,
    );
    const cachedObjects = new Map([
      ['ServiceAccount/coredns', 'sa-uid'],
      ['Pod/coredns-1', 'pod-uid'],
    ]);
    const storedObjects = new Map(cachedObjects);
    const cache = objectsLookup(cachedObjects);
    const storage = objectsLookup(storedObjects);
    const exists = cachedUidCheck(cache.lookup, storage.lookup);
    for (let i = 0; i < 3; i++) expect(await authenticateToken(token, key, T + 1, exists)).toBeDefined();
    expect(storage.calls.n).toBe(0);
    // The cache has not seen the pod yet: storage has it, so the token is accepted.
    cachedObjects.delete('Pod/coredns-1');
    expect(await authenticateToken(token, key, T + 1, exists)).toBeDefined();
    expect(storage.calls.n).toBe(1);
    // The pod was recreated and the cache still holds the old one: storage decides.
    cachedObjects.set('Pod/coredns-1', 'old-uid');
    expect(await authenticateToken(token, key, T + 1, exists)).toBeDefined();
    storedObjects.delete('Pod/coredns-1');
    expect(await authenticateToken(token, key, T + 1, exists)).toBeUndefined();
    expect(storage.calls.n).toBe(3);
  });
});
