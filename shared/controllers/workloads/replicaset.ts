// The ReplicaSet controller (kube-controller-manager's "replicaset-controller"): keeps
// spec.replicas active pods matching the selector — adopting matching orphans, releasing pods
// that stopped matching, creating missing pods from the template in slow-start batches and
// deleting surplus pods in Kubernetes' preference order — and reports replicas,
// fullyLabeledReplicas, readyReplicas, availableReplicas and the ReplicaFailure condition.
import type { KubeObject } from '../../api/kind.js';
import { ApiError } from '../../apiserver/errors.js';
import { deepEqual, rfc3339 } from '../../apiserver/metadata.js';
import type { EventRecorder } from '../runtime/events.js';
import { controllerOf } from '../runtime/mappers.js';
import type { ObjectReader } from '../runtime/reader.js';
import type { ControllerContext, ControllerDef, ObjectRef } from '../runtime/types.js';
import { isEmptySelector, rsReplicas, selectorMatches, withoutZeros, type Condition, type Pod, type ReplicaSet, type ReplicaSetStatus } from './deployment/model.js';
import { claimObjects, ownerReferenceTo, type ClaimOwner } from './deployment/ownership.js';
import { isPodActive, isPodAvailable, isPodReady, msUntilAvailable, sortForDeletion } from './deployment/pods.js';

const REPLICASETS = 'apps/replicasets';
const PODS = 'core/pods';
const REPLICA_FAILURE = 'ReplicaFailure';

/** Most pods created or deleted in one sync (kube-controller-manager's burstReplicas). */
export const BURST_REPLICAS = 500;

export interface ReplicaSetControllerOptions {
  burstReplicas?: number;
  workers?: number;
}

const rsRef = (namespace: string | undefined, name: string): ObjectRef => ({ resource: REPLICASETS, ...(namespace ? { namespace } : {}), name });

/** A pod wakes its controlling ReplicaSet; an orphan wakes every ReplicaSet selecting it (which may adopt it). */
async function podToReplicaSets(obj: KubeObject, reader: ObjectReader): Promise<ObjectRef[]> {
  const owner = controllerOf(obj);
  if (owner) return owner.kind === 'ReplicaSet' ? [rsRef(obj.metadata.namespace, owner.name)] : [];
  const sets = (await reader.list(REPLICASETS, { namespace: obj.metadata.namespace })) as ReplicaSet[];
  return sets
    .filter((rs) => !isEmptySelector(rs.spec?.selector) && selectorMatches(rs.spec?.selector, obj.metadata.labels))
    .map((rs) => rsRef(rs.metadata.namespace, rs.metadata.name!));
}

const isNamespaceTerminating = (e: unknown): boolean =>
  e instanceof ApiError && !!e.status.details?.causes?.some((c) => c.reason === 'NamespaceTerminating');

const errorText = (e: unknown): string => (e instanceof Error ? e.message : String(e));

/** Runs `count` calls in batches of 1, 2, 4, ... and stops after the first batch with a failure. */
export async function slowStartBatch(count: number, fn: () => Promise<void>): Promise<{ successes: number; error?: unknown }> {
  let remaining = count;
  let successes = 0;
  for (let batch = Math.min(remaining, 1); batch > 0; batch = Math.min(2 * batch, remaining)) {
    const results = await Promise.allSettled(Array.from({ length: batch }, () => fn()));
    const failed = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    successes += batch - failed.length;
    if (failed.length) return { successes, error: failed[0].reason };
    remaining -= batch;
  }
  return { successes };
}

/** A pod as GetPodFromTemplate builds it: the template's labels, annotations, finalizers and spec, owned by the ReplicaSet. */
export function podFromTemplate(rs: ReplicaSet, owner: ClaimOwner): KubeObject {
  const template = rs.spec.template ?? {};
  const meta = template.metadata ?? {};
  const labels = { ...(meta.labels ?? {}) };
  if (!Object.keys(labels).length) throw new Error('unable to create pods, no labels');
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      generateName: `${rs.metadata.name}-`,
      namespace: rs.metadata.namespace,
      labels,
      ...(meta.annotations && Object.keys(meta.annotations).length ? { annotations: { ...meta.annotations } } : {}),
      ...(meta.finalizers?.length ? { finalizers: [...meta.finalizers] } : {}),
      ownerReferences: [ownerReferenceTo(owner)],
    },
    spec: structuredClone(template.spec ?? {}),
  };
}

