// One sync of one Deployment: the operations Kubernetes' deployment controller composes into
// rollouts (find or create the new ReplicaSet and keep revisions in step, scale ReplicaSets with
// ScalingReplicaSet events, proportional scaling, history cleanup, status writes). It keeps the
// newest copy of every object it wrote, so later steps of the same sync never act on stale data.
import type { KubeObject } from '../../../api/kind.js';
import { ApiError } from '../../../apiserver/errors.js';
import { deepEqual } from '../../../apiserver/metadata.js';
import { isAlreadyExists, isNotFound } from '../../runtime/client.js';
import type { EventRecorder } from '../../runtime/events.js';
import { controllerOf } from '../../runtime/mappers.js';
import type { ControllerContext } from '../../runtime/types.js';
import { getCondition, hasProgressDeadline, hasRevisionHistoryLimit, newCondition, PROGRESSING, Reasons, setCondition } from './conditions.js';
import { findActiveOrLatest, bySizeNewer, bySizeOlder, byRevision, filterActive, findNewReplicaSet, findOldReplicaSets, specReplicaCount } from './replicasets.js';
import { isRollingUpdate, isSaturated, maxSurge, newRSNewReplicas, proportionFor } from './fenceposts.js';
import { computeTemplateHash, equalIgnoreHash } from './hash.js';
import { deploymentReplicas, POD_TEMPLATE_HASH_LABEL, REVISION_ANNOTATION, rsReplicas, type Deployment, type DeploymentStatus, type ReplicaSet } from './model.js';
import { desiredReplicasAnnotation, maxRevision, replicasAnnotationsNeedUpdate, setDeploymentRevision, setNewReplicaSetAnnotations, setReplicasAnnotations } from './revisions.js';
import { calculateStatus, normalizeStatus, progressCheckDelay, rolloutStatus } from './status.js';

const RS = 'apps/replicasets';
const DEPLOYMENTS = 'apps/deployments';

export interface NewAndOld {
  newRS: ReplicaSet | undefined;
  oldRSs: ReplicaSet[];
}

const withType = <T extends KubeObject>(obj: T, apiVersion: string, kind: string): T => Object.assign(structuredClone(obj), { apiVersion, kind });

function isNamespaceTerminating(e: unknown): boolean {
  return e instanceof ApiError && !!e.status.details?.causes?.some((c) => c.reason === 'NamespaceTerminating');
}

export class DeploymentSync {
  /** The Deployment as this sync last wrote or read it (annotations and status edited in place before writing). */
  d: Deployment;
  private rsList: ReplicaSet[];
  private savedAnnotations: Record<string, string>;
  private savedStatus: DeploymentStatus;

  constructor(
    private readonly ctx: ControllerContext,
    private readonly events: EventRecorder,
    deployment: Deployment,
    rsList: readonly ReplicaSet[],
  ) {
    this.d = withType(deployment, 'apps/v1', 'Deployment');
    this.d.status = normalizeStatus(this.d.status ?? {});
    this.rsList = rsList.map((rs) => withType(rs, 'apps/v1', 'ReplicaSet'));
    this.savedAnnotations = { ...(this.d.metadata.annotations ?? {}) };
    this.savedStatus = structuredClone(this.d.status);
  }

  now(): Date {
    return this.ctx.clock();
  }

  get replicaSets(): readonly ReplicaSet[] {
    return this.rsList;
  }

  /** The newest copy of a ReplicaSet this sync knows. */
  fresh(rs: ReplicaSet): ReplicaSet;
  fresh(rs: ReplicaSet | undefined): ReplicaSet | undefined;
  fresh(rs: ReplicaSet | undefined): ReplicaSet | undefined {
    if (!rs) return undefined;
    return this.rsList.find((r) => r.metadata.uid === rs.metadata.uid) ?? rs;
  }

  private remember(rs: KubeObject): ReplicaSet {
    const copy = withType(rs, 'apps/v1', 'ReplicaSet') as ReplicaSet;
    const i = this.rsList.findIndex((r) => r.metadata.uid === copy.metadata.uid);
    if (i >= 0) this.rsList[i] = copy;
    else this.rsList.push(copy);
    return copy;
  }

  private record(type: 'Normal' | 'Warning', reason: string, message: string): Promise<void> {
    return this.events.record(this.d, type, reason, message);
  }

  // ---- writing the Deployment ----------------------------------------------------------------

