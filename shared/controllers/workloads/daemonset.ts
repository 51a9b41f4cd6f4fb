// The DaemonSet controller (pkg/controller/daemon): one pod per eligible node, pinned to its node by
// required node affinity (the scheduler binds it), replaced by RollingUpdate within maxUnavailable or
// maxSurge, or only when deleted by hand (OnDelete); revisions are kept as ControllerRevisions.
import type { KubeObject } from '../../api/kind.js';
import { isEverything } from '../../api/selectors/labels.js';
import { ApiError } from '../../apiserver/errors.js';
import type { ApiClient } from '../runtime/client.js';
import { CONTROLLER_REVISION_HASH_LABEL, claimObjects, selectorOf } from './controller-history.js';
import { cleanupHistory, constructHistory } from './daemonset-history.js';
import { daemonPodSpec, addDaemonTolerations, nodeShouldRunDaemonPod, pinToNode, targetNodeName, type NodeFit } from './daemonset-node-fit.js';
import { isPodAvailable, isPodReady, isTerminating, msUntilAvailable, podFromTemplate, podPhase, scaledValue } from './daemonset-pods.js';
import type { EventRecorder } from '../runtime/events.js';
import { toControllerOwner } from '../runtime/mappers.js';
import { StoreReader } from '../runtime/reader.js';
import type { ControllerDef, ObjectRef } from '../runtime/types.js';

const DAEMONSETS = 'apps/daemonsets';
const PODS = 'core/pods';
/** Pod label carrying the DaemonSet's template generation (extensions DaemonSetTemplateGenerationKey). */
export const TEMPLATE_GENERATION_LABEL = 'pod-template-generation';
const TEMPLATE_GENERATION_ANNOTATION = 'deprecated.daemonset.template.generation';
/** At most this many creations or deletions per pass (BurstReplicas). */
const BURST = 250;

type Obj = Record<string, unknown>;
const asObj = (v: unknown): Obj => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Obj) : {});

export interface DaemonSetControllerOptions {
  /** First wait before deleting a failed daemon pod again on the same node (default 1 s), doubling... */
  failedPodBackoffMs?: number;
  /** ...up to this (default 15 minutes). */
  maxFailedPodBackoffMs?: number;
}

const isNamespaceTerminating = (e: unknown): boolean => e instanceof ApiError && (e.status.details?.causes ?? []).some((c) => c.reason === 'NamespaceTerminating');
const errorText = (e: unknown): string => (e instanceof Error ? e.message : String(e));

/** The DaemonSet's template generation from its annotation; undefined when absent or unreadable. */
function templateGeneration(ds: KubeObject): string | undefined {
  const value = ds.metadata.annotations?.[TEMPLATE_GENERATION_ANNOTATION];
  return value !== undefined && /^-?\d+$/.test(value) ? String(Number(value)) : undefined;
}

/** util.IsPodUpdated: the pod carries the current revision hash or the current template generation. */
function isPodUpdated(pod: KubeObject, hash: string, generation: string | undefined): boolean {
  const labels = pod.metadata.labels ?? {};
  return (generation !== undefined && labels[TEMPLATE_GENERATION_LABEL] === generation) || (!!hash && labels[CONTROLLER_REVISION_HASH_LABEL] === hash);
}

interface RollingParams {
  maxSurge: number;
  maxUnavailable: number;
}

function rollingUpdateOf(ds: KubeObject): Obj | undefined {
  const strategy = asObj(asObj(ds.spec).updateStrategy);
  return strategy.type === 'RollingUpdate' ? asObj(strategy.rollingUpdate) : undefined;
}

/** util.SurgeCount / util.UnavailableCount against the number of nodes that should run the pod. */
function rollingParams(ds: KubeObject, desired: number): RollingParams {
  const ru = rollingUpdateOf(ds);
  const maxSurge = ru && ru.maxSurge !== undefined ? scaledValue(ru.maxSurge, desired, true) : 0;
  let maxUnavailable = ru && ru.maxUnavailable !== undefined ? scaledValue(ru.maxUnavailable, desired, true) : 0;
  // Neither set (an impossible configuration): accept one unavailable node, as Kubernetes does.
  if (desired > 0 && maxUnavailable === 0 && maxSurge === 0) maxUnavailable = 1;
  return { maxSurge, maxUnavailable };
}

