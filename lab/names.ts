/**
 * Lab naming: every kernel object a lab creates carries the lab's name, so two labs side by side
 * never collide and `down` can find a crashed lab's leftovers by name alone.
 */
import { LabError } from './errors.js';

export const DEFAULT_LAB_NAME = 'lab';

/** Linux IFNAMSIZ is 16 including the terminating NUL. */
const IFNAME_MAX = 15;
const HOST_ACCESS_PREFIX = 'kl-';
export const LAB_NAME_MAX = IFNAME_MAX - HOST_ACCESS_PREFIX.length;

const LAB_NAME_RE = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/;
// pod-<hex>: the sandboxes the node agents create with --netns-prefix klab-<lab>-.
const NETNS_RE = /^klab-([a-z0-9][a-z0-9-]*?)-(ext|lan|node-[1-9][0-9]*|pod-[0-9a-f]{10})$/;

/** Throws a LabError naming what is wrong with `name`; returns it unchanged when valid. */
export function validateLabName(name: string): string {
  if (name.length === 0) throw new LabError('BAD_LAB_NAME', 'lab name is empty', 'pass --name <name>');
  if (name.length > LAB_NAME_MAX) {
    throw new LabError(
      'BAD_LAB_NAME',
      `lab name "${name}" is ${name.length} characters; at most ${LAB_NAME_MAX} fit in the host-access interface name "${HOST_ACCESS_PREFIX}<name>"`,
      'choose a shorter --name',
    );
  }
  if (!LAB_NAME_RE.test(name)) {
    throw new LabError(
      'BAD_LAB_NAME',
      `lab name "${name}" may only hold lower-case letters, digits and inner dashes`,
      'choose a --name like "lab", "demo-2"',
    );
  }
  return name;
}

/** The network namespace of a lab host (`node-N`, `ext`) or of the LAN switch (`lan`). */
export function netnsName(lab: string, host: string): string {
  return `klab-${lab}-${host}`;
}

/** The inverse of netnsName; undefined for namespaces that are not a lab's. */
export function parseNetnsName(netns: string): { lab: string; host: string } | undefined {
  const match = NETNS_RE.exec(netns);
  if (!match || match[1] === undefined || match[2] === undefined) return undefined;
  if (!LAB_NAME_RE.test(match[1])) return undefined;
  return { lab: match[1], host: match[2] };
}

/** The host-namespace end of the `--host-access` veth. */
export function hostAccessIfName(lab: string): string {
  return `${HOST_ACCESS_PREFIX}${lab}`;
}
