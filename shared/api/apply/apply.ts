// Server-side apply (application/apply-patch+yaml): merges an applied configuration into the live object
// and updates metadata.managedFields, following sigs.k8s.io/structured-merge-diff and the field-manager
// layers of k8s.io/apiserver:
// - the applied config's field set becomes the manager's Apply entry;
// - fields the manager applied before but no longer applies are removed unless another manager owns them;
// - changing a field another manager owns is a 409 conflict unless `force` (ownership then moves);
//   applying the value already there shares ownership;
// - a live object without managedFields first gets a "before-first-apply" Update entry owning all its fields;
// - for manager "kubectl", conflicts only with fields recorded in the client-side-apply annotation (and
//   still equal to it) are forced, and that annotation is rewritten to the applied config.
import type { KubeObject } from '../kind.js';
import type { StructType, TypeNode } from '../schema/dsl.js';
import { badRequest, internal } from '../patch/errors.js';
import { deepClone, goJson, isObject } from '../patch/go-format.js';
import { structNode } from '../patch/type-shape.js';
import { compareObjects, withoutIgnored } from './compare.js';
import { FieldSet, fieldSetOf, withNamedFieldsAsMembers } from './fieldset.js';
import { recordUpdate, withoutManagedFields } from './managed-fields.js';
import { decodeManagedFields, encodeManagedFields, managerIdentity, type Managers } from './managers.js';
import { mergeObjects } from './merge-objects.js';
import { ApplyConflictError, conflictError, fieldSetOfPaths, transferOwnership, UNTRACKED_FIELDS } from './ownership.js';
import { dropNullMembers, removeFields } from './remove-fields.js';
import { formatTypingErrors, typingErrors } from './validate-applied.js';
import { zeroObject } from './zero.js';

export const LAST_APPLIED_ANNOTATION = 'kubectl.kubernetes.io/last-applied-configuration';
export const BEFORE_FIRST_APPLY_MANAGER = 'before-first-apply';
/** The field manager `kubectl apply --server-side` uses; Kubernetes gives it the client-side-apply upgrade path. */
const KUBECTL_MANAGER = 'kubectl';
const MAX_ANNOTATIONS_BYTES = 256 * 1024;

export interface ServerSideApplyOptions {
  /** The stored object; absent when the apply creates it. */
  live?: KubeObject;
  /** The applied configuration (the request body). */
  applied: KubeObject;
  manager: string;
  force: boolean;
  /** apiVersion of the request, e.g. "apps/v1". */
  apiVersion: string;
  schema: StructType;
  /** RFC 3339 time with seconds precision. */
  now: string;
  /** When given, the body's apiVersion and kind must be exactly this kind ("invalid object type" otherwise). */
  kind?: string;
  /** "status" (etc.) for an apply through a subresource; it is part of the manager's identity. */
  subresource?: string;
  /** Dotted paths the write path resets and so never tracks, e.g. ["status"] for the main resource. */
  ignoredFields?: readonly string[];
  /** The kind's Go zero value as JSON (see zero.ts), used for the "before-first-apply" entry. */
  zero?: Record<string, unknown>;
}

/** Returns the object to store: the merge result with metadata.managedFields updated. Throws PatchError. */
export function serverSideApply(opts: ServerSideApplyOptions): KubeObject {
  checkAppliedObject(opts);
  const type = structNode(opts.schema);
  const typing = typingErrors(opts.applied, type);
  if (typing.length) throw internal(`failed to create typed patch object (${objectGVKNN(opts.applied)}): ${formatTypingErrors(typing)}`);

  let managers: Managers;
  try {
    managers = decodeManagedFields(opts.live?.metadata?.managedFields);
  } catch (e) {
    throw internal(`failed to decode managed fields: ${(e as Error).message}`);
  }
  const live = opts.live ? withoutManagedFields(opts.live) : undefined;
  if (live && managers.size === 0) {
    recordUpdate(managers, opts.zero ?? zeroObject(opts.schema), live, { ...opts, manager: BEFORE_FIRST_APPLY_MANAGER, type });
  }

  let result: Record<string, unknown>;
  try {
    result = applyOnce(live, managers, opts, type, opts.force);
  } catch (e) {
    if (!(e instanceof ApplyConflictError) || opts.manager !== KUBECTL_MANAGER || !live) throw e;
    const allowed = fieldsFromClientSideApply(live, opts, type);
    const remaining = allowed ? e.conflicts.filter((c) => !allowed.has(c.path)) : e.conflicts;
    if (remaining.length) throw remaining.length === e.conflicts.length ? e : conflictError(remaining);
    result = applyOnce(live, managers, opts, type, true);
  }

  result = dropNullMembers(result) as Record<string, unknown>;
  if (opts.manager === KUBECTL_MANAGER) syncClientSideApplyAnnotation(result, opts.applied);
  const metadata = isObject(result.metadata) ? result.metadata : (result.metadata = {});
  const entries = encodeManagedFields(managers);
  if (entries.length) metadata.managedFields = entries;
  else delete metadata.managedFields;
  return result as KubeObject;
}

function checkAppliedObject(opts: ServerSideApplyOptions): void {
  const applied = opts.applied as Record<string, unknown>;
  if (opts.kind !== undefined && (applied.apiVersion !== opts.apiVersion || applied.kind !== opts.kind)) {
    throw badRequest(`invalid object type: ${gvkString(applied)}`);
  }
  if (isObject(applied.metadata) && Array.isArray(applied.metadata.managedFields)) throw badRequest('metadata.managedFields must be nil');
  if (applied.apiVersion !== opts.apiVersion) {
    throw badRequest(`Incorrect version specified in apply patch. Specified patch version: ${versionOf(applied)}, expected: ${opts.apiVersion}`);
  }
}

