// Pod garbage collection (Kubernetes' pod-garbage-collector): force-deletes (grace period 0)
//  - pods bound to a node that no longer exists, once it has been missing for the quarantine time;
//  - terminating pods on a node that is not Ready and carries the out-of-service taint;
//  - terminating pods that were never scheduled;
//  - the oldest terminated (Succeeded/Failed) pods beyond the threshold, evicted ones first.
// A pod that has not finished is marked Failed first, since no kubelet will do it.
// Kubernetes sweeps all pods every 20 s; here every pod change reconciles that pod, and node
// deletions and out-of-service taints wake the pods of that node.
import type { KubeObject } from '../../api/kind.js';
import { rfc3339 } from '../../apiserver/metadata.js';
import { isConflict, isNotFound } from '../runtime/client.js';
import { conditionsOf, isNodeReady, taintsOf, TAINT_OUT_OF_SERVICE, type Condition } from './node-lifecycle.js';
import { StoreReader, type ObjectReader } from '../runtime/reader.js';
import type { ControllerDef, ObjectRef } from '../runtime/types.js';

export interface PodGCOptions {
  /** terminated-pod-gc-threshold: terminated pods kept before the oldest are deleted (default 12,500; 0 disables). */
  terminatedPodThreshold?: number;
  /** How long a pod's node must be missing before the pod counts as orphaned (default 40 s). */
  quarantineMs?: number;
}

export const POD_GC_DEFAULTS: Required<PodGCOptions> = { terminatedPodThreshold: 12_500, quarantineMs: 40_000 };

const phaseOf = (pod: KubeObject) => (pod.status as { phase?: string } | undefined)?.phase;
const nodeNameOf = (pod: KubeObject) => (pod.spec as { nodeName?: string } | undefined)?.nodeName ?? '';
export const isTerminated = (pod: KubeObject) => phaseOf(pod) === 'Succeeded' || phaseOf(pod) === 'Failed';
const podRef = (pod: KubeObject): ObjectRef => ({ resource: 'core/pods', namespace: pod.metadata.namespace, name: pod.metadata.name! });

/** Kubernetes' byEvictionAndCreationTimestamp: evicted pods first, then oldest, then by name. */
function deletionOrder(a: KubeObject, b: KubeObject): number {
  const ae = (a.status as { reason?: string } | undefined)?.reason === 'Evicted';
  const be = (b.status as { reason?: string } | undefined)?.reason === 'Evicted';
  if (ae !== be) return ae ? -1 : 1;
  const at = a.metadata.creationTimestamp ?? '';
  const bt = b.metadata.creationTimestamp ?? '';
  if (at !== bt) return at < bt ? -1 : 1;
  return (a.metadata.name ?? '') < (b.metadata.name ?? '') ? -1 : (a.metadata.name ?? '') > (b.metadata.name ?? '') ? 1 : 0;
}

/** Terminated pods, kept current from the cache's change feed in-process; listed on demand otherwise. */
class TerminatedPods {
  private readonly pods = new Map<string, KubeObject>();
  private readonly live: boolean;

  constructor(private readonly reader: ObjectReader) {
    this.live = !!reader.subscribe;
    reader.subscribe?.('core/pods', (type, obj) => {
      const key = `${obj.metadata.namespace}/${obj.metadata.name}`;
      if (type !== 'DELETED' && isTerminated(obj)) this.pods.set(key, obj);
      else this.pods.delete(key);
    });
  }

  async count(): Promise<number> {
    return this.live ? this.pods.size : (await this.list()).length;
  }

  async list(): Promise<KubeObject[]> {
    return this.live ? [...this.pods.values()] : (await this.reader.list('core/pods')).filter(isTerminated);
  }
}

