// Tables, prepared statements and row mapping of the SQLite store (see sqlite.ts for the design).
import type { Database as Db } from 'better-sqlite3';
import type { KeyValue, WatchEvent } from './contract.js';

export interface KvRow {
  key: string;
  value: string;
  rev: number;
  create_rev: number;
}

export interface LogRow {
  rev: number;
  key: string;
  deleted: number;
  /** 0 when this row created the key. */
  create_rev: number;
  /** Revision of the value this row replaced or deleted; 0 on create. */
  prev_rev: number;
  /** New value; null for deletions (the deleted value is the prev row's). */
  value: string | null;
  prev_value: string | null;
}

export const SCHEMA_VERSION = 1;

export const SCHEMA = `
CREATE TABLE IF NOT EXISTS log (
  rev INTEGER PRIMARY KEY AUTOINCREMENT,
  key TEXT NOT NULL,
  deleted INTEGER NOT NULL,
  create_rev INTEGER NOT NULL,
  prev_rev INTEGER NOT NULL,
  value TEXT
);
CREATE INDEX IF NOT EXISTS log_key_rev ON log (key, rev);
CREATE TABLE IF NOT EXISTS kv (
  key TEXT PRIMARY KEY,
  rev INTEGER NOT NULL,
  create_rev INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;
INSERT OR IGNORE INTO meta (name, value) VALUES ('schema', ${SCHEMA_VERSION}), ('compacted', 0), ('compact_done', 0);
`;

const LOG_COLUMNS = `l.rev, l.key, l.deleted, l.create_rev, l.prev_rev, l.value, p.value AS prev_value`;

export function prepareStatements(db: Db) {
  return {
    get: db.prepare('SELECT k.key, l.value, k.rev, k.create_rev FROM kv k JOIN log l ON l.rev = k.rev WHERE k.key = ?'),
    head: db.prepare('SELECT rev, create_rev FROM kv WHERE key = ?'),
    appendLog: db.prepare('INSERT INTO log (key, deleted, create_rev, prev_rev, value) VALUES (?, ?, ?, ?, ?)'),
    insertKv: db.prepare('INSERT INTO kv (key, rev, create_rev) VALUES (?, ?, ?)'),
    updateKv: db.prepare('UPDATE kv SET rev = ? WHERE key = ?'),
    deleteKv: db.prepare('DELETE FROM kv WHERE key = ?'),
    currentRev: db.prepare("SELECT seq FROM sqlite_sequence WHERE name = 'log'").pluck(),
    getMeta: db.prepare('SELECT value FROM meta WHERE name = ?').pluck(),
    setMeta: db.prepare('UPDATE meta SET value = max(value, ?) WHERE name = ?'),
    raiseCompacted: db.prepare("UPDATE meta SET value = max(value, ?) WHERE name = 'compacted'"),
    newRows: db.prepare(
      `SELECT ${LOG_COLUMNS} FROM log l LEFT JOIN log p ON p.rev = l.prev_rev
       WHERE l.rev > ? ORDER BY l.rev LIMIT ?`,
    ),
    // `+l.key` keeps the planner on the rowid (revision) range, which is what a catch-up walks.
    catchUp: db.prepare(
      `SELECT ${LOG_COLUMNS} FROM log l LEFT JOIN log p ON p.rev = l.prev_rev
       WHERE l.rev > $after AND l.rev <= $until AND +l.key >= $lo AND ($hi IS NULL OR +l.key < $hi)
       ORDER BY l.rev LIMIT $limit`,
    ),
    nthLogRevAfter: db.prepare('SELECT rev FROM log WHERE rev > ? ORDER BY rev LIMIT 1 OFFSET ?').pluck(),
    deleteSuperseded: db.prepare(
      `DELETE FROM log WHERE rev IN (
         SELECT o.rev FROM log n JOIN log o ON o.key = n.key AND o.rev < n.rev
         WHERE n.rev > ? AND n.rev <= ?)`,
    ),
    deleteBareTombstones: db.prepare(
      `DELETE FROM log WHERE rev > ? AND rev <= ? AND deleted = 1
         AND NOT EXISTS (SELECT 1 FROM log e WHERE e.key = log.key AND e.rev < log.rev)`,
    ),
  };
}

export function toKeyValue(row: KvRow): KeyValue {
  return { key: row.key, value: row.value, rev: row.rev, createRev: row.create_rev || row.rev };
}

export function toEvent(row: LogRow): WatchEvent {
  const createRev = row.create_rev || row.rev;
  const prev: KeyValue | undefined =
    row.prev_rev > 0 ? { key: row.key, value: row.prev_value ?? '', rev: row.prev_rev, createRev } : undefined;
  if (row.deleted) {
    return {
      type: 'DELETE',
      key: row.key,
      kv: { key: row.key, value: prev?.value ?? '', rev: row.rev, createRev },
      prev,
      created: false,
    };
  }
  return {
    type: 'PUT',
    key: row.key,
    kv: { key: row.key, value: row.value ?? '', rev: row.rev, createRev },
    prev,
    created: row.create_rev === 0,
  };
}
