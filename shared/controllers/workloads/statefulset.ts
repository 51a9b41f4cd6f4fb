// The StatefulSet controller (pkg/controller/statefulset): pods <set>-<ordinal> with stable identity
// and per-pod claims, created in order and each Running and Ready before the next (OrderedReady) or
// all at once (Parallel), removed from the highest ordinal down, and replaced from the highest
// ordinal down to the partition on a RollingUpdate. Revisions are ControllerRevisions.
import type { KubeObject } from '../../api/kind.js';
import { isAlreadyExists, type ApiClient } from '../runtime/client.js';
import {
  claimObjects,
  createRevision,
  deleteRevision,
  ownedRevisions,
  renumberRevision,
  revisionNumber,
  sameRevisionData,
  selectorOf,
  templateOfRevision,
  templatePatch,
} from './controller-history.js';
import { isTerminating, msUntilAvailable, podPhase } from './daemonset-pods.js';
import type { EventRecorder } from '../runtime/events.js';
import { toControllerOwner } from '../runtime/mappers.js';
import { StoreReader, type ObjectReader } from '../runtime/reader.js';
import {
  claimOwnersMatch,
  claimsFor,
  desiredClaimOwners,
  endOrdinal,
  identityMatches,
  isCreated,
  isHealthy,
  isMemberOf,
  isRunningAndReady,
  newVersionedPod,
  ordinalOf,
  replicasOf,
  revisionOfPod,
  startOrdinal,
  storageMatches,
  updateIdentity,
  updateStorage,
} from './statefulset-pods.js';
import type { ControllerDef } from '../runtime/types.js';

const STATEFULSETS = 'apps/statefulsets';
const PODS = 'core/pods';
const CLAIMS = 'core/persistentvolumeclaims';
/** Most pods a Parallel set creates or deletes in one pass (MaxBatchSize). */
const MAX_BATCH = 500;

type Obj = Record<string, unknown>;
const asObj = (v: unknown): Obj => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Obj) : {});
const errorText = (e: unknown): string => (e instanceof Error ? e.message : String(e));

interface Status {
  observedGeneration: number;
  replicas: number;
  readyReplicas: number;
  currentReplicas: number;
  updatedReplicas: number;
  availableReplicas: number;
  currentRevision: string;
  updateRevision: string;
  collisionCount: number;
}

/** What one reconcile of a set works with. */
interface Pass {
  set: KubeObject;
  currentSet: KubeObject;
  updateSet: KubeObject;
  currentRevision: string;
  updateRevision: string;
  minReadySeconds: number;
  now: Date;
  requeueAfter?: number;
}

/** The set as it was at a revision: its pod template replaced by the revision's (ApplyRevision). */
function atRevision(set: KubeObject, revision: KubeObject): KubeObject {
  const copy = structuredClone(set);
  copy.spec = { ...asObj(copy.spec), template: templateOfRevision(revision) };
  return copy;
}

function countPods(status: Status, pass: Pass, ...lists: KubeObject[][]): void {
  Object.assign(status, { replicas: 0, readyReplicas: 0, availableReplicas: 0, currentReplicas: 0, updatedReplicas: 0 });
  for (const list of lists) {
    for (const pod of list) {
      if (isCreated(pod)) status.replicas++;
      if (isRunningAndReady(pod)) {
        status.readyReplicas++;
        if (msUntilAvailable(pod, pass.minReadySeconds, pass.now) === 0) status.availableReplicas++;
      }
      if (isCreated(pod) && !isTerminating(pod)) {
        if (revisionOfPod(pod) === pass.currentRevision) status.currentReplicas++;
        if (revisionOfPod(pod) === pass.updateRevision) status.updatedReplicas++;
      }
    }
  }
}

/** Runs fn over the items: in order stopping at the first that asks to (monotonic), or in slow-start batches. */
async function runForAll(count: number, fn: (i: number) => Promise<boolean>, monotonic: boolean): Promise<boolean> {
  if (monotonic) {
    for (let i = 0; i < count; i++) if (await fn(i)) return true;
    return false;
  }
  let next = 0;
  for (let batch = Math.min(count, 1); batch > 0; batch = Math.min(2 * batch, count - next, MAX_BATCH)) {
    const results = await Promise.allSettled(Array.from({ length: batch }, (_, k) => fn(next + k)));
    next += batch;
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
  }
  return false;
}