/** One apply attempt; mutates `managers` only when it succeeds. */
function applyOnce(live: Record<string, unknown> | undefined, managers: Managers, opts: ServerSideApplyOptions, type: TypeNode, force: boolean): Record<string, unknown> {
  const working: Managers = new Map([...managers].map(([id, r]) => [id, { ...r }]));
  const id = managerIdentity({ manager: opts.manager, operation: 'Apply', subresource: opts.subresource });
  const ignored = fieldSetOfPaths(opts.ignoredFields);
  const lastSet = working.get(id)?.set;

  let merged = mergeObjects(live ?? {}, opts.applied, type) as Record<string, unknown>;
  working.set(id, {
    manager: opts.manager,
    operation: 'Apply',
    apiVersion: opts.apiVersion,
    ...(opts.subresource ? { subresource: opts.subresource } : {}),
    time: working.get(id)?.time,
    set: fieldSetOf(opts.applied, type).recursiveDifference(ignored),
  });
  if (lastSet && !lastSet.isEmpty()) merged = prune(merged, working, lastSet, type);

  const comparison = withoutIgnored(compareObjects(live ?? {}, merged, type), ignored);
  transferOwnership(working, id, comparison, force);

  const mine = working.get(id);
  if (mine) {
    const kept = mine.set.difference(UNTRACKED_FIELDS);
    if (kept.isEmpty()) working.delete(id);
    else working.set(id, { ...mine, set: kept, time: opts.now });
  }
  managers.clear();
  for (const [k, v] of working) managers.set(k, v);
  return merged;
}

/** Removes what the manager applied last time but not now, unless some manager still owns it. */
function prune(merged: Record<string, unknown>, managers: Managers, lastSet: FieldSet, type: TypeNode): Record<string, unknown> {
  let owned = new FieldSet();
  for (const r of managers.values()) owned = owned.union(r.set);
  const toRemove = withNamedFieldsAsMembers(lastSet, type).difference(withNamedFieldsAsMembers(owned, type));
  if (toRemove.isEmpty()) return merged;
  return (removeFields(merged, toRemove, type) ?? {}) as Record<string, unknown>;
}

/**
 * Fields kubectl's client-side apply recorded in the last-applied annotation that still hold the recorded
 * value; conflicts on them do not block `kubectl apply --server-side` (upgrade from client-side apply).
 */
function fieldsFromClientSideApply(live: Record<string, unknown>, opts: ServerSideApplyOptions, type: TypeNode): FieldSet | undefined {
  const annotations = isObject(live.metadata) && isObject(live.metadata.annotations) ? live.metadata.annotations : undefined;
  const raw = annotations?.[LAST_APPLIED_ANNOTATION];
  if (typeof raw !== 'string' || raw === '') return undefined;
  let lastApplied: unknown;
  try {
    lastApplied = JSON.parse(raw);
  } catch {
    return undefined;
  }
  if (!isObject(lastApplied) || lastApplied.apiVersion !== opts.apiVersion || typingErrors(lastApplied, type).length) return undefined;
  const diff = compareObjects(lastApplied, live, type);
  return fieldSetOf(lastApplied, type).difference(diff.modified).difference(diff.added).difference(diff.removed);
}

/** kubectl --server-side keeps an existing client-side-apply annotation in step with what it applied. */
function syncClientSideApplyAnnotation(result: Record<string, unknown>, applied: KubeObject): void {
  const metadata = isObject(result.metadata) ? result.metadata : undefined;
  const annotations = metadata && isObject(metadata.annotations) ? (metadata.annotations as Record<string, string>) : undefined;
  if (!annotations || typeof annotations[LAST_APPLIED_ANNOTATION] !== 'string' || annotations[LAST_APPLIED_ANNOTATION] === '') return;
  const config = deepClone(applied) as Record<string, unknown>;
  if (isObject(config.metadata) && isObject(config.metadata.annotations)) delete config.metadata.annotations[LAST_APPLIED_ANNOTATION];
  annotations[LAST_APPLIED_ANNOTATION] = `${goJson(config)}\n`;
  let size = 0;
  for (const [k, v] of Object.entries(annotations)) size += Buffer.byteLength(k) + Buffer.byteLength(String(v));
  if (size > MAX_ANNOTATIONS_BYTES) delete annotations[LAST_APPLIED_ANNOTATION];
}

function versionOf(obj: Record<string, unknown>): string {
  return typeof obj.apiVersion === 'string' ? obj.apiVersion : '';
}

/** schema.GroupVersionKind's String(): "apps/v1, Kind=Deployment", "/v1, Kind=ConfigMap". */
function gvkString(obj: Record<string, unknown>): string {
  const apiVersion = versionOf(obj);
  const slash = apiVersion.indexOf('/');
  const group = slash >= 0 ? apiVersion.slice(0, slash) : '';
  const version = slash >= 0 ? apiVersion.slice(slash + 1) : apiVersion;
  return `${group}/${version}, Kind=${typeof obj.kind === 'string' ? obj.kind : ''}`;
}

/** "<namespace>/<name>; <gvk>" as field-manager errors name an object. */
function objectGVKNN(obj: KubeObject): string {
  const m = isObject(obj.metadata) ? obj.metadata : {};
  const ns = typeof m.namespace === 'string' ? m.namespace : '';
  const name = typeof m.name === 'string' ? m.name : '';
  return `${ns}/${name}; ${gvkString(obj as Record<string, unknown>)}`;
}

