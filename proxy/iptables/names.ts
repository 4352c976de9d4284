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

/** kube-proxy's per-service-port chain names: prefix + hash16(servicePortName + protocol). */
export function serviceChains(sp: Pick<ServicePort, 'name' | 'protocol'>): ServiceChains {
  const h = hash16(sp.name + sp.protocol.toLowerCase());
  return { svc: `KUBE-SVC-${h}`, svl: `KUBE-SVL-${h}`, ext: `KUBE-EXT-${h}`, fw: `KUBE-FW-${h}` };
}

/** KUBE-SEP- + hash16(servicePortName + protocol + "ip:port"). */
export function endpointChain(
  sp: Pick<ServicePort, 'name' | 'protocol'>,
  ep: Pick<Endpoint, 'ip' | 'port'>,
): string {
  return `KUBE-SEP-${hash16(sp.name + sp.protocol.toLowerCase() + endpointString(ep))}`;
}

const SERVICE_CHAIN = /^KUBE-(SVC|SVL|EXT|FW|SEP)-/;

/** Chains kube-proxy owns per service or endpoint, and so may delete when stale. */
export function isServiceChainName(chain: string): boolean {
  return SERVICE_CHAIN.test(chain);
}
