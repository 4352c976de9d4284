import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import type { JsonObject } from './store/index.js';
import { FieldsV1Interner } from './fields-intern.js';

const tree = (port: number): JsonObject => ({
  'f:spec': { 'f:ports': { [`k:{"port":${port},"protocol":"TCP"}`]: { '.': {}, 'f:port': {} } } },
});

const service = (name: string, ...trees: JsonObject[]): JsonObject => ({
  metadata: {
    name,
    managedFields: trees.map((fieldsV1, i) => ({
      manager: `m${i}`,
      operation: 'Update',
      fieldsType: 'FieldsV1',
      fieldsV1,
    })),
  },
  spec: { ports: [{ port: 80 }] },
});

const fieldsOf = (obj: JsonObject, i = 0): unknown =>
  ((obj.metadata as { managedFields: { fieldsV1: unknown }[] }).managedFields[i] as { fieldsV1: unknown })
    .fieldsV1;

describe('FieldsV1Interner', () => {
  it('shares one frozen tree between objects with equal fieldsV1, and changes no JSON', () => {
    const interner = new FieldsV1Interner();
    const a = service('a', tree(80), tree(443));
    const b = service('b', tree(80));
    const before = [JSON.stringify(a), JSON.stringify(b)];
    interner.intern(a);
    interner.intern(b);
    expect(fieldsOf(b)).toBe(fieldsOf(a));
    expect(fieldsOf(a, 1)).not.toBe(fieldsOf(a));
    expect(interner.size).toBe(2);
    expect([JSON.stringify(a), JSON.stringify(b)]).toEqual(before);
    expect(() => {
      ((fieldsOf(b) as JsonObject)['f:spec'] as JsonObject)['f:type'] = {};
    }).toThrow(TypeError);
  });

  it('does not share trees whose JSON differs only in key order', () => {
    const interner = new FieldsV1Interner();
    const a = service('a', { 'f:a': {}, 'f:b': {} });
    const b = service('b', { 'f:b': {}, 'f:a': {} });
    interner.intern(a);
    interner.intern(b);
    expect(fieldsOf(b)).not.toBe(fieldsOf(a));
    expect(JSON.stringify(fieldsOf(b))).toBe('{"f:b":{},"f:a":{}}');
  });

  it('leaves objects without managedFields, or with malformed entries, as they are', () => {
    const interner = new FieldsV1Interner();
    const odd: JsonObject = {
      metadata: { name: 'x', managedFields: [null, 'text', { manager: 'm' }, { fieldsV1: [1] }] },
    };
    const text = JSON.stringify(odd);
    interner.intern(odd);
    interner.intern({ metadata: 'not an object' });
    interner.intern({ kind: 'NoMetadata' });
    expect(JSON.stringify(odd)).toBe(text);
    expect(interner.size).toBe(0);
  });

  it('forgets a tree once no object holds it', async () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const interner = new FieldsV1Interner();
    interner.intern(service('gone', tree(8080)));
    const kept = service('kept', tree(80));
    interner.intern(kept);
    expect(interner.size).toBe(2);
    // WeakRefs are cleared and finalizers run only after the current job and a full GC.
    for (let i = 0; i < 20 && interner.size > 1; i++) {
      await new Promise((r) => setTimeout(r, 10));
      gc();
    }
    expect(interner.size).toBe(1);
    interner.intern(service('again', tree(80)));
    expect(interner.size).toBe(1);
    expect(fieldsOf(kept)).toBeDefined();
  });
});
