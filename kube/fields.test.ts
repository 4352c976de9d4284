import { describe, expect, it } from 'vitest';
import { checkFields, matchesFields, parseFieldSelector } from './fields.js';
import { SelectorError } from './labels.js';

describe('field selectors', () => {
  it('parses =, == and != with escapes', () => {
    expect(parseFieldSelector('metadata.name=a\\,b,spec.nodeName!=n1,status.phase==Running')).toEqual([
      { field: 'metadata.name', operator: 'Equals', value: 'a,b' },
      { field: 'spec.nodeName', operator: 'NotEquals', value: 'n1' },
      { field: 'status.phase', operator: 'Equals', value: 'Running' },
    ]);
    expect(parseFieldSelector('')).toEqual([]);
  });

  it('rejects malformed terms', () => {
    expect(() => parseFieldSelector('metadata.name')).toThrow(SelectorError);
    expect(() => parseFieldSelector('a=b=c')).toThrow('unescaped "="');
  });

  it('knows which fields each kind supports', () => {
    expect(() =>
      checkFields('Pod', parseFieldSelector('spec.nodeName=n1,metadata.namespace=x')),
    ).not.toThrow();
    expect(() => checkFields('Service', parseFieldSelector('spec.nodeName=n1'))).toThrow(
      'field label not supported: spec.nodeName',
    );
    expect(() =>
      checkFields('Event', parseFieldSelector('involvedObject.uid=u,involvedObject.kind=Service')),
    ).not.toThrow();
  });

  it('matches objects, treating absent fields as empty', () => {
    const pod = { metadata: { name: 'p', namespace: 'default' }, spec: { nodeName: 'node-1' }, status: {} };
    expect(matchesFields(parseFieldSelector('spec.nodeName=node-1,metadata.name=p'), pod)).toBe(true);
    expect(matchesFields(parseFieldSelector('spec.nodeName!=node-1'), pod)).toBe(false);
    expect(matchesFields(parseFieldSelector('status.phase='), pod)).toBe(true);
    const ev = {
      metadata: { name: 'e' },
      involvedObject: { kind: 'Service', name: 'web' },
      source: { component: 'x' },
    };
    expect(
      matchesFields(parseFieldSelector('involvedObject.kind=Service,involvedObject.name=web,source=x'), ev),
    ).toBe(true);
  });
});
