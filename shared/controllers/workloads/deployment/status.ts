// A Deployment's status as Kubernetes computes it from its ReplicaSets: counters, the Available
// condition, the Progressing condition during a rollout (created / progressing / complete /
// deadline exceeded), ReplicaFailure promoted from the ReplicaSets, and when to look again for
// a progress-deadline check.
import {
  AVAILABLE,
  deploymentComplete,
  deploymentProgressing,
  deploymentTimedOut,
  getCondition,
  hasProgressDeadline,
  newCondition,
  PROGRESSING,
  Reasons,
  removeCondition,
  REPLICA_FAILURE,
  setCondition,
} from './conditions.js';
import { maxUnavailable } from './fenceposts.js';
import { deploymentReplicas, timeOf, withoutZeros, type Condition, type Deployment, type DeploymentStatus, type ReplicaSet } from './model.js';
import { actualReplicaCount, availableReplicaCount, readyReplicaCount, specReplicaCount } from './replicasets.js';

/** Status in the shape Kubernetes serializes it: zero counters omitted, collisionCount kept once set. */
export const normalizeStatus = (s: DeploymentStatus): DeploymentStatus => withoutZeros(s, ['collisionCount']);

/** calculateStatus: counters from the ReplicaSets, existing conditions kept, Available recomputed. */
export function calculateStatus(allRSs: readonly (ReplicaSet | undefined)[], newRS: ReplicaSet | undefined, d: Deployment, now: Date): DeploymentStatus {
  const available = availableReplicaCount(allRSs);
  const total = specReplicaCount(allRSs);
  const status: DeploymentStatus = {
    observedGeneration: d.metadata.generation ?? 0,
    replicas: actualReplicaCount(allRSs),
    updatedReplicas: actualReplicaCount([newRS]),
    readyReplicas: readyReplicaCount(allRSs),
    availableReplicas: available,
    unavailableReplicas: Math.max(0, total - available),
    conditions: (d.status?.conditions ?? []).map((c) => ({ ...c })),
  };
  if (d.status?.collisionCount !== undefined) status.collisionCount = d.status.collisionCount;
  if (available >= deploymentReplicas(d) - maxUnavailable(d)) {
    setCondition(status, newCondition(AVAILABLE, 'True', Reasons.minimumReplicasAvailable, 'Deployment has minimum availability.', now));
  } else {
    setCondition(status, newCondition(AVAILABLE, 'False', Reasons.minimumReplicasUnavailable, 'Deployment does not have minimum availability.', now));
  }
  return status;
}

function toDeploymentCondition(c: Condition): Condition {
  return { type: c.type, status: c.status, lastUpdateTime: c.lastTransitionTime, lastTransitionTime: c.lastTransitionTime, reason: c.reason, message: c.message };
}

/** ReplicaFailure conditions of the new ReplicaSet, else of any ReplicaSet. */
function replicaFailures(allRSs: readonly (ReplicaSet | undefined)[], newRS: ReplicaSet | undefined): Condition[] {
  const fromNew = (newRS?.status?.conditions ?? []).filter((c) => c.type === REPLICA_FAILURE).map(toDeploymentCondition);
  if (fromNew.length) return fromNew;
  return allRSs.flatMap((rs) => (rs?.status?.conditions ?? []).filter((c) => c.type === REPLICA_FAILURE).map(toDeploymentCondition));
}

/** syncRolloutStatus's computation: the status to write during a rollout. */
export function rolloutStatus(allRSs: readonly (ReplicaSet | undefined)[], newRS: ReplicaSet | undefined, d: Deployment, now: Date): DeploymentStatus {
  const status = calculateStatus(allRSs, newRS, d, now);
  if (!hasProgressDeadline(d)) removeCondition(status, PROGRESSING);

  const current = getCondition(d.status, PROGRESSING);
  const alreadyComplete = (status.replicas ?? 0) === (status.updatedReplicas ?? 0) && current?.reason === Reasons.newRSAvailable;
  if (hasProgressDeadline(d) && !alreadyComplete) {
    const subject = newRS ? `ReplicaSet "${newRS.metadata.name}"` : `Deployment "${d.metadata.name}"`;
    if (deploymentComplete(d, status)) {
      setCondition(status, newCondition(PROGRESSING, 'True', Reasons.newRSAvailable, `${subject} has successfully progressed.`, now));
    } else if (deploymentProgressing(d, status)) {
      // Unlike other conditions, Progressing is refreshed (lastUpdateTime) on every sign of progress.
      const cond = newCondition(PROGRESSING, 'True', Reasons.replicaSetUpdated, `${subject} is progressing.`, now);
      if (current) {
        if (current.status === 'True') cond.lastTransitionTime = current.lastTransitionTime;
        removeCondition(status, PROGRESSING);
      }
      setCondition(status, cond);
    } else if (deploymentTimedOut(d, status, now)) {
      setCondition(status, newCondition(PROGRESSING, 'False', Reasons.timedOut, `${subject} has timed out progressing.`, now));
    }
  }

  const failures = replicaFailures(allRSs, newRS);
  if (failures.length) setCondition(status, failures[0]);
  else removeCondition(status, REPLICA_FAILURE);
  return status;
}

/**
 * requeueStuckDeployment: milliseconds until the progress deadline of a rollout that shows no
 * progress should be checked again; undefined when no check is due.
 */
export function progressCheckDelay(d: Deployment, status: DeploymentStatus, now: Date): number | undefined {
  const current = getCondition(d.status, PROGRESSING);
  if (!hasProgressDeadline(d) || !current) return undefined;
  if (deploymentComplete(d, status) || current.reason === Reasons.timedOut) return undefined;
  const after = timeOf(current.lastUpdateTime) + d.spec.progressDeadlineSeconds! * 1000 - now.getTime();
  // The deadline is checked with a strict "before": look just after it passes (timestamps have second precision).
  return after < 1000 ? Math.max(after, 0) + 50 : after + 1000;
}
