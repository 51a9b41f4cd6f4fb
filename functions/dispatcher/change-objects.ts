// The objects a store change is about, for watch mappings. The stream record of a change is the
// insertion of its change-log item (NEW_AND_OLD_IMAGES gives no old image for an insertion):
//   - a PUT carries its new value inline when it is at most 32 KiB; larger values live in chunk
//     items (other stream records, maybe other shards), so they are read from the table;
//   - the previous value (for updates) and the deleted value (a DELETE carries none) are the value
//     of the previous revision's log item. When that item is superseded in the same transaction
//     its MODIFY record carries the value, usually in the same batch; otherwise it is read.
// A value that is gone (history expired or compacted) is skipped with a reason.
import type { DynamoDBRecord } from 'aws-lambda';
import type { KubeObject } from '../../shared/api/kind.js';
import { decodeFromStore } from '../../shared/apiserver/codec.js';
import type { Item } from '../../shared/store/dynamodb/client.js';
import { decodeLog } from '../../shared/store/dynamodb/items.js';
import { parseStreamRecord, type StreamChange } from '../../shared/store/dynamodb/stream.js';
import { LOG_PK, PARTITION_KEY, SORT_KEY } from '../../shared/store/dynamodb/table.js';

/** A change-log entry as its stream record announces it. */
export interface LoggedChange extends StreamChange {
  /** Revision of the key's previous value (0 when this PUT created the key). */
  prevRev: number;
  createRev: number;
  /** The new value when it is stored inline (PUT only). */
  inline?: string;
  /** Number of chunk items holding the new value when it is not inline. */
  chunks: number;
}

/** Reads values by the revision that wrote them; revisions whose value is gone are left out. */
export interface RevisionValues {
  atRevs(revs: number[]): Promise<Map<number, string>>;
}

const asItem = (image: NonNullable<NonNullable<DynamoDBRecord['dynamodb']>['NewImage']>) => image as unknown as Item;

export function parseLoggedChange(record: DynamoDBRecord): LoggedChange | undefined {
  const change = parseStreamRecord(record);
  if (!change) return undefined;
  const entry = decodeLog(asItem(record.dynamodb!.NewImage!));
  return {
    ...change,
    prevRev: entry.prevRev,
    createRev: entry.createRev,
    chunks: entry.chunks,
    ...(change.type === 'PUT' && entry.chunks === 0 ? { inline: entry.value ?? '' } : {}),
  };
}

/** Inline values of PUT log items that the batch's records carry (new entries and superseded ones). */
export function valuesInBatch(records: readonly DynamoDBRecord[]): Map<number, string> {
  const out = new Map<number, string>();
  for (const r of records) {
    const image = r.dynamodb?.NewImage;
    if (!image || image[PARTITION_KEY]?.S !== LOG_PK || image.t?.S !== 'PUT' || image.v?.S === undefined || image[SORT_KEY]?.S === undefined) continue;
    const entry = decodeLog(asItem(image));
    if (entry.chunks === 0 && Number.isSafeInteger(entry.rev)) out.set(entry.rev, entry.value ?? '');
  }
  return out;
}

export interface ChangeObjects {
  /** What to map: the new and the old object of a PUT (old absent on create), the last state of a deleted object. */
  objects: KubeObject[];
  /** Why a state could not be mapped. */
  skipped: string[];
}

/**
 * The states of the changed object. Throws when reading the table fails (the record should be
 * retried); values that no longer exist are reported in `skipped`.
 */
export async function objectsOfChange(change: LoggedChange, inBatch: ReadonlyMap<number, string>, values: RevisionValues | undefined): Promise<ChangeObjects> {
  const wanted: { rev: number; what: string }[] = [];
  const known = new Map<number, string>();
  if (change.type === 'PUT') {
    if (change.inline !== undefined) known.set(change.rev, change.inline);
    wanted.push({ rev: change.rev, what: 'new value' });
    if (change.prevRev > 0) wanted.push({ rev: change.prevRev, what: 'previous value' });
  } else if (change.prevRev > 0) {
    wanted.push({ rev: change.prevRev, what: 'deleted value' });
  }
  for (const w of wanted) {
    const v = inBatch.get(w.rev);
    if (v !== undefined && !known.has(w.rev)) known.set(w.rev, v);
  }
  const missing = wanted.filter((w) => !known.has(w.rev)).map((w) => w.rev);
  if (missing.length && values) for (const [rev, v] of await values.atRevs(missing)) known.set(rev, v);

  const objects: KubeObject[] = [];
  const skipped: string[] = [];
  for (const w of wanted) {
    const value = known.get(w.rev);
    if (value === undefined) {
      skipped.push(values ? `${w.what} (revision ${w.rev}) is no longer stored` : `${w.what} (revision ${w.rev}) is not in the record and there is no table access`);
      continue;
    }
    try {
      objects.push(decodeFromStore({ key: change.key, value, rev: w.rev, createRev: change.createRev }));
    } catch (err) {
      skipped.push(`${w.what} (revision ${w.rev}) is not a readable object: ${String(err)}`);
    }
  }
  return { objects, skipped };
}
