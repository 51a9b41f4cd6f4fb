// Reading the table's DynamoDB stream without knowing the item layout: which records are
// change-log entries ("object key changed at revision r"), and which are bookkeeping (counter,
// markers, current-state pointers, value chunks, fillers, TTL and compaction deletions).
import { LOG_PK, PARTITION_KEY, revOfSortKey, SORT_KEY } from './table.js';

/** The attribute-value shape shared by Lambda stream events and the Streams API. */
interface StreamAttribute {
  S?: string;
  N?: string;
}

/** A DynamoDB stream record as Lambda delivers it or GetRecords returns it. */
export interface StreamRecordLike {
  eventName?: string;
  dynamodb?: {
    Keys?: Record<string, StreamAttribute>;
    NewImage?: Record<string, StreamAttribute>;
    OldImage?: Record<string, StreamAttribute>;
  };
}

export interface StreamChange {
  key: string;
  rev: number;
  type: 'PUT' | 'DELETE';
}

/**
 * The change a stream record announces, or undefined for records that are not change-log
 * entries. A change-log entry is the insertion of a log item for a write; the later modification
 * of that item (it gets a TTL once superseded) and its removal (TTL, compaction) are not changes.
 */
export function parseStreamRecord(record: StreamRecordLike): StreamChange | undefined {
  const data = record.dynamodb;
  const image = data?.NewImage;
  if (!data || !image) return undefined;
  const inserted = record.eventName === undefined ? data.OldImage === undefined : record.eventName === 'INSERT';
  if (!inserted) return undefined;
  const pk = data.Keys?.[PARTITION_KEY]?.S ?? image[PARTITION_KEY]?.S;
  const sk = data.Keys?.[SORT_KEY]?.S ?? image[SORT_KEY]?.S;
  if (pk !== LOG_PK || sk === undefined) return undefined;
  const type = image.t?.S;
  const key = image.k?.S;
  if ((type !== 'PUT' && type !== 'DELETE') || key === undefined) return undefined;
  const rev = revOfSortKey(sk);
  if (!Number.isSafeInteger(rev) || rev <= 0) return undefined;
  return { key, rev, type };
}
