// The disruption controller: keeps each PodDisruptionBudget's status current (healthy pods, pods
// the budget requires, pods expected from the owners' scale, evictions allowed now, the
// DisruptionAllowed condition) and forgets evictions whose pod was not deleted in time. It also
// resets a DisruptionTarget pod condition left True on a pod that was never deleted.
import type { KindDef, KubeObject } from '../../api/kind.js';
import type { Registry } from '../../api/registry.js';
import { deepEqual } from '../../apiserver/metadata.js';
import {
  conditionsAreUpToDate,
  isPodReady,
  pdbSelector,
  pdbSpec,
  pdbStatus,
  budgetCoversPod,
  setStatusCondition,
  SYNC_FAILED_REASON,
  DISRUPTION_ALLOWED_CONDITION,
  updateDisruptionAllowedCondition,
  updatePodCondition,
  type PdbStatus,
  type PodCondition,
} from '../../apiserver/disruption-budget.js';
import { matchesLabels } from '../../api/selectors/labels.js';
import { isConflict, isNotFound } from '../runtime/client.js';
import type { EventRecorder } from '../runtime/events.js';
import { controllerOf } from '../runtime/mappers.js';
import type { ObjectReader } from '../runtime/reader.js';
import type { ControllerContext, ControllerDef, ObjectRef, ReconcileResult, Resource } from '../runtime/types.js';

const PDBS = 'policy/poddisruptionbudgets';
const PODS = 'core/pods';
const REPLICASETS = 'apps/replicasets';
const DEPLOYMENTS = 'apps/deployments';
const STATEFULSETS = 'apps/statefulsets';

export interface DisruptionControllerOptions {
  /** How long an eviction recorded in status.disruptedPods waits for its pod to be deleted (Kubernetes: 2 minutes). */
  deletionTimeoutMs?: number;
  /** How long a DisruptionTarget condition may stay True on a pod that is not being deleted (Kubernetes: 2 minutes). */
  stalePodDisruptionTimeoutMs?: number;
}

/** A pod's controller and the replicas it asks for. */
interface ControllerScale {
  uid: string;
  scale: number;
}

class ExpectedCountError extends Error {}

/** IntOrString scaled against a total, rounding up, as GetScaledValueFromIntOrPercent does. */
function scaledValue(v: number | string, total: number): number {
  if (typeof v === 'number') return v;
  const m = /^(-?[0-9]+)%$/.exec(v);
  if (!m) {
    if (/^-?[0-9]+$/.test(v)) throw new ExpectedCountError(`invalid type: string is not a percentage`);
    throw new ExpectedCountError(`invalid value for IntOrString: invalid value "${v}": strconv.Atoi: parsing "${v.replace(/%$/, '')}": invalid syntax`);
  }
  return Math.ceil((Number(m[1]) * total) / 100);
}

const groupOf = (apiVersion: string): string => (apiVersion.includes('/') ? apiVersion.slice(0, apiVersion.indexOf('/')) : '');

/** metav1.LabelSelector's String(), as Kubernetes prints a selector with %v in event messages. */
function selectorString(sel: unknown): string {
  if (!sel || typeof sel !== 'object') return 'nil';
  const s = sel as { matchLabels?: Record<string, string>; matchExpressions?: { key?: string; operator?: string; values?: string[] }[] };
  const labels = Object.keys(s.matchLabels ?? {})
    .sort()
    .map((k) => `${k}: ${s.matchLabels![k]},`)
    .join('');
  const exprs = (s.matchExpressions ?? []).map((e) => `LabelSelectorRequirement{Key:${e.key ?? ''},Operator:${e.operator ?? ''},Values:[${(e.values ?? []).join(' ')}],},`).join('');
  return `&LabelSelector{MatchLabels:map[string]string{${labels}},MatchExpressions:[]LabelSelectorRequirement{${exprs}},}`;
}

const replicasOf = (obj: KubeObject): number => {
  const r = (obj.spec as { replicas?: number } | undefined)?.replicas;
  return typeof r === 'number' ? r : 1;
};

/** The finders of the disruption controller: which controller owns a pod, and its scale. */
class ScaleFinder {
  constructor(
    private readonly reader: ObjectReader,
    private readonly registry: Registry,
  ) {}

