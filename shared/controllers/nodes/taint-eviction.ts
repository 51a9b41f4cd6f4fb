// Taint eviction (Kubernetes' taint-eviction-controller): a pod bound to a node with NoExecute
// taints it does not tolerate is deleted at once; one that tolerates them for a limited time
// (tolerationSeconds) is deleted when that time has passed. Reconciled per pod; node taint
// changes wake the pods on that node.
//
// Kubernetes starts the toleration clock when its in-memory eviction queue first sees the pod on
// the tainted node. Here each taint's clock starts at its timeAdded (or, for a pod that arrived
// later, when the pod was scheduled), which survives restarts and needs no queue: the pod is
// deleted at the earliest of those per-taint deadlines.
import type { KubeObject } from '../../api/kind.js';
import { rfc3339 } from '../../apiserver/metadata.js';
import { isNotFound } from '../runtime/client.js';
import { conditionOf, conditionsOf, latestInstant, taintsOf, type Condition, type Taint } from './node-lifecycle.js';
import type { ControllerDef, ObjectRef } from '../runtime/types.js';
import { tolerates, type Toleration } from '../../scheduler/node-selection.js';

/** For each taint the first toleration that tolerates it, or undefined when one is not tolerated. */
export function matchingTolerations(taints: Taint[], tolerations: Toleration[]): Toleration[] | undefined {
  const used: Toleration[] = [];
  for (const taint of taints) {
    const t = tolerations.find((x) => tolerates(x, taint));
    if (!t) return undefined;
    used.push(t);
  }
  return used;
}

export function tolerationsOf(pod: KubeObject): Toleration[] {
  const list = (pod.spec as { tolerations?: unknown } | undefined)?.tolerations;
  return Array.isArray(list) ? (list as Toleration[]) : [];
}

export interface TaintEvictionOptions {
  /** Remembered first-seen times for taints without timeAdded (bounded memory). Default 10,000. */
  maxRememberedTaints?: number;
}

const FIRST_SEEN_LIMIT = 10_000;

export function taintEvictionController(opts: TaintEvictionOptions = {}): ControllerDef {
  const limit = opts.maxRememberedTaints ?? FIRST_SEEN_LIMIT;
  return {
    name: 'taint-eviction-controller',
    resources: ['core/pods'],
    watches: [
      {
        resource: 'core/nodes',
        // A node's NoExecute taints concern its pods (old and new node states are both mapped, so removals count too).
        map: async (node, reader) => {
          if (!taintsOf(node).some((t) => t.effect === 'NoExecute')) return [];
          const pods = await reader.list('core/pods', { nodeName: node.metadata.name! });
          return pods.map((p) => ({ resource: 'core/pods', namespace: p.metadata.namespace, name: p.metadata.name! }));
        },
      },
    ],
    setup: ({ reader, client, clock, events }) => {
      /** Pods with an eviction scheduled for later (namespace/name -> uid), for the cancel event. */
      const scheduled = new Map<string, string>();
      /** When a taint without timeAdded was first seen (node uid|key|effect -> ms). */
      const firstSeen = new Map<string, number>();

      async function cancel(key: string, pod: KubeObject | undefined, ref: ObjectRef): Promise<void> {
        const uid = scheduled.get(key);
        if (uid === undefined) return;
        scheduled.delete(key);
        const involved = pod ?? { apiVersion: 'v1', kind: 'Pod', metadata: { name: ref.name, namespace: ref.namespace, uid } };
        await events.record(involved, 'Normal', 'TaintManagerEviction', `Cancelling deletion of Pod ${key}`);
      }

      function addedAt(node: KubeObject, taint: Taint, now: number): number {
        const t = latestInstant(taint.timeAdded);
        if (!Number.isNaN(t)) return t;
        const id = `${node.metadata.uid}|${taint.key}|${taint.effect}`;
        let seen = firstSeen.get(id);
        if (seen === undefined) {
          if (firstSeen.size >= limit) firstSeen.delete(firstSeen.keys().next().value!);
          firstSeen.set(id, (seen = now));
        }
        return seen;
      }

      async function evict(pod: KubeObject, key: string): Promise<void> {
        const target: Condition = { type: 'DisruptionTarget', status: 'True', reason: 'DeletionByTaintManager', message: 'Taint manager: deleting due to NoExecute taint' };
        const existing = conditionOf(pod, 'DisruptionTarget');
        if (!existing || existing.status !== target.status || existing.reason !== target.reason || existing.message !== target.message) {
          const next = structuredClone(pod);
          const status = (next.status ??= {}) as { conditions?: Condition[] };
          const conditions = conditionsOf(next).filter((c) => c.type !== 'DisruptionTarget');
          conditions.push({ ...target, lastProbeTime: null, lastTransitionTime: existing?.status === 'True' ? existing.lastTransitionTime : rfc3339(clock()) });
          status.conditions = conditions;
          try {
            await client.updateStatus('core/pods', next);
          } catch (e) {
            if (isNotFound(e)) return;
            throw e;
          }
        }
        scheduled.delete(key);
        await events.record(pod, 'Normal', 'TaintManagerEviction', `Marking for deletion Pod ${key}`);
        await client.delete('core/pods', pod.metadata.namespace, pod.metadata.name!, { preconditions: { uid: pod.metadata.uid } });
      }

      return async (ref) => {
        const key = `${ref.namespace}/${ref.name}`;
        const pod = await reader.get('core/pods', ref.namespace, ref.name);
        if (!pod) return cancel(key, undefined, ref);
        if (scheduled.has(key) && scheduled.get(key) !== pod.metadata.uid) scheduled.delete(key);
        const nodeName = (pod.spec as { nodeName?: string } | undefined)?.nodeName;
        // Already terminating: the kubelet (or pod GC) finishes it.
        if (!nodeName || pod.metadata.deletionTimestamp) return;
        const node = await reader.get('core/nodes', undefined, nodeName);
        const taints = taintsOf(node).filter((t) => t.effect === 'NoExecute');
        if (!node || !taints.length) return cancel(key, pod, ref);

        const used = matchingTolerations(taints, tolerationsOf(pod));
        if (!used) return evict(pod, key);

        const now = clock().getTime();
        // A pod that came to the node after the taint starts its clock when it was scheduled.
        const arrived = latestInstant(conditionOf(pod, 'PodScheduled')?.lastTransitionTime ?? pod.metadata.creationTimestamp);
        let deadline = Infinity;
        taints.forEach((taint, i) => {
          const seconds = used[i].tolerationSeconds;
          if (seconds === undefined || seconds === null) return;
          const start = Math.max(addedAt(node, taint, now), Number.isNaN(arrived) ? -Infinity : arrived);
          deadline = Math.min(deadline, seconds <= 0 ? -Infinity : start + seconds * 1000);
        });
        if (deadline === Infinity) return cancel(key, pod, ref);
        if (now >= deadline) return evict(pod, key);
        scheduled.set(key, pod.metadata.uid!);
        return { requeueAfter: deadline - now };
      };
    },
  };
}

export const taintEviction = taintEvictionController();
