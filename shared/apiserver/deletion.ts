// What a DELETE does to an object, as kube-apiserver's generic registry decides it: graceful
// deletion (pods only), the garbage collector's finalizers chosen by the propagation policy, and
// when an object carrying a deletionTimestamp is finally removed. Pure: callers do the writes.
import type { KindDef, KubeObject } from '../api/kind.js';
import type { FieldError } from '../api/schema/dsl.js';
import { invalid, notSupported } from '../api/schema/errors.js';
import { goStringSlice } from '../api/validation/render.js';
import { errors, type ApiError } from './errors.js';
import { clone, rfc3339 } from './metadata.js';

export interface DeleteOptions {
  gracePeriodSeconds?: number;
  propagationPolicy?: string;
  /** Deprecated form of the propagation policy: true orphans, false deletes dependents. */
  orphanDependents?: boolean;
  preconditions?: { uid?: string; resourceVersion?: string };
  dryRun?: string[];
}

export const FINALIZER_ORPHAN = 'orphan';
export const FINALIZER_FOREGROUND = 'foregroundDeletion';

const PROPAGATION_POLICIES = ['Foreground', 'Background', 'Orphan'];

/** ValidateDeleteOptions, reported as kube-apiserver does: 422 on DeleteOptions.meta.k8s.io "". */
export function validateDeleteOptions(options: DeleteOptions): void {
  const errs: FieldError[] = [];
  const policy = options.propagationPolicy;
  if (options.orphanDependents !== undefined && policy !== undefined) {
    errs.push(invalid('propagationPolicy', policy, 'orphanDependents and deletionPropagation cannot be both set'));
  }
  if (policy !== undefined && !PROPAGATION_POLICIES.includes(policy)) errs.push(notSupported('propagationPolicy', policy, [...PROPAGATION_POLICIES, 'nil']));
  const dryRun = options.dryRun ?? [];
  if (dryRun.some((v) => v !== 'All')) {
    errs.push({ reason: 'FieldValueNotSupported', field: 'dryRun', message: `Unsupported value: ${goStringSlice(dryRun)}: supported values: "All"` });
  }
  if (!errs.length) return;
  const err: ApiError = errors.invalid('meta.k8s.io', 'DeleteOptions', '', errs);
  // An empty name is left out of the details, as Go's omitempty does.
  delete err.status.details!.name;
  throw err;
}

type GcPolicy = 'OrphanDependents' | 'DeleteDependents';

/** What a delete without a policy does to dependents: batch/v1 Jobs keep their pods for compatibility. */
export function defaultGarbageCollectionPolicy(def: Pick<KindDef, 'group' | 'version' | 'plural'>): GcPolicy {
  if (def.group === 'batch' && def.version === 'v1' && def.plural === 'jobs') return 'OrphanDependents';
  return 'DeleteDependents';
}

/** Warnings a delete request earns (the Job registry's reminder that its pods stay behind). */
export function deletionWarnings(def: KindDef, options: DeleteOptions): string[] {
  if (options.propagationPolicy !== undefined || options.orphanDependents !== undefined) return [];
  if (def.group === 'batch' && def.plural === 'jobs' && defaultGarbageCollectionPolicy(def) === 'OrphanDependents') {
    return ['child pods are preserved by default when jobs are deleted; set propagationPolicy=Background to remove them or set propagationPolicy=Orphan to suppress this warning'];
  }
  return [];
}

function shouldOrphanDependents(def: KindDef, finalizers: readonly string[], options: DeleteOptions): boolean {
  if (options.orphanDependents !== undefined) return options.orphanDependents;
  if (options.propagationPolicy === 'Orphan') return true;
  if (options.propagationPolicy === 'Background' || options.propagationPolicy === 'Foreground') return false;
  for (const f of finalizers) {
    if (f === FINALIZER_ORPHAN) return true;
    if (f === FINALIZER_FOREGROUND) return false;
  }
  return defaultGarbageCollectionPolicy(def) === 'OrphanDependents';
}

function shouldDeleteDependents(finalizers: readonly string[], options: DeleteOptions): boolean {
  if (options.orphanDependents !== undefined) return false;
  if (options.propagationPolicy === 'Foreground') return true;
  if (options.propagationPolicy === 'Background' || options.propagationPolicy === 'Orphan') return false;
  for (const f of finalizers) {
    if (f === FINALIZER_FOREGROUND) return true;
    if (f === FINALIZER_ORPHAN) return false;
  }
  return false;
}

/** The garbage collector's finalizers the options ask for, and whether that changes the object's set. */
export function gcFinalizers(def: KindDef, current: readonly string[], options: DeleteOptions): { changed: boolean; finalizers: string[] } {
  const next = current.filter((f) => f !== FINALIZER_ORPHAN && f !== FINALIZER_FOREGROUND);
  if (shouldOrphanDependents(def, current, options)) next.push(FINALIZER_ORPHAN);
  if (shouldDeleteDependents(current, options)) next.push(FINALIZER_FOREGROUND);
  const before = new Set(current);
  const after = new Set(next);
  const changed = before.size !== after.size || [...after].some((f) => !before.has(f));
  return { changed, finalizers: changed ? next : [...current] };
}

export type DeletionPlan =
  /** Remove the object from storage now, writing nothing first. */
  | { action: 'delete' }
  /** Write `object` (deletionTimestamp and finalizers set); remove it right after when `thenDelete`. */
  | { action: 'mark'; object: KubeObject; thenDelete: boolean }
  /** A graceful deletion is already under way and the request does not shorten it: nothing changes. */
  | { action: 'pending' };

const isPod = (def: KindDef) => def.group === '' && def.plural === 'pods';
const isNamespace = (def: KindDef) => def.group === '' && def.plural === 'namespaces';

