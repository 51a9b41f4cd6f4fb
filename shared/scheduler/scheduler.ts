// The scheduling cycle around one pending pod: decide (synchronously, on the cluster view), assume
// the pod on the chosen node, bind it through pods/binding; or, when nothing fits, try preemption,
// report the failure the way kube-scheduler does (FailedScheduling event, PodScheduled=False) and
// park the pod until the cluster changes.
import type { KubeObject } from '../api/kind.js';
import { isConflict, isNotFound } from '../controllers/runtime/client.js';
import type { EventRecorder } from '../controllers/runtime/events.js';
import type { ControllerContext, ObjectRef, ReconcileResult } from '../controllers/runtime/types.js';
import { rfc3339 } from '../apiserver/metadata.js';
import { Algorithm } from './algorithm.js';
import { Code, REASONS, type FilterStatus } from './filters.js';
import { fitErrorMessage, NO_NODES_AVAILABLE, preemptedMessage, scheduledMessage } from './messages.js';
import { ClusterView } from './node-info.js';
import type { PodInfo } from './pod-info.js';
import { lowerPriorityNominated, preempt } from './preemption.js';
import { SchedulingQueue, type QueueOptions, type WakeCause } from './queue.js';

export interface SchedulerOptions extends Partial<QueueOptions> {
  /** Concurrent reconciles (default 16): decisions are synchronous so they never overlap; bindings and other writes do. */
  workers?: number;
  /** Share of nodes to find feasible before scoring; 0 = adaptive like kube-scheduler. */
  percentageOfNodesToScore?: number;
  /** Source of randomness for tie-breaking (tests make it deterministic). */
  random?: () => number;
}

const COMPONENT = 'default-scheduler';
const GATED_MESSAGE = 'Scheduling is blocked due to non-empty scheduling gates';
const IN_FLIGHT_RETRY_MS = 100;
const ALL_CAUSES: ReadonlySet<WakeCause> = new Set(['node', 'pod-removed', 'pod-added', 'pod-updated']);

type EventType = 'ADDED' | 'MODIFIED' | 'DELETED';

interface PodScheduledCondition {
  type: string;
  status?: string;
  reason?: string;
  message?: string;
  lastTransitionTime?: string;
}

function conditionsOf(pod: KubeObject): PodScheduledCondition[] {
  return ((pod.status as { conditions?: PodScheduledCondition[] } | undefined)?.conditions) ?? [];
}

/** Which later changes could let a pod rejected this way fit (kube-scheduler's queueing hints, coarsely). */
function wakeCauses(statuses: Iterable<FilterStatus>, nominated: boolean): ReadonlySet<WakeCause> {
  const causes = new Set<WakeCause>(['node']);
  if (nominated) causes.add('pod-removed');
  for (const s of statuses) {
    for (const r of s.reasons) {
      switch (r) {
        case REASONS.affinity:
          causes.add('pod-added').add('pod-updated');
          break;
        case REASONS.antiAffinity:
        case REASONS.existingAntiAffinity:
          causes.add('pod-removed').add('pod-updated');
          break;
        case REASONS.spread:
          causes.add('pod-added').add('pod-removed').add('pod-updated');
          break;
        default:
          // Resources and host ports come free when a pod goes away.
          if (s.code === Code.Unschedulable) causes.add('pod-removed');
      }
    }
  }
  return causes;
}

export class Scheduler {
  view = new ClusterView();
  readonly queue: SchedulingQueue;
  private readonly algorithm: Algorithm;
  private readonly inFlight = new Set<string>();
  private readonly live: boolean;
  private readonly events: EventRecorder;
  private readonly random: () => number;

  constructor(
    private readonly ctx: ControllerContext,
    opts: SchedulerOptions = {},
  ) {
    this.queue = new SchedulingQueue({
      initialBackoffMs: opts.initialBackoffMs ?? 1000,
      maxBackoffMs: opts.maxBackoffMs ?? 10_000,
      unschedulableRetryMs: opts.unschedulableRetryMs ?? 300_000,
    });
    this.random = opts.random ?? Math.random;
    this.algorithm = new Algorithm(opts.percentageOfNodesToScore ?? 0, this.random);
    this.events = ctx.events.forComponent(COMPONENT);
    const subscribe = ctx.reader.subscribe?.bind(ctx.reader);
    this.live = !!subscribe;
    if (subscribe) {
      subscribe('core/namespaces', (type, ns) => this.view.applyNamespace(type, ns));
      subscribe('policy/poddisruptionbudgets', (type, pdb) => this.view.applyPdb(type, pdb));
      subscribe('core/nodes', (type, node, old) => {
        if (this.view.applyNode(type, node, old)) this.queue.wake('node', this.now());
      });
      subscribe('core/pods', (type, pod) => this.onPod(type, pod));
    }
  }

  private now(): number {
    return this.ctx.clock().getTime();
  }

  /** Keys of parked pods that a change just woke (the controller's watches enqueue them). */
  drainWoken(): ObjectRef[] {
    return this.queue.drainWake().map(refOfKey);
  }

