// Every built-in controller (kube-controller-manager's set plus the scheduler), in start order.
// Adding a controller is adding an entry. The root CA publisher needs the cluster CA, so the
// process that has it adds rootCaPublisher(ca) itself.
import { cronJobController } from './batch/cronjob.js';
import { jobController } from './batch/job.js';
import { ttlAfterFinishedController } from './batch/ttl-after-finished.js';
import { garbageCollector } from './gc/garbage-collector.js';
import { namespaceController } from './namespaces/namespace.js';
import { serviceAccountController } from './namespaces/serviceaccount.js';
import { nodeLifecycleController } from './nodes/node-lifecycle.js';
import { podGC } from './nodes/pod-gc.js';
import { taintEviction } from './nodes/taint-eviction.js';
import { disruptionControllerDef } from './policy/disruption.js';
import type { ControllerDef } from './runtime/types.js';
import { endpointsController } from './services/endpoints.js';
import { endpointSliceController } from './services/endpointslice.js';
import { daemonSetController } from './workloads/daemonset.js';
import { deploymentController } from './workloads/deployment/index.js';
import { replicaSetController } from './workloads/replicaset.js';
import { statefulSetController } from './workloads/statefulset.js';
import { schedulerController } from '../scheduler/controller.js';

export interface BuiltinControllerOptions {
  /** kube-controller-manager's --node-monitor-grace-period (default 50 s). */
  nodeMonitorGracePeriodMs?: number;
}

export function builtinControllersWith(opts: BuiltinControllerOptions = {}): ControllerDef[] {
  return [
  namespaceController,
  serviceAccountController,
  garbageCollector,
  deploymentController,
  replicaSetController,
  daemonSetController,
  statefulSetController,
  jobController(),
  ttlAfterFinishedController(),
  cronJobController(),
  endpointsController,
  endpointSliceController,
  disruptionControllerDef,
  nodeLifecycleController(opts.nodeMonitorGracePeriodMs ? { monitorGracePeriodMs: opts.nodeMonitorGracePeriodMs } : {}),
  taintEviction,
  podGC,
  schedulerController(),
  ];
}

export const builtinControllers: readonly ControllerDef[] = builtinControllersWith();

export { rootCaPublisher } from './namespaces/root-ca-publisher.js';
export type { ControllerDef, ControllerContext, ObjectRef, Reconcile, ReconcileResult, Resource, WatchSpec } from './runtime/types.js';
