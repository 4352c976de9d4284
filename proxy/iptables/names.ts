import { createHash } from 'node:crypto';
import { endpointString } from '../model.js';
import type { Endpoint, ServicePort } from '../model.js';

const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/** The first 16 characters of RFC 4648 base32 (with padding, uppercase) of sha256(text). */
export function hash16(text: string): string {
  const bytes = createHash('sha256').update(text).digest();
  let out = '';
  let buffer = 0;
  let bits = 0;
  for (const byte of bytes) {
    buffer = (buffer << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += BASE32[(buffer >>> (bits - 5)) & 31];
      bits -= 5;
      if (out.length === 16) return out;
    }
    buffer &= (1 << bits) - 1;
  }
  return out;
}

export interface ServiceChains {
  svc: string;
  svl: string;
  ext: string;
  fw: string;
}

/**
 * Chain names are recomputed whenever a service changes, mostly for the same endpoints, so they
 * are memoised per service port, then per endpoint (short keys keep lookups cheap). Bounded:
 * cleared when it outgrows what a very large cluster needs.
 */
const memo = new Map<string, { chains: ServiceChains; endpoints: Map<string, string> }>();
const MEMO_PORTS = 100_000;

function memoFor(sp: Pick<ServicePort, 'name' | 'protocol'>) {
  const key = sp.name + sp.protocol.toLowerCase();
  let entry = memo.get(key);
  if (!entry) {
    if (memo.size >= MEMO_PORTS) memo.clear();
    const h = hash16(key);
    const chains = { svc: `KUBE-SVC-${h}`, svl: `KUBE-SVL-${h}`, ext: `KUBE-EXT-${h}`, fw: `KUBE-FW-${h}` };
    memo.set(key, (entry = { chains, endpoints: new Map() }));
  }
  return entry;
}

/** kube-proxy's per-service-port chain names: prefix + hash16(servicePortName + protocol). */
export function serviceChains(sp: Pick<ServicePort, 'name' | 'protocol'>): ServiceChains {
  return memoFor(sp).chains;
}

/** KUBE-SEP- + hash16(servicePortName + protocol + "ip:port"). */
export function endpointChain(
  sp: Pick<ServicePort, 'name' | 'protocol'>,
  ep: Pick<Endpoint, 'ip' | 'port'>,
): string {
  const endpoints = memoFor(sp).endpoints;
  const id = endpointString(ep);
  let chain = endpoints.get(id);
  if (chain === undefined) {
    if (endpoints.size >= MEMO_PORTS) endpoints.clear();
    chain = `KUBE-SEP-${hash16(sp.name + sp.protocol.toLowerCase() + id)}`;
    endpoints.set(id, chain);
  }
  return chain;
}

const SERVICE_CHAIN = /^KUBE-(SVC|SVL|EXT|FW|SEP)-/;

/** Chains kube-proxy owns per service or endpoint, and so may delete when stale. */
export function isServiceChainName(chain: string): boolean {
  return SERVICE_CHAIN.test(chain);
}
