// The Job controller (batch/v1), after Kubernetes' pkg/controller/job: runs pods from the template
// until enough succeed, replaces failed ones after an exponential back-off, fails the Job past its
// backoffLimit or activeDeadlineSeconds, honours suspend, and supports Indexed completion.
//
// Outcomes are counted with the batch.kubernetes.io/job-tracking finalizer, as Kubernetes does: a
// finished pod's uid goes into status.uncountedTerminatedPods (written first), then its finalizer
// is removed, then it moves into the succeeded/failed counter. A pod is thus counted exactly once
// even if the controller stops half-way or the pod is deleted right after finishing, and the Job
// status never has to hold the uids of every pod it ever ran.
import type { KubeObject } from '../../api/kind.js';
import { deepEqual } from '../../apiserver/metadata.js';
import { BackoffStore, remainingBackoff, type BackoffRecord } from './job-backoff.js';
import {
  completionIndexOf,
  countIndexes,
  firstPendingIndexes,
  formatIndexes,
  hasIndex,
  NO_INDEX,
  parseIndexes,
  withIndexes,
  type Interval,
} from './job-indexes.js';
import { matchPodFailurePolicy, REASON_POD_FAILURE_POLICY } from './job-failure-policy.js';
import { createPods, deletePods, removeTrackingFinalizer } from './job-pod-control.js';
import { buildPods, podsForRemoval } from './job-pod-template.js';
import { hasTrackingFinalizer, isActive, isReady, isSucceeded, isTerminating, restartsOf } from './job-pods.js';
import {
  BUILTIN_MANAGER,
  countUncounted,
  ensureCondition,
  findCondition,
  hasSuccessCriteriaMet,
  isFinished,
  MESSAGE_BACKOFF_LIMIT,
  MESSAGE_COMPLETIONS,
  MESSAGE_DEADLINE,
  newCondition,
  REASON_BACKOFF_LIMIT,
  REASON_COMPLETIONS,
  REASON_DEADLINE,
  specOf,
  uncountedCount,
  type JobCondition,
  type JobSpec,
  type JobStatus,
} from './job-status.js';
import { controllerOf, toControllerOwner } from '../runtime/mappers.js';
import type { ControllerContext, ControllerDef, ObjectRef } from '../runtime/types.js';

export { ttlAfterFinishedController } from './ttl-after-finished.js';

const JOBS = 'batch/jobs';
const PODS = 'core/pods';
/** Most pods created or deleted, and most outcomes moved through uncountedTerminatedPods, in one pass. */
const MAX_PER_SYNC = 500;

export interface JobControllerOptions {
  /** Wait before replacing the first failed pod (default 10 s); doubled for each further failure... */
  podFailureBackoffMs?: number;
  /** ...up to this (default 10 minutes, kube-controller-manager's MaxJobPodFailureBackOff). */
  maxPodFailureBackoffMs?: number;
}

export function jobController(opts: JobControllerOptions = {}): ControllerDef {
  const base = opts.podFailureBackoffMs ?? 10_000;
  const max = opts.maxPodFailureBackoffMs ?? 600_000;
  return {
    name: 'job',
    resources: [JOBS],
    watches: [{ resource: PODS, map: toControllerOwner('Job', JOBS) }],
    workers: 4,
    setup: (ctx) => {
      const backoffs = new BackoffStore();
      return (ref) => syncJob(ctx, backoffs, { base, max }, ref);
    },
  };
}

/** One pass over a Job: what it has, what it should have, and the status that follows. */
interface Pass {
  ctx: ControllerContext;
  job: KubeObject;
  spec: JobSpec;
  status: JobStatus;
  now: Date;
  indexed: boolean;
  completions: number;
  pods: KubeObject[];
  activePods: KubeObject[];
  active: number;
  ready: number;
  terminating: number;
  succeeded: number;
  uncountedSucceeded: Set<string>;
  uncountedFailed: Set<string>;
  prevSucceededIndexes: Interval[];
  succeededIndexes: Interval[];
  /** Set when the Job has met its success or failure criteria in this pass. */
  finished?: JobCondition;
  backoff: BackoffRecord;
  requeueAfter?: number;
}

