// Orderings, filters and sums over a Deployment's ReplicaSets, and how the new ReplicaSet (the
// one running the current template) is told apart from the old ones.
import { equalIgnoreHash } from './hash.js';
import { rsReplicas, timeOf, type Deployment, type ReplicaSet } from './model.js';
import { revisionOf } from './revisions.js';

/** Older first; the name breaks ties (creation times have second precision). */
export function byCreation(a: ReplicaSet, b: ReplicaSet): number {
  const ta = timeOf(a.metadata.creationTimestamp);
  const tb = timeOf(b.metadata.creationTimestamp);
  if (ta !== tb) return ta - tb;
  const na = a.metadata.name ?? '';
  const nb = b.metadata.name ?? '';
  return na < nb ? -1 : na > nb ? 1 : 0;
}

/** Lower revision first; creation order when revisions tie or cannot be read. */
export function byRevision(a: ReplicaSet, b: ReplicaSet): number {
  const ra = revisionOf(a);
  const rb = revisionOf(b);
  if (ra === undefined || rb === undefined || ra === rb) return byCreation(a, b);
  return ra - rb;
}

/** Larger first, older first among equal sizes (ReplicaSetsBySizeOlder). */
export function bySizeOlder(a: ReplicaSet, b: ReplicaSet): number {
  if (rsReplicas(a) !== rsReplicas(b)) return rsReplicas(b) - rsReplicas(a);
  return byCreation(a, b);
}

/** Larger first, newer first among equal sizes (ReplicaSetsBySizeNewer). */
export function bySizeNewer(a: ReplicaSet, b: ReplicaSet): number {
  if (rsReplicas(a) !== rsReplicas(b)) return rsReplicas(b) - rsReplicas(a);
  return byCreation(b, a);
}

/** ReplicaSets that have (or ought to have) pods. */
export const filterActive = (sets: readonly (ReplicaSet | undefined)[]): ReplicaSet[] => sets.filter((rs): rs is ReplicaSet => !!rs && rsReplicas(rs) > 0);

const sum = (sets: readonly (ReplicaSet | undefined)[], f: (rs: ReplicaSet) => number): number => sets.reduce((n, rs) => n + (rs ? f(rs) : 0), 0);

/** Sum of spec.replicas. */
export const specReplicaCount = (sets: readonly (ReplicaSet | undefined)[]): number => sum(sets, rsReplicas);
/** Sum of status.replicas. */
export const actualReplicaCount = (sets: readonly (ReplicaSet | undefined)[]): number => sum(sets, (rs) => rs.status?.replicas ?? 0);
export const readyReplicaCount = (sets: readonly (ReplicaSet | undefined)[]): number => sum(sets, (rs) => rs.status?.readyReplicas ?? 0);
export const availableReplicaCount = (sets: readonly (ReplicaSet | undefined)[]): number => sum(sets, (rs) => rs.status?.availableReplicas ?? 0);

/** The oldest ReplicaSet whose template equals the Deployment's (ignoring the hash label). */
export function findNewReplicaSet(d: Deployment, sets: readonly ReplicaSet[]): ReplicaSet | undefined {
  return [...sets].sort(byCreation).find((rs) => equalIgnoreHash(rs.spec.template, d.spec.template));
}

/** Every ReplicaSet but the new one. */
export function findOldReplicaSets(d: Deployment, sets: readonly ReplicaSet[]): ReplicaSet[] {
  const newRS = findNewReplicaSet(d, sets);
  return sets.filter((rs) => !newRS || rs.metadata.uid !== newRS.metadata.uid);
}

/**
 * The only active ReplicaSet, or the newest one when none is active; undefined when several are
 * active (then they must be scaled proportionally).
 */
export function findActiveOrLatest(newRS: ReplicaSet | undefined, oldRSs: readonly ReplicaSet[]): ReplicaSet | undefined {
  if (!newRS && !oldRSs.length) return undefined;
  const newestFirst = [...oldRSs].sort((a, b) => byCreation(b, a));
  const active = filterActive([...newestFirst, newRS]);
  if (active.length === 0) return newRS ?? newestFirst[0];
  if (active.length === 1) return active[0];
  return undefined;
}
