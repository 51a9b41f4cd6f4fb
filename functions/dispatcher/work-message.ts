// What travels on the controller work queues: "controller C, reconcile object R". The dispatcher
// sends one per (controller, object) a change wakes, as a FIFO message grouped by controller and
// object, so one controller never reconciles one object twice at once; the worker sends delayed
// ones to requeue.
import { createHash } from 'node:crypto';
import { refKey, type ObjectRef } from '../../shared/controllers/runtime/types.js';

export interface WorkItem {
  /** Name of the controller that should reconcile (ControllerDef.name). */
  controller: string;
  ref: ObjectRef;
  /** Revision of the newest store change that caused this item (absent for requeues). */
  rev?: number;
  /** For requeues: do not reconcile before this time (epoch milliseconds). */
  notBefore?: number;
}

export function encodeWorkItem(item: WorkItem): string {
  const { controller, ref, rev, notBefore } = item;
  const plainRef: ObjectRef = { resource: ref.resource, ...(ref.namespace ? { namespace: ref.namespace } : {}), name: ref.name };
  return JSON.stringify({ controller, ref: plainRef, ...(rev !== undefined ? { rev } : {}), ...(notBefore !== undefined ? { notBefore } : {}) });
}

const isNonEmpty = (s: unknown): s is string => typeof s === 'string' && s.length > 0;

export function decodeWorkItem(body: string): WorkItem {
  const item = JSON.parse(body) as Partial<WorkItem> | null;
  if (!item || typeof item !== 'object') throw new Error('work item is not an object');
  if (!isNonEmpty(item.controller)) throw new Error('work item without a controller');
  const ref = item.ref as Partial<ObjectRef> | undefined;
  if (!ref || !isNonEmpty(ref.resource) || !isNonEmpty(ref.name)) throw new Error('work item without an object reference');
  if (ref.namespace !== undefined && typeof ref.namespace !== 'string') throw new Error('work item with a bad namespace');
  if (item.rev !== undefined && !Number.isInteger(item.rev)) throw new Error(`work item with a bad revision: ${String(item.rev)}`);
  if (item.notBefore !== undefined && typeof item.notBefore !== 'number') throw new Error('work item with a bad notBefore');
  return item as WorkItem;
}

/** The identity of a work item: one controller and one object ("<controller>#<resource>|<ns>/<name>"). */
export function workKey(controller: string, ref: ObjectRef): string {
  return `${controller}#${refKey(ref)}`;
}

// SQS group and deduplication ids: at most 128 characters of printable ASCII (letters, digits and
// punctuation). Ids that do not fit keep a readable head and get a digest for uniqueness.
const SQS_ID = /^[\x21-\x7e]{1,128}$/;
const digest = (s: string) => createHash('sha256').update(s).digest('hex');

/** MessageGroupId: all messages of one controller for one object share it, so SQS hands them out one at a time. */
export function messageGroupId(controller: string, ref: ObjectRef): string {
  const key = workKey(controller, ref);
  if (SQS_ID.test(key)) return key;
  return `${key.replace(/[^\x21-\x7e]/g, '_').slice(0, 63)}#${digest(key)}`;
}

/** MessageDeduplicationId for the work a change at `rev` caused: a resent change is dropped by SQS. */
export function changeDeduplicationId(controller: string, ref: ObjectRef, rev: number): string {
  const id = `${workKey(controller, ref)}@${rev}`;
  return SQS_ID.test(id) ? id : `${digest(workKey(controller, ref))}@${rev}`;
}
