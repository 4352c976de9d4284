import { describe, expect, it } from 'vitest';
import { keyOf, objectKey, splitKey } from './keys.js';

describe('object keys', () => {
  it('round-trips namespaced and cluster-scoped keys', () => {
    expect(objectKey({ namespace: 'default', name: 'web' })).toBe('default/web');
    expect(objectKey({ name: 'node-1' })).toBe('node-1');
    expect(keyOf({ metadata: { namespace: 'a', name: 'b' } })).toBe('a/b');
    expect(splitKey('a/b')).toEqual({ namespace: 'a', name: 'b' });
    expect(splitKey('n')).toEqual({ name: 'n' });
  });

  it('rejects malformed keys', () => {
    expect(() => splitKey('a/b/c')).toThrow('invalid object key "a/b/c"');
    expect(() => keyOf({ metadata: {} })).toThrow('no metadata.name');
  });
});
