// kube-scheduler as a controller: pending pods are the primary objects; node changes and pod
// changes that free or add room wake the pods parked as unschedulable.
import type { ControllerDef, ObjectRef } from '../controllers/runtime/types.js';
import { Scheduler, type SchedulerOptions } from './scheduler.js';

export type { SchedulerOptions } from './scheduler.js';

export function schedulerController(opts: SchedulerOptions = {}): ControllerDef {
  let scheduler: Scheduler | undefined;
  // The scheduler's informer listeners run before these mappings see the same change.
  const woken = (): ObjectRef[] => scheduler?.drainWoken() ?? [];
  return {
    name: 'scheduler',
    resources: ['core/pods'],
    watches: [
      { resource: 'core/nodes', map: woken },
      { resource: 'core/pods', map: woken },
    ],
    reads: ['core/namespaces', 'policy/poddisruptionbudgets'],
    workers: opts.workers ?? 16,
    setup(ctx) {
      const s = new Scheduler(ctx, opts);
      scheduler = s;
      return (ref) => s.reconcile(ref);
    },
  };
}
