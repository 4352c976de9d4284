import { describe, expect, it } from 'vitest';
import {
  formatSelector,
  fromLabelSelector,
  fromMap,
  matches,
  parseSelector,
  SelectorError,
} from './labels.js';

describe('label selector grammar', () => {
  it('parses every operator', () => {
    expect(parseSelector('a=b,c==d,e!=f,g in (x, y),h notin (z),i,!j,k>1,l<10')).toEqual([
      { key: 'a', operator: 'Equals', values: ['b'] },
      { key: 'c', operator: 'Equals', values: ['d'] },
      { key: 'e', operator: 'NotEquals', values: ['f'] },
      { key: 'g', operator: 'In', values: ['x', 'y'] },
      { key: 'h', operator: 'NotIn', values: ['z'] },
      { key: 'i', operator: 'Exists', values: [] },
      { key: 'j', operator: 'DoesNotExist', values: [] },
      { key: 'k', operator: 'Gt', values: ['1'] },
      { key: 'l', operator: 'Lt', values: ['10'] },
    ]);
  });

  it('accepts prefixed keys, empty values and an empty selector', () => {
    expect(parseSelector('')).toEqual([]);
    expect(parseSelector('app.kubernetes.io/name=web,tier=')).toEqual([
      { key: 'app.kubernetes.io/name', operator: 'Equals', values: ['web'] },
      { key: 'tier', operator: 'Equals', values: [''] },
    ]);
  });

  it.each([
    ['a in x', 'expected "("'],
    ['a in (x', 'expected "," or ")"'],
    ['=b', 'expected a key'],
    ['a b', 'expected an operator'],
    ['a>b', 'must be an integer'],
    ['-a=b', 'invalid label key'],
    ['a=b c', 'expected ","'],
    ['a=' + 'x'.repeat(64), 'invalid label value'],
  ])('rejects %s with a clear message', (input, message) => {
    expect(() => parseSelector(input)).toThrow(SelectorError);
    expect(() => parseSelector(input)).toThrow(message);
  });

  it('matches as Kubernetes does (!= and notin also match absent labels)', () => {
    const labels = { app: 'web', tier: 'front', n: '5' };
    const m = (s: string) => matches(parseSelector(s), labels);
    expect(m('app=web')).toBe(true);
    expect(m('app=db')).toBe(false);
    expect(m('app!=db')).toBe(true);
    expect(m('missing!=x')).toBe(true);
    expect(m('tier in (front,back)')).toBe(true);
    expect(m('tier notin (front)')).toBe(false);
    expect(m('missing notin (front)')).toBe(true);
    expect(m('app')).toBe(true);
    expect(m('!app')).toBe(false);
    expect(m('!missing')).toBe(true);
    expect(m('n>4,n<6')).toBe(true);
    expect(m('n>5')).toBe(false);
    expect(matches(parseSelector('app=web'), undefined)).toBe(false);
    expect(matches(parseSelector('!app'), undefined)).toBe(true);
    expect(matches(parseSelector(''), undefined)).toBe(true);
  });

  it('compiles structured selectors and maps', () => {
    const reqs = fromLabelSelector({
      matchLabels: { app: 'web' },
      matchExpressions: [{ key: 'tier', operator: 'NotIn', values: ['db'] }],
    });
    expect(matches(reqs, { app: 'web', tier: 'front' })).toBe(true);
    expect(matches(reqs, { app: 'web', tier: 'db' })).toBe(false);
    expect(() => fromLabelSelector({ matchExpressions: [{ key: 'a', operator: 'Equals' }] })).toThrow(
      '"Equals" is not a valid label selector operator',
    );
    expect(matches(fromMap({ app: 'web' }), { app: 'web', x: 'y' })).toBe(true);
  });

  it('formats selectors the way kube prints them', () => {
    expect(formatSelector(parseSelector('a=b,c in (y,x),!d,e'))).toBe('a=b,c in (x,y),!d,e');
  });
});