const allowsSurge = (ds: KubeObject): boolean => {
  const ru = rollingUpdateOf(ds);
  return !!ru && ru.maxSurge !== undefined && scaledValue(ru.maxSurge, 1, true) !== 0;
};

/** Scheduled pods first, then oldest first, then by name (podByCreationTimestampAndPhase). */
function byAge(a: KubeObject, b: KubeObject): number {
  const sa = !!asObj(a.spec).nodeName;
  const sb = !!asObj(b.spec).nodeName;
  if (sa !== sb) return sa ? -1 : 1;
  const ta = a.metadata.creationTimestamp ?? '';
  const tb = b.metadata.creationTimestamp ?? '';
  if (ta !== tb) return ta < tb ? -1 : 1;
  return (a.metadata.name ?? '') < (b.metadata.name ?? '') ? -1 : 1;
}

/** Exponential backoff per key (client-go flowcontrol.Backoff) for deleting failed pods. */
class Backoff {
  private readonly entries = new Map<string, { delay: number; at: number }>();
  constructor(
    private readonly initial: number,
    private readonly max: number,
  ) {}

  /** The remaining wait when `key` is still backing off at `now`. */
  remaining(key: string, now: number): number | undefined {
    const e = this.entries.get(key);
    if (!e || now - e.at >= e.delay) return undefined;
    return e.delay - (now - e.at);
  }

  next(key: string, now: number): void {
    const e = this.entries.get(key);
    const expired = !e || now - e.at > 2 * this.max;
    this.entries.set(key, { delay: expired ? this.initial : Math.min(e.delay * 2, this.max), at: now });
    if (this.entries.size > 10_000) this.gc(now);
  }

  private gc(now: number): void {
    for (const [k, e] of this.entries) if (now - e.at > 2 * this.max) this.entries.delete(k);
  }
}

interface Pass {
  ds: KubeObject;
  hash: string;
  generation: string | undefined;
  nodes: KubeObject[];
  fit: Map<string, NodeFit>;
  /** Daemon pods by the node they run on or are pinned to (deleted pods that finished are left out). */
  byNode: Map<string, KubeObject[]>;
  now: Date;
  requeueAfter?: number;
}

const requeue = (pass: Pass, ms: number): void => {
  if (ms > 0 && (pass.requeueAfter === undefined || ms < pass.requeueAfter)) pass.requeueAfter = ms;
};

export function createDaemonSetController(opts: DaemonSetControllerOptions = {}): ControllerDef {
  return {
    name: 'daemonset',
    resources: [DAEMONSETS],
    watches: [
      { resource: PODS, map: toControllerOwner('DaemonSet', DAEMONSETS) },
      { resource: 'apps/controllerrevisions', map: toControllerOwner('DaemonSet', DAEMONSETS) },
      // Any node change may change where daemon pods belong.
      { resource: 'core/nodes', map: async (_node, reader) => (await reader.list(DAEMONSETS)).map((ds) => refOfDaemonSet(ds)) },
    ],
    setup: (ctx) => {
      const { reader, client, clock } = ctx;
      const events = ctx.events.forComponent('daemonset-controller');
      const fresh = new StoreReader(ctx.store);
      const backoff = new Backoff(opts.failedPodBackoffMs ?? 1000, opts.maxFailedPodBackoffMs ?? 15 * 60_000);

      return async (ref) => {
        const ds = await reader.get(DAEMONSETS, ref.namespace, ref.name);
        if (!ds) return;
        const selector = selectorOf(ds);
        if (!selector) return;
        if (isEverything(selector)) {
          await events.record(ds, 'Warning', 'SelectingAll', 'This daemon set is selecting all pods. A non-empty selector is required.');
          return;
        }
        // While it is being deleted its pods and revisions may already be going: leave status alone.
        if (ds.metadata.deletionTimestamp) return;

        const inNamespace = await reader.list(PODS, { namespace: ds.metadata.namespace });
        const allPods = await claimObjects(client, PODS, ds, inNamespace, selector);
        const history = await constructHistory(reader, fresh, client, ds, () => allPods);
        const hash = history.current.metadata.labels?.[CONTROLLER_REVISION_HASH_LABEL] ?? '';
        const nodes = await reader.list('core/nodes');
        const podSpec = daemonPodSpec(ds);
        const pass: Pass = {
          ds,
          hash,
          generation: templateGeneration(ds),
          nodes,
          fit: new Map(nodes.map((n) => [n.metadata.name!, nodeShouldRunDaemonPod(podSpec, n)])),
          byNode: groupByNode(allPods.filter((p) => !(isTerminating(p) && ['Failed', 'Succeeded'].includes(podPhase(p))))),
          now: clock(),
        };

        let wrote = await manage(pass, client, events, backoff);
        // Like Kubernetes, roll only once the effects of this pass's creations and deletions are seen.
        if (!wrote && rollingUpdateOf(ds)) wrote = await rollingUpdate(pass, client, events);
        await cleanupHistory(client, ds, history.old, allPods);
        await storeStatus(pass, client);
        return pass.requeueAfter !== undefined ? { requeueAfter: pass.requeueAfter } : undefined;
      };
    },
  };
}

