// Embedded store backend on SQLite (better-sqlite3), in the spirit of kine:
//   - `log` is the append-only change log. Its INTEGER PRIMARY KEY AUTOINCREMENT is the revision,
//     so revisions are assigned by SQLite inside the writing transaction and are never reused
//     (AUTOINCREMENT keeps the high-water mark in sqlite_sequence even when compaction deletes rows).
//   - `kv` is the current state (key → rev, create_rev), updated in the same transaction. It points
//     at the log row holding the value instead of copying it: every write then stores its value
//     once (half the WAL volume per write), and small WITHOUT ROWID rows make the prefix scan of a
//     latest list cheaper than scanning inline 1.5 KB values (measured: ~5 ms vs ~10 ms for 2,330).
//   - one poll loop per store (watch-hub.ts) reads new log rows and fans them out to every watcher.
//
// Why no kine-style filler rows: kine on a client/server database must cope with a writer that
// reserved id r committing after r+1 is already visible. Here that cannot happen. SQLite admits one
// writer at a time (the database write lock, shared across processes, taken by BEGIN IMMEDIATE), and
// AUTOINCREMENT picks the id inside that locked transaction. The transaction that got r therefore
// commits (or rolls back, releasing r for the next writer) before any transaction can pick r+1, and a
// WAL reader's snapshot contains a prefix of the commit order. A reader that sees r+1 has seen r.
// test/store/sqlite.test.ts checks this with several processes writing one file.

import Database from 'better-sqlite3';
import type { Database as Db, Statement, Transaction } from 'better-sqlite3';
import {
  StoreError,
  type KeyValue,
  type ListOptions,
  type ListResult,
  type Store,
  type Watch,
  type WatchOptions,
} from './contract.js';
import { prefixEnd } from './keys.js';
import { WatchHub, type LogBatch, type ReplayPage } from './watch-hub.js';
import { prepareStatements, SCHEMA, SCHEMA_VERSION, toEvent, toKeyValue, type KvRow, type LogRow } from './sqlite-schema.js';

export interface HistoryRetention {
  /** Always keep at least this many most recent revisions (kine's default is 1000). */
  minRevisions?: number;
  /** Always keep at least this much time of history (kine compacts every 5 minutes). */
  minAgeMs?: number;
  /** How often the policy is evaluated. */
  checkIntervalMs?: number;
}

export interface SqliteStoreOptions {
  /** Database file; several processes may open the same file. */
  path: string;
  /** How often the poll loop looks for writes made by other processes (ms). */
  pollIntervalMs?: number;
  /** How often live watchers get a progress notification (ms). */
  progressIntervalMs?: number;
  /** How long a writer waits for another process's write lock before failing with Unavailable. */
  busyTimeoutMs?: number;
  /**
   * NORMAL (default) survives a kill -9 of the process without losing an acknowledged write;
   * FULL also survives power loss / kernel crash, at the price of an fsync per commit.
   */
  synchronous?: 'NORMAL' | 'FULL';
  /** Automatic compaction policy; false disables it. */
  historyRetention?: HistoryRetention | false;
}

export interface SqliteStore extends Store {
  readonly backend: 'sqlite';
  readonly path: string;
}

const DEFAULT_RETENTION: Required<HistoryRetention> = {
  minRevisions: 1000,
  minAgeMs: 5 * 60_000,
  checkIntervalMs: 60_000,
};

/** Rows read per poll / catch-up step and per compaction transaction. */
const BATCH = 1000;
const COMPACT_BATCH = 500;

export function openSqliteStore(opts: SqliteStoreOptions): SqliteStore {
  return new SqliteStoreImpl(opts);
}

class SqliteStoreImpl implements SqliteStore {
  readonly backend = 'sqlite' as const;
  readonly path: string;

  private readonly db: Db;
  private closed = false;

  private readonly stmt: ReturnType<typeof prepareStatements>;
  private readonly listStatements = new Map<string, Statement>();

  private readonly hub: WatchHub;

  private retentionTimer: NodeJS.Timeout | undefined;
  private readonly revSamples: { at: number; rev: number }[] = [];
  private compacting: Promise<void> = Promise.resolve();

  private readonly snapshotTx: Transaction<(fn: () => unknown) => unknown>;
  private readonly createTx: Transaction<(key: string, value: string) => KeyValue>;
  private readonly updateTx: Transaction<(key: string, value: string, expectedRev: number) => KeyValue>;
  private readonly deleteTx: Transaction<(key: string, expectedRev?: number) => { deleted: KeyValue; rev: number }>;