async function syncJob(ctx: ControllerContext, backoffs: BackoffStore, delays: { base: number; max: number }, ref: ObjectRef): Promise<{ requeueAfter?: number } | void> {
  const key = `${ref.namespace}/${ref.name}`;
  const shared = await ctx.reader.get(JOBS, ref.namespace, ref.name);
  if (!shared) {
    backoffs.remove(key);
    await releaseOrphans(ctx, ref.namespace!, ref.name);
    return;
  }
  const sharedSpec = specOf(shared);
  if (sharedSpec.managedBy && sharedSpec.managedBy !== BUILTIN_MANAGER) return;
  if (isFinished(shared)) {
    backoffs.remove(key);
    // A finished Job keeps no hold on its pods.
    for (const pod of await ownedPods(ctx, shared)) await removeTrackingFinalizer(ctx, pod);
    return;
  }
  if (sharedSpec.completionMode && sharedSpec.completionMode !== 'NonIndexed' && sharedSpec.completionMode !== 'Indexed') {
    await ctx.events.record(asJob(shared), 'Warning', 'UnknownCompletionMode', 'Skipped Job sync because completion mode is unknown');
    return;
  }

  const job = structuredClone(shared);
  const spec = specOf(job);
  const status = (job.status ??= {}) as JobStatus;
  const original = structuredClone(status);
  status.uncountedTerminatedPods ??= {};
  const now = ctx.clock();
  const pods = await ownedPods(ctx, job);
  const indexed = spec.completionMode === 'Indexed';
  const completions = spec.completions ?? 0;
  const activePods = pods.filter(isActive);
  const p: Pass = {
    ctx,
    job,
    spec,
    status,
    now,
    indexed,
    completions,
    pods,
    activePods,
    active: activePods.length,
    ready: activePods.filter(isReady).length,
    terminating: pods.filter(isTerminating).length,
    succeeded: 0,
    uncountedSucceeded: new Set(status.uncountedTerminatedPods.succeeded ?? []),
    uncountedFailed: new Set(status.uncountedTerminatedPods.failed ?? []),
    prevSucceededIndexes: [],
    succeededIndexes: [],
    backoff: backoffs.get(key),
  };
  const validIndex = (pod: KubeObject) => !indexed || (completionIndexOf(pod) !== NO_INDEX && completionIndexOf(pod) < completions);
  const fresh = (pod: KubeObject, counted: Set<string>) => hasTrackingFinalizer(pod) && !counted.has(pod.metadata.uid!) && validIndex(pod);
  const newSucceeded = pods.filter((pod) => fresh(pod, p.uncountedSucceeded) && isSucceeded(pod));
  const newFailed = pods.filter((pod) => fresh(pod, p.uncountedFailed) && isPodFailed(pod, spec));
  p.succeeded = (status.succeeded ?? 0) + newSucceeded.length + p.uncountedSucceeded.size;
  const failed = (status.failed ?? 0) + newFailed.filter((pod) => countsAsFailure(spec, pod)).length + p.uncountedFailed.size;

  if (!status.startTime && !spec.suspend) status.startTime = rfc(now);
  p.backoff = backoffs.next(key, newSucceeded, newFailed);

  p.finished = decideFailure(p, failed);
  if (indexed) {
    p.prevSucceededIndexes = parseIndexes(status.completedIndexes, completions);
    const newIndexes = pods.filter((pod) => isSucceeded(pod) && hasTrackingFinalizer(pod) && validIndex(pod)).map(completionIndexOf);
    p.succeededIndexes = withIndexes(p.prevSucceededIndexes, new Set(newIndexes));
    p.succeeded = countIndexes(p.succeededIndexes);
  }

  if (p.finished) {
    // Success or failure is decided: stop what still runs. The pods keep their finalizer until counted.
    const out = await deletePods(ctx, job, activePods, false);
    if (out.deleted !== p.active) p.finished = undefined;
    p.active -= out.deleted;
    p.terminating += out.deleted;
    p.ready -= out.deletedReady;
    if (out.error) throw out.error;
  } else {
    let managed = false;
    if (!job.metadata.deletionTimestamp) {
      await manageJob(p, delays);
      managed = true;
    }
    const complete = spec.completions == null ? p.succeeded > 0 && p.active === 0 : p.succeeded >= spec.completions && p.active === 0;
    if (complete) p.finished = newCondition('SuccessCriteriaMet', REASON_COMPLETIONS, MESSAGE_COMPLETIONS, now);
    else if (managed) await syncSuspendCondition(p);
  }

  status.active = p.active;
  status.ready = p.ready;
  status.terminating = p.terminating;
  await trackStatusAndRemoveFinalizers(p, original, (record) => backoffs.set(key, record));
  return p.requeueAfter !== undefined ? { requeueAfter: Math.max(1, p.requeueAfter) } : undefined;
}

