// The Recreate strategy: scale every old ReplicaSet to zero, wait until none of their pods is
// left running, then create (or reuse) the new ReplicaSet at full size.
import { deploymentComplete } from './conditions.js';
import { deploymentReplicas, type Pod } from './model.js';
import { actualReplicaCount, filterActive } from './replicasets.js';
import type { DeploymentSync } from './sync.js';

/** Pods of each ReplicaSet of the Deployment, by ReplicaSet uid (terminating pods included). */
export type PodMap = Map<string, Pod[]>;

/** One Recreate step; returns when to re-check the progress deadline, if due. */
export async function rolloutRecreate(s: DeploymentSync, podMap: PodMap): Promise<number | undefined> {
  let { newRS, oldRSs } = await s.newAndOld(false);
  const all = () => [...oldRSs.map((rs) => s.fresh(rs)), s.fresh(newRS)];

  let scaledDown = false;
  for (const rs of filterActive(oldRSs)) {
    if ((await s.scaleAndRecord(s.fresh(rs), 0)).scaled) scaledDown = true;
  }
  if (scaledDown) return s.syncRolloutStatus(all(), newRS);
  if (oldPodsRunning(newRS?.metadata.uid, oldRSs.map((rs) => s.fresh(rs)), podMap)) return s.syncRolloutStatus(all(), newRS);

  if (!newRS) ({ newRS, oldRSs } = await s.newAndOld(true));
  await s.scaleAndRecord(s.fresh(newRS!), deploymentReplicas(s.d));
  if (deploymentComplete(s.d, s.d.status ?? {})) await s.cleanup(oldRSs);
  return s.syncRolloutStatus(all(), newRS);
}

/** Old ReplicaSets still report pods, or some pod outside the new ReplicaSet has not finished. */
function oldPodsRunning(newUid: string | undefined, oldRSs: Parameters<typeof actualReplicaCount>[0], podMap: PodMap): boolean {
  if (actualReplicaCount(oldRSs) > 0) return true;
  for (const [uid, pods] of podMap) {
    if (uid === newUid) continue;
    if (pods.some((p) => p.status?.phase !== 'Failed' && p.status?.phase !== 'Succeeded')) return true;
  }
  return false;
}