export function createStatefulSetController(): ControllerDef {
  return {
    name: 'statefulset',
    resources: [STATEFULSETS],
    watches: [
      { resource: PODS, map: toControllerOwner('StatefulSet', STATEFULSETS) },
      { resource: 'apps/controllerrevisions', map: toControllerOwner('StatefulSet', STATEFULSETS) },
    ],
    reads: [CLAIMS],
    setup: (ctx) => {
      const { reader, client, clock } = ctx;
      const events = ctx.events.forComponent('statefulset-controller');
      const fresh = new StoreReader(ctx.store);
      const control = new StatefulPodControl(reader, client, events);

      return async (ref) => {
        const set = await reader.get(STATEFULSETS, ref.namespace, ref.name);
        if (!set) return;
        const selector = selectorOf(set);
        if (!selector) return;
        const inNamespace = await reader.list(PODS, { namespace: set.metadata.namespace });
        const pods = await claimObjects(client, PODS, set, inNamespace, selector, (p) => isMemberOf(set, p));
        const revisions = await ownedRevisions(reader, client, set);

        // The update revision records the current template; the current one is what status names.
        let collisionCount = Number(asObj(set.status).collisionCount ?? 0);
        const data = templatePatch(set);
        const nextNumber = revisions.length ? revisionNumber(revisions[revisions.length - 1]) + 1 : 1;
        const equal = revisions.filter((r) => sameRevisionData(r.data, data));
        let updateRevision: KubeObject;
        if (equal.length && sameRevisionData(revisions[revisions.length - 1].data, data)) {
          updateRevision = revisions[revisions.length - 1];
        } else if (equal.length) {
          // Back to an earlier template (a rollback): that revision becomes the newest.
          updateRevision = await renumberRevision(client, equal[equal.length - 1], nextNumber);
        } else {
          const labels = { ...(asObj(asObj(asObj(asObj(set.spec).template).metadata).labels) as Record<string, string>) };
          const created = await createRevision(client, fresh, set, { labels, annotations: set.metadata.annotations, data, revision: nextNumber }, collisionCount);
          updateRevision = created.revision;
          collisionCount = created.collisionCount;
        }
        const currentRevision = revisions.find((r) => r.metadata.name === asObj(set.status).currentRevision) ?? updateRevision;

        const pass: Pass = {
          set,
          currentSet: atRevision(set, currentRevision),
          updateSet: atRevision(set, updateRevision),
          currentRevision: currentRevision.metadata.name!,
          updateRevision: updateRevision.metadata.name!,
          minReadySeconds: Number(asObj(set.spec).minReadySeconds ?? 0),
          now: clock(),
        };
        const status: Status = {
          observedGeneration: set.metadata.generation ?? 0,
          replicas: 0,
          readyReplicas: 0,
          currentReplicas: 0,
          updatedReplicas: 0,
          availableReplicas: 0,
          currentRevision: pass.currentRevision,
          updateRevision: pass.updateRevision,
          collisionCount,
        };
        let failure: unknown;
        try {
          await updateStatefulSet(pass, status, pods, control);
        } catch (e) {
          failure = e;
        }
        await storeStatus(client, set, status);
        await truncateHistory(client, set, pods, revisions, [pass.currentRevision, pass.updateRevision]);
        if (failure) throw failure;
        if (pass.minReadySeconds > 0 && status.availableReplicas !== replicasOf(set)) {
          for (const pod of pods) {
            const wait = msUntilAvailable(pod, pass.minReadySeconds, pass.now);
            if (wait) pass.requeueAfter = Math.min(pass.requeueAfter ?? wait, wait);
          }
          return { requeueAfter: pass.requeueAfter ?? pass.minReadySeconds * 1000 };
        }
        return undefined;
      };
    },
  };
}

/** The StatefulSet controller. */
export const statefulSetController: ControllerDef = createStatefulSetController();

/** Creates, updates and deletes one set's pods and claims, with Kubernetes' events (StatefulPodControl). */
class StatefulPodControl {
  constructor(
    private readonly reader: ObjectReader,
    private readonly client: ApiClient,
    private readonly events: EventRecorder,
  ) {}

