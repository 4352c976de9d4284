import { hash } from 'node:crypto';
import { endpointString } from '../model.js';
import type { Endpoint, ServicePort } from '../model.js';

const BASE32 = Buffer.from('ABCDEFGHIJKLMNOPQRSTUVWXYZ234567', 'latin1');

/** The first 16 characters of RFC 4648 base32 (with padding, uppercase) of sha256(text). */
export function hash16(text: string): string {
  return base32Hash16(text).toString('latin1');
}

function base32Hash16(text: string): Buffer {
  // The one-shot hash: no Hash object per name, about half the cost at 100k+ names.
  const bytes = hash('sha256', text, 'buffer');
  const out = Buffer.allocUnsafe(16);
  let at = 0;
  let buffer = 0;
  let bits = 0;
  for (const byte of bytes) {
    buffer = (buffer << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out[at++] = BASE32[(buffer >>> (bits - 5)) & 31] as number;
      bits -= 5;
      if (at === 16) return out;
    }
    buffer &= (1 << bits) - 1;
  }
  return out;
}

/**
 * `prefix` + the hash, written into one buffer and read back as one flat string. Built by
 * appending characters, a name was a tree of a dozen string objects: with the 110k names of 10k
 * services × 10 endpoints, 18 MB of long-lived objects for the garbage collector to move.
 */
function chainName(prefix: string, code: Buffer): string {
  const out = Buffer.allocUnsafe(prefix.length + code.length);
  code.copy(out, out.write(prefix, 'latin1'));
  return out.toString('latin1');
}

export interface ServiceChains {
  svc: string;
  svl: string;
  ext: string;
  fw: string;
}

interface MemoEntry {
  chains: ServiceChains;
  /** Endpoint chain names looked up in this generation, and those of the one before. */
  endpoints: Map<string, string>;
  older: Map<string, string>;
}

/**
 * Chain names are recomputed whenever a service changes, mostly for the same endpoints, so they
 * are memoised per service port, then per endpoint (short keys keep lookups cheap). Bounded by
 * generations: `retireUnusedChainNames` starts a new one and drops names not looked up in the
 * current one or the one before, so names of gone services and endpoints do not pile up.
 */
let memo = new Map<string, MemoEntry>();
let olderMemo = new Map<string, MemoEntry>();

/** Starts a new generation of memoised names (see the memo above). */
export function retireUnusedChainNames(): void {
  for (const entry of memo.values()) entry.older = new Map();
  olderMemo = memo;
  memo = new Map();
}

/** How many service ports and endpoint names are memoised, for tests. */
export function chainNameMemoSize(): { ports: number; endpoints: number } {
  let endpoints = 0;
  for (const m of [memo, olderMemo]) for (const e of m.values()) endpoints += e.endpoints.size + e.older.size;
  return { ports: memo.size + olderMemo.size, endpoints };
}

function memoFor(sp: Pick<ServicePort, 'name' | 'protocol'>): MemoEntry {
  const key = sp.name + sp.protocol.toLowerCase();
  let entry = memo.get(key);
  if (entry) return entry;
  entry = olderMemo.get(key);
  if (entry) {
    // Back in use: its names of the last generation stay reachable, older ones go.
    olderMemo.delete(key);
    entry.older = entry.endpoints;
    entry.endpoints = new Map();
  } else {
    const h = base32Hash16(key);
    const chains = {
      svc: chainName('KUBE-SVC-', h),
      svl: chainName('KUBE-SVL-', h),
      ext: chainName('KUBE-EXT-', h),
      fw: chainName('KUBE-FW-', h),
    };
    entry = { chains, endpoints: new Map(), older: new Map() };
  }
  memo.set(key, entry);
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
  const entry = memoFor(sp);
  const id = endpointString(ep);
  let chain = entry.endpoints.get(id);
  if (chain === undefined) {
    chain =
      entry.older.get(id) ?? chainName('KUBE-SEP-', base32Hash16(sp.name + sp.protocol.toLowerCase() + id));
    entry.endpoints.set(id, chain);
  }
  return chain;
}

const SERVICE_CHAIN = /^KUBE-(SVC|SVL|EXT|FW|SEP)-/;

/** Chains kube-proxy owns per service or endpoint, and so may delete when stale. */
export function isServiceChainName(chain: string): boolean {
  return SERVICE_CHAIN.test(chain);
}