/** Pods this Job controls (its uid in a controller ownerReference). */
async function ownedPods(ctx: ControllerContext, job: KubeObject): Promise<KubeObject[]> {
  const pods = await ctx.reader.list(PODS, { namespace: job.metadata.namespace, ownerUid: job.metadata.uid });
  return pods.filter((pod) => controllerOf(pod, 'Job')?.uid === job.metadata.uid);
}

/**
 * Pods still holding the tracking finalizer for a Job of this name that no longer exists, or for
 * no Job at all (orphaned when their Job was deleted): nobody will count them, so let them go.
 */
async function releaseOrphans(ctx: ControllerContext, namespace: string, name: string): Promise<void> {
  for (const pod of await ctx.reader.list(PODS, { namespace })) {
    if (!hasTrackingFinalizer(pod)) continue;
    const owner = controllerOf(pod);
    if (!owner || (owner.kind === 'Job' && owner.name === name)) await removeTrackingFinalizer(ctx, pod);
  }
}

/** Only pods that reached the Failed phase are replaced (podReplacementPolicy Failed, or a podFailurePolicy). */
const onlyReplaceFailed = (spec: JobSpec): boolean => spec.podReplacementPolicy === 'Failed' || spec.podFailurePolicy != null;

/** A pod that failed, or (unless only Failed pods count) one deleted before it succeeded. */
function isPodFailed(pod: KubeObject, spec: JobSpec): boolean {
  if ((pod.status as { phase?: string } | undefined)?.phase === 'Failed') return true;
  if (onlyReplaceFailed(spec)) return false;
  return !!pod.metadata.deletionTimestamp && !isSucceeded(pod);
}

/** Whether a failure counts against backoffLimit (not when the podFailurePolicy says to ignore it). */
const countsAsFailure = (spec: JobSpec, pod: KubeObject): boolean => spec.podFailurePolicy == null || matchPodFailurePolicy(spec.podFailurePolicy, pod).counts;

/** The message of a FailJob rule of the podFailurePolicy matched by a failed pod. */
function failJobMessage(spec: JobSpec, pods: readonly KubeObject[]): string | undefined {
  if (spec.podFailurePolicy == null) return undefined;
  for (const pod of pods) {
    if (!isPodFailed(pod, spec)) continue;
    const message = matchPodFailurePolicy(spec.podFailurePolicy, pod).failJobMessage;
    if (message) return message;
  }
  return undefined;
}

/** A failure criterion met now (interim FailureTarget), or the Failed condition an earlier pass decided on. */
function decideFailure(p: Pass, failed: number): JobCondition | undefined {
  const { spec, status, now } = p;
  if (hasSuccessCriteriaMet(status)) {
    const met = findCondition(status, 'SuccessCriteriaMet')!;
    return { ...met };
  }
  const target = findCondition(status, 'FailureTarget');
  if (target?.status === 'True') return newCondition('Failed', target.reason ?? '', target.message ?? '', now);
  const policyFailure = failJobMessage(spec, p.pods);
  if (policyFailure) return newCondition('FailureTarget', REASON_POD_FAILURE_POLICY, policyFailure, now);
  const limit = spec.backoffLimit ?? 6;
  if (failed > limit || pastBackoffLimitOnFailure(spec, p.pods, limit)) return newCondition('FailureTarget', REASON_BACKOFF_LIMIT, MESSAGE_BACKOFF_LIMIT, now);
  const deadline = spec.activeDeadlineSeconds;
  if (deadline != null && status.startTime && !spec.suspend) {
    const left = deadline * 1000 - (now.getTime() - Date.parse(status.startTime));
    if (left <= 0) return newCondition('FailureTarget', REASON_DEADLINE, MESSAGE_DEADLINE, now);
    p.requeueAfter = left;
  }
  return undefined;
}

