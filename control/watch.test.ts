import { describe, expect, it } from 'vitest';
import { encodedEvent, filterEvent } from './watch.js';

describe('encodedEvent', () => {
  const object = { kind: 'ConfigMap', apiVersion: 'v1', metadata: { name: 'a', resourceVersion: '7' } };

  it('encodes an event as one JSON line', () => {
    const { line, chunk } = encodedEvent('ADDED', object);
    const text = line.toString('utf8');
    expect(text.endsWith('\n')).toBe(true);
    expect(JSON.parse(text)).toEqual({ type: 'ADDED', object });
    expect(chunk.toString('utf8')).toBe(`${line.length.toString(16)}\r\n${text}\r\n`);
  });

  it('encodes each event object and type once, however many watchers send it', () => {
    const first = encodedEvent('MODIFIED', object);
    expect(encodedEvent('MODIFIED', object)).toBe(first);
    const deleted = encodedEvent('DELETED', object);
    expect(deleted).not.toBe(first);
    expect(JSON.parse(deleted.line.toString('utf8')).type).toBe('DELETED');
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
