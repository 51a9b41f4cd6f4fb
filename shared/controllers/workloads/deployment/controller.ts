// The Deployment controller (kube-controller-manager's "deployment-controller"): claims the
// ReplicaSets a Deployment selects and drives them through rollouts, scaling, pause and history
// cleanup, keeping the Deployment's revision annotation and status current. ReplicaSet changes
// (including their status, i.e. pods becoming ready) wake the owning Deployment; pod changes wake
// Recreate Deployments, which wait for old pods to be gone.
import type { KubeObject } from '../../../api/kind.js';
import { controllerOf } from '../../runtime/mappers.js';
import type { ObjectReader } from '../../runtime/reader.js';
import type { ControllerContext, ControllerDef, ObjectRef } from '../../runtime/types.js';
import { isRecreate } from './fenceposts.js';
import { isEmptySelector, selectorMatches, type Deployment, type Pod, type ReplicaSet } from './model.js';
import { claimObjects } from './ownership.js';
import { rolloutRecreate, type PodMap } from './recreate.js';
import { rolloutRolling } from './rolling.js';
import { DeploymentSync } from './sync.js';

const DEPLOYMENTS = 'apps/deployments';
const REPLICASETS = 'apps/replicasets';
const PODS = 'core/pods';

const deploymentRef = (namespace: string | undefined, name: string): ObjectRef => ({ resource: DEPLOYMENTS, ...(namespace ? { namespace } : {}), name });

/** A ReplicaSet wakes its controlling Deployment; an orphan wakes every Deployment selecting it (which may adopt it). */
async function replicaSetToDeployments(obj: KubeObject, reader: ObjectReader): Promise<ObjectRef[]> {
  const owner = controllerOf(obj);
  if (owner) return owner.kind === 'Deployment' ? [deploymentRef(obj.metadata.namespace, owner.name)] : [];
  const deployments = (await reader.list(DEPLOYMENTS, { namespace: obj.metadata.namespace })) as Deployment[];
  return deployments
    .filter((d) => !isEmptySelector(d.spec?.selector) && selectorMatches(d.spec?.selector, obj.metadata.labels))
    .map((d) => deploymentRef(d.metadata.namespace, d.metadata.name!));
}

/** A pod wakes the Recreate Deployment owning its ReplicaSet (Recreate waits for old pods to go). */
async function podToRecreateDeployment(obj: KubeObject, reader: ObjectReader): Promise<ObjectRef[]> {
  const rsOwner = controllerOf(obj, 'ReplicaSet');
  if (!rsOwner) return [];
  const rs = await reader.get(REPLICASETS, obj.metadata.namespace, rsOwner.name);
  const dOwner = rs && controllerOf(rs, 'Deployment');
  if (!dOwner) return [];
  const d = (await reader.get(DEPLOYMENTS, obj.metadata.namespace, dOwner.name)) as Deployment | undefined;
  return d && isRecreate(d) ? [deploymentRef(obj.metadata.namespace, dOwner.name)] : [];
}

async function podMapFor(reader: ObjectReader, d: Deployment, rsList: readonly ReplicaSet[]): Promise<PodMap> {
  const map: PodMap = new Map(rsList.map((rs) => [rs.metadata.uid!, [] as Pod[]]));
  const pods = (await reader.list(PODS, { namespace: d.metadata.namespace })) as Pod[];
  for (const pod of pods) {
    if (!selectorMatches(d.spec.selector, pod.metadata.labels)) continue;
    const owner = controllerOf(pod);
    if (owner && map.has(owner.uid)) map.get(owner.uid)!.push(pod);
  }
  return map;
}

function setup(ctx: ControllerContext) {
  const events = ctx.events.forComponent('deployment-controller');
  return async (ref: ObjectRef) => {
    const stored = (await ctx.reader.get(DEPLOYMENTS, ref.namespace, ref.name)) as Deployment | undefined;
    if (!stored) return;

    if (isEmptySelector(stored.spec.selector)) {
      const d = { ...structuredClone(stored), apiVersion: 'apps/v1', kind: 'Deployment' };
      await events.record(d, 'Warning', 'SelectingAll', 'This deployment is selecting all pods. A non-empty selector is required.');
      if ((d.status?.observedGeneration ?? 0) < (d.metadata.generation ?? 0)) {
        await ctx.client.updateStatus(DEPLOYMENTS, { ...d, status: { ...d.status, observedGeneration: d.metadata.generation } });
      }
      return;
    }

    const candidates = (await ctx.reader.list(REPLICASETS, { namespace: stored.metadata.namespace })) as ReplicaSet[];
    const rsList = await claimObjects(ctx.client, ctx.reader, { obj: stored, resource: DEPLOYMENTS, apiVersion: 'apps/v1', kind: 'Deployment' }, REPLICASETS, candidates, (rs) =>
      selectorMatches(stored.spec.selector, rs.metadata.labels),
    );
    const s = new DeploymentSync(ctx, events, stored, rsList);

    if (stored.metadata.deletionTimestamp) {
      await s.syncStatusOnly();
      return;
    }
    await s.checkPausedConditions();
    if (s.d.spec.paused) {
      await s.sync();
      return;
    }
    if (await s.isScalingEvent()) {
      await s.sync();
      return;
    }
    const delay = isRecreate(s.d) ? await rolloutRecreate(s, await podMapFor(ctx.reader, s.d, s.replicaSets)) : await rolloutRolling(s);
    return delay !== undefined ? { requeueAfter: delay } : undefined;
  };
}

/** The Deployment controller as a ControllerDef. */
export function createDeploymentController(opts: { workers?: number } = {}): ControllerDef {
  return {
    name: 'deployment',
    resources: [DEPLOYMENTS],
    watches: [
      { resource: REPLICASETS, map: replicaSetToDeployments },
      { resource: PODS, map: podToRecreateDeployment },
    ],
    workers: opts.workers ?? 4,
    setup,
  };
}

export const deploymentController: ControllerDef = createDeploymentController();
