// Pods a Job creates (from its template, with the tracking finalizer and, for Indexed Jobs, the
// completion index as annotation, label, hostname and JOB_COMPLETION_INDEX variable), and which
// active pods go first when there are too many.
import type { KubeObject } from '../../api/kind.js';
import { COMPLETION_INDEX_KEY, completionIndexOf, NO_INDEX } from './job-indexes.js';
import { compareForRemoval, JOB_TRACKING_FINALIZER, podFromTemplate } from './job-pods.js';

const INDEX_ENV = 'JOB_COMPLETION_INDEX';
/** Longest generateName prefix the API server keeps whole (63 minus its 5 random characters). */
const MAX_GENERATED_PREFIX = 58;

type Container = { env?: { name?: string }[] } & Record<string, unknown>;

function addIndexEnv(spec: Record<string, unknown>): void {
  for (const key of ['initContainers', 'containers']) {
    for (const c of (spec[key] as Container[] | undefined) ?? []) {
      if (c.env?.some((e) => e.name === INDEX_ENV)) continue;
      (c.env ??= []).push({ name: INDEX_ENV, valueFrom: { fieldRef: { fieldPath: `metadata.labels['${COMPLETION_INDEX_KEY}']` } } } as { name: string });
    }
  }
}

/** "<job>-<index>-", shortening the job name so the index survives the length limit. */
export function indexedGenerateName(jobName: string, index: number): string {
  const suffix = `-${index}-`;
  const prefix = jobName + suffix;
  return prefix.length > MAX_GENERATED_PREFIX ? jobName.slice(0, MAX_GENERATED_PREFIX - suffix.length) + suffix : prefix;
}

/** `count` new pods of the Job, one per given completion index when the Job is Indexed. */
export function buildPods(job: KubeObject, count: number, indexes?: readonly number[]): KubeObject[] {
  const spec = job.spec as { template?: Record<string, unknown> };
  const template = structuredClone(spec.template ?? {}) as { metadata?: Record<string, unknown>; spec?: Record<string, unknown> };
  const meta = (template.metadata ??= {}) as { finalizers?: string[] };
  if (!meta.finalizers?.includes(JOB_TRACKING_FINALIZER)) meta.finalizers = [...(meta.finalizers ?? []), JOB_TRACKING_FINALIZER];
  const name = job.metadata.name!;
  if (!indexes) return Array.from({ length: count }, () => podFromTemplate(job, template, `${name}-`));
  addIndexEnv((template.spec ??= {}));
  return indexes.map((ix) => {
    const pod = podFromTemplate(job, template, indexedGenerateName(name, ix));
    pod.metadata.annotations = { ...pod.metadata.annotations, [COMPLETION_INDEX_KEY]: String(ix) };
    pod.metadata.labels = { ...pod.metadata.labels, [COMPLETION_INDEX_KEY]: String(ix) };
    (pod.spec as { hostname?: string }).hostname = `${name}-${ix}`;
    return pod;
  });
}

/**
 * Active pods to delete: for Indexed Jobs every pod without a valid index and all but one pod per
 * index; then, until `atLeast` are chosen, the least advanced pods.
 */
export function podsForRemoval(indexed: boolean, active: readonly KubeObject[], atLeast: number, completions: number): KubeObject[] {
  const remove: KubeObject[] = [];
  let keep: KubeObject[] = [...active];
  if (indexed) {
    keep = [];
    const byIndex = new Map<number, KubeObject[]>();
    for (const pod of active) {
      const ix = completionIndexOf(pod);
      if (ix === NO_INDEX || ix >= completions) remove.push(pod);
      else byIndex.set(ix, [...(byIndex.get(ix) ?? []), pod]);
    }
    for (const group of byIndex.values()) {
      group.sort(compareForRemoval);
      remove.push(...group.slice(0, -1));
      keep.push(group[group.length - 1]);
    }
  }
  if (remove.length < atLeast) {
    keep.sort(compareForRemoval);
    remove.push(...keep.slice(0, atLeast - remove.length));
  }
  return remove;
}