  constructor(opts: SqliteStoreOptions) {
    this.path = opts.path;

    this.db = new Database(opts.path);
    // The busy timeout must be set before anything else can meet another process's lock.
    this.db.pragma(`busy_timeout = ${opts.busyTimeoutMs ?? 5000}`);
    this.db.pragma('journal_mode = WAL');
    // With WAL, NORMAL means a commit appends its frames to the -wal file with write(2) before
    // returning, and fsync happens only at checkpoints. Once write(2) returned the data is in the
    // kernel's page cache, which outlives a killed process: the next opener replays the WAL and
    // finds every acknowledged commit. Only an OS crash or power loss can drop the newest commits
    // (the database stays consistent); FULL closes that gap with an fsync per commit.
    this.db.pragma(`synchronous = ${opts.synchronous ?? 'NORMAL'}`);
    this.db.pragma('cache_size = -32768');
    this.db.pragma('mmap_size = 268435456');
    this.db.transaction(() => this.db.exec(SCHEMA)).immediate();
    const schema = this.db.prepare("SELECT value FROM meta WHERE name = 'schema'").pluck().get();
    if (schema !== SCHEMA_VERSION) {
      this.db.close();
      throw new Error(`${opts.path}: store schema version ${String(schema)}, this build reads ${SCHEMA_VERSION}`);
    }

    this.stmt = prepareStatements(this.db);
    this.snapshotTx = this.db.transaction((fn: () => unknown) => fn());
    this.createTx = this.db.transaction((key: string, value: string) => this.createInTx(key, value));
    this.updateTx = this.db.transaction((key: string, value: string, expectedRev: number) =>
      this.updateInTx(key, value, expectedRev),
    );
    this.deleteTx = this.db.transaction((key: string, expectedRev?: number) => this.deleteInTx(key, expectedRev));

    this.hub = new WatchHub(
      {
        headRev: () => this.readCurrentRev(),
        resume: () => this.readCurrentRev(),
        compactedRev: () => this.readCompactedRev(),
        readNew: (after) => this.readNewRows(after),
        readRange: (prefix, after, until) => this.replay(prefix, after, until),
      },
      { pollIntervalMs: opts.pollIntervalMs ?? 50, progressIntervalMs: opts.progressIntervalMs ?? 1000, label: 'store' },
    );

    if (opts.historyRetention !== false) this.startRetention({ ...DEFAULT_RETENTION, ...opts.historyRetention });
  }

  // ---- reads ---------------------------------------------------------------------------------

  async get(key: string): Promise<KeyValue | undefined> {
    this.assertOpen();
    const row = this.stmt.get.get(key) as KvRow | undefined;
    return row && toKeyValue(row);
  }

  async list(opts: ListOptions): Promise<ListResult> {
    this.assertOpen();
    const readAt = opts.rev ?? 0;
    return this.readTx(() => {
      const current = this.readCurrentRev();
      if (readAt > current) {
        throw new StoreError('TooLarge', `revision ${readAt} is newer than the current revision ${current}`);
      }
      const snapshot = readAt > 0 && readAt < current;
      if (snapshot) {
        const compacted = this.readCompactedRev();
        if (readAt < compacted) {
          throw new StoreError('Expired', `revision ${readAt} has been compacted (oldest is ${compacted})`);
        }
      }
      const rev = readAt > 0 ? readAt : current;
      const { statement, params } = this.listQuery(opts, snapshot ? rev : 0);
      const limit = opts.limit && opts.limit > 0 ? opts.limit : Infinity;
      const items: KeyValue[] = [];
      let more = false;
      // A full read fetches all rows in one call; a paged or filtered one stops early.
      const rows = (limit === Infinity && !opts.filter ? statement.all(...params) : statement.iterate(...params)) as Iterable<
        KvRow & { deleted?: number }
      >;
      for (const row of rows) {
        if (row.deleted) continue;
        const kv = toKeyValue(row);
        if (opts.filter && !opts.filter(kv)) continue;
        if (items.length >= limit) {
          more = true;
          break;
        }
        items.push(kv);
      }
      return { items, rev, more };
    });
  }

  async currentRev(): Promise<number> {
    this.assertOpen();
    return this.readCurrentRev();
  }

  async compactedRev(): Promise<number> {
    this.assertOpen();
    return this.readCompactedRev();
  }

  // ---- writes --------------------------------------------------------------------------------

  async create(key: string, value: string): Promise<KeyValue> {
    this.assertOpen();
    const kv = this.write(() => this.createTx.immediate(key, value));
    this.hub.kick();
    return kv;
  }

  async update(key: string, value: string, expectedRev: number): Promise<KeyValue> {
    this.assertOpen();
    const kv = this.write(() => this.updateTx.immediate(key, value, expectedRev));
    this.hub.kick();
    return kv;
  }

