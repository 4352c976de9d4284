import { describe, expect, it } from 'vitest';
import { encodedEvent, filterEvent } from './watch.js';

describe('encodedEvent', () => {
  const object = { kind: 'ConfigMap', apiVersion: 'v1', metadata: { name: 'a', resourceVersion: '7' } };

  it('encodes an event as one JSON line', () => {
    const line = encodedEvent('ADDED', object).toString('utf8');
    expect(line.endsWith('\n')).toBe(true);
    expect(JSON.parse(line)).toEqual({ type: 'ADDED', object });
  });

  it('encodes each event object and type once, however many watchers send it', () => {
    const first = encodedEvent('MODIFIED', object);
    expect(encodedEvent('MODIFIED', object)).toBe(first);
    const deleted = encodedEvent('DELETED', object);
    expect(deleted).not.toBe(first);
    expect(JSON.parse(deleted.toString('utf8')).type).toBe('DELETED');
  });

  it('keeps objects with equal content apart', () => {
    const twin = structuredClone(object);
    expect(encodedEvent('ADDED', twin)).not.toBe(encodedEvent('ADDED', object));
  });
});

describe('filterEvent', () => {
  const obj = (app: string) => ({ metadata: { name: 'x', labels: { app } } });
  const selects = (o: { metadata?: { labels?: Record<string, string> } }) =>
    o.metadata?.labels?.app === 'web';

  it('turns objects entering or leaving the selection into ADDED and DELETED', () => {
    expect(filterEvent({ type: 'MODIFIED', value: obj('web'), prevValue: obj('db') }, selects)?.type).toBe(
      'ADDED',
    );
    expect(filterEvent({ type: 'MODIFIED', value: obj('db'), prevValue: obj('web') }, selects)?.type).toBe(
      'DELETED',
    );
    expect(
      filterEvent({ type: 'MODIFIED', value: obj('db'), prevValue: obj('db') }, selects),
    ).toBeUndefined();
  });
});
