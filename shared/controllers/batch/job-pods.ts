// What the Job controller needs to know about pods: which are active, terminating, ready or
// finished (and when), which still carry the job-tracking finalizer, which to remove first, and
// how a pod is built from a Job's template.
import type { KubeObject } from '../../api/kind.js';
import { controllerRef } from '../runtime/mappers.js';

/** Kept on every Job pod until the controller has counted its outcome in the Job's status. */
export const JOB_TRACKING_FINALIZER = 'batch.kubernetes.io/job-tracking';

interface ContainerStatus {
  restartCount?: number;
  state?: { terminated?: { finishedAt?: string } };
}

interface PodStatus {
  phase?: string;
  conditions?: { type?: string; status?: string; lastTransitionTime?: string }[];
  containerStatuses?: ContainerStatus[];
  initContainerStatuses?: ContainerStatus[];
}

export const podStatus = (pod: KubeObject): PodStatus => (pod.status as PodStatus | undefined) ?? {};
export const phaseOf = (pod: KubeObject): string => podStatus(pod).phase ?? '';
const nodeOf = (pod: KubeObject): string => (pod.spec as { nodeName?: string } | undefined)?.nodeName ?? '';

export const isSucceeded = (pod: KubeObject): boolean => phaseOf(pod) === 'Succeeded';
export const isTerminal = (pod: KubeObject): boolean => phaseOf(pod) === 'Succeeded' || phaseOf(pod) === 'Failed';

/** Not finished and not being deleted (controller.FilterActivePods). */
export const isActive = (pod: KubeObject): boolean => !isTerminal(pod) && !pod.metadata.deletionTimestamp;

/** Being deleted but not finished yet. */
export const isTerminating = (pod: KubeObject): boolean => !!pod.metadata.deletionTimestamp && !isTerminal(pod);

export const hasTrackingFinalizer = (pod: KubeObject): boolean => pod.metadata.finalizers?.includes(JOB_TRACKING_FINALIZER) ?? false;

function readyCondition(pod: KubeObject) {
  return podStatus(pod).conditions?.find((c) => c.type === 'Ready');
}

export const isReady = (pod: KubeObject): boolean => readyCondition(pod)?.status === 'True';

/** Sum of container restarts of a pending or running pod (what OnFailure back-off counts). */
export function restartsOf(pod: KubeObject): number {
  const phase = phaseOf(pod);
  if (phase !== 'Running' && phase !== 'Pending') return 0;
  const s = podStatus(pod);
  return [...(s.initContainerStatuses ?? []), ...(s.containerStatuses ?? [])].reduce((n, c) => n + (c.restartCount ?? 0), 0);
}

/**
 * When the pod finished: the latest container finish if every container has one, else when Ready
 * turned False, else the start of its deletion, else its creation.
 */
export function finishedTimeOf(pod: KubeObject): number {
  const statuses = podStatus(pod).containerStatuses ?? [];
  let latest: number | undefined;
  for (const c of statuses) {
    const at = Date.parse(c.state?.terminated?.finishedAt ?? '');
    if (Number.isNaN(at)) {
      latest = undefined;
      break;
    }
    if (latest === undefined || at > latest) latest = at;
  }
  if (latest !== undefined) return latest;
  const ready = readyCondition(pod);
  if (ready?.status === 'False' && ready.lastTransitionTime) return Date.parse(ready.lastTransitionTime);
  if (pod.metadata.deletionTimestamp) return Date.parse(pod.metadata.deletionTimestamp) - (pod.metadata.deletionGracePeriodSeconds ?? 0) * 1000;
  return Date.parse(pod.metadata.creationTimestamp ?? '') || 0;
}

const PHASE_RANK: Record<string, number> = { Pending: 0, Unknown: 1, Running: 2 };

/** Order in which surplus active pods go: unscheduled, pending, not ready, most restarted, newest first. */
export function compareForRemoval(a: KubeObject, b: KubeObject): number {
  const assigned = (p: KubeObject) => (nodeOf(p) ? 1 : 0);
  if (assigned(a) !== assigned(b)) return assigned(a) - assigned(b);
  const rank = (p: KubeObject) => PHASE_RANK[phaseOf(p)] ?? 0;
  if (rank(a) !== rank(b)) return rank(a) - rank(b);
  const ready = (p: KubeObject) => (isReady(p) ? 1 : 0);
  if (ready(a) !== ready(b)) return ready(a) - ready(b);
  const restarts = (p: KubeObject) => (podStatus(p).containerStatuses ?? []).reduce((n, c) => Math.max(n, c.restartCount ?? 0), 0);
  if (restarts(a) !== restarts(b)) return restarts(b) - restarts(a);
  const created = (p: KubeObject) => Date.parse(p.metadata.creationTimestamp ?? '') || Number.MAX_SAFE_INTEGER;
  return created(b) - created(a);
}

/** A pod of `job` made from its template (labels, annotations and finalizers carried over). */
export function podFromTemplate(job: KubeObject, template: Record<string, unknown>, generateName: string): KubeObject {
  const meta = (template.metadata ?? {}) as { labels?: Record<string, string>; annotations?: Record<string, string>; finalizers?: string[] };
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      generateName,
      namespace: job.metadata.namespace,
      ...(meta.labels ? { labels: { ...meta.labels } } : {}),
      ...(meta.annotations ? { annotations: { ...meta.annotations } } : {}),
      ...(meta.finalizers?.length ? { finalizers: [...meta.finalizers] } : {}),
      ownerReferences: [controllerRef({ ...job, apiVersion: 'batch/v1', kind: 'Job' })],
    },
    spec: structuredClone(template.spec ?? {}),
  };
}