/** The DaemonSet controller with default backoffs. */
export const daemonSetController: ControllerDef = createDaemonSetController();

function refOfDaemonSet(ds: KubeObject): ObjectRef {
  return { resource: DAEMONSETS, namespace: ds.metadata.namespace, name: ds.metadata.name! };
}

function groupByNode(pods: KubeObject[]): Map<string, KubeObject[]> {
  const byNode = new Map<string, KubeObject[]>();
  for (const pod of pods) {
    const node = targetNodeName(pod);
    if (node === undefined) continue;
    let list = byNode.get(node);
    if (!list) byNode.set(node, (list = []));
    list.push(pod);
  }
  return byNode;
}

/** The pods to create (by node) and delete so that each eligible node runs one daemon pod (podsShouldBeOnNode). */
async function manage(pass: Pass, client: ApiClient, events: EventRecorder, backoff: Backoff): Promise<boolean> {
  const { ds, byNode } = pass;
  const nodesNeedingPods: string[] = [];
  const podsToDelete: KubeObject[] = [];
  const surge = allowsSurge(ds);
  const minReady = Number(asObj(ds.spec).minReadySeconds ?? 0);

  for (const node of pass.nodes) {
    const name = node.metadata.name!;
    const { shouldRun, shouldContinueRunning } = pass.fit.get(name)!;
    const onNode = byNode.get(name) ?? [];
    if (shouldRun && !onNode.length) {
      nodesNeedingPods.push(name);
    } else if (shouldContinueRunning) {
      const running: KubeObject[] = [];
      for (const pod of onNode) {
        if (isTerminating(pod)) continue;
        const phase = podPhase(pod);
        if (phase === 'Failed') {
          // The kubelet may keep rejecting the pod: back off instead of hot-looping.
          const key = `${ds.metadata.uid}/${asObj(ds.status).observedGeneration ?? 0}/${name}`;
          const wait = backoff.remaining(key, pass.now.getTime());
          if (wait !== undefined) {
            requeue(pass, wait);
            continue;
          }
          backoff.next(key, pass.now.getTime());
          await events.record(ds, 'Warning', 'FailedDaemonPod', `Found failed daemon pod ${pod.metadata.namespace}/${pod.metadata.name} on node ${name}, will try to kill it`);
          podsToDelete.push(pod);
        } else if (phase === 'Succeeded') {
          await events.record(ds, 'Normal', 'SucceededDaemonPod', `Found succeeded daemon pod ${pod.metadata.namespace}/${pod.metadata.name} on node ${name}, will try to delete it`);
          podsToDelete.push(pod);
        } else {
          running.push(pod);
        }
      }
      running.sort(byAge);
      if (!surge) {
        // Only one pod per node: keep the oldest.
        podsToDelete.push(...running.slice(1));
        continue;
      }
      if (running.length <= 1) {
        if (!running.length && shouldRun) nodesNeedingPods.push(name);
        continue;
      }
      // Surging: an old and a new pod may share the node until the new one is available.
      let oldestNew: KubeObject | undefined;
      let oldestOld: KubeObject | undefined;
      for (const pod of running) {
        if (isPodUpdated(pod, pass.hash, pass.generation)) {
          if (!oldestNew) {
            oldestNew = pod;
            continue;
          }
        } else if (!oldestOld) {
          oldestOld = pod;
          continue;
        }
        podsToDelete.push(pod);
      }
      if (oldestNew && oldestOld && (!isPodReady(oldestOld) || isPodAvailable(oldestNew, minReady, pass.now))) podsToDelete.push(oldestOld);
    } else {
      podsToDelete.push(...onNode.filter((p) => !isTerminating(p)));
    }
  }

  // Pods pinned to nodes that no longer exist are never scheduled, and nothing else removes them.
  const existing = new Set(pass.nodes.map((n) => n.metadata.name));
  for (const [node, pods] of byNode) {
    if (existing.has(node)) continue;
    podsToDelete.push(...pods.filter((p) => !asObj(p.spec).nodeName && !isTerminating(p)));
  }
  return syncNodes(pass, client, events, podsToDelete, nodesNeedingPods);
}