export function podGCController(opts: PodGCOptions = {}): ControllerDef {
  const o: Required<PodGCOptions> = { ...POD_GC_DEFAULTS, ...opts };
  return {
    name: 'pod-garbage-collector-controller',
    resources: ['core/pods'],
    watches: [
      {
        resource: 'core/nodes',
        // A deleted node orphans its pods; an out-of-service taint releases its terminating pods.
        map: async (node, reader) => {
          const name = node.metadata.name!;
          const current = await reader.get('core/nodes', undefined, name);
          const gone = !current || current.metadata.uid !== node.metadata.uid;
          const outOfService = !!current && taintsOf(current).some((t) => t.key === TAINT_OUT_OF_SERVICE);
          if (!gone && !outOfService) return [];
          const pods = await reader.list('core/pods', { nodeName: name });
          return pods.filter((p) => gone || p.metadata.deletionTimestamp).map(podRef);
        },
      },
    ],
    setup: ({ reader, client, clock, store }) => {
      const live = new StoreReader(store);
      const terminated = o.terminatedPodThreshold > 0 ? new TerminatedPods(reader) : undefined;
      /** When each missing node was first noticed (the quarantine's start). */
      const missingSince = new Map<string, number>();

      async function markFailedAndDelete(pod: KubeObject, condition?: Condition): Promise<void> {
        if (!isTerminated(pod)) {
          const next = structuredClone(pod);
          const status = (next.status ??= {}) as { phase?: string; conditions?: Condition[] };
          status.phase = 'Failed';
          if (condition) {
            const existing = conditionsOf(next).find((c) => c.type === condition.type);
            const transition = existing?.status === condition.status ? existing.lastTransitionTime : rfc3339(clock());
            status.conditions = [...conditionsOf(next).filter((c) => c.type !== condition.type), { ...condition, lastProbeTime: null, lastTransitionTime: transition }];
          }
          try {
            await client.updateStatus('core/pods', next);
          } catch (e) {
            if (isNotFound(e)) return;
            throw e;
          }
        }
        try {
          await client.delete('core/pods', pod.metadata.namespace, pod.metadata.name!, { gracePeriodSeconds: 0, preconditions: { uid: pod.metadata.uid } });
        } catch (e) {
          // A new pod of the same name is not ours to delete.
          if (!isConflict(e)) throw e;
        }
      }

      async function gcTerminated(): Promise<void> {
        const excess = (await terminated!.count()) - o.terminatedPodThreshold;
        if (excess <= 0) return;
        const oldest = (await terminated!.list()).sort(deletionOrder).slice(0, excess);
        for (const pod of oldest) await markFailedAndDelete(pod);
      }

      return async (ref) => {
        const pod = await reader.get('core/pods', ref.namespace, ref.name);
        if (!pod) return;
        const nodeName = nodeNameOf(pod);
        if (nodeName) {
          const node = await reader.get('core/nodes', undefined, nodeName);
          if (!node) {
            const now = clock().getTime();
            const since = missingSince.get(nodeName) ?? now;
            if (!missingSince.has(nodeName) && missingSince.size >= 10_000) missingSince.delete(missingSince.keys().next().value!);
            missingSince.set(nodeName, since);
            if (now - since < o.quarantineMs) return { requeueAfter: since + o.quarantineMs - now };
            // The cache may lag: ask the store before calling the pod an orphan.
            if (await live.get('core/nodes', undefined, nodeName)) return;
            return markFailedAndDelete(pod, { type: 'DisruptionTarget', status: 'True', reason: 'DeletionByPodGC', message: 'PodGC: node no longer exists' });
          }
          missingSince.delete(nodeName);
          if (pod.metadata.deletionTimestamp && !isNodeReady(node) && taintsOf(node).some((t) => t.key === TAINT_OUT_OF_SERVICE)) return markFailedAndDelete(pod);
        } else if (pod.metadata.deletionTimestamp) {
          return markFailedAndDelete(pod);
        }
        if (terminated && isTerminated(pod)) await gcTerminated();
      };
    },
  };
}

export const podGC = podGCController();
