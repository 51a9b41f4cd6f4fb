// Lists: the world at a revision under a prefix, from the current-state items and the log.
import { StoreError, type KeyValue, type ListOptions, type ListResult } from '../contract.js';
import type { Item, TableClient } from './client.js';
import { decodeKv, decodeLog, keyOfKv, type LogEntry } from './items.js';
import type { Revisions } from './revisions.js';
import { KV_PK, LOG_PK, PARTITION_KEY, revOfSortKey, revSortKey, SORT_KEY } from './table.js';
import type { ValueReader } from './values.js';

export interface SnapshotDeps {
  table: TableClient;
  values: ValueReader;
  revs: Revisions;
}

/** kv items read per Query page. */
const KV_PAGE = 1000;

/**
 * The world at `rev` under a prefix. Latest pointers come from the kv items; a key changed after
 * `rev` is taken back to the previous revision of its earliest later event (or dropped, if that
 * event created it). The log tail is read after each kv page, so any kv item newer than `rev`
 * has its event in the tail.
 */
export async function readSnapshot(deps: SnapshotDeps, opts: ListOptions, rev: number): Promise<ListResult> {
  const prefix = opts.prefix;
  const limit = opts.limit && opts.limit > 0 ? opts.limit : Infinity;
  const startAfter = opts.startAfter !== undefined && compareKeys(opts.startAfter, prefix) >= 0 ? opts.startAfter : undefined;
  // A cursor at or above the prefix that does not start with it sorts after every key under it.
  if (startAfter !== undefined && !startAfter.startsWith(prefix)) return { items: [], rev, more: false };
  const inRange = (key: string) => key.startsWith(prefix) && (startAfter === undefined || compareKeys(key, startAfter) > 0);

  const tail = new Map<string, LogEntry>();
  let tailAfter = rev;
  const readTail = async () => {
    const after = tailAfter;
    let start: Item | undefined;
    do {
      const out = await deps.table.query('list', {
        KeyConditionExpression: '#pk = :pk AND #sk > :after',
        ExpressionAttributeNames: { '#pk': PARTITION_KEY, '#sk': SORT_KEY, '#t': 't', '#k': 'k', '#p': 'p', '#c': 'c' },
        ExpressionAttributeValues: {
          ':pk': { S: LOG_PK },
          ':after': { S: revSortKey(after) },
          ...(prefix === '' ? {} : { ':prefix': { S: prefix } }),
        },
        ...(prefix === '' ? {} : { FilterExpression: 'begins_with(#k, :prefix)' }),
        ProjectionExpression: '#sk, #t, #k, #p, #c',
        ExclusiveStartKey: start,
      });
      for (const item of out.Items ?? []) {
        const e = decodeLog(item);
        tailAfter = e.rev;
        if (e.type !== 'FILL' && inRange(e.key) && !tail.has(e.key)) tail.set(e.key, e);
      }
      start = out.LastEvaluatedKey;
      if (start) tailAfter = Math.max(tailAfter, revOfSortKey(start[SORT_KEY].S!));
    } while (start);
  };

  const items: KeyValue[] = [];
  let cursor = startAfter;
  for (;;) {
    const page = await deps.table.query('list', {
      KeyConditionExpression: prefix === '' ? '#pk = :pk' : '#pk = :pk AND begins_with(#sk, :prefix)',
      ExpressionAttributeNames: { '#pk': PARTITION_KEY, ...(prefix === '' ? {} : { '#sk': SORT_KEY }) },
      ExpressionAttributeValues: { ':pk': { S: KV_PK }, ...(prefix === '' ? {} : { ':prefix': { S: prefix } }) },
      ExclusiveStartKey: cursor === undefined ? undefined : keyOfKv(cursor),
      Limit: limit === Infinity || opts.filter ? KV_PAGE : Math.min(KV_PAGE, limit - items.length + 1),
    });
    await readTail();
    const pageEnd = page.LastEvaluatedKey?.[SORT_KEY].S;
    const heads = new Map((page.Items ?? []).map((i) => [i[SORT_KEY].S!, decodeKv(i)]));
    const keys = [...heads.keys()];
    for (const key of tail.keys()) {
      if (heads.has(key)) continue;
      if (cursor !== undefined && compareKeys(key, cursor) <= 0) continue;
      if (pageEnd !== undefined && compareKeys(key, pageEnd) > 0) continue;
      keys.push(key);
    }
    keys.sort(compareKeys);
    const states: { key: string; rev: number; createRev: number }[] = [];
    for (const key of keys) {
      const event = tail.get(key);
      if (event) {
        if (event.prevRev > 0) states.push({ key, rev: event.prevRev, createRev: event.createRev });
        continue;
      }
      const head = heads.get(key)!;
      if (head.rev > rev) throw new Error(`key ${key} is at revision ${head.rev} > ${rev} but its event is not in the log`);
      states.push(head);
    }
    const values = await deps.values.atRevs('list', states.map((s) => s.rev));
    for (const s of states) {
      const value = values.get(s.rev);
      if (value === undefined) {
        const compacted = await deps.revs.compactedRev('list');
        if (rev < compacted) throw expired(rev, compacted);
        throw new Error(`value of ${s.key} at revision ${s.rev} is missing`);
      }
      const kv: KeyValue = { key: s.key, value, rev: s.rev, createRev: s.createRev };
      if (opts.filter && !opts.filter(kv)) continue;
      if (items.length >= limit) return { items, rev, more: true };
      items.push(kv);
    }
    if (pageEnd === undefined) return { items, rev, more: false };
    cursor = pageEnd;
  }
}

export function expired(rev: number, compacted: number): StoreError {
  return new StoreError('Expired', `revision ${rev} has been compacted (oldest is ${compacted})`);
}

/** DynamoDB orders string keys by their UTF-8 bytes. */
export function compareKeys(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}
