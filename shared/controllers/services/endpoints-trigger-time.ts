// The endpoints.kubernetes.io/last-change-trigger-time value, computed as Kubernetes does: the
// earliest change (a pod's Ready transition or the Service's creation) seen since the previous
// sync of that Service. Memory of the previous sync lives per execution environment; after a
// restart every pod counts as changed, as in kube-controller-manager.
import type { KubeObject } from '../../api/kind.js';
import { readyCondition } from './endpoints-pod.js';

interface ServiceState {
  serviceTime: number;
  podTimes: Map<string, number>;
}

const timeOf = (stamp: string | undefined): number => (stamp ? Date.parse(stamp) || 0 : 0);

export class TriggerTimeTracker {
  private readonly states = new Map<string, ServiceState>();

  /** The trigger time to publish for this sync, or undefined when nothing changed (drop the annotation). */
  compute(svc: KubeObject, pods: readonly KubeObject[]): Date | undefined {
    const key = `${svc.metadata.namespace}/${svc.metadata.name}`;
    const prior = this.states.get(key);
    let earliest = 0;
    const consider = (t: number) => {
      if (t && (!earliest || t < earliest)) earliest = t;
    };
    const podTimes = new Map<string, number>();
    for (const pod of pods) {
      const t = timeOf(readyCondition(pod)?.lastTransitionTime);
      if (!t) continue;
      podTimes.set(pod.metadata.name!, t);
      if (t > (prior?.podTimes.get(pod.metadata.name!) ?? 0)) consider(t);
    }
    const serviceTime = timeOf(svc.metadata.creationTimestamp);
    if (serviceTime > (prior?.serviceTime ?? 0)) consider(serviceTime);
    this.states.set(key, { serviceTime, podTimes });
    if (!prior) return serviceTime ? new Date(serviceTime) : undefined;
    return earliest ? new Date(earliest) : undefined;
  }

  forget(namespace: string, name: string): void {
    this.states.delete(`${namespace}/${name}`);
  }
}
