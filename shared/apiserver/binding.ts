// The pods/binding subresource: assigns an unbound pod to a node (what the scheduler posts).
// Like kube-apiserver's BindingREST it writes the pod's storage directly: spec.nodeName and the
// PodScheduled condition change together, and a pod already bound or being deleted is refused.
import type { KubeObject } from '../api/kind.js';
import { StoreError, type Store } from '../store/contract.js';
import { decodeFromStore, encodeForStore } from './codec.js';
import { errors } from './errors.js';
import { rfc3339 } from './metadata.js';
import { required } from '../api/schema/errors.js';

const PODS = { group: '', resource: 'pods' };

export interface BindingTarget {
  /** The node to bind to (Binding.target.name). */
  nodeName: string;
  /** Annotations carried by the Binding's metadata are copied onto the pod. */
  annotations?: Record<string, string>;
  /** Precondition: the pod's uid (Binding.metadata.uid), when given. */
  uid?: string;
}

export async function bindPod(store: Store, namespace: string, name: string, target: BindingTarget, now: Date = new Date()): Promise<KubeObject> {
  if (!target.nodeName) throw errors.invalid('', 'Binding', name, [required('target.name')]);
  const key = `/registry/core/pods/${namespace}/${name}`;
  for (let attempt = 0; ; attempt++) {
    const kv = await store.get(key);
    if (!kv) throw errors.notFound(PODS, name);
    const pod = decodeFromStore(kv);
    if (target.uid && target.uid !== pod.metadata.uid) {
      throw errors.conflict(PODS, name, `Precondition failed: UID in precondition: ${target.uid}, UID in object meta: ${pod.metadata.uid}`);
    }
    if (pod.metadata.deletionTimestamp) throw errors.conflict(PODS, name, `pod ${name} is being deleted, cannot be assigned to a host`);
    const spec = (pod.spec ?? {}) as { nodeName?: string };
    if (spec.nodeName) throw errors.conflict(PODS, name, `pod ${name} is already assigned to node "${spec.nodeName}"`);
    spec.nodeName = target.nodeName;
    pod.spec = spec;
    if (target.annotations && Object.keys(target.annotations).length) pod.metadata.annotations = { ...pod.metadata.annotations, ...target.annotations };
    const status = (pod.status ?? {}) as { conditions?: Record<string, unknown>[] };
    const conditions = (status.conditions ?? []).filter((c) => c.type !== 'PodScheduled');
    conditions.push({ type: 'PodScheduled', status: 'True', lastProbeTime: null, lastTransitionTime: rfc3339(now) });
    status.conditions = conditions;
    pod.status = status;
    try {
      const written = await store.update(key, encodeForStore(pod), kv.rev);
      pod.metadata.resourceVersion = String(written.rev);
      return pod;
    } catch (e) {
      if (e instanceof StoreError && e.code === 'Conflict' && attempt < 16) continue;
      throw e;
    }
  }
}
