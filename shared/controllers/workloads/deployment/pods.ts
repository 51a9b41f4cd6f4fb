// Pod facts the workload controllers count by (active, ready, available after minReadySeconds)
// and the order in which a ReplicaSet picks surplus pods to delete (ActivePodsWithRanks with
// LogarithmicScaleDown and PodDeletionCost, both on by default in Kubernetes 1.27..1.33).
import { POD_DELETION_COST_ANNOTATION, timeOf, type Pod } from './model.js';

/** Not finished (Succeeded/Failed) and not being deleted. */
export const isPodActive = (p: Pod): boolean => p.status?.phase !== 'Succeeded' && p.status?.phase !== 'Failed' && !p.metadata.deletionTimestamp;

const readyCondition = (p: Pod) => p.status?.conditions?.find((c) => c.type === 'Ready');

export const isPodReady = (p: Pod): boolean => readyCondition(p)?.status === 'True';

/** Ready for longer than minReadySeconds (at once when minReadySeconds is 0). */
export function isPodAvailable(p: Pod, minReadySeconds: number, now: Date): boolean {
  if (!isPodReady(p)) return false;
  if (!minReadySeconds) return true;
  const since = timeOf(readyCondition(p)?.lastTransitionTime);
  return since !== 0 && since + minReadySeconds * 1000 < now.getTime();
}

/** Milliseconds until a ready pod becomes available; undefined when it is not ready or already available. */
export function msUntilAvailable(p: Pod, minReadySeconds: number, now: Date): number | undefined {
  if (!isPodReady(p) || isPodAvailable(p, minReadySeconds, now)) return undefined;
  const since = timeOf(readyCondition(p)?.lastTransitionTime);
  if (!since) return undefined;
  return Math.max(0, since + minReadySeconds * 1000 - now.getTime()) + 1;
}

const PHASE_ORDINAL: Record<string, number> = { Pending: 0, Unknown: 1, Running: 2 };
const phaseOrdinal = (p: Pod): number => PHASE_ORDINAL[p.status?.phase ?? ''] ?? 0;

function deletionCost(p: Pod): number {
  const v = p.metadata.annotations?.[POD_DELETION_COST_ANNOTATION];
  if (v === undefined || !/^[+-]?\d+$/.test(v)) return 0;
  const n = Number(v);
  return n >= -2147483648 && n <= 2147483647 ? n : 0;
}

const maxRestarts = (p: Pod): number => Math.max(0, ...(p.status?.containerStatuses ?? []).map((c) => c.restartCount ?? 0));

const readyTime = (p: Pod): number => (isPodReady(p) ? timeOf(readyCondition(p)?.lastTransitionTime) : 0);

/** Later first; a zero (unknown) time counts as the latest of all. */
function afterOrZeroFirst(t1: number, t2: number): number {
  if (t1 === 0 || t2 === 0) return t1 === 0 ? -1 : 1;
  return t2 - t1;
}

/** floor(log2(age in nanoseconds)), -1 for no age: pods in the same bucket count as equally old. */
function logRank(t: number, now: number): number {
  const ageNs = (now - t) * 1e6;
  return ageNs > 0 ? Math.floor(Math.log2(ageNs)) : -1;
}

/** Compares two timestamps for deletion preference: newer first, by logarithmic age buckets, uid as the tie breaker. */
function compareTimes(a: Pod, b: Pod, ta: number, tb: number, now: number): number {
  if (ta === 0 || tb === 0) return afterOrZeroFirst(ta, tb);
  const diff = logRank(ta, now) - logRank(tb, now);
  if (diff !== 0) return diff;
  const ua = a.metadata.uid ?? '';
  const ub = b.metadata.uid ?? '';
  return ua < ub ? -1 : ua > ub ? 1 : 0;
}

/**
 * Sorts `pods` so the ones to delete first come first: unscheduled, then pending < unknown <
 * running, not ready, lower deletion cost, more pods of the same owner on its node, ready for
 * less time, more container restarts, created more recently. `rank` is the number of related
 * active pods on each pod's node.
 */
export function sortForDeletion(pods: Pod[], rank: (p: Pod) => number, now: Date): Pod[] {
  const n = now.getTime();
  const cmp = (a: Pod, b: Pod): number => {
    const na = a.spec?.nodeName ?? '';
    const nb = b.spec?.nodeName ?? '';
    if (na !== nb && (!na || !nb)) return !na ? -1 : 1;
    if (phaseOrdinal(a) !== phaseOrdinal(b)) return phaseOrdinal(a) - phaseOrdinal(b);
    if (isPodReady(a) !== isPodReady(b)) return isPodReady(a) ? 1 : -1;
    if (deletionCost(a) !== deletionCost(b)) return deletionCost(a) - deletionCost(b);
    if (rank(a) !== rank(b)) return rank(b) - rank(a);
    if (isPodReady(a) && isPodReady(b)) {
      const ra = readyTime(a);
      const rb = readyTime(b);
      if (ra !== rb) {
        const c = compareTimes(a, b, ra, rb, n);
        if (c !== 0) return c;
      }
    }
    if (maxRestarts(a) !== maxRestarts(b)) return maxRestarts(b) - maxRestarts(a);
    const ca = timeOf(a.metadata.creationTimestamp);
    const cb = timeOf(b.metadata.creationTimestamp);
    if (ca !== cb) return compareTimes(a, b, ca, cb, n);
    return 0;
  };
  return pods.sort(cmp);
}