/** With restartPolicy OnFailure, container restarts of running pods count against backoffLimit. */
function pastBackoffLimitOnFailure(spec: JobSpec, pods: readonly KubeObject[], limit: number): boolean {
  if (spec.template?.spec?.restartPolicy !== 'OnFailure') return false;
  const restarts = pods.reduce((n, pod) => n + restartsOf(pod), 0);
  return limit === 0 ? restarts > 0 : restarts >= limit;
}

/** Creates or deletes pods so that the right number run (none while suspended). */
async function manageJob(p: Pass, delays: { base: number; max: number }): Promise<void> {
  const { ctx, job, spec } = p;
  if (spec.suspend) {
    await dropPods(p, podsForRemoval(p.indexed, p.activePods, p.active, p.completions));
    return;
  }
  const parallelism = spec.parallelism ?? 1;
  let want: number;
  if (spec.completions == null) want = p.succeeded > 0 ? p.active : parallelism;
  else want = Math.max(0, Math.min(spec.completions - p.succeeded, parallelism));

  const surplus = podsForRemoval(p.indexed, p.activePods, Math.max(0, p.active - want), p.completions).slice(0, MAX_PER_SYNC);
  if (surplus.length) {
    await dropPods(p, surplus);
    return;
  }
  let missing = want - (onlyReplaceFailed(spec) ? p.terminating : 0) - p.active;
  if (missing <= 0) return;
  const wait = remainingBackoff(p.backoff, p.now.getTime(), delays.base, delays.max);
  if (wait > 0) {
    p.requeueAfter = Math.min(p.requeueAfter ?? Infinity, wait);
    return;
  }
  missing = Math.min(missing, MAX_PER_SYNC);
  let indexes: number[] = [];
  if (p.indexed) {
    let taken = withIndexes(p.succeededIndexes, p.activePods.map(completionIndexOf).filter((i) => i !== NO_INDEX));
    if (onlyReplaceFailed(spec)) taken = withIndexes(taken, p.pods.filter(isTerminating).map(completionIndexOf).filter((i) => i !== NO_INDEX));
    indexes = firstPendingIndexes(taken, missing, p.completions);
    missing = indexes.length;
  }
  const pods = buildPods(job, missing, p.indexed ? indexes : undefined);
  const { created, error } = await createPods(ctx, job, pods);
  p.active += created;
  if (error) throw error;
}

async function dropPods(p: Pass, pods: KubeObject[]): Promise<void> {
  const out = await deletePods(p.ctx, p.job, pods, true);
  p.active -= out.deleted;
  p.terminating += out.deleted;
  p.ready -= out.deletedReady;
  if (out.error) throw out.error;
}

/** Suspended=True (JobSuspended) while suspended; False (JobResumed) after, restarting the active-deadline clock. */
async function syncSuspendCondition(p: Pass): Promise<void> {
  const { ctx, job, status, now } = p;
  if (p.spec.suspend) {
    if (ensureCondition(status, 'Suspended', 'True', 'JobSuspended', 'Job suspended', now)) await ctx.events.record(asJob(job), 'Normal', 'Suspended', 'Job suspended');
  } else if (ensureCondition(status, 'Suspended', 'False', 'JobResumed', 'Job resumed', now)) {
    await ctx.events.record(asJob(job), 'Normal', 'Resumed', 'Job resumed');
    status.startTime = rfc(now);
  }
}

/**
 * Records finished pods in uncountedTerminatedPods (written first), removes their finalizers,
 * moves them into the counters, and sets Complete or Failed once nothing is left uncounted or
 * terminating. The interim SuccessCriteriaMet / FailureTarget condition is written with the first write.
 */