  private onPod(type: EventType, pod: KubeObject): void {
    const change = this.view.applyPod(type, pod);
    const key = `${pod.metadata.namespace ?? ''}/${pod.metadata.name}`;
    const pending = this.view.pending.get(key);
    if (!pending) {
      if (!this.view.isAssumed(key)) this.queue.remove(key);
    } else if (!this.view.isAssumed(key) && !this.inFlight.has(key) && !this.queue.isParked(key) && !pending.schedulingGated) {
      this.queue.activate(key, pending.priority);
    }
    if (change === 'assigned-removed') this.queue.wake('pod-removed', this.now());
    else if (change === 'assigned-added') this.queue.wake('pod-added', this.now());
    else if (change === 'assigned-updated') this.queue.wake('pod-updated', this.now());
  }

  /** Rebuilds the view from lists (where the reader cannot stream changes), keeping assumptions in flight. */
  private async rebuild(): Promise<void> {
    const { reader } = this.ctx;
    const [namespaces, pdbs, nodes, pods] = await Promise.all([
      reader.list('core/namespaces'),
      reader.list('policy/poddisruptionbudgets'),
      reader.list('core/nodes'),
      reader.list('core/pods'),
    ]);
    const view = new ClusterView();
    for (const ns of namespaces) view.applyNamespace('ADDED', ns);
    for (const pdb of pdbs) view.applyPdb('ADDED', pdb);
    for (const n of nodes) view.applyNode('ADDED', n);
    for (const p of pods) view.applyPod('ADDED', p);
    for (const p of this.view.assigned.values()) {
      const still = p.assumed && view.pending.get(p.key);
      if (still) view.assume(still, p.nodeName);
    }
    this.view = view;
  }

  async reconcile(ref: ObjectRef): Promise<ReconcileResult | void> {
    if (!this.live) await this.rebuild();
    const key = `${ref.namespace ?? ''}/${ref.name}`;
    const pod = this.view.pending.get(key);
    if (!pod) {
      // Without informer events nothing else tells the queue that the pod is gone or bound.
      if (!this.live) this.queue.remove(key);
      return;
    }
    if (this.view.isAssumed(key)) return;
    if (this.inFlight.has(key)) return { requeueAfter: IN_FLIGHT_RETRY_MS };
    if (pod.schedulingGated) {
      this.queue.take(key);
      await this.markUnschedulable(pod, 'SchedulingGated', GATED_MESSAGE, undefined);
      return;
    }
    const now = this.now();
    this.queue.promoteDue(now);
    if (this.queue.isParked(key)) {
      const wait = this.queue.dueIn(key, pod.obj.metadata.resourceVersion ?? '', now);
      if (wait > 0) return { requeueAfter: wait };
    }
    // Higher-priority pods waiting in the queue go first.
    for (let top = this.queue.peek(); top && top.priority > pod.priority; top = this.queue.peek()) {
      this.queue.take(top.key);
      const other = this.view.pending.get(top.key);
      if (!other || !this.attemptable(other)) continue;
      try {
        await this.attempt(other);
      } catch (e) {
        // That pod's own reconcile (queued when it became active) retries it.
        this.ctx.log.debug({ pod: other.key, err: e instanceof Error ? e.message : String(e) }, 'scheduling attempt failed');
      }
    }
    this.queue.take(key);
    return this.attempt(pod);
  }

  private attemptable(p: PodInfo): boolean {
    return !p.schedulingGated && !this.view.isAssumed(p.key) && !this.inFlight.has(p.key) && !this.queue.isParked(p.key);
  }

  /** One scheduling cycle for `pod`; returns when to look at it again if it stays pending. */
  private async attempt(pod: PodInfo): Promise<ReconcileResult | void> {
    this.inFlight.add(pod.key);
    try {
      const decision = this.algorithm.schedule(this.view, pod);
      if (decision.node !== undefined) return await this.bind(pod, decision.node);

      const now = this.now();
      let message: string;
      let nominate: string | undefined;
      let preemption: { node: string; victims: PodInfo[] } | undefined;
      if (decision.numAllNodes === 0) {
        message = NO_NODES_AVAILABLE;
        if (pod.nominatedNodeName) nominate = '';
      } else {
        const result = preempt(this.view, decision.state, decision.statuses, this.random);
        let postFilter: string | undefined;
        if (result.node !== undefined) {
          preemption = result;
          nominate = result.node;
        } else {
          postFilter = result.message;
          // No node can be made to fit: a nomination left from earlier no longer holds.
          if (result.eligible && pod.nominatedNodeName) nominate = '';
        }
        message = fitErrorMessage(decision.numAllNodes, decision.statuses.values(), undefined, postFilter);
      }
      const causes = decision.numAllNodes === 0 ? ALL_CAUSES : wakeCauses(decision.statuses.values(), !!nominate);
      const rv = pod.obj.metadata.resourceVersion ?? '';
      // Parked before any write, so that a deletion seen meanwhile also clears it from the queue.
      this.queue.park(pod.key, rv, pod.priority, causes, now);
      this.ctx.log.debug({ pod: pod.key, message }, 'pod is unschedulable');
      if (preemption) await this.preemptVictims(pod, preemption.node, preemption.victims);
      const written = await this.markUnschedulable(pod, 'Unschedulable', message, nominate);
      if (written) this.queue.setParkedRv(pod.key, written);
      await this.events.record(pod.obj, 'Warning', 'FailedScheduling', message);
      const wait = this.queue.dueIn(pod.key, written ?? rv, this.now());
      return wait > 0 ? { requeueAfter: wait } : { requeueAfter: 1 };
    } finally {
      this.inFlight.delete(pod.key);
    }
  }