  async delete(key: string, expectedRev?: number): Promise<{ deleted: KeyValue; rev: number }> {
    this.assertOpen();
    const result = this.write(() => this.deleteTx.immediate(key, expectedRev));
    this.hub.kick();
    return result;
  }

  private createInTx(key: string, value: string): KeyValue {
    if (this.stmt.head.get(key)) throw new StoreError('AlreadyExists', `key ${key} already exists`);
    const rev = Number(this.stmt.appendLog.run(key, 0, 0, 0, value).lastInsertRowid);
    this.stmt.insertKv.run(key, rev, rev);
    return { key, value, rev, createRev: rev };
  }

  private updateInTx(key: string, value: string, expectedRev: number): KeyValue {
    const current = this.stmt.head.get(key) as Omit<KvRow, 'value'> | undefined;
    if (!current) throw new StoreError('NotFound', `key ${key} not found`);
    if (current.rev !== expectedRev) throw this.conflict(key, expectedRev);
    const rev = Number(this.stmt.appendLog.run(key, 0, current.create_rev, current.rev, value).lastInsertRowid);
    this.stmt.updateKv.run(rev, key);
    return { key, value, rev, createRev: current.create_rev };
  }

  private deleteInTx(key: string, expectedRev?: number): { deleted: KeyValue; rev: number } {
    const current = this.stmt.get.get(key) as KvRow | undefined;
    if (!current) throw new StoreError('NotFound', `key ${key} not found`);
    if (expectedRev !== undefined && current.rev !== expectedRev) throw this.conflict(key, expectedRev);
    const rev = Number(this.stmt.appendLog.run(key, 1, current.create_rev, current.rev, null).lastInsertRowid);
    this.stmt.deleteKv.run(key);
    return { deleted: toKeyValue(current), rev };
  }

  private conflict(key: string, expectedRev: number): StoreError {
    const current = toKeyValue(this.stmt.get.get(key) as KvRow);
    return new StoreError('Conflict', `key ${key} is at revision ${current.rev}, not ${expectedRev}`, current);
  }

  /** Runs a write transaction, turning a lock timeout into Unavailable. */
  private write<T>(fn: () => T): T {
    try {
      return fn();
    } catch (err) {
      throw asStoreError(err);
    }
  }

  /** Runs reads in one transaction, so they all see the same committed snapshot. */
  private readTx<T>(fn: () => T): T {
    try {
      return this.snapshotTx.deferred(fn) as T;
    } catch (err) {
      throw asStoreError(err);
    }
  }

  // ---- compaction ----------------------------------------------------------------------------

  async compact(rev: number): Promise<void> {
    this.assertOpen();
    const run = this.compacting.then(() => this.compactNow(rev));
    this.compacting = run.catch(() => undefined);
    return run;
  }

  private async compactNow(target: number): Promise<void> {
    if (this.closed) return;
    const current = this.readCurrentRev();
    if (target > current) {
      throw new StoreError('TooLarge', `cannot compact to ${target}: current revision is ${current}`);
    }
    // Local watchers read everything up to `target` first, so compaction never expires them.
    await this.hub.flush();
    // Announce first: from here on, reads below `target` fail with Expired instead of seeing a
    // half-compacted history.
    this.write(() => this.stmt.raiseCompacted.run(target));
    const compacted = this.readCompactedRev();
    // Then delete in small transactions, so writers (also in other processes) are not held up.
    for (;;) {
      if (this.closed) return;
      const finished = this.write(() => this.db.transaction(() => this.compactStep(compacted)).immediate());
      if (finished) return;
      await new Promise((resolve) => setImmediate(resolve));
    }
  }

  /**
   * Processes the next COMPACT_BATCH log rows after `compact_done` (and at or below `compacted`):
   * every older row of the same key is superseded and goes, and so do tombstones with nothing
   * older left. A snapshot at any revision >= compacted still finds each key's latest row, and the
   * `prev` of every event after `compacted` is that latest row, so it is never deleted.
   */
  private compactStep(compacted: number): boolean {
    const done = this.stmt.getMeta.get('compact_done') as number;
    if (done >= compacted) return true;
    const nth = this.stmt.nthLogRevAfter.get(done, COMPACT_BATCH - 1) as number | undefined;
    const hi = nth === undefined || nth > compacted ? compacted : nth;
    this.stmt.deleteSuperseded.run(done, hi);
    this.stmt.deleteBareTombstones.run(done, hi);
    this.stmt.setMeta.run(hi, 'compact_done');
    return hi >= compacted;
  }