  /** Writes the Deployment's revision annotation and status where they differ from what is stored. */
  async persist(): Promise<void> {
    const annotations = this.d.metadata.annotations ?? {};
    if (!deepEqual(annotations, this.savedAnnotations)) {
      // The status subresource leaves metadata alone here, so the revision goes in its own patch.
      const changed: Record<string, string | null> = {};
      for (const [k, v] of Object.entries(annotations)) if (this.savedAnnotations[k] !== v) changed[k] = v;
      const written = await this.ctx.client.patch(DEPLOYMENTS, this.d.metadata.namespace, this.d.metadata.name!, 'merge', {
        metadata: { annotations: changed, resourceVersion: this.d.metadata.resourceVersion },
      });
      this.adoptWritten(written, false);
    }
    const status = normalizeStatus(this.d.status ?? {});
    if (!deepEqual(status, this.savedStatus)) {
      const written = await this.ctx.client.updateStatus(DEPLOYMENTS, { ...this.d, status });
      this.adoptWritten(written, true);
    }
  }

  private adoptWritten(written: KubeObject, statusWritten: boolean): void {
    const status = this.d.status;
    this.d = withType(written, 'apps/v1', 'Deployment') as Deployment;
    this.savedAnnotations = { ...(this.d.metadata.annotations ?? {}) };
    if (statusWritten) {
      this.d.status = normalizeStatus(this.d.status ?? {});
      this.savedStatus = structuredClone(this.d.status);
    } else {
      this.d.status = status;
    }
  }

  // ---- new and old ReplicaSets ---------------------------------------------------------------

  /** getAllReplicaSetsAndSyncRevision: the new ReplicaSet (created when asked) and all old ones, revisions in step. */
  async newAndOld(createIfMissing: boolean): Promise<NewAndOld> {
    const oldRSs = findOldReplicaSets(this.d, this.rsList);
    const newRS = await this.getNewReplicaSet(oldRSs, createIfMissing);
    return { newRS, oldRSs: oldRSs.map((rs) => this.fresh(rs)) };
  }

  private async getNewReplicaSet(oldRSs: readonly ReplicaSet[], createIfMissing: boolean): Promise<ReplicaSet | undefined> {
    const d = this.d;
    const existing = findNewReplicaSet(d, this.rsList);
    const newRevision = maxRevision(oldRSs) + 1;
    const replicas = deploymentReplicas(d);

    if (existing) {
      const copy = structuredClone(existing);
      const annotationsChanged = setNewReplicaSetAnnotations(d, copy, newRevision, true, replicas, replicas + maxSurge(d));
      const minReadyChanged = (copy.spec.minReadySeconds ?? 0) !== (d.spec.minReadySeconds ?? 0);
      if (annotationsChanged || minReadyChanged) {
        if (d.spec.minReadySeconds) copy.spec.minReadySeconds = d.spec.minReadySeconds;
        else delete copy.spec.minReadySeconds;
        return this.remember(await this.ctx.client.update(RS, copy));
      }
      setDeploymentRevision(d, copy.metadata.annotations?.[REVISION_ANNOTATION]);
      if (hasProgressDeadline(d) && !getCondition(d.status, PROGRESSING)) {
        setCondition((d.status ??= {}), newCondition(PROGRESSING, 'True', Reasons.foundNewRS, `Found new replica set "${copy.metadata.name}"`, this.now()));
      }
      await this.persist();
      return existing;
    }
    if (!createIfMissing) return undefined;
    return this.createNewReplicaSet(oldRSs, newRevision);
  }

