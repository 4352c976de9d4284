import { describe, expect, it } from 'vitest';
import { dropUnchangedTopLevel, topLevelContents } from './trim.js';

const before = `*filter
:KUBE-SERVICES - [0:0]
:KUBE-FORWARD - [0:0]
-A KUBE-FORWARD -j ACCEPT
COMMIT
*nat
:KUBE-SERVICES - [0:0]
:KUBE-SVC-A - [0:0]
-A KUBE-SERVICES -d 10.96.0.1 -j KUBE-SVC-A
-A KUBE-SVC-A -j KUBE-SEP-A
COMMIT
`;

describe('dropUnchangedTopLevel', () => {
  it('keys contents by table and chain', () => {
    expect(topLevelContents(before)).toEqual(
      new Map([
        ['filter/KUBE-SERVICES', ''],
        ['filter/KUBE-FORWARD', '-A KUBE-FORWARD -j ACCEPT'],
        ['nat/KUBE-SERVICES', '-A KUBE-SERVICES -d 10.96.0.1 -j KUBE-SVC-A'],
      ]),
    );
  });

  it('drops unchanged top-level chains and keeps changed ones and service chains', () => {
    const next = before.replace('-A KUBE-FORWARD -j ACCEPT', '-A KUBE-FORWARD -j DROP');
    expect(dropUnchangedTopLevel(next, topLevelContents(before))).toBe(`*filter
:KUBE-FORWARD - [0:0]
-A KUBE-FORWARD -j DROP
COMMIT
*nat
:KUBE-SVC-A - [0:0]
-A KUBE-SVC-A -j KUBE-SEP-A
COMMIT
`);
  });

  it('keeps everything without a previous sync', () => {
    expect(dropUnchangedTopLevel(before, new Map())).toBe(before);
  });
});