/** The pod registry's grace period: the request's, else the pod's; 0 for unbound or finished pods. */
function podGracePeriod(pod: KubeObject, requested: number | undefined): number {
  const spec = (pod.spec ?? {}) as { nodeName?: string; terminationGracePeriodSeconds?: number };
  let period = requested ?? spec.terminationGracePeriodSeconds ?? 0;
  if (!spec.nodeName) period = 0;
  const phase = (pod.status as { phase?: string } | undefined)?.phase;
  if (phase === 'Failed' || phase === 'Succeeded') period = 0;
  return period < 0 ? 1 : period;
}

function bumpGeneration(obj: KubeObject): void {
  if ((obj.metadata.generation ?? 0) > 0) obj.metadata.generation = obj.metadata.generation! + 1;
}

/** markAsDeleting: deletionTimestamp now (or earlier), grace period 0. */
function markAsDeleting(obj: KubeObject, now: Date): void {
  const meta = obj.metadata;
  if (!meta.deletionTimestamp) bumpGeneration(obj);
  if (!meta.deletionTimestamp || Date.parse(meta.deletionTimestamp) > now.getTime()) meta.deletionTimestamp = rfc3339(now);
  meta.deletionGracePeriodSeconds = 0;
}

function setFinalizers(obj: KubeObject, finalizers: string[]): void {
  if (finalizers.length) obj.metadata.finalizers = finalizers;
  else delete obj.metadata.finalizers;
}

/** Decide what deleting `current` with `options` does (options must already be valid). */
export function planDeletion(def: KindDef, current: KubeObject, options: DeleteOptions, now: Date): DeletionPlan {
  if (isNamespace(def)) {
    if (!current.metadata.deletionTimestamp) return startNamespaceTermination(current, options, now);
    // Until the namespace's content is gone (spec.finalizers empty), deleting again changes nothing.
    if ((current.spec as { finalizers?: string[] } | undefined)?.finalizers?.length) return { action: 'pending' };
  }
  const obj = clone(current);
  const meta = obj.metadata;
  const requested = options.gracePeriodSeconds !== undefined && options.gracePeriodSeconds < 0 ? 1 : options.gracePeriodSeconds;
  if (meta.deletionGracePeriodSeconds !== undefined && meta.deletionGracePeriodSeconds < 0) meta.deletionGracePeriodSeconds = 1;

  let graceful = false;
  let gracePeriod = 0;
  if (isPod(def)) {
    if (meta.deletionTimestamp) {
      const existing = meta.deletionGracePeriodSeconds ?? 0;
      if (existing > 0) {
        // Only a shorter grace period may be asked for once a graceful deletion has started.
        if (requested === undefined || requested >= existing) return { action: 'pending' };
        meta.deletionTimestamp = rfc3339(new Date(Date.parse(meta.deletionTimestamp) - existing * 1000 + requested * 1000));
        meta.deletionGracePeriodSeconds = requested;
        graceful = true;
        gracePeriod = requested;
      }
    } else {
      gracePeriod = podGracePeriod(obj, requested);
      meta.deletionTimestamp = rfc3339(new Date(now.getTime() + gracePeriod * 1000));
      meta.deletionGracePeriodSeconds = gracePeriod;
      bumpGeneration(obj);
      graceful = true;
    }
  }

  const hadFinalizers = (current.metadata.finalizers?.length ?? 0) > 0;
  const gc = gcFinalizers(def, current.metadata.finalizers ?? [], options);
  if (!graceful && !hadFinalizers && !gc.changed) return { action: 'delete' };
  setFinalizers(obj, gc.finalizers);
  const pendingFinalizers = gc.finalizers.length > 0;
  if (!graceful) {
    if (!pendingFinalizers) return { action: 'delete' };
    markAsDeleting(obj, now);
    return { action: 'mark', object: obj, thenDelete: false };
  }
  return { action: 'mark', object: obj, thenDelete: !pendingFinalizers && gracePeriod === 0 };
}

/** The first delete of a namespace: Terminating, with the garbage collector's finalizers the options ask for. */
function startNamespaceTermination(current: KubeObject, options: DeleteOptions, now: Date): DeletionPlan {
  const obj = clone(current);
  obj.metadata.deletionTimestamp = rfc3339(now);
  obj.status = { ...(obj.status as object), phase: 'Terminating' };
  const had = new Set(obj.metadata.finalizers ?? []);
  const { orphanDependents: orphanOption, propagationPolicy: policy } = options;
  const orphan = orphanOption !== undefined ? orphanOption : policy !== undefined ? policy === 'Orphan' : had.has(FINALIZER_ORPHAN);
  const foreground = orphanOption !== undefined ? !orphanOption : policy !== undefined ? policy === 'Foreground' : had.has(FINALIZER_FOREGROUND);
  const finalizers = (obj.metadata.finalizers ?? []).filter((f) => f !== FINALIZER_ORPHAN && f !== FINALIZER_FOREGROUND);
  if (orphan) finalizers.push(FINALIZER_ORPHAN);
  if (foreground) finalizers.push(FINALIZER_FOREGROUND);
  setFinalizers(obj, finalizers);
  return { action: 'mark', object: obj, thenDelete: false };
}

/**
 * ShouldDeleteDuringUpdate: an update that leaves an object being deleted without finalizers
 * removes it, once its grace period is over (unset or 0).
 */
export function shouldDeleteDuringUpdate(def: KindDef, next: KubeObject, current: KubeObject): boolean {
  if (next.metadata.finalizers?.length) return false;
  if (isNamespace(def) && (next.spec as { finalizers?: string[] } | undefined)?.finalizers?.length) return false;
  if (!current.metadata.deletionTimestamp) return false;
  return (current.metadata.deletionGracePeriodSeconds ?? 0) === 0;
}