  async find(ref: { kind: string; name: string; uid: string; apiVersion: string }, namespace: string): Promise<ControllerScale | undefined> {
    const group = groupOf(ref.apiVersion);
    const appsLike = group === 'apps' || group === 'extensions';
    if (ref.kind === 'ReplicaSet' && appsLike) {
      const rs = await this.reader.get(REPLICASETS, namespace, ref.name);
      if (rs && rs.metadata.uid === ref.uid) {
        const owner = controllerOf(rs);
        if (owner && owner.kind === 'Deployment' && ['apps', 'extensions'].includes(groupOf(owner.apiVersion))) {
          const deployment = await this.reader.get(DEPLOYMENTS, namespace, owner.name);
          if (deployment && deployment.metadata.uid === owner.uid) return { uid: deployment.metadata.uid!, scale: replicasOf(deployment) };
        }
        if (!owner || owner.kind !== 'Deployment') return { uid: rs.metadata.uid!, scale: replicasOf(rs) };
      }
    }
    if (ref.kind === 'StatefulSet' && group === 'apps') {
      const ss = await this.reader.get(STATEFULSETS, namespace, ref.name);
      if (ss && ss.metadata.uid === ref.uid) return { uid: ss.metadata.uid!, scale: replicasOf(ss) };
    }
    return this.viaScaleSubresource(ref, namespace);
  }

  /** The last finder: any kind with a scale subresource; others cannot be counted. */
  private async viaScaleSubresource(ref: { kind: string; name: string; uid: string; apiVersion: string }, namespace: string): Promise<ControllerScale | undefined> {
    const def: KindDef | undefined = this.registry.kind(ref.apiVersion, ref.kind);
    if (!def) throw new ExpectedCountError(`no matches for kind "${ref.kind}" in version "${ref.apiVersion}"`);
    if (!def.subresources.scale) throw new ExpectedCountError(`${def.group ? `${def.plural}.${def.group}` : def.plural} does not implement the scale subresource`);
    const resource: Resource = `${def.group || 'core'}/${def.plural}`;
    if (![REPLICASETS, DEPLOYMENTS, STATEFULSETS].includes(resource)) return undefined;
    const obj = await this.reader.get(resource, namespace, ref.name);
    if (!obj || obj.metadata.uid !== ref.uid) return undefined;
    return { uid: obj.metadata.uid!, scale: replicasOf(obj) };
  }
}

export function disruptionController(opts: DisruptionControllerOptions = {}): ControllerDef {
  const deletionTimeoutMs = opts.deletionTimeoutMs ?? 2 * 60_000;
  const staleTimeoutMs = opts.stalePodDisruptionTimeoutMs ?? 2 * 60_000;

  return {
    name: 'disruption',
    resources: [PDBS, PODS],
    watches: [
      {
        resource: PODS,
        map: async (pod, reader) => {
          const budgets = await reader.list(PDBS, { namespace: pod.metadata.namespace });
          return budgets.filter((pdb) => budgetCoversPod(pdb, pod)).map((pdb) => ({ resource: PDBS, namespace: pdb.metadata.namespace, name: pdb.metadata.name! }));
        },
      },
    ],
    reads: [REPLICASETS, DEPLOYMENTS, STATEFULSETS],
    workers: 2,
    setup(ctx: ControllerContext) {
      const events = ctx.events.forComponent('controllermanager');
      const finder = new ScaleFinder(ctx.reader, ctx.registry);
      const sync = new BudgetSync(ctx, events, finder, deletionTimeoutMs);
      return async (ref: ObjectRef): Promise<ReconcileResult | void> => {
        if (ref.resource === PODS) return resetStaleDisruptionTarget(ctx, ref, staleTimeoutMs);
        return sync.reconcile(ref);
      };
    },
  };
}

/** The controller with Kubernetes' timeouts. */
export const disruptionControllerDef: ControllerDef = disruptionController();

class BudgetSync {
  constructor(
    private readonly ctx: ControllerContext,
    private readonly events: EventRecorder,
    private readonly finder: ScaleFinder,
    private readonly deletionTimeoutMs: number,
  ) {}

  async reconcile(ref: ObjectRef): Promise<ReconcileResult | void> {
    const pdb = await this.ctx.reader.get(PDBS, ref.namespace, ref.name);
    if (!pdb) return;
    try {
      return await this.trySync(pdb);
    } catch (e) {
      if (isConflict(e) || isNotFound(e)) throw e;
      this.ctx.log.warn({ pdb: `${ref.namespace}/${ref.name}`, err: e instanceof Error ? e.message : String(e) }, 'Failed to sync PDB');
      await this.failSafe(pdb, e instanceof Error ? e.message : String(e));
    }
  }

