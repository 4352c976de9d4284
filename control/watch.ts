/**
 * Watch streams: one JSON event per line over a chunked 200 response, from a resourceVersion
 * (or from a synthetic ADDED snapshot when none is given), with selector filtering that turns
 * objects leaving or entering the selection into DELETED and ADDED, periodic BOOKMARKs when
 * asked, `timeoutSeconds`, a 410 ERROR event for expired history, and a cut-off for clients
 * that stop reading.
 */
import type { ServerResponse } from 'node:http';
import { StoreError } from './store/index.js';
import type { CacheWatcher, Store, StoreEvent, WatchCache, WatchHandlers, Watcher } from './store/index.js';
import { apiVersionOf, type ResourceInfo } from './resources.js';
import { ApiError, expired } from './status.js';
import { metaOf, type KubeObject } from './objects.js';
import { matches, type Requirement } from '../kube/labels.js';
import { matchesFields, type FieldRequirement } from '../kube/fields.js';

export interface WatchRequest {
  readonly info: ResourceInfo;
  readonly prefix: string;
  readonly labels: readonly Requirement[];
  readonly fields: readonly FieldRequirement[];
  /** Undefined, '' or '0': start with ADDED events for the current state. */
  readonly resourceVersion?: string;
  readonly allowBookmarks: boolean;
  readonly timeoutMs: number;
  readonly bookmarkIntervalMs: number;
  /** Bytes buffered for a client before it is considered unresponsive and cut off. */
  readonly maxBufferedBytes: number;
  /**
   * Turns an object into what goes on the wire (a one-row Table, say); without it the object
   * itself goes, encoded once per event for every watcher that gets it.
   */
  readonly encode?: (obj: KubeObject, first: boolean) => unknown;
}

/** A plain (not Table) event on the wire: its JSON line, and that line as one HTTP/1.1 chunk. */
export interface EncodedEvent {
  readonly line: Buffer;
  /** Chunk size line, the line, CRLF: written straight to the socket of a chunked response. */
  readonly chunk: Buffer;
}

/**
 * Encoded plain events, per event object and type. Cache events are shared by every watcher,
 * so a hundred watchers of one event cost one JSON.stringify, one UTF-8 encoding and one chunk
 * frame, not a hundred; entries go with their event.
 */
const encodedEvents = new WeakMap<KubeObject, Partial<Record<WireEventType, EncodedEvent>>>();

export function encodedEvent(type: WireEventType, object: KubeObject): EncodedEvent {
  let events = encodedEvents.get(object);
  if (!events) {
    events = {};
    encodedEvents.set(object, events);
  }
  return (events[type] ??= frame(Buffer.from(JSON.stringify({ type, object }) + '\n')));
}

function frame(line: Buffer): EncodedEvent {
  const size = `${line.length.toString(16)}\r\n`;
  const chunk = Buffer.allocUnsafe(size.length + line.length + 2);
  chunk.write(size, 'latin1');
  line.copy(chunk, size.length);
  chunk.write('\r\n', size.length + line.length, 'latin1');
  return { line: chunk.subarray(size.length, size.length + line.length), chunk };
}

export type WireEventType = 'ADDED' | 'MODIFIED' | 'DELETED';

/** Maps a storage event through the selectors to what this watcher should see, if anything. */
export function filterEvent(
  event: Pick<StoreEvent, 'type' | 'value' | 'prevValue'>,
  selects: (obj: KubeObject) => boolean,
): { type: WireEventType; object: KubeObject } | undefined {
  const now = selects(event.value as KubeObject);
  if (event.type === 'DELETED')
    return now ? { type: 'DELETED', object: event.value as KubeObject } : undefined;
  const before = event.prevValue !== undefined && selects(event.prevValue as KubeObject);
  if (event.type === 'ADDED') return now ? { type: 'ADDED', object: event.value as KubeObject } : undefined;
  if (now)
    return {
      type: before || event.prevValue === undefined ? 'MODIFIED' : 'ADDED',
      object: event.value as KubeObject,
    };
  return before ? { type: 'DELETED', object: event.value as KubeObject } : undefined;
}

export function parseResourceVersion(rv: string | undefined): number | undefined {
  if (rv === undefined || rv === '' || rv === '0') return undefined;
  if (!/^\d+$/.test(rv)) {
    throw new ApiError(400, 'BadRequest', `invalid resource version "${rv}": must be an unsigned integer`);
  }
  return Number(rv);
}

/**
 * Waits until the cache has caught up with a resourceVersion a client got from a write, as
 * kube-apiserver does, answering 504 after 3 s like it.
 */