  private async bind(pod: PodInfo, node: string): Promise<ReconcileResult | void> {
    this.view.assume(pod, node);
    try {
      await this.ctx.client.bind(pod.namespace, pod.name, node, pod.uid || undefined);
    } catch (e) {
      this.view.forget(pod.key);
      if (isNotFound(e)) return;
      if (isConflict(e) || (e as { code?: number }).code === 409) {
        // Already bound elsewhere, being deleted, or replaced by a pod of the same name: the cache tells.
        this.ctx.log.debug({ pod: pod.key, err: String(e) }, 'binding refused');
        return;
      }
      const now = this.now();
      if (!this.view.pending.has(pod.key)) return;
      this.queue.park(pod.key, pod.obj.metadata.resourceVersion ?? '', pod.priority, ALL_CAUSES, now);
      this.ctx.log.warn({ pod: pod.key, node, err: e instanceof Error ? e.message : String(e) }, 'binding failed');
      return { requeueAfter: this.queue.dueIn(pod.key, pod.obj.metadata.resourceVersion ?? '', now) || 1 };
    }
    this.queue.succeeded(pod.key);
    await this.events.record(pod.obj, 'Normal', 'Scheduled', scheduledMessage(pod.namespace, pod.name, node));
  }

  /** PodScheduled=False with Kubernetes' reason and message, and the nomination; only when something changed. */
  private async markUnschedulable(pod: PodInfo, reason: string, message: string, nominate: string | undefined): Promise<string | undefined> {
    const current = conditionsOf(pod.obj).find((c) => c.type === 'PodScheduled');
    const nominated = (pod.obj.status as { nominatedNodeName?: string } | undefined)?.nominatedNodeName ?? '';
    const nominationChanges = nominate !== undefined && nominate !== nominated;
    if (current?.status === 'False' && current.reason === reason && current.message === message && !nominationChanges) return undefined;
    const condition = {
      type: 'PodScheduled',
      status: 'False',
      reason,
      message,
      lastProbeTime: null,
      lastTransitionTime: current?.status === 'False' && current.lastTransitionTime ? current.lastTransitionTime : rfc3339(this.ctx.clock()),
    };
    const status: Record<string, unknown> = { conditions: [condition] };
    if (nominationChanges) status.nominatedNodeName = nominate || null;
    try {
      const updated = await this.ctx.client.patch('core/pods', pod.namespace, pod.name, 'strategic', { status }, { subresource: 'status' });
      return updated.metadata.resourceVersion;
    } catch (e) {
      if (!isNotFound(e)) this.ctx.log.warn({ pod: pod.key, err: e instanceof Error ? e.message : String(e) }, 'could not update pod status');
      return undefined;
    }
  }

  /** Deletes the victims gracefully (after marking why) and clears weaker nominations on the node. */
  private async preemptVictims(preemptor: PodInfo, node: string, victims: PodInfo[]): Promise<void> {
    const { client } = this.ctx;
    for (const v of victims) {
      if (v.terminating) continue;
      try {
        const condition = {
          type: 'DisruptionTarget',
          status: 'True',
          reason: 'PreemptionByScheduler',
          message: `${preemptor.schedulerName}: preempting to accommodate a higher priority pod`,
          lastProbeTime: null,
          lastTransitionTime: rfc3339(this.ctx.clock()),
        };
        await client.patch('core/pods', v.namespace, v.name, 'strategic', { status: { conditions: [condition] } }, { subresource: 'status' });
        await client.delete('core/pods', v.namespace, v.name, { preconditions: { uid: v.uid } });
      } catch (e) {
        if (isNotFound(e)) continue;
        throw e;
      }
      await this.events.record(v.obj, 'Normal', 'Preempted', preemptedMessage(preemptor.uid, node));
    }
    for (const p of lowerPriorityNominated(this.view, node, preemptor.priority)) {
      if (p.key === preemptor.key) continue;
      try {
        await client.patch('core/pods', p.namespace, p.name, 'merge', { status: { nominatedNodeName: null } }, { subresource: 'status' });
      } catch (e) {
        if (!isNotFound(e)) this.ctx.log.warn({ pod: p.key, err: String(e) }, 'could not clear nominated node');
      }
    }
  }
}

export function refOfKey(key: string): ObjectRef {
  const cut = key.indexOf('/');
  return { resource: 'core/pods', namespace: key.slice(0, cut), name: key.slice(cut + 1) };
}
