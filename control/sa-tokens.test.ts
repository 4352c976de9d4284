import { describe, expect, it } from 'vitest';
import type { ApiError } from './status.js';
import {
  authenticateToken,
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

  it('authenticates as the service account while the account and the bound pod exist with their uids', async () => {
    const token = signToken(
      tokenClaims('kube-system', sa, { audiences: [ISSUER], expirationSeconds: 3600 }, pod, T),
      key,
    );
    const objects = new Map<string, string>([
      ['ServiceAccount/coredns', 'sa-uid'],
      ['Pod/coredns-1', 'pod-uid'],
    ]);
    const lookup: ObjectLookup = async (kind, _ns, name) => {
      const uid = objects.get(`${kind}/${name}`);
      return uid === undefined ? undefined : { metadata: { name, uid } };
    };
    expect(await authenticateToken(token, key, T + 1, lookup)).toEqual({
      name: 'system:serviceaccount:kube-system:coredns',
      groups: ['system:serviceaccounts', 'system:serviceaccounts:kube-system', 'system:authenticated'],
    });
    objects.set('Pod/coredns-1', 'recreated');
    expect(await authenticateToken(token, key, T + 1, lookup)).toBeUndefined();
    objects.set('Pod/coredns-1', 'pod-uid');
    objects.delete('ServiceAccount/coredns');
    expect(await authenticateToken(token, key, T + 1, lookup)).toBeUndefined();
  });
});
