// The Job API as the controller reads and writes it: spec and status shapes, conditions (with
// Kubernetes' types, reasons and messages) and the status counters fed by uncountedTerminatedPods.
import type { KubeObject } from '../../api/kind.js';
import { rfc3339 } from '../../apiserver/metadata.js';

export interface JobSpec {
  parallelism?: number;
  completions?: number;
  activeDeadlineSeconds?: number;
  backoffLimit?: number;
  completionMode?: string;
  suspend?: boolean;
  podReplacementPolicy?: string;
  podFailurePolicy?: unknown;
  managedBy?: string;
  ttlSecondsAfterFinished?: number;
  template?: { metadata?: Record<string, unknown>; spec?: { restartPolicy?: string } & Record<string, unknown> };
}

export interface JobCondition {
  type: string;
  status: string;
  lastProbeTime?: string;
  lastTransitionTime?: string;
  reason?: string;
  message?: string;
}

export interface JobStatus {
  conditions?: JobCondition[];
  startTime?: string;
  completionTime?: string;
  active?: number;
  succeeded?: number;
  failed?: number;
  terminating?: number;
  ready?: number;
  completedIndexes?: string;
  failedIndexes?: string;
  uncountedTerminatedPods?: { succeeded?: string[]; failed?: string[] };
}

export const specOf = (job: KubeObject): JobSpec => (job.spec as JobSpec | undefined) ?? {};
export const statusOf = (job: KubeObject): JobStatus => (job.status as JobStatus | undefined) ?? {};

export const BUILTIN_MANAGER = 'kubernetes.io/job-controller';

export const REASON_BACKOFF_LIMIT = 'BackoffLimitExceeded';
export const MESSAGE_BACKOFF_LIMIT = 'Job has reached the specified backoff limit';
export const REASON_DEADLINE = 'DeadlineExceeded';
export const MESSAGE_DEADLINE = 'Job was active longer than specified deadline';
export const REASON_COMPLETIONS = 'CompletionsReached';
export const MESSAGE_COMPLETIONS = 'Reached expected number of succeeded pods';

export function findCondition(status: JobStatus, type: string): JobCondition | undefined {
  return status.conditions?.find((c) => c.type === type);
}

const isTrue = (status: JobStatus, type: string): boolean => findCondition(status, type)?.status === 'True';

/** The Complete or Failed condition type when the Job has finished. */
export function finishedType(job: KubeObject): 'Complete' | 'Failed' | undefined {
  for (const c of statusOf(job).conditions ?? []) {
    if ((c.type === 'Complete' || c.type === 'Failed') && c.status === 'True') return c.type;
  }
  return undefined;
}

export const isFinished = (job: KubeObject): boolean => finishedType(job) !== undefined;
export const hasSuccessCriteriaMet = (status: JobStatus): boolean => isTrue(status, 'SuccessCriteriaMet');

export function newCondition(type: string, reason: string, message: string, now: Date, status = 'True'): JobCondition {
  const at = rfc3339(now);
  return { type, status, lastProbeTime: at, lastTransitionTime: at, reason, message };
}

/**
 * Sets a condition of `type` to status/reason/message (a fresh condition, times now) unless it
 * already reads so. A missing condition is not added as False. Returns whether anything changed.
 */
export function ensureCondition(status: JobStatus, type: string, value: string, reason: string, message: string, now: Date): boolean {
  const list = (status.conditions ??= []);
  const i = list.findIndex((c) => c.type === type);
  if (i >= 0) {
    const c = list[i];
    if (c.status === value && (c.reason ?? '') === reason && (c.message ?? '') === message) return false;
    list[i] = newCondition(type, reason, message, now, value);
    return true;
  }
  if (value === 'False') return false;
  list.push(newCondition(type, reason, message, now, value));
  return true;
}

/**
 * Moves pods out of uncountedTerminatedPods once their finalizer is gone (the controller removed
 * it, or the pod no longer exists), adding them to the succeeded/failed counters.
 */
export function countUncounted(status: JobStatus, uidsWithFinalizer: ReadonlySet<string>): boolean {
  const uncounted = (status.uncountedTerminatedPods ??= {});
  let changed = false;
  for (const key of ['succeeded', 'failed'] as const) {
    const list = uncounted[key] ?? [];
    const still = list.filter((uid) => uidsWithFinalizer.has(uid));
    if (still.length !== list.length) {
      changed = true;
      status[key] = (status[key] ?? 0) + list.length - still.length;
    }
    if (still.length) uncounted[key] = still;
    else delete uncounted[key];
  }
  return changed;
}

export function uncountedCount(status: JobStatus): number {
  return (status.uncountedTerminatedPods?.succeeded?.length ?? 0) + (status.uncountedTerminatedPods?.failed?.length ?? 0);
}