/** All template labels are present on the pod with the same values. */
function fullyLabeled(pod: Pod, templateLabels: Record<string, string>): boolean {
  const labels = pod.metadata.labels ?? {};
  return Object.entries(templateLabels).every(([k, v]) => labels[k] === v);
}

class ReplicaSetSync {
  private readonly owner: ClaimOwner;

  constructor(
    private readonly ctx: ControllerContext,
    private readonly events: EventRecorder,
    private readonly rs: ReplicaSet,
    private readonly burst: number,
  ) {
    this.owner = { obj: rs, resource: REPLICASETS, apiVersion: 'apps/v1', kind: 'ReplicaSet' };
  }

  async run(): Promise<{ requeueAfter: number } | undefined> {
    const { ctx, rs } = this;
    const allPods = (await ctx.reader.list(PODS, { namespace: rs.metadata.namespace })) as Pod[];
    const active = allPods.filter(isPodActive);
    const pods = await claimObjects(ctx.client, ctx.reader, this.owner, PODS, active, (p) => selectorMatches(rs.spec.selector, p.metadata.labels));

    let manageError: unknown;
    if (!rs.metadata.deletionTimestamp) {
      try {
        await this.manageReplicas(pods, allPods);
      } catch (e) {
        manageError = e;
      }
    }
    const now = ctx.clock();
    await this.writeStatus(this.calculateStatus(pods, manageError, now));
    if (manageError !== undefined) throw manageError;

    // Look again when the next ready pod has been ready for minReadySeconds.
    const minReady = rs.spec.minReadySeconds ?? 0;
    if (!minReady) return undefined;
    const waits = pods.map((p) => msUntilAvailable(p, minReady, now)).filter((ms): ms is number => ms !== undefined);
    return waits.length ? { requeueAfter: Math.min(...waits) + 50 } : undefined;
  }

  private async manageReplicas(pods: Pod[], allPods: Pod[]): Promise<void> {
    const diff = pods.length - rsReplicas(this.rs);
    if (diff < 0) {
      const { error } = await slowStartBatch(Math.min(-diff, this.burst), () => this.createPod());
      if (error !== undefined) throw error;
    } else if (diff > 0) {
      const doomed = this.podsToDelete(pods, await this.relatedPods(allPods), Math.min(diff, this.burst));
      const results = await Promise.allSettled(doomed.map((p) => this.deletePod(p)));
      const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (failed) throw failed.reason;
    }
  }

  private async createPod(): Promise<void> {
    try {
      const created = await this.ctx.client.create(PODS, podFromTemplate(this.rs, this.owner));
      await this.events.record(this.rs, 'Normal', 'SuccessfulCreate', `Created pod: ${created.metadata.name}`);
    } catch (e) {
      // Nothing can be created in a terminating namespace: not a failure of this ReplicaSet.
      if (isNamespaceTerminating(e)) return;
      await this.events.record(this.rs, 'Warning', 'FailedCreate', `Error creating: ${errorText(e)}`);
      throw e;
    }
  }

  private async deletePod(pod: Pod): Promise<void> {
    const name = pod.metadata.name!;
    let deleted: KubeObject | undefined;
    try {
      deleted = await this.ctx.client.delete(PODS, pod.metadata.namespace, name);
    } catch (e) {
      await this.events.record(this.rs, 'Warning', 'FailedDelete', `Error deleting: ${errorText(e)}`);
      throw new Error(`unable to delete pods: ${errorText(e)}`);
    }
    if (deleted) await this.events.record(this.rs, 'Normal', 'SuccessfulDelete', `Deleted pod: ${name}`);
  }