  private startRetention(policy: Required<HistoryRetention>): void {
    const tick = () => {
      if (this.closed) return;
      const now = Date.now();
      const current = this.readCurrentRev();
      this.revSamples.push({ at: now, rev: current });
      // The newest sample at least minAgeMs old bounds how far time-based retention lets us go.
      let aged = 0;
      while (this.revSamples.length > 0 && this.revSamples[0].at <= now - policy.minAgeMs) {
        aged = this.revSamples.shift()!.rev;
      }
      const target = Math.min(aged, current - policy.minRevisions);
      if (target > this.readCompactedRev()) {
        this.compact(target).catch((err) => process.emitWarning(`store compaction failed: ${String(err)}`));
      }
    };
    tick();
    this.retentionTimer = setInterval(tick, policy.checkIntervalMs);
    this.retentionTimer.unref();
  }

  // ---- watch ---------------------------------------------------------------------------------

  watch(opts: WatchOptions): Watch {
    this.assertOpen();
    return this.hub.watch(opts);
  }

  /** Reads log rows after `after` in one snapshot, with what the poll loop needs around them. */
  private readNewRows(after: number): LogBatch {
    const { rows, current, compacted } = this.readTx(() => ({
      rows: this.stmt.newRows.all(after, BATCH) as LogRow[],
      current: this.readCurrentRev(),
      compacted: this.readCompactedRev(),
    }));
    const full = rows.length === BATCH;
    return {
      events: rows.map(toEvent),
      through: full ? rows[rows.length - 1].rev : Math.max(current, after),
      // Another process compacted past rows this poller has not read yet: they may be gone.
      compacted: compacted > after ? compacted : undefined,
      more: full,
    };
  }

  /** One page of history (after, until] under a prefix, for a watcher catching up. */
  private replay(prefix: string, after: number, until: number): ReplayPage {
    const { compacted, rows } = this.readTx(() => ({
      compacted: this.readCompactedRev(),
      rows: this.stmt.catchUp.all({ after, until, lo: prefix, hi: prefixEnd(prefix) ?? null, limit: BATCH }) as LogRow[],
    }));
    if (after < compacted) return { expiredAt: compacted };
    return { events: rows.map(toEvent), through: rows.length < BATCH ? until : rows[rows.length - 1].rev };
  }

  // ---- lifecycle -----------------------------------------------------------------------------

  async close(): Promise<void> {
    if (this.closed) return;
    // Let an in-flight compaction step finish before the connection goes away.
    const compacting = this.compacting;
    this.closed = true;
    clearInterval(this.retentionTimer);
    await this.hub.close();
    await compacting;
    this.db.close();
  }

  private assertOpen(): void {
    if (this.closed) throw new StoreError('Unavailable', 'store is closed');
  }

  private readCurrentRev(): number {
    return (this.stmt.currentRev.get() as number | undefined) ?? 0;
  }

  private readCompactedRev(): number {
    return this.stmt.getMeta.get('compacted') as number;
  }

  /** Range scans on the primary key (never LIKE); statements are prepared once per shape. */
  private listQuery(opts: ListOptions, snapshotRev: number): { statement: Statement; params: unknown[] } {
    const upper = prefixEnd(opts.prefix);
    const afterCursor = opts.startAfter !== undefined && opts.startAfter >= opts.prefix;
    const lower = afterCursor ? opts.startAfter! : opts.prefix;
    const shape = `${snapshotRev > 0 ? 'snap' : 'latest'}|${afterCursor ? '>' : '>='}|${upper === undefined ? '' : '<'}`;
    let statement = this.listStatements.get(shape);
    if (!statement) {
      const where = [`key ${afterCursor ? '>' : '>='} ?`];
      if (upper !== undefined) where.push('key < ?');
      const sql =
        snapshotRev > 0
          ? // Bare columns next to max() come from the row holding the maximum (SQLite guarantees this).
            `SELECT key, max(rev) AS rev, deleted, create_rev, value FROM log
             WHERE ${where.join(' AND ')} AND rev <= ? GROUP BY key ORDER BY key`
          : `SELECT k.key, l.value, k.rev, k.create_rev FROM kv k JOIN log l ON l.rev = k.rev
             WHERE ${where.map((w) => `k.${w}`).join(' AND ')} ORDER BY k.key`;
      statement = this.db.prepare(sql);
      this.listStatements.set(shape, statement);
    }
    const params: unknown[] = [lower];
    if (upper !== undefined) params.push(upper);
    if (snapshotRev > 0) params.push(snapshotRev);
    return { statement, params };
  }
}

function asStoreError(err: unknown): unknown {
  if (err instanceof StoreError) return err;
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && code.startsWith('SQLITE_BUSY')) {
    return new StoreError('Unavailable', `database is busy: ${(err as Error).message}`);
  }
  return err;
}
