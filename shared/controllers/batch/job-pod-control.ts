// The Job controller's pod writes, with the events Kubernetes' pod control records on the Job:
// creation in slow-start batches, deletion, and removal of the job-tracking finalizer.
import type { KubeObject } from '../../api/kind.js';
import { ApiError } from '../../apiserver/errors.js';
import type { ControllerContext } from '../runtime/types.js';
import { isReady, JOB_TRACKING_FINALIZER } from './job-pods.js';

const PODS = 'core/pods';

/** Creation refused because the namespace is being deleted: nothing more will be created there. */
export const isNamespaceTerminating = (e: unknown): boolean =>
  e instanceof ApiError && (e.status.details?.causes ?? []).some((c) => c.reason === 'NamespaceTerminating');

/** The Job as an involved object of events (the reader's copy may lack apiVersion/kind). */
const asJob = (job: KubeObject): KubeObject => ({ ...job, apiVersion: 'batch/v1', kind: 'Job' });

/**
 * Creates pods in batches of 1, 2, 4, ...; after a batch with a failure the rest is skipped (so a
 * quota or admission problem costs one request, not hundreds). Returns how many were created.
 */
export async function createPods(ctx: ControllerContext, job: KubeObject, pods: KubeObject[]): Promise<{ created: number; error?: unknown }> {
  let created = 0;
  let firstError: unknown;
  for (let start = 0, size = 1; start < pods.length; start += size, size *= 2) {
    const batch = pods.slice(start, start + size);
    const results = await Promise.allSettled(batch.map((p) => ctx.client.create(PODS, p)));
    for (const r of results) {
      if (r.status === 'fulfilled') {
        created++;
        await ctx.events.record(asJob(job), 'Normal', 'SuccessfulCreate', `Created pod: ${r.value.metadata.name}`);
      } else if (!isNamespaceTerminating(r.reason)) {
        firstError ??= r.reason;
        await ctx.events.record(asJob(job), 'Warning', 'FailedCreate', `Error creating: ${errorText(r.reason)}`);
      }
    }
    if (firstError !== undefined || results.some((r) => r.status === 'rejected')) break;
  }
  return { created, error: firstError };
}

/** Removes the job-tracking finalizer; true when it is gone (a vanished pod counts as done). */
export async function removeTrackingFinalizer(ctx: ControllerContext, pod: KubeObject): Promise<boolean> {
  if (!pod.metadata.finalizers?.includes(JOB_TRACKING_FINALIZER)) return true;
  try {
    await ctx.client.patch(PODS, pod.metadata.namespace, pod.metadata.name!, 'strategic', { metadata: { [`$deleteFromPrimitiveList/finalizers`]: [JOB_TRACKING_FINALIZER] } });
    return true;
  } catch (e) {
    if (e instanceof ApiError && e.code === 404) return true;
    throw e;
  }
}

export interface DeleteOutcome {
  deleted: number;
  deletedReady: number;
  error?: unknown;
}

/**
 * Deletes pods of the Job. With `dropFinalizer` the tracking finalizer goes first (the pod is not
 * counted: surplus or suspended pods); without it the pod stays until its outcome is counted.
 */
export async function deletePods(ctx: ControllerContext, job: KubeObject, pods: readonly KubeObject[], dropFinalizer: boolean): Promise<DeleteOutcome> {
  const out: DeleteOutcome = { deleted: 0, deletedReady: 0 };
  await Promise.all(
    pods.map(async (pod) => {
      const name = pod.metadata.name!;
      try {
        if (dropFinalizer) await removeTrackingFinalizer(ctx, pod);
        const gone = await ctx.client.delete(PODS, pod.metadata.namespace, name);
        if (gone) await ctx.events.record(asJob(job), 'Normal', 'SuccessfulDelete', `Deleted pod: ${name}`);
      } catch (e) {
        out.error ??= e;
        await ctx.events.record(asJob(job), 'Warning', 'FailedDelete', `Error deleting: ${errorText(e)}`);
        return;
      }
      out.deleted++;
      if (isReady(pod)) out.deletedReady++;
    }),
  );
  return out;
}

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
