import Database from 'better-sqlite3';
import { open, type FileHandle } from 'node:fs/promises';
import { checkKey, checkLimit, checkPrefix, checkRevision, prefixEnd, withResourceVersion } from './keys.js';
import { QueuedWatcher } from './watch-queue.js';
import { StoreError } from './types.js';
import type {
  JsonObject,
  ListOptions,
  ListResult,
  Store,
  StoreEvent,
  StoredValue,
  WatchEventType,
  WatchHandlers,
  Watcher,
} from './types.js';

/*
 * Two tables, written together in one IMMEDIATE transaction per change:
 * - `current` holds the live state, so lists and gets are primary-key range scans;
 * - `events` is the change log (one row per revision) that watches replay and historical lists
 *   rewind through; compaction is one DELETE of its oldest rows.
 * `meta` holds the compacted revision. The current revision is the newest event's (compaction
 * keeps the event at the compacted revision), so a write touches no extra row for it, and the
 * log has no secondary index: replays and rewinds scan it by revision, which compaction bounds.
 * Fewer pages per commit keep commits, their WAL syncs and checkpoints short.
 */
const SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS current (
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL,
  create_rev INTEGER NOT NULL,
  mod_rev INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS events (
  rev INTEGER PRIMARY KEY,
  key TEXT NOT NULL,
  type TEXT NOT NULL,
  value TEXT NOT NULL,
  prev TEXT,
  prev_rev INTEGER
);
INSERT OR IGNORE INTO meta (name, value) VALUES ('compacted', 0);
`;

interface CurrentRow {
  key: string;
  value: string;
  mod_rev: number;
}

interface EventRow {
  rev: number;
  key: string;
  type: WatchEventType;
  value: string;
  prev: string | null;
}

interface Change {
  stored: StoredValue;
  event: EventRow;
}

interface PendingWrite {
  change: () => Change;
  resolve: (stored: StoredValue) => void;
  reject: (error: unknown) => void;
}

export interface SqliteStoreOptions {
  /**
   * Rows fetched per watch replay query (default 1,000). A long backlog is read page by page so
   * no single query result holds it all; the events themselves are queued for the watcher,
   * which compaction bounds.
   */
  readonly replayBatch?: number;
  /**
   * How often, at most, the WAL is checkpointed into the database file while writes come in
   * (default 1,000 ms); see `checkpointDue`.
   */
  readonly checkpointIntervalMs?: number;
}

/**
 * Whether to checkpoint the WAL now. A checkpoint holds commits until the database file is
 * synced, and waits for the WAL sync of every commit before it: so it runs at the first idle
 * moment (every commit synced, none waiting) once `intervalMs` have passed since the last one,
 * and only under a load that leaves no such moment for 4 × `intervalMs` does it run anyway.
 * Spacing them too far makes each one copy (on the event loop) and sync more pages.
 */
export function checkpointDue(
  commitsSince: number,
  msSinceLast: number,
  intervalMs: number,
  idle: boolean,
): boolean {
  return commitsSince > 0 && msSinceLast >= (idle ? intervalMs : 4 * intervalMs);
}

/**
 * The embedded store: better-sqlite3 in WAL mode; a write is acknowledged (and its watchers
 * notified) only once the WAL holding it is on disk, so a write that returned survives a crash
 * of the process or the machine. The file is locked exclusively: watches are notified in
 * process, so a second process writing the same file would go unseen.
 *
 * No fsync blocks the event loop: SQLite runs with `synchronous=OFF` and no automatic
 * checkpoints, and the store does both syncs itself on libuv's thread pool. It fdatasyncs the
 * WAL before it acknowledges a commit; until then the change is visible to reads in this process
 * only (the next writer's conflict check needs it), never to watchers or to the writer. It
 * checkpoints (`checkpointDue`) once every commit so far is synced, then fdatasyncs the database
 * file before the next commit may start: that commit may restart the WAL from its beginning,
 * overwriting frames whose pages must be on disk by then (what SQLite's own checkpoint syncs
 * for, inside a commit, on the event loop).
 */
export class SqliteStore implements Store {
  private readonly db: Database.Database;
  private readonly watchers = new Set<QueuedWatcher>();
  private readonly replayBatch: number;
  private closed = false;
  private revision: number;
  private readonly transaction: Database.Transaction<(body: () => undefined) => undefined>;
  private readonly savepoint: Database.Transaction<(change: () => Change) => Change>;
  private pending: PendingWrite[] = [];
  private compacted: number;
  private wal: Promise<FileHandle> | undefined;
  private dbFile: Promise<FileHandle> | undefined;
  private readonly checkpointIntervalMs: number;
  private commitsSinceCheckpoint = 0;
  /** Commits whose WAL sync has not completed. */
  private unsynced = 0;
  private lastCheckpointAt = performance.now();
  /** Set while a checkpoint runs: no commit starts until it settles. */
  private checkpointing: Promise<void> | undefined;
  /** Settles once every commit so far is durable and acknowledged, in commit order. */
  private acknowledged: Promise<void> = Promise.resolve();
  private failure: StoreError | undefined;

  private readonly stmt: {
    getCurrent: Database.Statement<[string], CurrentRow>;
    insertCurrent: Database.Statement<[string, string, number, number]>;
    updateCurrent: Database.Statement<[string, number, string]>;
    deleteCurrent: Database.Statement<[string]>;
    insertEvent: Database.Statement<[number, string, WatchEventType, string, string | null, number | null]>;
    setMeta: Database.Statement<[number, string]>;
    listCurrent: Database.Statement<[string, string, string, number], CurrentRow>;
    listAtRevision: Database.Statement<
      { lo: string; hi: string; after: string; rev: number; limit: number },
      CurrentRow
    >;
    count: Database.Statement<[string, string], { n: number }>;
    replay: Database.Statement<[number, string, string, number], EventRow>;
    compact: Database.Statement<[number]>;
  };

  constructor(
    readonly path: string,
    options: SqliteStoreOptions = {},
  ) {
    this.replayBatch = options.replayBatch ?? 1000;
    if (!Number.isSafeInteger(this.replayBatch) || this.replayBatch <= 0) {
      throw new Error(
        `sqlite store: replayBatch must be a positive integer, got ${String(options.replayBatch)}`,
      );
    }
    this.checkpointIntervalMs = options.checkpointIntervalMs ?? 1_000;
    if (!Number.isFinite(this.checkpointIntervalMs) || this.checkpointIntervalMs < 0) {
      throw new Error(
        `sqlite store: checkpointIntervalMs must be a non-negative number, got ${String(options.checkpointIntervalMs)}`,
      );
    }
    try {
      // The lock is exclusive, so waiting for it only delays reporting a second opener.
      this.db = new Database(path, { timeout: 200 });
      this.db.pragma('locking_mode = EXCLUSIVE');
      this.db.pragma('journal_mode = WAL');
      this.db.pragma('synchronous = OFF');
      this.db.pragma('wal_autocheckpoint = 0');
      this.db.exec(SCHEMA);
    } catch (error) {
      throw new StoreError('Unavailable', `sqlite store ${path}: cannot open: ${String(error)}`, {
        cause: error,
      });
    }
    this.transaction = this.db.transaction((body) => body());
    // Called inside `transaction`, better-sqlite3 runs this one as a SAVEPOINT.
    this.savepoint = this.db.transaction((change) => change());
    const meta = this.db.prepare<[string], { value: number }>('SELECT value FROM meta WHERE name = ?');
    this.compacted = meta.get('compacted')?.value ?? 0;
    const newest = this.db.prepare<[], { rev: number | null }>('SELECT MAX(rev) AS rev FROM events').get();
    this.revision = Math.max(1, this.compacted, newest?.rev ?? 0);
    this.stmt = {
      getCurrent: this.db.prepare('SELECT key, value, mod_rev FROM current WHERE key = ?'),
      insertCurrent: this.db.prepare(
        'INSERT INTO current (key, value, create_rev, mod_rev) VALUES (?, ?, ?, ?)',
      ),
      updateCurrent: this.db.prepare('UPDATE current SET value = ?, mod_rev = ? WHERE key = ?'),
      deleteCurrent: this.db.prepare('DELETE FROM current WHERE key = ?'),
      insertEvent: this.db.prepare(
        'INSERT INTO events (rev, key, type, value, prev, prev_rev) VALUES (?, ?, ?, ?, ?, ?)',
      ),
      setMeta: this.db.prepare('UPDATE meta SET value = ? WHERE name = ?'),
      listCurrent: this.db.prepare(
        'SELECT key, value, mod_rev FROM current WHERE key >= ? AND key < ? AND key > ? ORDER BY key LIMIT ?',
      ),
      // State at revision `rev`: live rows untouched since `rev`, plus, for keys changed later,
      // the value their first later event replaced (none when that event created the key).
      listAtRevision: this.db.prepare(`
        WITH changed AS (
          SELECT key, MIN(rev) AS first FROM events
          WHERE rev > @rev AND key >= @lo AND key < @hi AND key > @after GROUP BY key
        )
        SELECT key, value, mod_rev FROM current
        WHERE key >= @lo AND key < @hi AND key > @after AND key NOT IN (SELECT key FROM changed)
        UNION ALL
        SELECT e.key AS key, e.prev AS value, e.prev_rev AS mod_rev
        FROM changed c JOIN events e ON e.rev = c.first WHERE e.prev IS NOT NULL
        ORDER BY key LIMIT @limit`),
      count: this.db.prepare('SELECT COUNT(*) AS n FROM current WHERE key >= ? AND key < ?'),
      replay: this.db.prepare(
        'SELECT rev, key, type, value, prev FROM events WHERE rev > ? AND key >= ? AND key < ? ORDER BY rev LIMIT ?',
      ),
      compact: this.db.prepare('DELETE FROM events WHERE rev < ?'),
    };
  }

  async get(key: string): Promise<StoredValue | undefined> {
    this.checkOpen();
    checkKey(key);
    const row = this.stmt.getCurrent.get(key);
    return row && toStored(row);
  }

  async list(prefix: string, options: ListOptions = {}): Promise<ListResult> {
    this.checkOpen();
    checkPrefix(prefix);
    checkLimit(options.limit);
    const revision = options.revision ?? this.revision;
    checkRevision('list revision', revision);
    this.checkReadable(revision);
    const lo = prefix;
    const hi = prefixEnd(prefix);
    const after = options.continueKey ?? '';
    // One row past the limit tells whether another page exists.
    const limit = options.limit === undefined ? -1 : options.limit + 1;
    const rows =
      revision === this.revision
        ? this.stmt.listCurrent.all(lo, hi, after, limit)
        : this.stmt.listAtRevision.all({ lo, hi, after, rev: revision, limit });
    if (options.limit !== undefined && rows.length > options.limit) {
      const page = rows.slice(0, options.limit);
      return { items: page.map(toStored), revision, continueKey: (page[page.length - 1] as CurrentRow).key };
    }
    return { items: rows.map(toStored), revision };
  }

  async count(prefix: string): Promise<number> {
    this.checkOpen();
    checkPrefix(prefix);
    return this.stmt.count.get(prefix, prefixEnd(prefix))?.n ?? 0;
  }

  async create(key: string, value: JsonObject): Promise<StoredValue> {
    this.checkOpen();
    checkKey(key);
    return this.write(() => {
      if (this.stmt.getCurrent.get(key)) throw new StoreError('AlreadyExists', `${key} already exists`);
      const rev = this.revision + 1;
      const stamped = withResourceVersion(key, value, rev);
      const json = JSON.stringify(stamped);
      this.stmt.insertCurrent.run(key, json, rev, rev);
      this.stmt.insertEvent.run(rev, key, 'ADDED', json, null, null);
      return {
        stored: { key, value: stamped, modRevision: rev },
        event: { rev, key, type: 'ADDED', value: json, prev: null },
      };
    });
  }

  async update(key: string, value: JsonObject, expectedRevision?: number): Promise<StoredValue> {
    this.checkOpen();
    checkKey(key);
    if (expectedRevision !== undefined) checkRevision('expected revision', expectedRevision);
    return this.write(() => {
      const row = this.currentFor(key, expectedRevision);
      const rev = this.revision + 1;
      const stamped = withResourceVersion(key, value, rev);
      const json = JSON.stringify(stamped);
      this.stmt.updateCurrent.run(json, rev, key);
      this.stmt.insertEvent.run(rev, key, 'MODIFIED', json, row.value, row.mod_rev);
      return {
        stored: { key, value: stamped, modRevision: rev },
        event: { rev, key, type: 'MODIFIED', value: json, prev: row.value },
      };
    });
  }

  async delete(key: string, expectedRevision?: number): Promise<StoredValue> {
    this.checkOpen();
    checkKey(key);
    if (expectedRevision !== undefined) checkRevision('expected revision', expectedRevision);
    return this.write(() => {
      const row = this.currentFor(key, expectedRevision);
      const rev = this.revision + 1;
      const last = withResourceVersion(key, JSON.parse(row.value) as JsonObject, rev);
      const json = JSON.stringify(last);
      this.stmt.deleteCurrent.run(key);
      this.stmt.insertEvent.run(rev, key, 'DELETED', json, row.value, row.mod_rev);
      return {
        stored: { key, value: last, modRevision: rev },
        event: { rev, key, type: 'DELETED', value: json, prev: row.value },
      };
    });
  }

  watch(prefix: string, fromRevision: number, handlers: WatchHandlers): Watcher {
    checkPrefix(prefix);
    checkRevision('watch revision', fromRevision);
    const watcher = new QueuedWatcher(prefix, fromRevision, handlers, (w) => this.watchers.delete(w));
    if (this.closed) {
      watcher.fail(new StoreError('Unavailable', `sqlite store ${this.path} is closed`));
      return watcher;
    }
    if (fromRevision + 1 < this.compacted) {
      watcher.fail(expired(fromRevision, this.compacted));
      return watcher;
    }
    // Replay and registration happen in the same synchronous turn, so no write can slip
    // between the last replayed event and the first live one.
    const hi = prefixEnd(prefix);
    let after = fromRevision;
    for (;;) {
      const rows = this.stmt.replay.all(after, prefix, hi, this.replayBatch);
      for (const row of rows) watcher.push(toEvent(row));
      const last = rows[rows.length - 1];
      if (rows.length < this.replayBatch || !last) break;
      after = last.rev;
    }
    this.watchers.add(watcher);
    return watcher;
  }

  async currentRevision(): Promise<number> {
    this.checkOpen();
    return this.revision;
  }

  async compact(revision: number): Promise<void> {
    this.checkOpen();
    checkRevision('compact revision', revision);
    if (revision > this.revision) {
      throw new Error(
        `store: cannot compact to revision ${revision}, newer than current revision ${this.revision}`,
      );
    }
    if (revision <= this.compacted) return;
    // A commit must not restart the WAL while a checkpoint's database sync is pending.
    while (this.checkpointing) await this.checkpointing;
    // A failed checkpoint may have left acknowledged pages only in an unsynced database file, and
    // the store may have closed meanwhile.
    if (this.failure) throw this.failure;
    this.checkOpen();
    this.db
      .transaction(() => {
        this.stmt.compact.run(revision);
        this.stmt.setMeta.run(revision, 'compacted');
      })
      .immediate();
    this.compacted = revision;
    // Keeps the WAL file from growing without bound after large deletions.
    await this.checkpoint(true);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    // Writes already accepted are committed (and acknowledged) before the file closes.
    while (this.checkpointing) await this.checkpointing;
    this.flush();
    await this.acknowledged;
    const error = new StoreError('Unavailable', `sqlite store ${this.path} is closed`);
    for (const watcher of [...this.watchers]) watcher.fail(error);
    await (await this.wal?.catch(() => undefined))?.close();
    await (await this.dbFile?.catch(() => undefined))?.close();
    // Closing checkpoints and deletes the WAL: SQLite must sync the database file first.
    this.db.pragma('synchronous = NORMAL');
    this.db.close();
  }

  /**
   * Group commit: changes requested in the same event-loop turn share one transaction, so one
   * fsync acknowledges them all (a synchronous fsync blocks the whole process). Each change runs
   * in its own savepoint, so a refused one (Conflict, NotFound, …) leaves the others intact.
   */
  private write(change: () => Change): Promise<StoredValue> {
    return new Promise((resolve, reject) => {
      this.pending.push({ change, resolve, reject });
      if (this.pending.length === 1 && !this.checkpointing) setImmediate(() => this.flush());
    });
  }

  private flush(): void {
    // The checkpoint flushes what queued meanwhile once it is done.
    if (this.checkpointing) return;
    const batch = this.pending;
    this.pending = [];
    if (batch.length === 0) return;
    if (this.failure) {
      for (const op of batch) op.reject(this.failure);
      return;
    }
    const outcomes: (Change | { error: unknown })[] = [];
    const before = this.revision;
    try {
      this.transaction.immediate(() => {
        for (const op of batch) {
          try {
            const done = this.savepoint(op.change);
            this.revision = done.event.rev;
            outcomes.push(done);
          } catch (error) {
            outcomes.push({ error });
          }
        }
        return undefined;
      });
    } catch (error) {
      this.revision = before;
      const failure = new StoreError(
        'Unavailable',
        `sqlite store ${this.path}: commit failed: ${String(error)}`,
        {
          cause: error,
        },
      );
      for (const op of batch) op.reject(failure);
      return;
    }
    const synced = this.syncWal();
    this.commitsSinceCheckpoint += 1;
    this.unsynced += 1;
    this.acknowledged = Promise.all([this.acknowledged, synced]).then(
      () => {
        this.unsynced -= 1;
        this.maybeCheckpoint();
        // An earlier commit's fsync failed: this one may sit on top of lost pages.
        if (this.failure) {
          for (const op of batch) op.reject(this.failure);
          return;
        }
        for (const [i, op] of batch.entries()) {
          const outcome = outcomes[i] as Change | { error: unknown };
          if ('error' in outcome) {
            op.reject(outcome.error);
          } else {
            this.notify(outcome.event);
            op.resolve(outcome.stored);
          }
        }
      },
      (error: unknown) => {
        this.unsynced -= 1;
        // The commit may or may not be on disk: nothing after it can be acknowledged either.
        this.failure ??= new StoreError(
          'Unavailable',
          `sqlite store ${this.path}: fsync failed, the store refuses writes: ${String(error)}`,
          { cause: error },
        );
        for (const op of batch) op.reject(this.failure);
      },
    );
    this.maybeCheckpoint();
  }

  private maybeCheckpoint(): void {
    if (this.closed || this.checkpointing) return;
    const idle = this.unsynced === 0 && this.pending.length === 0;
    const sinceLast = performance.now() - this.lastCheckpointAt;
    if (checkpointDue(this.commitsSinceCheckpoint, sinceLast, this.checkpointIntervalMs, idle)) {
      // A failure is kept in `this.failure`, which refuses every later write.
      this.checkpoint(false).catch(() => undefined);
    }
  }

  /** fdatasync of the WAL file on the thread pool; WAL mode keeps the file while the store is open. */
  private async syncWal(): Promise<void> {
    this.wal ??= open(`${this.path}-wal`, 'r');
    await (await this.wal).datasync();
  }

  /**
   * Copies the WAL into the database file and syncs that on the thread pool, holding commits
   * meanwhile (see the class comment); `truncate` then empties the WAL file too.
   */
  private checkpoint(truncate: boolean): Promise<void> {
    const run = (this.checkpointing ?? Promise.resolve()).then(() => this.runCheckpoint(truncate));
    const settled = run.then(
      () => undefined,
      () => undefined,
    );
    this.checkpointing = settled;
    void settled.then(() => {
      if (this.checkpointing !== settled) return;
      this.checkpointing = undefined;
      if (this.pending.length > 0) this.flush();
    });
    return run;
  }

  private async runCheckpoint(truncate: boolean): Promise<void> {
    // Copying frames not yet synced could leave a torn transaction in the database file.
    await this.acknowledged;
    if (this.failure) throw this.failure;
    this.commitsSinceCheckpoint = 0;
    this.lastCheckpointAt = performance.now();
    try {
      // Commits outside the write path (compaction) are synced here; a clean file syncs fast.
      await this.syncWal();
      this.db.pragma('wal_checkpoint(PASSIVE)');
      this.dbFile ??= open(this.path, 'r');
      await (await this.dbFile).datasync();
      if (truncate) this.db.pragma('wal_checkpoint(TRUNCATE)');
    } catch (error) {
      // Pages of acknowledged writes may now live only in an unsynced database file.
      this.failure ??= new StoreError(
        'Unavailable',
        `sqlite store ${this.path}: checkpoint failed, the store refuses writes: ${String(error)}`,
        { cause: error },
      );
      throw this.failure;
    }
  }

  private notify(row: EventRow): void {
    let event: StoreEvent | undefined;
    for (const watcher of this.watchers) {
      if (!row.key.startsWith(watcher.prefix)) {
        watcher.progress(row.rev);
        continue;
      }
      event ??= toEvent(row);
      watcher.push(event);
    }
  }

  private currentFor(key: string, expectedRevision: number | undefined): CurrentRow {
    const row = this.stmt.getCurrent.get(key);
    if (!row) throw new StoreError('NotFound', `${key} not found`);
    if (expectedRevision !== undefined && row.mod_rev !== expectedRevision) {
      throw new StoreError(
        'Conflict',
        `${key} has revision ${row.mod_rev}, not the expected ${expectedRevision}: the object has been modified`,
      );
    }
    return row;
  }

  private checkReadable(revision: number): void {
    if (revision < this.compacted) throw expired(revision, this.compacted);
    if (revision > this.revision) {
      throw new StoreError(
        'Unavailable',
        `revision ${revision} is newer than the store's current revision ${this.revision}`,
      );
    }
  }

  private checkOpen(): void {
    if (this.closed) throw new StoreError('Unavailable', `sqlite store ${this.path} is closed`);
  }
}

export function openSqliteStore(path: string, options?: SqliteStoreOptions): SqliteStore {
  return new SqliteStore(path, options);
}

function expired(revision: number, compacted: number): StoreError {
  return new StoreError('Expired', `too old resource version: ${revision} (${compacted})`);
}

function toStored(row: CurrentRow): StoredValue {
  return { key: row.key, value: JSON.parse(row.value) as JsonObject, modRevision: row.mod_rev };
}

function toEvent(row: EventRow): StoreEvent {
  const event: StoreEvent = {
    type: row.type,
    key: row.key,
    value: JSON.parse(row.value) as JsonObject,
    modRevision: row.rev,
  };
  return row.prev === null ? event : { ...event, prevValue: JSON.parse(row.prev) as JsonObject };
}
