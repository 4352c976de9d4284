import { describe, expect, it } from 'vitest';
import { hostAccessIfName, LAB_NAME_MAX, netnsName, parseNetnsName, validateLabName } from './names.js';

describe('lab names', () => {
  it('accepts short lower-case names with inner dashes', () => {
    for (const name of ['lab', 'a', 'demo-2', 'x'.repeat(LAB_NAME_MAX)])
      expect(validateLabName(name)).toBe(name);
  });

  it.each([
    ['', 'empty'],
    ['Lab', 'may only hold'],
    ['-lab', 'may only hold'],
    ['lab-', 'may only hold'],
    ['la_b', 'may only hold'],
    ['x'.repeat(LAB_NAME_MAX + 1), 'at most 12'],
  ])('rejects %j (%s)', (name, message) => {
    expect(() => validateLabName(name)).toThrow(message);
  });

  it('keeps the host-access interface within IFNAMSIZ', () => {
    expect(hostAccessIfName('x'.repeat(LAB_NAME_MAX))).toHaveLength(15);
  });

  it('parses namespace names back, and only exact lab layouts', () => {
    expect(parseNetnsName(netnsName('lab', 'node-1'))).toEqual({ lab: 'lab', host: 'node-1' });
    expect(parseNetnsName('klab-a-node-node-12')).toEqual({ lab: 'a-node', host: 'node-12' });
    expect(parseNetnsName('klab-a-ext-lan')).toEqual({ lab: 'a-ext', host: 'lan' });
    expect(parseNetnsName('klab-lab-pod-1')).toBeUndefined();
    expect(parseNetnsName('klab-lab-pod-0123456789')).toEqual({ lab: 'lab', host: 'pod-0123456789' });
    expect(parseNetnsName('klab-lab-node-0')).toBeUndefined();
    expect(parseNetnsName('cni-1234')).toBeUndefined();
  });

  it("never lets one lab's convention match another lab's namespaces", () => {
    const other = ['klab-a-node-1-lan', 'klab-a-node-lan', 'klab-a-ext-ext', 'klab-a-lan-node-2'];
    expect(other.map((ns) => parseNetnsName(ns)?.lab)).toEqual(['a-node-1', 'a-node', 'a-ext', 'a-lan']);
  });
});
