import { describe, expect, it } from 'vitest';
import { PatchError } from './errors.js';
import { applyJsonMergePatch } from './merge-patch.js';

describe('applyJsonMergePatch (RFC 7386)', () => {
  // The test cases of RFC 7386 appendix A whose target is an object.
  const cases: [unknown, unknown, unknown][] = [
    [{ a: 'b' }, { a: 'c' }, { a: 'c' }],
    [{ a: 'b' }, { b: 'c' }, { a: 'b', b: 'c' }],
    [{ a: 'b' }, { a: null }, {}],
    [{ a: 'b', b: 'c' }, { a: null }, { b: 'c' }],
    [{ a: ['b'] }, { a: 'c' }, { a: 'c' }],
    [{ a: 'c' }, { a: ['b'] }, { a: ['b'] }],
    [{ a: { b: 'c' } }, { a: { b: 'd', c: null } }, { a: { b: 'd' } }],
    [{ a: [{ b: 'c' }] }, { a: [1] }, { a: [1] }],
    [{ e: null }, { a: 1 }, { e: null, a: 1 }],
    [{}, { a: { bb: { ccc: null } } }, { a: { bb: {} } }],
  ];
  it.each(cases)('%j + %j', (target, patch, expected) => {
    expect(applyJsonMergePatch(target as Record<string, unknown>, patch)).toEqual(expected);
  });

  it('replaces lists whole and keeps nulls inside them', () => {
    expect(applyJsonMergePatch({ a: [1, 2] }, { a: [null, 3] })).toEqual({ a: [null, 3] });
  });

  it('does not change its inputs', () => {
    const target = { spec: { replicas: 1, selector: { app: 'x' } } };
    const patch = { spec: { replicas: 2, selector: { tier: 'web' } } };
    const result = applyJsonMergePatch(target, patch);
    expect(result).toEqual({ spec: { replicas: 2, selector: { app: 'x', tier: 'web' } } });
    expect(target).toEqual({ spec: { replicas: 1, selector: { app: 'x' } } });
    (result.spec as { selector: Record<string, string> }).selector.app = 'changed';
    expect(patch.spec.selector).toEqual({ tier: 'web' });
  });

  it.each([[['a']], ['x'], [null], [3]])('refuses a patch that is not an object: %j', (patch) => {
    expect(() => applyJsonMergePatch({}, patch)).toThrowError(PatchError);
    try {
      applyJsonMergePatch({}, patch);
    } catch (e) {
      expect((e as PatchError).status).toBe(400);
    }
  });
});