  private async createNewReplicaSet(oldRSs: readonly ReplicaSet[], newRevision: number): Promise<ReplicaSet> {
    const d = this.d;
    const replicas = deploymentReplicas(d);
    const hash = computeTemplateHash(d.spec.template, d.status?.collisionCount);
    const template = structuredClone(d.spec.template ?? {});
    template.metadata = { ...(template.metadata ?? {}), labels: { ...(template.metadata?.labels ?? {}), [POD_TEMPLATE_HASH_LABEL]: hash } };
    const selector = structuredClone(d.spec.selector ?? {});
    selector.matchLabels = { ...(selector.matchLabels ?? {}), [POD_TEMPLATE_HASH_LABEL]: hash };
    const name = `${d.metadata.name}-${hash}`;
    const candidate: ReplicaSet = {
      apiVersion: 'apps/v1',
      kind: 'ReplicaSet',
      metadata: {
        name,
        namespace: d.metadata.namespace,
        labels: { ...template.metadata.labels },
        ownerReferences: [{ apiVersion: 'apps/v1', kind: 'Deployment', name: d.metadata.name, uid: d.metadata.uid, controller: true, blockOwnerDeletion: true }],
      },
      spec: { replicas: 0, ...(d.spec.minReadySeconds ? { minReadySeconds: d.spec.minReadySeconds } : {}), selector, template },
    };
    const newReplicas = newRSNewReplicas(d, [...oldRSs, candidate], candidate);
    candidate.spec.replicas = newReplicas;
    setNewReplicaSetAnnotations(d, candidate, newRevision, false, replicas, replicas + maxSurge(d));

    let created: ReplicaSet;
    let alreadyExisted = false;
    try {
      created = this.remember(await this.ctx.client.create(RS, candidate));
    } catch (e) {
      if (isAlreadyExists(e)) {
        const found = (await this.ctx.reader.get(RS, d.metadata.namespace, name)) as ReplicaSet | undefined;
        if (!found) throw e;
        if (controllerOf(found)?.uid === d.metadata.uid && equalIgnoreHash(d.spec.template, found.spec.template)) {
          created = this.remember(found);
          alreadyExisted = true;
        } else {
          // A different template hashed to the same name: salt the next hash and try again.
          const status = (d.status ??= {});
          status.collisionCount = (status.collisionCount ?? 0) + 1;
          await this.persist();
          throw e;
        }
      } else if (isNamespaceTerminating(e)) {
        throw e;
      } else {
        const msg = `Failed to create new replica set "${name}": ${e instanceof Error ? e.message : String(e)}`;
        if (hasProgressDeadline(d)) {
          setCondition((d.status ??= {}), newCondition(PROGRESSING, 'False', Reasons.failedRSCreate, msg, this.now()));
          await this.persist().catch(() => undefined);
        }
        await this.record('Warning', Reasons.failedRSCreate, msg);
        throw e;
      }
    }
    if (!alreadyExisted && newReplicas > 0) {
      await this.record('Normal', 'ScalingReplicaSet', `Scaled up replica set ${created.metadata.name} to ${newReplicas}`);
    }
    setDeploymentRevision(d, String(newRevision));
    if (!alreadyExisted && hasProgressDeadline(d)) {
      setCondition((d.status ??= {}), newCondition(PROGRESSING, 'True', Reasons.newReplicaSet, `Created new replica set "${created.metadata.name}"`, this.now()));
    }
    await this.persist();
    return created;
  }

  // ---- scaling -------------------------------------------------------------------------------

  /** Scales `rs` to `newScale` (up or down) with an event; returns whether its size changed and its newest copy. */
  async scaleAndRecord(rs: ReplicaSet, newScale: number): Promise<{ scaled: boolean; rs: ReplicaSet }> {
    if (rsReplicas(rs) === newScale) return { scaled: false, rs };
    return this.scaleReplicaSet(rs, newScale, rsReplicas(rs) < newScale ? 'up' : 'down');
  }

  /** Writes the size and the replica annotations of `rs` when either is out of date. */
  async scaleReplicaSet(rs: ReplicaSet, newScale: number, operation: string): Promise<{ scaled: boolean; rs: ReplicaSet }> {
    const d = this.d;
    const desired = deploymentReplicas(d);
    const max = desired + maxSurge(d);
    const sizeChanges = rsReplicas(rs) !== newScale;
    if (!sizeChanges && !replicasAnnotationsNeedUpdate(rs, desired, max)) return { scaled: false, rs };
    const oldScale = rsReplicas(rs);
    const copy = structuredClone(rs);
    copy.spec.replicas = newScale;
    setReplicasAnnotations(copy, desired, max);
    const written = this.remember(await this.ctx.client.update(RS, copy));
    if (sizeChanges) await this.record('Normal', 'ScalingReplicaSet', `Scaled ${operation} replica set ${written.metadata.name} to ${newScale} from ${oldScale}`);
    return { scaled: sizeChanges, rs: written };
  }

  /**
   * scale: brings the ReplicaSets to a changed spec.replicas outside of a rollout step. One active
   * ReplicaSet simply takes the new size; during a rolling update every active ReplicaSet grows or
   * shrinks in proportion to its size, the largest one absorbing the rounding leftover.
   */
  async scale(newRS: ReplicaSet | undefined, oldRSs: ReplicaSet[]): Promise<void> {
    const d = this.d;
    const replicas = deploymentReplicas(d);
    const only = findActiveOrLatest(newRS, oldRSs);
    if (only) {
      if (rsReplicas(only) === replicas) return;
      await this.scaleAndRecord(only, replicas);
      return;
    }
    if (isSaturated(d, newRS)) {
      for (const old of filterActive(oldRSs)) await this.scaleAndRecord(this.fresh(old), 0);
      return;
    }
    if (!isRollingUpdate(d)) return;

    const active = filterActive([...oldRSs, newRS]);
    const allowed = replicas > 0 ? replicas + maxSurge(d) : 0;
    const toAdd = allowed - specReplicaCount(active);
    let operation = '';
    if (toAdd > 0) {
      active.sort(bySizeNewer);
      operation = 'up';
    } else if (toAdd < 0) {
      active.sort(bySizeOlder);
      operation = 'down';
    }
    let added = 0;
    const sizes = new Map<string, number>();
    for (const rs of active) {
      if (toAdd !== 0) {
        const share = proportionFor(rs, d, toAdd, added);
        sizes.set(rs.metadata.name!, rsReplicas(rs) + share);
        added += share;
      } else {
        sizes.set(rs.metadata.name!, rsReplicas(rs));
      }
    }
    for (let i = 0; i < active.length; i++) {
      const rs = active[i];
      if (i === 0 && toAdd !== 0) sizes.set(rs.metadata.name!, Math.max(0, sizes.get(rs.metadata.name!)! + toAdd - added));
      await this.scaleReplicaSet(this.fresh(rs), sizes.get(rs.metadata.name!)!, operation);
    }
  }

