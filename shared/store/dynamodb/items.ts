// The store's items and their attributes (short names: DynamoDB bills attribute names too).
//   kv    pk "kv",            sk <key>          r: revision, c: create revision, n: chunk count of the value
//   log   pk "log",           sk <rev, padded>  t: PUT | DELETE | FILL, k: key, v: value (inline),
//                                               n: chunk count, c: create revision, p: previous revision
//                                               (0 on create), at: commit time (ms), w: writer token,
//                                               s: revision that superseded it, expiresAt: TTL
//   chunk pk "chunk#<rev>",   sk <index>        d: bytes of the value, expiresAt: TTL
// A kv item points at the log item holding its value, as the SQLite backend's kv table does.
import { StoreError } from '../contract.js';
import type { Item } from './client.js';
import {
  chunkPartitionKey,
  chunkSortKey,
  KV_PK,
  LOG_PK,
  PARTITION_KEY,
  revOfSortKey,
  revSortKey,
  SORT_KEY,
  TTL_ATTRIBUTE,
} from './table.js';

/** Values up to this size are stored in the log item itself. */
export const INLINE_MAX_BYTES = 32 * 1024;
/** Size of the pieces of larger values: well below the 400 KB item limit. */
export const CHUNK_BYTES = 350 * 1024;
/**
 * Largest value accepted. An update writes the new value and touches the old one's pieces in one
 * transaction, which DynamoDB caps at 4 MB; Kubernetes' own limit (etcd's) is 1.5 MiB.
 */
export const MAX_VALUE_BYTES = 1792 * 1024;
/** DynamoDB's limit for a sort key. */
const MAX_KEY_BYTES = 1024;

export type LogType = 'PUT' | 'DELETE' | 'FILL';

export interface KvHead {
  key: string;
  rev: number;
  createRev: number;
  chunks: number;
}

export interface LogEntry {
  rev: number;
  type: LogType;
  key: string;
  /** Inline value of a PUT (absent when chunked, for deletes and fillers). */
  value?: string;
  chunks: number;
  createRev: number;
  prevRev: number;
  writer?: string;
  /** Commit time (ms, the writer's clock). */
  at: number;
}

export interface EncodedValue {
  inline?: string;
  chunks: Uint8Array[];
}

export function keyOfKv(key: string): Item {
  return { [PARTITION_KEY]: { S: KV_PK }, [SORT_KEY]: { S: key } };
}

export function keyOfLog(rev: number): Item {
  return { [PARTITION_KEY]: { S: LOG_PK }, [SORT_KEY]: { S: revSortKey(rev) } };
}

export function keyOfChunk(rev: number, index: number): Item {
  return { [PARTITION_KEY]: { S: chunkPartitionKey(rev) }, [SORT_KEY]: { S: chunkSortKey(index) } };
}

export function checkKey(key: string): void {
  const bytes = Buffer.byteLength(key);
  if (bytes === 0 || bytes > MAX_KEY_BYTES) throw new Error(`store key must be 1..${MAX_KEY_BYTES} bytes, got ${bytes}`);
}

export function encodeValue(value: string): EncodedValue {
  const bytes = Buffer.byteLength(value);
  if (bytes > MAX_VALUE_BYTES) {
    throw new StoreError('TooLarge', `value of ${bytes} bytes exceeds the DynamoDB store's limit of ${MAX_VALUE_BYTES} bytes`);
  }
  if (bytes <= INLINE_MAX_BYTES) return { inline: value, chunks: [] };
  // Split the UTF-8 bytes (not the string) so no character is cut in a way that cannot be rejoined.
  const buffer = Buffer.from(value);
  const chunks: Uint8Array[] = [];
  for (let at = 0; at < buffer.length; at += CHUNK_BYTES) chunks.push(buffer.subarray(at, at + CHUNK_BYTES));
  return { chunks };
}

export function decodeChunks(chunks: Uint8Array[]): string {
  return Buffer.concat(chunks).toString('utf8');
}

export function kvItem(key: string, rev: number, createRev: number, chunks: number): Item {
  return { ...keyOfKv(key), r: num(rev), c: num(createRev), n: num(chunks) };
}

export function decodeKv(item: Item): KvHead {
  return { key: item[SORT_KEY].S!, rev: Number(item.r.N), createRev: Number(item.c.N), chunks: Number(item.n?.N ?? 0) };
}

export interface LogItemFields {
  rev: number;
  type: 'PUT' | 'DELETE';
  key: string;
  value?: EncodedValue;
  createRev: number;
  prevRev: number;
  writer: string;
  /** Deletions expire with the history they end. */
  expiresAt?: number;
}

export function logItem(f: LogItemFields): Item {
  const item: Item = {
    ...keyOfLog(f.rev),
    t: { S: f.type },
    k: { S: f.key },
    c: num(f.createRev),
    p: num(f.prevRev),
    at: num(Date.now()),
    w: { S: f.writer },
  };
  if (f.value?.inline !== undefined) item.v = { S: f.value.inline };
  if (f.value && f.value.chunks.length > 0) item.n = num(f.value.chunks.length);
  if (f.expiresAt !== undefined) item[TTL_ATTRIBUTE] = num(f.expiresAt);
  return item;
}

export function fillerItem(rev: number, expiresAt: number): Item {
  return { ...keyOfLog(rev), t: { S: 'FILL' }, at: num(Date.now()), [TTL_ATTRIBUTE]: num(expiresAt) };
}

export function chunkItem(rev: number, index: number, data: Uint8Array): Item {
  return { ...keyOfChunk(rev, index), d: { B: data } };
}

export function decodeLog(item: Item): LogEntry {
  return {
    rev: revOfSortKey(item[SORT_KEY].S!),
    type: item.t.S as LogType,
    key: item.k?.S ?? '',
    value: item.v?.S,
    chunks: Number(item.n?.N ?? 0),
    createRev: Number(item.c?.N ?? 0),
    prevRev: Number(item.p?.N ?? 0),
    writer: item.w?.S,
    at: Number(item.at?.N ?? 0),
  };
}

export function num(n: number): { N: string } {
  return { N: String(n) };
}
