// metadata.managedFields bookkeeping for non-apply writes (create, update, patch): the writer's Update
// entry gains the fields it set or changed, and those fields (and any it removed) leave other entries.
import type { KubeObject, ManagedFieldsEntry } from '../kind.js';
import type { StructType, TypeNode } from '../schema/dsl.js';
import { deepClone, isObject, jsonEqual } from '../patch/go-format.js';
import { structNode } from '../patch/type-shape.js';
import { compareObjects, withoutIgnored } from './compare.js';
import type { FieldSet } from './fieldset.js';
import { capUpdateManagers, decodeManagedFields, encodeManagedFields, managerIdentity, type Managers } from './managers.js';
import { fieldSetOfPaths, transferOwnership, UNTRACKED_FIELDS } from './ownership.js';
import { zeroObject } from './zero.js';

export interface TrackUpdateOptions {
  /** The stored object; absent on create. */
  live?: KubeObject;
  /** The object about to be stored (after patching/defaulting); its managedFields, if any, are the starting point. */
  updated: KubeObject;
  manager: string;
  /** apiVersion of the request, e.g. "apps/v1". */
  apiVersion: string;
  schema: StructType;
  /** RFC 3339 time with seconds precision, e.g. "2026-11-25T01:38:44Z". */
  now: string;
  /** "status" or "scale" for writes through a subresource. */
  subresource?: string;
  /** Dotted paths the write path resets and so never tracks, e.g. ["status"] for the main resource. */
  ignoredFields?: readonly string[];
  /** The kind's Go zero value as JSON (see zero.ts); defaults to an approximation from the schema. */
  zero?: Record<string, unknown>;
}

/**
 * The managedFields to store with `updated`. An empty result means the object carries none (omit the
 * field): Kubernetes does not start tracking on an update of an object that has no managedFields, and a
 * request that sets managedFields to [] or [{}] clears them.
 */
export function trackUpdate(opts: TrackUpdateOptions): ManagedFieldsEntry[] {
  const managers = startingManagers(opts.live, opts.updated, opts.subresource !== undefined);
  if (managers.size === 0 && opts.live) return [];
  const type = structNode(opts.schema);
  const before = opts.live ? withoutManagedFields(opts.live) : (opts.zero ?? zeroObject(opts.schema));
  recordUpdate(managers, before, withoutManagedFields(opts.updated), { ...opts, type });
  return encodeManagedFields(managers);
}

/** The Update bookkeeping shared with server-side apply's "before-first-apply" entry. */
export function recordUpdate(
  managers: Managers,
  before: unknown,
  after: unknown,
  o: { manager: string; apiVersion: string; subresource?: string; now: string; type: TypeNode; ignoredFields?: readonly string[] },
): void {
  const ignored = fieldSetOfPaths(o.ignoredFields);
  const comparison = withoutIgnored(compareObjects(before, after, o.type), ignored);
  transferOwnership(managers, CURRENT_OPERATION, comparison, true);
  const taken: FieldSet = comparison.modified.union(comparison.added).recursiveDifference(ignored).difference(UNTRACKED_FIELDS);
  if (!taken.isEmpty()) {
    const id = managerIdentity({ manager: o.manager, operation: 'Update', apiVersion: o.apiVersion, subresource: o.subresource });
    const previous = managers.get(id);
    managers.set(id, {
      manager: o.manager,
      operation: 'Update',
      apiVersion: o.apiVersion,
      ...(o.subresource ? { subresource: o.subresource } : {}),
      time: o.now,
      set: previous ? taken.union(previous.set) : taken,
    });
  }
  capUpdateManagers(managers);
}

/** Identity of the in-flight write while other managers' ownership is adjusted. */
const CURRENT_OPERATION = 'current-operation';

export function withoutManagedFields(obj: KubeObject): Record<string, unknown> {
  const copy = deepClone(obj) as Record<string, unknown>;
  if (isObject(copy.metadata)) delete copy.metadata.managedFields;
  return copy;
}

/** managedFields: [] or [{}] in a request asks the server to drop all tracking. */
export function isResetManagedFields(v: unknown): boolean {
  if (!Array.isArray(v)) return false;
  return v.length === 0 || (v.length === 1 && isObject(v[0]) && Object.keys(v[0]).length === 0);
}

function decodeOrEmpty(entries: unknown): Managers {
  try {
    return decodeManagedFields(entries);
  } catch {
    return new Map();
  }
}

/** The request's own managedFields when valid and non-empty (main resource only), else the live ones. */
function startingManagers(live: KubeObject | undefined, updated: KubeObject, throughSubresource: boolean): Managers {
  const liveEntries = live?.metadata?.managedFields;
  if (throughSubresource) return decodeOrEmpty(liveEntries);
  const requested = updated.metadata?.managedFields;
  if (isResetManagedFields(requested)) return new Map();
  try {
    const mine = decodeManagedFields(requested);
    if (mine.size > 0) return mine;
  } catch {
    // fall back to the live object's entries
  }
  return decodeOrEmpty(liveEntries);
}

/**
 * When a write changes nothing but managedFields timestamps, Kubernetes keeps the old managedFields so
 * the object is unchanged; returns `updated` with `old`'s managedFields in that case.
 */
export function revertTimestampOnlyChanges(old: KubeObject, updated: KubeObject): KubeObject {
  const oldEntries = old.metadata?.managedFields ?? [];
  const newEntries = updated.metadata?.managedFields ?? [];
  if (oldEntries.length !== newEntries.length) return updated;
  const withoutTime = (e: ManagedFieldsEntry): Record<string, unknown> => {
    const { time: _time, ...rest } = e;
    return rest;
  };
  if (!oldEntries.every((e, i) => jsonEqual(withoutTime(e), withoutTime(newEntries[i])))) return updated;
  if (!jsonEqual(withoutManagedFields(old), withoutManagedFields(updated))) return updated;
  const out = deepClone(updated);
  out.metadata.managedFields = deepClone(oldEntries);
  return out;
}
