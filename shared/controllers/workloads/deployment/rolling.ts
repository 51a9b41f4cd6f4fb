// The RollingUpdate strategy: grow the new ReplicaSet while the total stays within
// spec.replicas + maxSurge, shrink old ones while availability stays above
// spec.replicas - maxUnavailable (unhealthy old replicas go first), one step per sync.
import { deploymentComplete } from './conditions.js';
import { maxUnavailable, newRSNewReplicas } from './fenceposts.js';
import { deploymentReplicas, rsReplicas, type ReplicaSet } from './model.js';
import { availableReplicaCount, byCreation, filterActive, specReplicaCount } from './replicasets.js';
import type { DeploymentSync } from './sync.js';

/** One rolling step; returns when to re-check the progress deadline, if due. */
export async function rolloutRolling(s: DeploymentSync): Promise<number | undefined> {
  const { newRS: created, oldRSs } = await s.newAndOld(true);
  const newRS = created!;
  const all = (): ReplicaSet[] => [...oldRSs.map((rs) => s.fresh(rs)), s.fresh(newRS)];

  if (await reconcileNewReplicaSet(s, all(), s.fresh(newRS))) return s.syncRolloutStatus(all(), newRS);
  if (await reconcileOldReplicaSets(s, all(), filterActive(oldRSs.map((rs) => s.fresh(rs))), s.fresh(newRS))) return s.syncRolloutStatus(all(), newRS);
  if (deploymentComplete(s.d, s.d.status ?? {})) await s.cleanup(oldRSs);
  return s.syncRolloutStatus(all(), newRS);
}

async function reconcileNewReplicaSet(s: DeploymentSync, allRSs: ReplicaSet[], newRS: ReplicaSet): Promise<boolean> {
  const replicas = deploymentReplicas(s.d);
  if (rsReplicas(newRS) === replicas) return false;
  if (rsReplicas(newRS) > replicas) return (await s.scaleAndRecord(newRS, replicas)).scaled;
  return (await s.scaleAndRecord(newRS, newRSNewReplicas(s.d, allRSs, newRS))).scaled;
}

async function reconcileOldReplicaSets(s: DeploymentSync, allRSs: ReplicaSet[], oldRSs: ReplicaSet[], newRS: ReplicaSet): Promise<boolean> {
  if (specReplicaCount(oldRSs) === 0) return false;
  const minAvailable = deploymentReplicas(s.d) - maxUnavailable(s.d);
  const newRSUnavailable = rsReplicas(newRS) - (newRS.status?.availableReplicas ?? 0);
  // Unavailable new pods count against the budget, so a broken new template cannot drain the old pods.
  const maxScaledDown = specReplicaCount(allRSs) - minAvailable - newRSUnavailable;
  if (maxScaledDown <= 0) return false;

  const cleaned = await cleanupUnhealthyReplicas(s, oldRSs, maxScaledDown);
  const scaledDown = await scaleDownOldReplicaSets(s, [...cleaned.oldRSs, newRS], cleaned.oldRSs);
  return cleaned.count + scaledDown > 0;
}

/** Scales old ReplicaSets down by their unavailable replicas first: removing those costs no availability. */
async function cleanupUnhealthyReplicas(s: DeploymentSync, oldRSs: ReplicaSet[], maxCleanup: number): Promise<{ oldRSs: ReplicaSet[]; count: number }> {
  const sorted = [...oldRSs].sort(byCreation);
  let total = 0;
  for (let i = 0; i < sorted.length; i++) {
    if (total >= maxCleanup) break;
    const rs = sorted[i];
    const available = rs.status?.availableReplicas ?? 0;
    if (rsReplicas(rs) === 0 || rsReplicas(rs) === available) continue;
    const count = Math.min(maxCleanup - total, rsReplicas(rs) - available);
    const target = rsReplicas(rs) - count;
    if (target > rsReplicas(rs)) throw new Error(`when cleaning up unhealthy replicas, got invalid request to scale down ${rs.metadata.namespace}/${rs.metadata.name} ${rsReplicas(rs)} -> ${target}`);
    sorted[i] = (await s.scaleAndRecord(rs, target)).rs;
    total += count;
  }
  return { oldRSs: sorted, count: total };
}

/** Scales the oldest ReplicaSets down by what availability above the minimum allows. */
async function scaleDownOldReplicaSets(s: DeploymentSync, allRSs: ReplicaSet[], oldRSs: ReplicaSet[]): Promise<number> {
  const minAvailable = deploymentReplicas(s.d) - maxUnavailable(s.d);
  const available = availableReplicaCount(allRSs);
  if (available <= minAvailable) return 0;
  const budget = available - minAvailable;
  let total = 0;
  for (const rs of [...oldRSs].sort(byCreation)) {
    if (total >= budget) break;
    if (rsReplicas(rs) === 0) continue;
    const count = Math.min(rsReplicas(rs), budget - total);
    const target = rsReplicas(rs) - count;
    if (target > rsReplicas(rs)) throw new Error(`when scaling down old RS, got invalid request to scale down ${rs.metadata.namespace}/${rs.metadata.name} ${rsReplicas(rs)} -> ${target}`);
    await s.scaleAndRecord(rs, target);
    total += count;
  }
  return total;
}
