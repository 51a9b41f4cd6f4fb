// What travels on the controller work queues: "reconcile this key". The dispatcher sends one per
// change (a FIFO message grouped by the object key), the worker sends delayed ones to requeue.
import { createHash } from 'node:crypto';

/** A change seen in the store's change log, or a requeue of a key. */
export interface WorkItem {
  key: string;
  /** Revision of the change that caused this item (absent for requeues). */
  rev?: number;
  /** Kind of change as the change log names it (e.g. PUT, DELETE). */
  type?: string;
  /** For requeues: do not reconcile before this time (epoch milliseconds). */
  notBefore?: number;
}

export function encodeWorkItem(item: WorkItem): string {
  return JSON.stringify(item);
}

export function decodeWorkItem(body: string): WorkItem {
  const item = JSON.parse(body) as Partial<WorkItem> | null;
  if (!item || typeof item.key !== 'string' || !item.key) throw new Error('work item without a key');
  if (item.rev !== undefined && !Number.isInteger(item.rev)) throw new Error(`work item with a bad revision: ${String(item.rev)}`);
  if (item.notBefore !== undefined && typeof item.notBefore !== 'number') throw new Error('work item with a bad notBefore');
  return item as WorkItem;
}

/** "<group or core>/<plural>" of a store key such as /registry/apps/deployments/ns/name. */
export function resourceOfKey(key: string): string | undefined {
  const m = /^\/registry\/([^/]+)\/([^/]+)\//.exec(key);
  return m ? `${m[1]}/${m[2]}` : undefined;
}

// SQS group and deduplication ids: at most 128 characters of printable ASCII (letters, digits and
// punctuation). Keys that do not fit keep a readable head and get a digest for uniqueness.
const SQS_ID = /^[\x21-\x7e]{1,128}$/;
const digest = (s: string) => createHash('sha256').update(s).digest('hex');

/** MessageGroupId for a key: all messages of one object share it, so SQS hands them out one at a time. */
export function messageGroupId(key: string): string {
  if (SQS_ID.test(key)) return key;
  return `${key.replace(/[^\x21-\x7e]/g, '_').slice(0, 63)}#${digest(key)}`;
}

/** MessageDeduplicationId for the change of `key` at `rev`: a resent change is dropped by SQS. */
export function changeDeduplicationId(key: string, rev: number): string {
  const id = `${key}@${rev}`;
  return SQS_ID.test(id) ? id : `${digest(key)}@${rev}`;
}