  /** Pods of every ReplicaSet controlled by the same owner (a Deployment's other revisions), for node co-location ranks. */
  private async relatedPods(allPods: Pod[]): Promise<Pod[]> {
    const owner = controllerOf(this.rs);
    if (!owner) return [];
    const owned = (await this.ctx.reader.list(REPLICASETS, { namespace: this.rs.metadata.namespace, ownerUid: owner.uid })) as ReplicaSet[];
    const siblings = owned.filter((r) => controllerOf(r)?.uid === owner.uid);
    const seen = new Set<string>();
    const related: Pod[] = [];
    for (const sibling of siblings) {
      for (const pod of allPods) {
        if (seen.has(pod.metadata.uid!) || !selectorMatches(sibling.spec.selector, pod.metadata.labels)) continue;
        seen.add(pod.metadata.uid!);
        related.push(pod);
      }
    }
    return related;
  }

  private podsToDelete(pods: Pod[], related: Pod[], count: number): Pod[] {
    if (count >= pods.length) return pods.slice(0, count);
    const onNode = new Map<string, number>();
    for (const p of related) if (isPodActive(p)) onNode.set(p.spec?.nodeName ?? '', (onNode.get(p.spec?.nodeName ?? '') ?? 0) + 1);
    return sortForDeletion([...pods], (p) => onNode.get(p.spec?.nodeName ?? '') ?? 0, this.ctx.clock()).slice(0, count);
  }

  private calculateStatus(pods: Pod[], manageError: unknown, now: Date): ReplicaSetStatus {
    const rs = this.rs;
    const templateLabels = rs.spec.template?.metadata?.labels ?? {};
    const minReady = rs.spec.minReadySeconds ?? 0;
    let conditions: Condition[] = (rs.status?.conditions ?? []).map((c) => ({ ...c }));
    const failure = conditions.find((c) => c.type === REPLICA_FAILURE);
    if (manageError !== undefined && !failure) {
      const diff = pods.length - rsReplicas(rs);
      const reason = diff < 0 ? 'FailedCreate' : diff > 0 ? 'FailedDelete' : '';
      conditions = [...conditions, { type: REPLICA_FAILURE, status: 'True', lastTransitionTime: rfc3339(now), reason, message: errorText(manageError) }];
    } else if (manageError === undefined && failure) {
      conditions = conditions.filter((c) => c.type !== REPLICA_FAILURE);
    }
    return {
      replicas: pods.length,
      fullyLabeledReplicas: pods.filter((p) => fullyLabeled(p, templateLabels)).length,
      readyReplicas: pods.filter(isPodReady).length,
      availableReplicas: pods.filter((p) => isPodAvailable(p, minReady, now)).length,
      conditions,
    };
  }

  private async writeStatus(status: ReplicaSetStatus): Promise<void> {
    const rs = this.rs;
    const next = withoutZeros({ ...status, observedGeneration: rs.metadata.generation ?? 0 }, ['replicas']);
    const current = withoutZeros({ replicas: 0, ...(rs.status ?? {}) }, ['replicas']);
    if (deepEqual(next, current)) return;
    await this.ctx.client.updateStatus(REPLICASETS, { ...rs, status: next });
  }
}

/** The ReplicaSet controller as a ControllerDef (tunable for tests). */
export function createReplicaSetController(opts: ReplicaSetControllerOptions = {}): ControllerDef {
  return {
    name: 'replicaset',
    resources: [REPLICASETS],
    watches: [{ resource: PODS, map: podToReplicaSets }],
    workers: opts.workers ?? 4,
    setup(ctx) {
      const events = ctx.events.forComponent('replicaset-controller');
      return async (ref) => {
        const stored = (await ctx.reader.get(REPLICASETS, ref.namespace, ref.name)) as ReplicaSet | undefined;
        if (!stored || isEmptySelector(stored.spec.selector)) return;
        const rs = { ...structuredClone(stored), apiVersion: 'apps/v1', kind: 'ReplicaSet' } as ReplicaSet;
        return new ReplicaSetSync(ctx, events, rs, opts.burstReplicas ?? BURST_REPLICAS).run();
      };
    },
  };
}

export const replicaSetController: ControllerDef = createReplicaSetController();
