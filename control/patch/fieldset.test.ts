import { describe, expect, it } from 'vitest';
import { FieldSet, formatPath, keyElement, valueElement } from './fieldset.js';

describe('FieldSet', () => {
  const fieldsV1 = {
    'f:metadata': { 'f:labels': { '.': {}, 'f:app': {} } },
    'f:spec': {
      'f:ports': {
        'k:{"port":80,"protocol":"TCP"}': { '.': {}, 'f:port': {}, 'f:targetPort': {} },
      },
      'f:replicas': {},
    },
  };

  it('reads and writes FieldsV1, members with children as "."', () => {
    const set = FieldSet.fromFieldsV1(fieldsV1);
    const members = set.paths().map((p) => p.join('/'));
    expect(members).toContain('f:spec/f:replicas');
    expect(members).toContain('f:metadata/f:labels');
    expect(members).not.toContain('f:spec');
    expect(set.toFieldsV1()).toEqual(fieldsV1);
    expect(JSON.stringify(set.toFieldsV1())).toBe(
      '{"f:metadata":{"f:labels":{".":{},"f:app":{}}},"f:spec":{"f:ports":{"k:{\\"port\\":80,\\"protocol\\":\\"TCP\\"}":' +
        '{".":{},"f:port":{},"f:targetPort":{}}},"f:replicas":{}}}',
    );
  });

  it('lists member paths in order', () => {
    expect(FieldSet.fromFieldsV1(fieldsV1).paths().map(formatPath)).toEqual([
      '.metadata.labels',
      '.metadata.labels.app',
      '.spec.ports[port=80,protocol="TCP"]',
      '.spec.ports[port=80,protocol="TCP"].port',
      '.spec.ports[port=80,protocol="TCP"].targetPort',
      '.spec.replicas',
    ]);
  });

  it('computes union, intersection and difference', () => {
    const a = FieldSet.fromPaths([['f:a'], ['f:b', 'f:c'], ['f:b', 'f:d']]);
    const b = FieldSet.fromPaths([['f:b', 'f:c'], ['f:e']]);
    expect(a.union(b).paths()).toEqual([['f:a'], ['f:b', 'f:c'], ['f:b', 'f:d'], ['f:e']]);
    expect(a.intersection(b).paths()).toEqual([['f:b', 'f:c']]);
    expect(a.difference(b).paths()).toEqual([['f:a'], ['f:b', 'f:d']]);
    expect(a.difference(a).isEmpty()).toBe(true);
  });

  it('encodes keys sorted by name and set values as JSON', () => {
    expect(keyElement({ protocol: 'TCP', port: 80 })).toBe('k:{"port":80,"protocol":"TCP"}');
    expect(formatPath(['f:metadata', 'f:finalizers', valueElement('a')])).toBe('.metadata.finalizers[="a"]');
    expect(formatPath(['f:args', 'i:3'])).toBe('.args[3]');
  });

  it.each([
    [{ 'x:y': {} }],
    [{ 'k:notjson': {} }],
    [{ 'k:[1]': {} }],
    [{ 'i:-1': {} }],
    [{ 'f:': {} }],
    [[]],
  ])('refuses invalid FieldsV1 %j', (value) => {
    expect(() => FieldSet.fromFieldsV1(value)).toThrow(/fieldsV1/);
  });
});
