// The TTL-after-finished controller (pkg/controller/ttlafterfinished): deletes a finished Job
// once spec.ttlSecondsAfterFinished has passed since its Complete or Failed condition, cascading
// in the foreground as Kubernetes does, guarded by a UID precondition.
import type { KubeObject } from '../../api/kind.js';
import { StoreReader } from '../runtime/reader.js';
import { specOf, statusOf } from './job-status.js';
import type { ControllerDef } from '../runtime/types.js';

const JOBS = 'batch/jobs';

/** Milliseconds until the Job may be deleted (<= 0: now), or undefined when it is not due for cleanup. */
export function ttlRemaining(job: KubeObject, now: Date): number | undefined {
  const ttl = specOf(job).ttlSecondsAfterFinished;
  if (ttl == null || job.metadata.deletionTimestamp) return undefined;
  const finished = statusOf(job).conditions?.find((c) => (c.type === 'Complete' || c.type === 'Failed') && c.status === 'True');
  const at = Date.parse(finished?.lastTransitionTime ?? '');
  if (Number.isNaN(at)) return undefined;
  return at + ttl * 1000 - now.getTime();
}

export function ttlAfterFinishedController(): ControllerDef {
  return {
    name: 'ttl-after-finished',
    resources: [JOBS],
    workers: 2,
    setup: ({ reader, client, clock, store }) => {
      const direct = new StoreReader(store);
      return async (ref) => {
        const job = await reader.get(JOBS, ref.namespace, ref.name);
        if (!job) return;
        const left = ttlRemaining(job, clock());
        if (left === undefined) return;
        if (left > 0) return { requeueAfter: left };
        // The TTL may have just been changed: decide on the stored Job, not a cached copy.
        const fresh = await direct.get(JOBS, ref.namespace, ref.name);
        if (!fresh) return;
        const freshLeft = ttlRemaining(fresh, clock());
        if (freshLeft === undefined) return;
        if (freshLeft > 0) return { requeueAfter: freshLeft };
        await client.delete(JOBS, ref.namespace, ref.name, { propagationPolicy: 'Foreground', preconditions: { uid: fresh.metadata.uid } });
      };
    },
  };
}
