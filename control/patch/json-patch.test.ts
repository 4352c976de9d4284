import { describe, expect, it } from 'vitest';
import { PatchError } from './errors.js';
import { applyJsonPatch } from './json-patch.js';

function failure(target: Record<string, unknown>, ops: unknown): PatchError {
  try {
    applyJsonPatch(target, ops);
  } catch (e) {
    if (e instanceof PatchError) return e;
    throw e;
  }
  throw new Error('the patch applied');
}

describe('applyJsonPatch (RFC 6902)', () => {
  const svc = () => ({
    metadata: { name: 'web', labels: { app: 'web' }, annotations: { 'a/b': '1', 'c~d': '2' } },
    spec: { ports: [{ port: 80 }, { port: 443 }] },
  });

  it('adds, removes and replaces members and list elements', () => {
    const result = applyJsonPatch(svc(), [
      { op: 'add', path: '/metadata/labels/tier', value: 'front' },
      { op: 'add', path: '/spec/ports/1', value: { port: 8080 } },
      { op: 'add', path: '/spec/ports/-', value: { port: 9090 } },
      { op: 'remove', path: '/spec/ports/0' },
      { op: 'replace', path: '/metadata/name', value: 'web2' },
    ]);
    expect(result.metadata).toMatchObject({ name: 'web2', labels: { app: 'web', tier: 'front' } });
    expect(result.spec).toEqual({ ports: [{ port: 8080 }, { port: 443 }, { port: 9090 }] });
  });

  it('decodes ~1 and ~0 in pointers', () => {
    const result = applyJsonPatch(svc(), [
      { op: 'replace', path: '/metadata/annotations/a~1b', value: 'x' },
      { op: 'remove', path: '/metadata/annotations/c~0d' },
    ]);
    expect((result.metadata as Record<string, unknown>).annotations).toEqual({ 'a/b': 'x' });
  });

  it('moves and copies values', () => {
    const result = applyJsonPatch(svc(), [
      { op: 'copy', from: '/metadata/labels', path: '/spec/selector' },
      { op: 'move', from: '/spec/ports/1', path: '/spec/ports/0' },
    ]);
    expect(result.spec).toEqual({ ports: [{ port: 443 }, { port: 80 }], selector: { app: 'web' } });
  });

  it('test passes on equal values and fails with 422 otherwise', () => {
    expect(applyJsonPatch(svc(), [{ op: 'test', path: '/spec/ports/0', value: { port: 80 } }])).toEqual(
      svc(),
    );
    const e = failure(svc(), [
      { op: 'add', path: '/spec/x', value: 1 },
      { op: 'test', path: '/metadata/name', value: 'other' },
    ]);
    expect(e.status).toBe(422);
    expect(e.message).toContain('operation 1 (test /metadata/name)');
  });

  it('replaces the whole document at the empty pointer', () => {
    expect(applyJsonPatch(svc(), [{ op: 'replace', path: '', value: { a: 1 } }])).toEqual({ a: 1 });
  });

  it('does not change its input', () => {
    const target = svc();
    applyJsonPatch(target, [{ op: 'remove', path: '/spec/ports/0' }]);
    expect(target).toEqual(svc());
  });

  it.each([
    [{ op: 'remove', path: '/metadata/nope' }, 'operation 0 (remove /metadata/nope): path not found'],
    [{ op: 'replace', path: '/spec/ports/2', value: 1 }, 'index 2 is out of range'],
    [{ op: 'add', path: '/spec/ports/01', value: 1 }, '"01" is not a valid list index'],
    [{ op: 'add', path: '/no/such', value: 1 }, 'path not found: no "no"'],
    [{ op: 'add', path: '/metadata/x' }, '"value" is missing'],
    [{ op: 'frobnicate', path: '/a' }, 'unknown op "frobnicate"'],
    [{ op: 'add', path: 'metadata', value: 1 }, 'must start with "/"'],
    [{ op: 'add', path: '/metadata/~2', value: 1 }, 'invalid escape'],
    [{ op: 'move', from: '/metadata', path: '/metadata/labels/m' }, 'into its own child'],
    [{ op: 'copy', path: '/a' }, '"from" must be a string'],
    [{ op: 'remove', path: '' }, 'cannot remove the whole document'],
    [{ op: 'replace', path: '', value: [1] }, 'not an object'],
  ])('fails with 422 naming the op: %j', (op, message) => {
    const e = failure(svc(), [op]);
    expect(e.status).toBe(422);
    expect(e.message).toContain(message);
  });

  it.each([[{ op: 'add' }], ['not a list'], [[1]], [[null]]])(
    'refuses a malformed body with 400: %j',
    (body) => {
      const e = failure(svc(), body);
      expect(e.status).toBe(400);
      expect(e.code).toBe('InvalidPatch');
    },
  );
});