  /** isScalingEvent: an active ReplicaSet was sized for a different spec.replicas than the current one. */
  async isScalingEvent(): Promise<boolean> {
    const { newRS, oldRSs } = await this.newAndOld(false);
    const replicas = deploymentReplicas(this.d);
    for (const rs of filterActive([...oldRSs, newRS])) {
      const desired = desiredReplicasAnnotation(rs);
      if (desired !== undefined && desired !== replicas) return true;
    }
    return false;
  }

  // ---- history -------------------------------------------------------------------------------

  /** Deletes the oldest scaled-down ReplicaSets beyond revisionHistoryLimit. */
  async cleanup(oldRSs: readonly ReplicaSet[]): Promise<void> {
    const d = this.d;
    if (!hasRevisionHistoryLimit(d)) return;
    const cleanable = oldRSs.map((rs) => this.fresh(rs)).filter((rs) => !rs.metadata.deletionTimestamp);
    const diff = cleanable.length - d.spec.revisionHistoryLimit!;
    if (diff <= 0) return;
    cleanable.sort(byRevision);
    for (let i = 0; i < diff; i++) {
      const rs = cleanable[i];
      if ((rs.status?.replicas ?? 0) !== 0 || rsReplicas(rs) !== 0 || (rs.metadata.generation ?? 0) > (rs.status?.observedGeneration ?? 0) || rs.metadata.deletionTimestamp) continue;
      try {
        await this.ctx.client.delete(RS, rs.metadata.namespace, rs.metadata.name!);
      } catch (e) {
        if (!isNotFound(e)) throw e;
      }
    }
  }

  // ---- status --------------------------------------------------------------------------------

  /** syncDeploymentStatus: counters and Available, without judging rollout progress. */
  async syncStatus(allRSs: readonly (ReplicaSet | undefined)[], newRS: ReplicaSet | undefined): Promise<void> {
    this.d.status = normalizeStatus(calculateStatus(allRSs.map((rs) => this.fresh(rs)), this.fresh(newRS), this.d, this.now()));
    await this.persist();
  }

  /** syncRolloutStatus: status including the Progressing judgement; returns when to check the deadline again. */
  async syncRolloutStatus(allRSs: readonly (ReplicaSet | undefined)[], newRS: ReplicaSet | undefined): Promise<number | undefined> {
    const now = this.now();
    const status = normalizeStatus(rolloutStatus(allRSs.map((rs) => this.fresh(rs)), this.fresh(newRS), this.d, now));
    if (deepEqual(status, normalizeStatus(this.d.status ?? {}))) {
      await this.persist();
      return progressCheckDelay(this.d, status, now);
    }
    this.d.status = status;
    await this.persist();
    return undefined;
  }

  /** Marks a paused Deployment's Progressing condition as paused / resumed, so the deadline does not run meanwhile. */
  async checkPausedConditions(): Promise<void> {
    const d = this.d;
    if (!hasProgressDeadline(d)) return;
    const cond = getCondition(d.status, PROGRESSING);
    if (cond?.reason === Reasons.timedOut) return;
    const pausedCondExists = cond?.reason === Reasons.paused;
    if (d.spec.paused && !pausedCondExists) {
      setCondition((d.status ??= {}), newCondition(PROGRESSING, 'Unknown', Reasons.paused, 'Deployment is paused', this.now()));
    } else if (!d.spec.paused && pausedCondExists) {
      setCondition((d.status ??= {}), newCondition(PROGRESSING, 'Unknown', Reasons.resumed, 'Deployment is resumed', this.now()));
    } else {
      return;
    }
    await this.persist();
  }

  /** sync: scaling events and paused Deployments — no rollout, just sizes, history and status. */
  async sync(): Promise<void> {
    const { newRS, oldRSs } = await this.newAndOld(false);
    await this.scale(this.fresh(newRS), oldRSs.map((rs) => this.fresh(rs)));
    if (this.d.spec.paused) await this.cleanup(oldRSs);
    await this.syncStatus([...oldRSs, newRS], newRS);
  }

  /** syncStatusOnly: a Deployment being deleted only has its status kept current. */
  async syncStatusOnly(): Promise<void> {
    const { newRS, oldRSs } = await this.newAndOld(false);
    await this.syncStatus([...oldRSs, newRS], newRS);
  }
}