  /** The event Kubernetes records before replacing a pod that finished. */
  async recreating(set: KubeObject, pod: KubeObject): Promise<void> {
    const ref = `${set.metadata.namespace}/${set.metadata.name}`;
    if (podPhase(pod) === 'Failed') await this.events.record(set, 'Warning', 'RecreatingFailedPod', `StatefulSet ${ref} is recreating failed Pod ${pod.metadata.name}`);
    else await this.events.record(set, 'Normal', 'RecreatingTerminatedPod', `StatefulSet ${ref} is recreating terminated Pod ${pod.metadata.name}`);
  }

  private async podEvent(verb: 'create' | 'update' | 'delete', set: KubeObject, pod: KubeObject, err?: unknown): Promise<void> {
    const title = verb[0].toUpperCase() + verb.slice(1);
    if (err === undefined) await this.events.record(set, 'Normal', `Successful${title}`, `${verb} Pod ${pod.metadata.name} in StatefulSet ${set.metadata.name} successful`);
    else await this.events.record(set, 'Warning', `Failed${title}`, `${verb} Pod ${pod.metadata.name} in StatefulSet ${set.metadata.name} failed error: ${errorText(err)}`);
  }

  /** Creates the pod's missing claims (createPersistentVolumeClaims). */
  async createClaims(set: KubeObject, pod: KubeObject): Promise<void> {
    const errors: string[] = [];
    for (const claim of claimsFor(set, ordinalOf(pod)).values()) {
      const existing = await this.reader.get(CLAIMS, claim.metadata.namespace, claim.metadata.name!);
      if (existing) {
        if (existing.metadata.deletionTimestamp) errors.push(`pvc ${claim.metadata.name} is being deleted`);
        continue;
      }
      try {
        await this.client.create(CLAIMS, claim);
        await this.events.record(set, 'Normal', 'SuccessfulCreate', `create Claim ${claim.metadata.name} Pod ${pod.metadata.name} in StatefulSet ${set.metadata.name} success`);
      } catch (e) {
        if (isAlreadyExists(e)) continue;
        await this.events.record(set, 'Warning', 'FailedCreate', `create Claim ${claim.metadata.name} for Pod ${pod.metadata.name} in StatefulSet ${set.metadata.name} failed error: ${errorText(e)}`);
        errors.push(`failed to create PVC ${claim.metadata.name}: ${errorText(e)}`);
      }
    }
    if (errors.length) throw new Error(errors.join('; '));
  }

  /** Claims first, then the pod, then the claim owners the retention policy wants. */
  async createPod(set: KubeObject, pod: KubeObject): Promise<void> {
    try {
      await this.createClaims(set, pod);
    } catch (e) {
      await this.podEvent('create', set, pod, e);
      throw e;
    }
    let created: KubeObject;
    try {
      created = await this.client.create(PODS, pod);
    } catch (e) {
      // The old pod of that name is still going away: the next pass tries again.
      if (!isAlreadyExists(e)) await this.podEvent('create', set, pod, e);
      throw e;
    }
    try {
      await this.updateClaimOwners(set, created);
    } catch (e) {
      await this.podEvent('update', set, created, e);
      throw e;
    }
    await this.podEvent('create', set, created);
  }

  async deletePod(set: KubeObject, pod: KubeObject): Promise<void> {
    try {
      if (await this.client.delete(PODS, pod.metadata.namespace, pod.metadata.name!)) await this.podEvent('delete', set, pod);
    } catch (e) {
      await this.podEvent('delete', set, pod, e);
      throw e;
    }
  }

  /** Whether every claim of the pod has the owners the retention policy asks for. */
  async claimsMatchRetention(set: KubeObject, pod: KubeObject): Promise<boolean> {
    for (const claim of claimsFor(set, ordinalOf(pod)).values()) {
      const existing = await this.reader.get(CLAIMS, claim.metadata.namespace, claim.metadata.name!);
      if (existing && !claimOwnersMatch(existing, set, pod)) return false;
    }
    return true;
  }

