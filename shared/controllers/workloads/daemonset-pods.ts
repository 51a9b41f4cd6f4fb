// Pod helpers of Kubernetes' workload controllers (pkg/api/v1/pod, controller_utils): readiness,
// availability after minReadySeconds, a pod built from a template with its controller reference,
// and int-or-percent values scaled against a total. Used by the DaemonSet and StatefulSet controllers.
import type { KubeObject } from '../../api/kind.js';
import { controllerRef } from '../runtime/mappers.js';

type Obj = Record<string, unknown>;

const asObj = (v: unknown): Obj => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Obj) : {});

export const podPhase = (pod: KubeObject): string => String(asObj(pod.status).phase ?? '');

function readyCondition(pod: KubeObject): Obj | undefined {
  const conditions = asObj(pod.status).conditions;
  return Array.isArray(conditions) ? (conditions as Obj[]).find((c) => c?.type === 'Ready') : undefined;
}

/** podutil.IsPodReady: the Ready condition is True. */
export const isPodReady = (pod: KubeObject): boolean => readyCondition(pod)?.status === 'True';

/**
 * Milliseconds until a ready pod counts as available (0 when it already does), or undefined when
 * it is not ready. Available means ready for more than minReadySeconds (podutil.IsPodAvailable).
 */
export function msUntilAvailable(pod: KubeObject, minReadySeconds: number, now: Date): number | undefined {
  const ready = readyCondition(pod);
  if (ready?.status !== 'True') return undefined;
  if (!minReadySeconds) return 0;
  const since = typeof ready.lastTransitionTime === 'string' ? Date.parse(ready.lastTransitionTime) : NaN;
  if (Number.isNaN(since)) return minReadySeconds * 1000;
  const at = since + minReadySeconds * 1000;
  return at < now.getTime() ? 0 : at - now.getTime() + 1;
}

export const isPodAvailable = (pod: KubeObject, minReadySeconds: number, now: Date): boolean => msUntilAvailable(pod, minReadySeconds, now) === 0;

export const isTerminating = (obj: KubeObject): boolean => !!obj.metadata.deletionTimestamp;

/** controller.GetPodFromTemplate: labels, annotations and finalizers of the template, the spec, and a controller reference. */
export function podFromTemplate(template: unknown, owner: KubeObject): KubeObject {
  const t = structuredClone(asObj(template));
  const meta = asObj(t.metadata);
  return {
    metadata: {
      generateName: `${owner.metadata.name}-`,
      namespace: owner.metadata.namespace,
      labels: { ...(asObj(meta.labels) as Record<string, string>) },
      ...(Object.keys(asObj(meta.annotations)).length ? { annotations: { ...(meta.annotations as Record<string, string>) } } : {}),
      ...(Array.isArray(meta.finalizers) && meta.finalizers.length ? { finalizers: [...(meta.finalizers as string[])] } : {}),
      ownerReferences: [controllerRef(owner)],
    },
    spec: asObj(t.spec),
  };
}

/** intstr.GetScaledValueFromIntOrPercent: a number as is, "N%" as N percent of total rounded up or down. */
export function scaledValue(value: unknown, total: number, roundUp: boolean): number {
  if (typeof value === 'number') return value;
  if (typeof value === 'string') {
    const m = /^(\d+)%$/.exec(value);
    if (m) {
      const exact = (Number(m[1]) * total) / 100;
      return roundUp ? Math.ceil(exact) : Math.floor(exact);
    }
    const n = Number.parseInt(value, 10);
    if (Number.isInteger(n)) return n;
  }
  return 0;
}