  private async trySync(pdb: KubeObject): Promise<ReconcileResult | void> {
    let pods: KubeObject[];
    try {
      pods = await this.podsFor(pdb);
    } catch (e) {
      await this.events.record(pdb, 'Warning', 'NoPods', `Failed to get pods: ${e instanceof Error ? e.message : String(e)}`);
      throw e;
    }
    if (!pods.length) await this.events.record(pdb, 'Normal', 'NoPods', 'No matching pods found');

    let expected: { expectedCount: number; desiredHealthy: number; unmanagedPods: string[] };
    try {
      expected = await this.expectedPodCount(pdb, pods);
    } catch (e) {
      await this.events.record(pdb, 'Warning', 'CalculateExpectedPodCountFailed', `Failed to calculate the number of expected pods: ${e instanceof Error ? e.message : String(e)}`);
      throw e;
    }
    if (expected.unmanagedPods.length) {
      await this.events.record(
        pdb,
        'Warning',
        'UnmanagedPods',
        `Pods selected by this PodDisruptionBudget (selector: ${selectorString(pdbSpec(pdb).selector)}) were found to be unmanaged. As a result, the status of the PDB cannot be calculated correctly, which may result in undefined behavior. To account for these pods please set ".spec.minAvailable" field of the PDB to an integer value.`,
      );
    }

    const now = this.ctx.clock();
    const { disruptedPods, recheckAt } = await this.disruptedPodMap(pdb, pods, now);
    const currentHealthy = this.countHealthy(pods, disruptedPods, now);
    await this.updateStatus(pdb, currentHealthy, expected.desiredHealthy, expected.expectedCount, disruptedPods);
    if (recheckAt !== undefined) return { requeueAfter: Math.max(0, recheckAt - now.getTime()) + 5 };
  }

  private async podsFor(pdb: KubeObject): Promise<KubeObject[]> {
    const selector = pdbSelector(pdb);
    const pods = await this.ctx.reader.list(PODS, { namespace: pdb.metadata.namespace });
    return pods.filter((p) => matchesLabels(selector, p.metadata.labels));
  }

  /** getExpectedPodCount: integer minAvailable counts the selected pods; percentages and maxUnavailable the owners' scale. */
  private async expectedPodCount(pdb: KubeObject, pods: KubeObject[]): Promise<{ expectedCount: number; desiredHealthy: number; unmanagedPods: string[] }> {
    const spec = pdbSpec(pdb);
    if (spec.maxUnavailable !== undefined && spec.maxUnavailable !== null) {
      const { expectedCount, unmanagedPods } = await this.expectedScale(pods);
      const maxUnavailable = scaledValue(spec.maxUnavailable, expectedCount);
      return { expectedCount, desiredHealthy: Math.max(0, expectedCount - maxUnavailable), unmanagedPods };
    }
    if (spec.minAvailable !== undefined && spec.minAvailable !== null) {
      if (typeof spec.minAvailable === 'number') return { expectedCount: pods.length, desiredHealthy: spec.minAvailable, unmanagedPods: [] };
      const { expectedCount, unmanagedPods } = await this.expectedScale(pods);
      return { expectedCount, desiredHealthy: scaledValue(spec.minAvailable, expectedCount), unmanagedPods };
    }
    return { expectedCount: 0, desiredHealthy: 0, unmanagedPods: [] };
  }

  /** The sum of the scales of the pods' controllers; pods without a controller are reported, not counted. */
  private async expectedScale(pods: KubeObject[]): Promise<{ expectedCount: number; unmanagedPods: string[] }> {
    const scales = new Map<string, number>();
    const unmanagedPods: string[] = [];
    for (const pod of pods) {
      const owner = controllerOf(pod);
      if (!owner) {
        unmanagedPods.push(pod.metadata.name!);
        continue;
      }
      if (scales.has(owner.uid)) continue;
      const found = await this.finder.find(owner, pod.metadata.namespace!);
      if (!found) throw new ExpectedCountError(`found no controllers for pod "${pod.metadata.name}"`);
      scales.set(found.uid, found.scale);
    }
    let expectedCount = 0;
    for (const n of scales.values()) expectedCount += n;
    return { expectedCount, unmanagedPods };
  }

  /** Evictions still waiting for their pod's deletion; the expired ones are dropped with a NotDeleted event. */
  private async disruptedPodMap(pdb: KubeObject, pods: KubeObject[], now: Date): Promise<{ disruptedPods: Record<string, string>; recheckAt?: number }> {
    const recorded = pdbStatus(pdb).disruptedPods;
    const disruptedPods: Record<string, string> = {};
    let recheckAt: number | undefined;
    if (!recorded) return { disruptedPods };
    for (const pod of pods) {
      if (pod.metadata.deletionTimestamp) continue;
      const at = recorded[pod.metadata.name!];
      if (at === undefined) continue;
      const expectedDeletion = Date.parse(at) + this.deletionTimeoutMs;
      if (expectedDeletion < now.getTime()) {
        // Kubernetes names the budget by its namespace twice in this message.
        await this.events.record(pod, 'Warning', 'NotDeleted', `Pod was expected by PDB ${pdb.metadata.namespace}/${pdb.metadata.namespace} to be deleted but it wasn't`);
      } else {
        if (recheckAt === undefined || expectedDeletion < recheckAt) recheckAt = expectedDeletion;
        disruptedPods[pod.metadata.name!] = at;
      }
    }
    return { disruptedPods, recheckAt };
  }

