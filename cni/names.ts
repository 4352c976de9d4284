import { closeSync, openSync, readSync } from 'node:fs';
import { sha256Hex } from './sha256.js';

function randomBytes(n: number): Uint8Array {
  const buf = new Uint8Array(n);
  const fd = openSync('/dev/urandom', 'r');
  try {
    readSync(fd, buf);
  } finally {
    closeSync(fd);
  }
  return buf;
}

function hexBytes(hex: string): Uint8Array {
  return Uint8Array.from(hex.match(/../g) ?? [], (b) => parseInt(b, 16));
}

/** Host end of a pod's veth: stable per attachment, so DEL finds it even without the netns. */
export function vethName(containerId: string, ifname: string): string {
  return `veth${sha256Hex(`${containerId}\0${ifname}`).slice(0, 8)}`;
}

/** Same shape as the reference plugins' per-container NAT chain: CNI- and 24 hex, 28 characters. */
export function chainName(network: string, containerId: string): string {
  return `CNI-${sha256Hex(network + containerId).slice(0, 24)}`;
}

export function chainComment(network: string, containerId: string): string {
  return `name: "${network}" id: "${containerId}"`;
}

function formatMac(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join(':');
}

/** Unicast, locally administered. */
function localMac(bytes: Uint8Array): string {
  const b = Uint8Array.from(bytes.subarray(0, 6));
  b[0] = ((b[0] ?? 0) & 0xfe) | 0x02;
  return formatMac(b);
}

export function randomMac(): string {
  return localMac(randomBytes(6));
}

/** A fixed bridge MAC stops the kernel re-deriving it from the lowest port MAC as pods come and go. */
export function bridgeMac(bridge: string): string {
  return localMac(hexBytes(sha256Hex(`bridge\0${bridge}`)));
}
