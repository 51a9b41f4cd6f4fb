// PodDisruptionBudget helpers shared by the eviction subresource and the disruption controller:
// which pods a budget selects, pod readiness, and the DisruptionAllowed condition.
import type { KubeObject } from '../api/kind.js';
import { labelSelectorFromStruct, matchesLabels, type LabelSelector, type MetaLabelSelector } from '../api/selectors/labels.js';
import { rfc3339 } from './metadata.js';

export const DISRUPTION_ALLOWED_CONDITION = 'DisruptionAllowed';
export const SUFFICIENT_PODS_REASON = 'SufficientPods';
export const INSUFFICIENT_PODS_REASON = 'InsufficientPods';
export const SYNC_FAILED_REASON = 'SyncFailed';

export interface Condition {
  type: string;
  status: string;
  observedGeneration?: number;
  lastTransitionTime: string;
  reason: string;
  message: string;
}

export interface PdbStatus {
  observedGeneration?: number;
  disruptedPods?: Record<string, string>;
  disruptionsAllowed?: number;
  currentHealthy?: number;
  desiredHealthy?: number;
  expectedPods?: number;
  conditions?: Condition[];
}

export interface PdbSpec {
  minAvailable?: number | string;
  maxUnavailable?: number | string;
  selector?: MetaLabelSelector | null;
  unhealthyPodEvictionPolicy?: string;
}

export const pdbSpec = (pdb: KubeObject): PdbSpec => (pdb.spec ?? {}) as PdbSpec;
export const pdbStatus = (pdb: KubeObject): PdbStatus => (pdb.status ?? {}) as PdbStatus;

/** The budget's selector as policy/v1 reads it: absent selects nothing, empty selects every pod. Throws when invalid. */
export function pdbSelector(pdb: KubeObject): LabelSelector {
  return labelSelectorFromStruct(pdbSpec(pdb).selector);
}

/** Does this budget cover the pod? An invalid selector covers nothing (the eviction subresource and the controller agree). */
export function budgetCoversPod(pdb: KubeObject, pod: KubeObject): boolean {
  if (pdb.metadata.namespace !== pod.metadata.namespace) return false;
  try {
    return matchesLabels(pdbSelector(pdb), pod.metadata.labels);
  } catch {
    return false;
  }
}

export interface PodCondition {
  type: string;
  status: string;
  lastProbeTime?: string | null;
  lastTransitionTime?: string;
  reason?: string;
  message?: string;
}

/**
 * UpdatePodCondition: set a pod condition, keeping its transition time when the status stays.
 * Reason and message are replaced (empty ones dropped).
 */
export function updatePodCondition(conditions: PodCondition[], wanted: { type: string; status: string; reason?: string; message?: string }, now: Date): PodCondition[] {
  const existing = conditions.find((c) => c.type === wanted.type);
  const next: PodCondition = {
    type: wanted.type,
    status: wanted.status,
    lastProbeTime: null,
    lastTransitionTime: existing && existing.status === wanted.status ? existing.lastTransitionTime : rfc3339(now),
  };
  if (wanted.reason) next.reason = wanted.reason;
  if (wanted.message) next.message = wanted.message;
  if (!existing) return [...conditions, next];
  return conditions.map((c) => (c === existing ? next : c));
}

/** IsPodReady: the Ready condition is True. */
export function isPodReady(pod: KubeObject): boolean {
  const conditions = (pod.status as { conditions?: { type?: string; status?: string }[] } | undefined)?.conditions ?? [];
  return conditions.some((c) => c.type === 'Ready' && c.status === 'True');
}

/** meta.SetStatusCondition: add or update a condition; the transition time moves only when the status changes. */
export function setStatusCondition(conditions: Condition[], wanted: Omit<Condition, 'lastTransitionTime'>, now: Date): Condition[] {
  // observedGeneration 0 is left out, as Go's omitempty does.
  const withGeneration = (c: Condition): Condition => {
    const { observedGeneration: _dropped, ...rest } = c;
    return wanted.observedGeneration ? { ...rest, observedGeneration: wanted.observedGeneration } : rest;
  };
  const existing = conditions.find((c) => c.type === wanted.type);
  if (!existing) {
    return [...conditions, withGeneration({ type: wanted.type, status: wanted.status, lastTransitionTime: rfc3339(now), reason: wanted.reason, message: wanted.message })];
  }
  return conditions.map((c) => {
    if (c !== existing) return c;
    const next: Condition = { ...c, reason: wanted.reason, message: wanted.message };
    if (c.status !== wanted.status) {
      next.status = wanted.status;
      next.lastTransitionTime = rfc3339(now);
    }
    return withGeneration(next);
  });
}

/** UpdateDisruptionAllowedCondition: True/SufficientPods while evictions are allowed, else False/InsufficientPods. */
export function updateDisruptionAllowedCondition(status: PdbStatus, now: Date): void {
  const allowed = (status.disruptionsAllowed ?? 0) > 0;
  status.conditions = setStatusCondition(
    status.conditions ?? [],
    {
      type: DISRUPTION_ALLOWED_CONDITION,
      status: allowed ? 'True' : 'False',
      reason: allowed ? SUFFICIENT_PODS_REASON : INSUFFICIENT_PODS_REASON,
      message: '',
      observedGeneration: status.observedGeneration ?? 0,
    },
    now,
  );
}

/** ConditionsAreUpToDate: the DisruptionAllowed condition matches disruptionsAllowed for the current generation. */
export function conditionsAreUpToDate(pdb: KubeObject): boolean {
  const status = pdbStatus(pdb);
  const cond = status.conditions?.find((c) => c.type === DISRUPTION_ALLOWED_CONDITION);
  if (!cond) return false;
  if ((status.observedGeneration ?? 0) !== (pdb.metadata.generation ?? 0)) return false;
  if ((status.disruptionsAllowed ?? 0) > 0) return cond.status === 'True' && cond.reason === SUFFICIENT_PODS_REASON;
  return cond.status === 'False' && cond.reason === INSUFFICIENT_PODS_REASON;
}