/** Creates pods on the nodes (in slow-start batches) and deletes the pods; true when anything was attempted. */
async function syncNodes(pass: Pass, client: ApiClient, events: EventRecorder, podsToDelete: KubeObject[], nodesNeedingPods: string[]): Promise<boolean> {
  const { ds } = pass;
  const creates = nodesNeedingPods.slice(0, BURST);
  const deletes = podsToDelete.slice(0, BURST);
  const errors: string[] = [];

  const template = structuredClone(asObj(asObj(ds.spec).template));
  addDaemonTolerations((template.spec = asObj(template.spec)));
  const meta = (template.metadata = asObj(template.metadata));
  meta.labels = { ...asObj(meta.labels), ...(pass.generation !== undefined ? { [TEMPLATE_GENERATION_LABEL]: pass.generation } : {}), ...(pass.hash ? { [CONTROLLER_REVISION_HASH_LABEL]: pass.hash } : {}) };

  const createOn = async (nodeName: string): Promise<boolean> => {
    const pod = podFromTemplate(template, ds);
    pinToNode(pod.spec as Obj, nodeName);
    try {
      const created = await client.create(PODS, pod);
      await events.record(ds, 'Normal', 'SuccessfulCreate', `Created pod: ${created.metadata.name}`);
      return true;
    } catch (e) {
      // A namespace being torn down refuses every creation: nothing to report.
      if (isNamespaceTerminating(e)) return true;
      await events.record(ds, 'Warning', 'FailedCreate', `Error creating: ${errorText(e)}`);
      errors.push(errorText(e));
      return false;
    }
  };
  for (let pos = 0, batch = Math.min(creates.length, 1); pos < creates.length; pos += batch, batch = Math.min(2 * batch, creates.length - pos)) {
    const results = await Promise.all(creates.slice(pos, pos + batch).map(createOn));
    if (results.includes(false)) break;
  }

  await Promise.all(
    deletes.map(async (pod) => {
      try {
        if (await client.delete(PODS, pod.metadata.namespace, pod.metadata.name!)) await events.record(ds, 'Normal', 'SuccessfulDelete', `Deleted pod: ${pod.metadata.name}`);
      } catch (e) {
        await events.record(ds, 'Warning', 'FailedDelete', `Error deleting: ${errorText(e)}`);
        errors.push(errorText(e));
      }
    }),
  );
  if (errors.length) throw new Error(errors.join('; '));
  return creates.length + deletes.length > 0;
}

/** The old and new live pod on a node; undefined when there are more than one of either (findUpdatedPodsOnNode). */
function updatedPodsOnNode(pass: Pass, pods: KubeObject[]): { newPod?: KubeObject; oldPod?: KubeObject } | undefined {
  let newPod: KubeObject | undefined;
  let oldPod: KubeObject | undefined;
  for (const pod of pods) {
    if (isTerminating(pod)) continue;
    if (isPodUpdated(pod, pass.hash, pass.generation)) {
      if (newPod) return undefined;
      newPod = pod;
    } else {
      if (oldPod) return undefined;
      oldPod = pod;
    }
  }
  return { newPod, oldPod };
}