  /** UpdatePodClaimForRetentionPolicy. */
  async updateClaimOwners(set: KubeObject, pod: KubeObject): Promise<void> {
    for (const claim of claimsFor(set, ordinalOf(pod)).values()) {
      const existing = await this.reader.get(CLAIMS, claim.metadata.namespace, claim.metadata.name!);
      if (!existing || claimOwnersMatch(existing, set, pod)) continue;
      const updated = structuredClone(existing);
      updated.metadata.ownerReferences = desiredClaimOwners(existing, set, pod);
      await this.client.update(CLAIMS, updated);
    }
  }

  /** Brings an existing pod's identity labels, claims and claim owners in line (UpdateStatefulPod). */
  async updatePod(set: KubeObject, pod: KubeObject): Promise<void> {
    const next = structuredClone(pod);
    let consistent = true;
    if (!identityMatches(set, next)) {
      updateIdentity(set, next);
      consistent = false;
    }
    if (!storageMatches(set, next)) {
      updateStorage(set, next);
      consistent = false;
      try {
        await this.createClaims(set, next);
      } catch (e) {
        await this.podEvent('update', set, next, e);
        throw e;
      }
    }
    try {
      await this.updateClaimOwners(set, next);
    } catch (e) {
      await this.podEvent('update', set, next, e);
      throw e;
    }
    if (consistent) return;
    try {
      await this.client.update(PODS, next);
    } catch (e) {
      await this.podEvent('update', set, next, e);
      throw e;
    }
    await this.podEvent('update', set, next);
  }
}

/** updateStatefulSet: brings the pods to the set's spec one step at a time, filling `status` as it goes. */
async function updateStatefulSet(pass: Pass, status: Status, pods: KubeObject[], control: StatefulPodControl): Promise<void> {
  const { set } = pass;
  countPods(status, pass, pods);
  const start = startOrdinal(set);
  const end = endOrdinal(set);
  const replicas: KubeObject[] = new Array(Math.max(0, end - start + 1));
  const condemned: KubeObject[] = [];
  for (const pod of pods) {
    const ord = ordinalOf(pod);
    if (ord >= start && ord <= end) replicas[ord - start] = pod;
    else if (ord >= 0) condemned.push(pod);
  }
  for (let ord = start; ord <= end; ord++) {
    if (!replicas[ord - start]) replicas[ord - start] = newVersionedPod(pass.currentSet, pass.updateSet, pass.currentRevision, pass.updateRevision, ord);
  }
  condemned.sort((a, b) => ordinalOf(b) - ordinalOf(a));
  const firstUnhealthy = replicas.find((p) => !isHealthy(p)) ?? [...condemned].reverse().find((p) => !isHealthy(p));

  if (set.metadata.deletionTimestamp) return;
  const monotonic = asObj(set.spec).podManagementPolicy !== 'Parallel';
  const recount = (): void => countPods(status, pass, replicas, condemned);

  try {
    if (await runForAll(replicas.length, (i) => processReplica(pass, control, monotonic, replicas, i), monotonic)) return;
    const claimTemplates = asObj(set.spec).volumeClaimTemplates;
    if (Array.isArray(claimTemplates) && claimTemplates.length) {
      const fixClaims = async (i: number): Promise<boolean> => {
        if (!(await control.claimsMatchRetention(pass.updateSet, condemned[i]))) await control.updateClaimOwners(pass.updateSet, condemned[i]);
        return false;
      };
      if (await runForAll(condemned.length, fixClaims, monotonic)) return;
    }
    if (await runForAll(condemned.length, (i) => processCondemned(pass, control, firstUnhealthy, monotonic, condemned, i), monotonic)) return;
  } finally {
    recount();
  }

  // OnDelete: pods take the new template only when someone deletes them.
  const strategy = asObj(asObj(set.spec).updateStrategy);
  if (strategy.type === 'OnDelete') return;
  const ru = strategy.rollingUpdate === undefined || strategy.rollingUpdate === null ? undefined : asObj(strategy.rollingUpdate);
  const updateMin = ru ? Number(ru.partition ?? 0) : 0;
  // Highest ordinal first, one pod at a time, each healthy before the next goes.
  for (let target = replicas.length - 1; target >= updateMin; target--) {
    const pod = replicas[target];
    if (revisionOfPod(pod) !== pass.updateRevision && !isTerminating(pod)) {
      await control.deletePod(set, pod);
      status.currentReplicas--;
      return;
    }
    if (!isHealthy(pod)) return;
  }
}