  /** Ready pods that are neither being deleted nor recently evicted. */
  private countHealthy(pods: KubeObject[], disruptedPods: Record<string, string>, now: Date): number {
    let healthy = 0;
    for (const pod of pods) {
      if (pod.metadata.deletionTimestamp) continue;
      const at = disruptedPods[pod.metadata.name!];
      if (at !== undefined && Date.parse(at) + this.deletionTimeoutMs > now.getTime()) continue;
      if (isPodReady(pod)) healthy++;
    }
    return healthy;
  }

  private async updateStatus(pdb: KubeObject, currentHealthy: number, desiredHealthy: number, expectedCount: number, disruptedPods: Record<string, string>): Promise<void> {
    // A budget matching no expected pods allows nothing, so its first pods are safe before the next sync.
    let disruptionsAllowed = currentHealthy - desiredHealthy;
    if (expectedCount <= 0 || disruptionsAllowed <= 0) disruptionsAllowed = 0;
    const status = pdbStatus(pdb);
    const generation = pdb.metadata.generation ?? 0;
    if (
      status.currentHealthy === currentHealthy &&
      status.desiredHealthy === desiredHealthy &&
      status.expectedPods === expectedCount &&
      status.disruptionsAllowed === disruptionsAllowed &&
      deepEqual(status.disruptedPods ?? {}, disruptedPods) &&
      (status.observedGeneration ?? 0) === generation &&
      conditionsAreUpToDate(pdb)
    ) {
      return;
    }
    const next: PdbStatus = {};
    if (generation) next.observedGeneration = generation;
    if (Object.keys(disruptedPods).length) next.disruptedPods = disruptedPods;
    next.disruptionsAllowed = disruptionsAllowed;
    next.currentHealthy = currentHealthy;
    next.desiredHealthy = desiredHealthy;
    next.expectedPods = expectedCount;
    if (status.conditions) next.conditions = structuredClone(status.conditions);
    updateDisruptionAllowedCondition(next, this.ctx.clock());
    await this.writeStatus(pdb, next);
  }

  /** When computing the status failed, at least stop evictions: disruptionsAllowed 0 and a SyncFailed condition. */
  private async failSafe(pdb: KubeObject, message: string): Promise<void> {
    const next: PdbStatus = structuredClone(pdbStatus(pdb));
    next.disruptionsAllowed = 0;
    next.conditions = setStatusCondition(
      next.conditions ?? [],
      { type: DISRUPTION_ALLOWED_CONDITION, status: 'False', reason: SYNC_FAILED_REASON, message, observedGeneration: next.observedGeneration ?? 0 },
      this.ctx.clock(),
    );
    await this.writeStatus(pdb, next);
  }

  private async writeStatus(pdb: KubeObject, status: PdbStatus): Promise<void> {
    const next = structuredClone(pdb);
    next.status = status;
    await this.ctx.client.updateStatus(PDBS, next);
  }
}

/** A DisruptionTarget condition left True on a pod that is not being deleted is set back to False after the timeout. */
async function resetStaleDisruptionTarget(ctx: ControllerContext, ref: ObjectRef, staleTimeoutMs: number): Promise<ReconcileResult | void> {
  const pod = await ctx.reader.get(PODS, ref.namespace, ref.name);
  if (!pod || pod.metadata.deletionTimestamp) return;
  const status = (pod.status ?? {}) as { phase?: string; conditions?: PodCondition[] };
  const cond = status.conditions?.find((c) => c.type === 'DisruptionTarget');
  if (!cond || cond.status !== 'True' || cond.reason === 'TerminationByKubelet') return;
  if (status.phase === 'Succeeded' || status.phase === 'Failed') return;
  const now = ctx.clock();
  const waitFor = staleTimeoutMs - (now.getTime() - Date.parse(cond.lastTransitionTime ?? ''));
  if (waitFor > 0) return { requeueAfter: waitFor };
  const next = structuredClone(pod);
  next.status = { ...status, conditions: updatePodCondition(status.conditions!, { type: 'DisruptionTarget', status: 'False' }, now) };
  await ctx.client.updateStatus(PODS, next);
  ctx.log.info({ pod: `${ref.namespace}/${ref.name}` }, 'Reset stale DisruptionTarget condition to False');
}