async function trackStatusAndRemoveFinalizers(p: Pass, original: JobStatus, saveBackoff: (r: BackoffRecord) => void): Promise<void> {
  const { ctx, job, status, spec, indexed } = p;
  const uncounted = (status.uncountedTerminatedPods ??= {});
  const withFinalizer = new Set(p.pods.filter(hasTrackingFinalizer).map((pod) => pod.metadata.uid!));
  countUncounted(status, withFinalizer);

  const pods = indexed ? [...p.pods].sort((a, b) => completionIndexOf(a) - completionIndexOf(b)) : p.pods;
  const release: KubeObject[] = [];
  const newIndexes: number[] = [];
  let capped = false;
  for (const pod of pods) {
    if (!hasTrackingFinalizer(pod)) continue;
    const uid = pod.metadata.uid!;
    const failed = isPodFailed(pod, spec);
    if (!job.metadata.deletionTimestamp && !p.finished && !isSucceeded(pod) && !failed) continue;
    release.push(pod);
    const ix = completionIndexOf(pod);
    const validIndex = ix !== NO_INDEX && ix < p.completions;
    if (isSucceeded(pod) && !p.uncountedFailed.has(uid)) {
      if (indexed) {
        if (validIndex && !hasIndex(p.prevSucceededIndexes, ix)) newIndexes.push(ix);
      } else if (!p.uncountedSucceeded.has(uid)) {
        (uncounted.succeeded ??= []).push(uid);
      }
    } else if (failed || (p.finished && p.finished.type !== 'SuccessCriteriaMet')) {
      // Once the Job has failed, every pod not yet finished counts as failed.
      if (!p.uncountedFailed.has(uid) && (!indexed || validIndex) && countsAsFailure(spec, pod)) (uncounted.failed ??= []).push(uid);
    }
    if (newIndexes.length + uncountedCount(status) >= MAX_PER_SYNC) {
      capped = true;
      break;
    }
  }
  if (indexed) {
    p.succeededIndexes = withIndexes(p.succeededIndexes, newIndexes);
    status.succeeded = countIndexes(p.succeededIndexes);
    status.completedIndexes = formatIndexes(p.succeededIndexes);
  }
  let finished = p.finished;
  if (finished?.type === 'FailureTarget') {
    (status.conditions ??= []).push(finished);
    finished = newCondition('Failed', finished.reason ?? '', finished.message ?? '', p.now);
  } else if (finished?.type === 'SuccessCriteriaMet') {
    if (!hasSuccessCriteriaMet(status)) (status.conditions ??= []).push(finished);
    finished = newCondition('Complete', finished.reason ?? '', finished.message ?? '', p.now);
  }

  let written = original;
  const flush = async () => {
    omitEmpty(status);
    if (deepEqual(status, written)) return;
    const saved = await ctx.client.updateStatus(JOBS, job);
    job.metadata.resourceVersion = saved.metadata.resourceVersion;
    written = structuredClone(status);
  };
  await flush();
  saveBackoff(p.backoff);

  let releaseError: unknown;
  await Promise.all(
    release.map(async (pod) => {
      try {
        if (await removeTrackingFinalizer(ctx, pod)) withFinalizer.delete(pod.metadata.uid!);
      } catch (e) {
        releaseError ??= e;
      }
    }),
  );
  countUncounted(status, withFinalizer);
  if (releaseError) {
    await flush();
    throw releaseError;
  }

  const done = !capped && finished !== undefined && uncountedCount(status) === 0 && p.terminating === 0;
  if (done && finished) {
    ensureCondition(status, finished.type, 'True', finished.reason ?? '', finished.message ?? '', p.now);
    if (finished.type === 'Complete') status.completionTime = findCondition(status, 'Complete')!.lastTransitionTime;
  }
  await flush();
  if (done && finished) await recordFinished(p, finished);
}

async function recordFinished(p: Pass, finished: JobCondition): Promise<void> {
  const { ctx, job, spec, status } = p;
  if (finished.type === 'Complete') {
    if (spec.completions != null && (status.succeeded ?? 0) > spec.completions) {
      await ctx.events.record(asJob(job), 'Warning', 'TooManySucceededPods', 'Too many succeeded pods running after completion count reached');
    }
    await ctx.events.record(asJob(job), 'Normal', 'Completed', 'Job completed');
  } else {
    await ctx.events.record(asJob(job), 'Warning', finished.reason ?? '', finished.message ?? '');
  }
}

/** Zero counters and empty strings are left out, as Go's omitempty does (ready and terminating are pointers and stay). */
function omitEmpty(status: JobStatus): void {
  for (const key of ['active', 'succeeded', 'failed'] as const) if (status[key] === 0) delete status[key];
  if (status.completedIndexes === '') delete status.completedIndexes;
  if (status.conditions && !status.conditions.length) delete status.conditions;
}

const asJob = (job: KubeObject): KubeObject => ({ ...job, apiVersion: 'batch/v1', kind: 'Job' });
const rfc = (d: Date): string => d.toISOString().replace(/\.\d{3}Z$/, 'Z');