export async function awaitRevision(cache: WatchCache, resourceVersion: string | undefined): Promise<void> {
  const from = parseResourceVersion(resourceVersion) ?? 0;
  if (from === 0) return;
  try {
    await cache.waitForRevision(from);
  } catch (err) {
    throw new ApiError(504, 'Timeout', (err as Error).message, { retryAfterSeconds: 1 });
  }
}

/**
 * Streams a watch. Served from the resource's watch cache; a resourceVersion older than the
 * cache's window (after a restart the window starts at the restart) falls back to a storage
 * watch, which replays history until compaction, so clients resume across restarts.
 */
export function serveWatch(cache: WatchCache, store: Store, res: ServerResponse, w: WatchRequest): void {
  const selects = (obj: KubeObject): boolean =>
    matches(w.labels, metaOf(obj).labels) && matchesFields(w.fields, obj);
  const from = parseResourceVersion(w.resourceVersion) ?? 0;

  res.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'no-cache, private' });
  res.flushHeaders();
  // Events go to a chunked response's socket as ready-made chunks (a shared event's chunk is
  // framed once for every watcher): through res.write, every watcher would frame each event
  // again and cork its socket until the next tick. Nothing else writes the body meanwhile, and
  // res.end() still writes the last chunk. HTTP/1.0 clients get plain writes.
  const socket = (res as ServerResponse & { chunkedEncoding?: boolean }).chunkedEncoding ? res.socket : null;
  let first = true;
  let closed = false;
  let delivered = false;
  let lastRevision = from;
  const timers: NodeJS.Timeout[] = [];

  const finish = (): void => {
    if (closed) return;
    closed = true;
    watcher.close();
    for (const t of timers) clearTimeout(t);
    res.end();
  };
  const write = (event: EncodedEvent): void => {
    if (closed) return;
    const ok = socket ? socket.write(event.chunk) : res.write(event.line);
    if ((socket ?? res).writableLength > w.maxBufferedBytes) finish();
    else if (!ok) watcher.pause?.();
  };
  const send = (type: string, object: unknown): void =>
    write(frame(Buffer.from(JSON.stringify({ type, object }) + '\n')));
  const sendObject = (type: WireEventType, obj: KubeObject): void => {
    if (w.encode) send(type, w.encode(obj, first));
    else write(encodedEvent(type, obj));
    first = false;
  };
  const bookmark = (): void => {
    send('BOOKMARK', {
      kind: w.info.kind,
      apiVersion: apiVersionOf(w.info),
      metadata: { resourceVersion: String(watcher.progressRevision?.() ?? lastRevision) },
    });
  };
  const handlers = (fromCache: boolean): WatchHandlers => ({
    onEvent(event) {
      delivered = true;
      lastRevision = event.modRevision;
      const out = filterEvent(event, selects);
      if (out) sendObject(out.type, out.object);
    },
    onError(error: StoreError) {
      if (closed) return;
      if (fromCache && error.code === 'Expired' && !delivered && from > 0) {
        // Probe with a historical list first: an etcd watch at a compacted revision also breaks
        // the client's other watches (etcd3's shared stream), a Range does not.
        store.list(w.prefix, { revision: from, limit: 1 }).then(
          () => {
            if (!closed) watcher = store.watch(w.prefix, from, handlers(false));
          },
          (err: unknown) => handlers(false).onError(err instanceof StoreError ? err : error),
        );
        return;
      }
      // A watcher cut off for being slow just ends, as kube-apiserver closes it; the client resumes.
      if (error.code === 'Expired') send('ERROR', expired(error.message).toStatus());
      else if (error.code !== 'Unavailable') {
        send('ERROR', new ApiError(500, 'InternalError', `watch failed: ${error.message}`).toStatus());
      }
      finish();
    },
  });

  res.on('close', finish);
  (socket ?? res).on('drain', () => watcher.resume?.());
  let watcher: Watcher & Partial<Pick<CacheWatcher, 'pause' | 'resume' | 'progressRevision'>> = cache.watch(
    w.prefix,
    from,
    handlers(true),
  );
  if (w.allowBookmarks) {
    const tick = (): void => {
      bookmark();
      timers.push(setTimeout(tick, w.bookmarkIntervalMs).unref());
    };
    timers.push(setTimeout(tick, w.bookmarkIntervalMs).unref());
  }
  timers.push(
    setTimeout(() => {
      if (w.allowBookmarks) bookmark();
      finish();
    }, w.timeoutMs).unref(),
  );
}