/** processReplica: returns true when a monotonic set must stop here for now. */
async function processReplica(pass: Pass, control: StatefulPodControl, monotonic: boolean, replicas: KubeObject[], i: number): Promise<boolean> {
  const { set } = pass;
  const pod = replicas[i];
  const phase = podPhase(pod);
  if (phase === 'Failed' || phase === 'Succeeded') {
    // Replaced on a later pass, once the old pod is gone.
    if (!isTerminating(pod)) {
      await control.recreating(set, pod);
      await control.deletePod(set, pod);
    }
    return true;
  }
  if (!isCreated(pod)) {
    await control.createPod(set, pod);
    // A planned pod carries no status, so the checks below let it through in Parallel mode.
    if (monotonic) return true;
    return false;
  }
  if (phase === 'Pending') await control.createClaims(set, pod);
  if (isTerminating(pod) && monotonic) return true;
  if (!isRunningAndReady(pod) && monotonic) return true;
  const wait = msUntilAvailable(pod, pass.minReadySeconds, pass.now);
  if (wait && wait > 0) pass.requeueAfter = Math.min(pass.requeueAfter ?? wait, wait);
  if (wait !== 0 && monotonic) return true;
  const retentionMatch = await control.claimsMatchRetention(pass.updateSet, pod).catch(() => true);
  if (identityMatches(set, pod) && storageMatches(set, pod) && retentionMatch) return false;
  await control.updatePod(pass.updateSet, pod);
  return false;
}

/** processCondemned: scale down from the highest ordinal, waiting for predecessors when monotonic. */
async function processCondemned(pass: Pass, control: StatefulPodControl, firstUnhealthy: KubeObject | undefined, monotonic: boolean, condemned: KubeObject[], i: number): Promise<boolean> {
  const pod = condemned[i];
  if (isTerminating(pod)) return monotonic;
  if (monotonic && pod !== firstUnhealthy) {
    if (!isRunningAndReady(pod)) return true;
    if (msUntilAvailable(pod, pass.minReadySeconds, pass.now) !== 0) return true;
  }
  await control.deletePod(pass.set, pod);
  return true;
}

/** Writes the status when it differs, first completing a finished rolling update. */
async function storeStatus(client: ApiClient, set: KubeObject, status: Status): Promise<void> {
  const strategy = asObj(asObj(set.spec).updateStrategy);
  const want = replicasOf(set);
  if (strategy.type === 'RollingUpdate' && status.updatedReplicas === want && status.readyReplicas === want && status.replicas === want) {
    status.currentReplicas = status.updatedReplicas;
    status.currentRevision = status.updateRevision;
  }
  const old = asObj(set.status);
  const changed =
    status.observedGeneration > Number(old.observedGeneration ?? 0) ||
    (['replicas', 'readyReplicas', 'currentReplicas', 'updatedReplicas', 'availableReplicas', 'collisionCount'] as const).some((k) => status[k] !== Number(old[k] ?? 0)) ||
    status.currentRevision !== (old.currentRevision ?? '') ||
    status.updateRevision !== (old.updateRevision ?? '');
  if (!changed) return;
  const next = structuredClone(set);
  next.status = { ...old, ...status };
  await client.updateStatus(STATEFULSETS, next);
}

/** Deletes the oldest revisions beyond revisionHistoryLimit that neither status nor any pod uses. */
async function truncateHistory(client: ApiClient, set: KubeObject, pods: KubeObject[], revisions: KubeObject[], liveNames: string[]): Promise<void> {
  const live = new Set([...liveNames, ...pods.map(revisionOfPod)]);
  const history = revisions.filter((r) => !live.has(r.metadata.name!));
  const limit = typeof asObj(set.spec).revisionHistoryLimit === 'number' ? (asObj(set.spec).revisionHistoryLimit as number) : 10;
  for (const r of history.slice(0, Math.max(0, history.length - limit))) await deleteRevision(client, r);
}