/** Replaces old pods within maxUnavailable (deleting) or maxSurge (creating first). */
async function rollingUpdate(pass: Pass, client: ApiClient, events: EventRecorder): Promise<boolean> {
  const { ds, now } = pass;
  const minReady = Number(asObj(ds.spec).minReadySeconds ?? 0);
  const byNode = new Map(pass.byNode);
  let desired = 0;
  for (const node of pass.nodes) {
    if (!pass.fit.get(node.metadata.name!)!.shouldRun) continue;
    desired++;
    if (!byNode.has(node.metadata.name!)) byNode.set(node.metadata.name!, []);
  }
  const { maxSurge, maxUnavailable } = rollingParams(ds, desired);
  const available = (pod: KubeObject): boolean => {
    const wait = msUntilAvailable(pod, minReady, now);
    if (wait) requeue(pass, wait);
    return wait === 0;
  };

  if (maxSurge === 0) {
    let unavailable = 0;
    const replacements: KubeObject[] = [];
    const candidates: KubeObject[] = [];
    for (const pods of byNode.values()) {
      const found = updatedPodsOnNode(pass, pods);
      // Excess pods: the manage loop cleans the node up first; count it as unavailable meanwhile.
      if (!found) {
        unavailable++;
        continue;
      }
      const { newPod, oldPod } = found;
      if ((!oldPod && !newPod) || (oldPod && newPod)) unavailable++;
      else if (newPod) {
        if (!available(newPod)) unavailable++;
      } else if (oldPod) {
        if (!available(oldPod)) {
          replacements.push(oldPod);
          unavailable++;
        } else if (unavailable < maxUnavailable) candidates.push(oldPod);
      }
    }
    const room = Math.min(Math.max(0, maxUnavailable - unavailable), candidates.length);
    return syncNodes(pass, client, events, [...replacements, ...candidates.slice(0, room)], []);
  }

  const toDelete: KubeObject[] = [];
  const shouldNotRun: KubeObject[] = [];
  const candidateNodes: string[] = [];
  const allowedNodes: string[] = [];
  let surging = 0;
  let numAvailable = 0;
  for (const [nodeName, pods] of byNode) {
    const found = updatedPodsOnNode(pass, pods);
    if (!found) {
      surging++;
      continue;
    }
    const { newPod, oldPod } = found;
    if (oldPod ? available(oldPod) : newPod ? available(newPod) : false) numAvailable++;
    if (!oldPod) continue;
    const shouldRun = pass.fit.get(nodeName)?.shouldRun ?? false;
    if (!newPod) {
      if (!available(oldPod)) {
        if (!shouldRun) toDelete.push(oldPod);
        else allowedNodes.push(nodeName);
      } else if (!shouldRun) shouldNotRun.push(oldPod);
      else if (surging < maxSurge) candidateNodes.push(nodeName);
      continue;
    }
    // Already surged here: once the new pod is available the old one goes.
    if (!available(newPod)) surging++;
    else toDelete.push(oldPod);
  }
  // Keep full availability: only retire pods on nodes that no longer qualify once others took over.
  const deletable = Math.min(Math.max(0, numAvailable - desired), shouldNotRun.length);
  toDelete.push(...shouldNotRun.slice(0, deletable));
  const room = Math.min(Math.max(0, maxSurge - surging), candidateNodes.length);
  return syncNodes(pass, client, events, toDelete, [...allowedNodes, ...candidateNodes.slice(0, room)]);
}

/** Writes the counts of desired, scheduled, misscheduled, ready, updated and available nodes. */
async function storeStatus(pass: Pass, client: ApiClient): Promise<void> {
  const { ds, now } = pass;
  const minReady = Number(asObj(ds.spec).minReadySeconds ?? 0);
  let desired = 0;
  let current = 0;
  let misscheduled = 0;
  let ready = 0;
  let updated = 0;
  let available = 0;
  for (const node of pass.nodes) {
    const pods = [...(pass.byNode.get(node.metadata.name!) ?? [])];
    if (!pass.fit.get(node.metadata.name!)!.shouldRun) {
      if (pods.length) misscheduled++;
      continue;
    }
    desired++;
    if (!pods.length) continue;
    current++;
    const pod = pods.sort(byAge)[0];
    if (isPodReady(pod)) {
      ready++;
      const wait = msUntilAvailable(pod, minReady, now);
      if (wait === 0) available++;
      else if (wait) requeue(pass, wait);
    }
    if (isPodUpdated(pod, pass.hash, pass.generation)) updated++;
  }
  const counts = {
    desiredNumberScheduled: desired,
    currentNumberScheduled: current,
    numberMisscheduled: misscheduled,
    numberReady: ready,
    updatedNumberScheduled: updated,
    numberAvailable: available,
    numberUnavailable: desired - available,
  };
  const status = asObj(ds.status);
  const generation = ds.metadata.generation ?? 0;
  const same = Object.entries(counts).every(([k, v]) => Number(status[k] ?? 0) === v);
  if (same && Number(status.observedGeneration ?? 0) >= generation) return;
  const next = structuredClone(ds);
  next.status = { ...status, ...counts, observedGeneration: generation };
  await client.updateStatus(DAEMONSETS, next);
}
