// Node lifecycle (Kubernetes' node-lifecycle-controller): a node whose kubelet stopped sending
// heartbeats (Lease renewals and status posts) for longer than the grace period gets its
// conditions set to Unknown; nodes get the condition taints (NoSchedule, "TaintNodesByCondition")
// and the not-ready/unreachable NoExecute taints ("taint-based evictions") that the taint
// eviction controller acts on; pods on a node that stopped being Ready are marked not Ready.
//
// Health is derived from the timestamps the kubelet writes (Lease spec.renewTime and the Ready
// condition's lastHeartbeatTime) rather than from when this process observed them, so the
// reconcile is stateless apart from the per-zone eviction rate limiter and event bookkeeping.
import type { KubeObject } from '../../api/kind.js';
import { rfc3339 } from '../../apiserver/metadata.js';
import { isNotFound } from '../runtime/client.js';
import type { ControllerDef, ObjectRef } from '../runtime/types.js';

export const TAINT_NOT_READY = 'node.kubernetes.io/not-ready';
export const TAINT_UNREACHABLE = 'node.kubernetes.io/unreachable';
export const TAINT_UNSCHEDULABLE = 'node.kubernetes.io/unschedulable';
export const TAINT_MEMORY_PRESSURE = 'node.kubernetes.io/memory-pressure';
export const TAINT_DISK_PRESSURE = 'node.kubernetes.io/disk-pressure';
export const TAINT_PID_PRESSURE = 'node.kubernetes.io/pid-pressure';
export const TAINT_NETWORK_UNAVAILABLE = 'node.kubernetes.io/network-unavailable';
export const TAINT_OUT_OF_SERVICE = 'node.kubernetes.io/out-of-service';

const NODE_LEASE_NAMESPACE = 'kube-node-lease';
const LEASES = 'coordination.k8s.io/leases';
const EXCLUDE_DISRUPTION_LABEL = 'node.kubernetes.io/exclude-disruption';

export interface Condition {
  type: string;
  status: string;
  reason?: string;
  message?: string;
  lastHeartbeatTime?: string;
  lastTransitionTime?: string;
  lastProbeTime?: string | null;
}

export interface Taint {
  key: string;
  value?: string;
  effect: string;
  timeAdded?: string;
}

export interface NodeLifecycleOptions {
  /** node-monitor-grace-period: heartbeat silence after which a node is Unknown (default 50 s, Kubernetes 1.32+). */
  monitorGracePeriodMs?: number;
  /** node-startup-grace-period: the same for a node that never posted a Ready condition (default 60 s). */
  startupGracePeriodMs?: number;
  /** node-monitor-period: how often a node that is not Ready is looked at again (default 5 s). */
  monitorPeriodMs?: number;
  /** node-eviction-rate: NoExecute taints added per second in a zone (default 0.1; Infinity = no limit). */
  evictionRateQPS?: number;
  /** secondary-node-eviction-rate: the rate in a partially disrupted large zone (default 0.01). */
  secondaryEvictionRateQPS?: number;
  /** large-cluster-size-threshold: zones up to this many nodes stop tainting when partially disrupted (default 50). */
  largeClusterThreshold?: number;
  /** unhealthy-zone-threshold: share of not-Ready nodes (at least 3) that makes a zone partially disrupted (default 0.55). */
  unhealthyZoneThreshold?: number;
}

export const NODE_LIFECYCLE_DEFAULTS: Required<NodeLifecycleOptions> = {
  monitorGracePeriodMs: 50_000,
  startupGracePeriodMs: 60_000,
  monitorPeriodMs: 5_000,
  evictionRateQPS: 0.1,
  secondaryEvictionRateQPS: 0.01,
  largeClusterThreshold: 50,
  unhealthyZoneThreshold: 0.55,
};

// ---- helpers shared with the taint eviction and pod GC controllers ------------------------------

export function conditionsOf(obj: KubeObject | undefined): Condition[] {
  const list = (obj?.status as { conditions?: unknown } | undefined)?.conditions;
  return Array.isArray(list) ? (list as Condition[]) : [];
}

export function conditionOf(obj: KubeObject | undefined, type: string): Condition | undefined {
  return conditionsOf(obj).find((c) => c.type === type);
}

export function taintsOf(node: KubeObject | undefined): Taint[] {
  const list = (node?.spec as { taints?: unknown } | undefined)?.taints;
  return Array.isArray(list) ? (list as Taint[]) : [];
}

/** Ready=True, as Kubernetes' IsNodeReady reads it. */
export function isNodeReady(node: KubeObject): boolean {
  return conditionOf(node, 'Ready')?.status === 'True';
}

/** Milliseconds since the epoch of a metav1.Time or MicroTime; NaN when absent or unreadable. */
export function parseTime(value: unknown): number {
  return typeof value === 'string' && value ? Date.parse(value) : NaN;
}

/**
 * The latest instant a timestamp may stand for: metav1.Time keeps whole seconds, so "12:00:00Z"
 * may have been written up to 999 ms later. Deadlines counted from it are then never early.
 */
export function latestInstant(value: unknown): number {
  const t = parseTime(value);
  return typeof value === 'string' && !/\.\d/.test(value) ? t + 999 : t;
}

// ---- health ------------------------------------------------------------------------------------

/** Condition types the controller turns Unknown; NetworkUnavailable belongs to the network provider. */
const MONITORED_CONDITIONS = ['Ready', 'MemoryPressure', 'DiskPressure', 'PIDPressure'];

interface Health {
  /** The node with conditions set to Unknown, when that changed anything. */
  updated?: KubeObject;
  /** Ready status before and after this pass (undefined: never reported, still within the startup grace). */
  observedReady?: string;
  currentReady?: string;
  /** When the node runs out of grace (ms since epoch). */
  deadline: number;
}

function assessHealth(node: KubeObject, lease: KubeObject | undefined, now: Date, o: Required<NodeLifecycleOptions>): Health {
  const ready = conditionOf(node, 'Ready');
  const observedReady = ready?.status;
  const grace = ready ? o.monitorGracePeriodMs : o.startupGracePeriodMs;
  // The newest sign of life: a Lease renewal, a status post, or (for a new node) its creation.
  const signals = [(lease?.spec as { renewTime?: string } | undefined)?.renewTime, ready?.lastHeartbeatTime, node.metadata.creationTimestamp].map(latestInstant);
  const lastSignal = Math.max(0, ...signals.filter((t) => !Number.isNaN(t)));
  const deadline = lastSignal + grace;
  if (now.getTime() <= deadline) return { observedReady, currentReady: observedReady, deadline };

  const stamp = rfc3339(now);
  const next = structuredClone(node);
  const status = (next.status ??= {}) as { conditions?: Condition[] };
  const conditions = (status.conditions ??= []);
  let changed = false;
  for (const type of MONITORED_CONDITIONS) {
    const c = conditions.find((x) => x.type === type);
    if (!c) {
      conditions.push({ type, status: 'Unknown', reason: 'NodeStatusNeverUpdated', message: 'Kubelet never posted node status.', lastHeartbeatTime: node.metadata.creationTimestamp, lastTransitionTime: stamp });
      changed = true;
    } else if (c.status !== 'Unknown') {
      c.status = 'Unknown';
      c.reason = 'NodeStatusUnknown';
      c.message = 'Kubelet stopped posting node status.';
      c.lastTransitionTime = stamp;
      changed = true;
    }
  }
  return { updated: changed ? next : undefined, observedReady, currentReady: 'Unknown', deadline };
}

// ---- taints ------------------------------------------------------------------------------------

/** NoSchedule taints the controller owns, by the condition (and status) that calls for them. */
const CONDITION_TAINTS: Record<string, Record<string, string>> = {
  Ready: { False: TAINT_NOT_READY, Unknown: TAINT_UNREACHABLE },
  MemoryPressure: { True: TAINT_MEMORY_PRESSURE },
  DiskPressure: { True: TAINT_DISK_PRESSURE },
  NetworkUnavailable: { True: TAINT_NETWORK_UNAVAILABLE },
  PIDPressure: { True: TAINT_PID_PRESSURE },
};
const NO_SCHEDULE_KEYS = new Set([TAINT_NOT_READY, TAINT_UNREACHABLE, TAINT_MEMORY_PRESSURE, TAINT_DISK_PRESSURE, TAINT_NETWORK_UNAVAILABLE, TAINT_PID_PRESSURE, TAINT_UNSCHEDULABLE]);
const NO_EXECUTE_KEYS = new Set([TAINT_NOT_READY, TAINT_UNREACHABLE]);

function isManaged(t: Taint): boolean {
  return (t.effect === 'NoSchedule' && NO_SCHEDULE_KEYS.has(t.key)) || (t.effect === 'NoExecute' && NO_EXECUTE_KEYS.has(t.key));
}

function noScheduleTaintKeys(node: KubeObject): string[] {
  const keys: string[] = [];
  for (const c of conditionsOf(node)) {
    const key = CONDITION_TAINTS[c.type]?.[c.status];
    if (key) keys.push(key);
  }
  if ((node.spec as { unschedulable?: boolean } | undefined)?.unschedulable) keys.push(TAINT_UNSCHEDULABLE);
  return keys;
}

/** The node's taints with the managed ones replaced by `desired` (kept ones keep their timeAdded). */
function withManagedTaints(node: KubeObject, desired: { key: string; effect: string }[], stamp: string): Taint[] | undefined {
  const current = taintsOf(node);
  const wanted = new Set(desired.map((t) => `${t.key}:${t.effect}`));
  const kept = current.filter((t) => !isManaged(t) || wanted.has(`${t.key}:${t.effect}`));
  const have = new Set(kept.map((t) => `${t.key}:${t.effect}`));
  // Kubernetes stamps every taint it adds with timeAdded (SwapNodeControllerTaint).
  const added = desired.filter((t) => !have.has(`${t.key}:${t.effect}`)).map((t) => ({ key: t.key, effect: t.effect, timeAdded: stamp }));
  if (!added.length && kept.length === current.length) return undefined;
  return [...kept, ...added];
}

// ---- zones and the eviction rate limiter --------------------------------------------------------

type ZoneState = 'Normal' | 'PartialDisruption' | 'FullDisruption';

/** Kubernetes' GetZoneKey: region and zone labels (GA first, then the deprecated beta ones). */
export function zoneKey(node: KubeObject): string {
  const l = node.metadata.labels ?? {};
  const region = l['topology.kubernetes.io/region'] ?? l['failure-domain.beta.kubernetes.io/region'] ?? '';
  const zone = l['topology.kubernetes.io/zone'] ?? l['failure-domain.beta.kubernetes.io/zone'] ?? '';
  return region || zone ? `${region}:\u0000:${zone}` : '';
}

function zoneState(ready: number, notReady: number, threshold: number): ZoneState {
  if (ready === 0 && notReady > 0) return 'FullDisruption';
  if (notReady > 2 && notReady / (ready + notReady) >= threshold) return 'PartialDisruption';
  return 'Normal';
}

/** Zone states over all nodes (those labelled exclude-disruption left out), with `self` as given. */
function zoneStates(nodes: KubeObject[], self: KubeObject, selfReady: string, threshold: number): Map<string, { state: ZoneState; size: number }> {
  const counts = new Map<string, { ready: number; notReady: number }>();
  for (const n of nodes) {
    if (n.metadata.labels?.[EXCLUDE_DISRUPTION_LABEL] !== undefined) continue;
    const status = n.metadata.name === self.metadata.name ? selfReady : (conditionOf(n, 'Ready')?.status ?? 'Unknown');
    const zone = zoneKey(n);
    const c = counts.get(zone) ?? { ready: 0, notReady: 0 };
    if (status === 'True') c.ready++;
    else c.notReady++;
    counts.set(zone, c);
  }
  const states = new Map<string, { state: ZoneState; size: number }>();
  for (const [zone, c] of counts) states.set(zone, { state: zoneState(c.ready, c.notReady, threshold), size: c.ready + c.notReady });
  return states;
}

/** One token per 1/qps seconds per zone, burst 1: Kubernetes' per-zone tainting queue, simplified. */
class ZoneRateLimiter {
  private readonly nextAt = new Map<string, number>();

  /** 0 when a taint may be added now (and takes the token), else ms to wait. */
  take(zone: string, qps: number, now: number): number {
    if (qps === Infinity) return 0;
    const at = this.nextAt.get(zone) ?? 0;
    if (now < at) return at - now;
    this.nextAt.set(zone, now + 1000 / qps);
    return 0;
  }
}

// ---- the controller -----------------------------------------------------------------------------

export function nodeLifecycleController(opts: NodeLifecycleOptions = {}): ControllerDef {
  const o: Required<NodeLifecycleOptions> = { ...NODE_LIFECYCLE_DEFAULTS, ...opts };
  return {
    name: 'node-lifecycle-controller',
    resources: ['core/nodes'],
    watches: [{ resource: LEASES, map: (lease) => (lease.metadata.namespace === NODE_LEASE_NAMESPACE ? [{ resource: 'core/nodes', name: lease.metadata.name! }] : []) }],
    reads: ['core/pods'],
    setup: ({ reader, client, clock, events: baseEvents }) => {
      const events = baseEvents.forComponent('node-controller');
      const known = new Map<string, string>();
      const limiter = new ZoneRateLimiter();

      /** Pods whose Ready condition predates the node's loss of readiness get Ready=False (MarkPodsNotReady). */
      async function markPodsNotReady(node: KubeObject, now: Date): Promise<void> {
        const since = parseTime(conditionOf(node, 'Ready')?.lastTransitionTime);
        for (const pod of await reader.list('core/pods', { nodeName: node.metadata.name! })) {
          const ready = conditionOf(pod, 'Ready');
          if (!ready || ready.status === 'False') continue;
          if (!Number.isNaN(since) && parseTime(ready.lastTransitionTime) > since) continue;
          const next = structuredClone(pod);
          const cond = conditionsOf(next).find((c) => c.type === 'Ready')!;
          cond.status = 'False';
          cond.lastTransitionTime = rfc3339(now);
          try {
            await client.updateStatus('core/pods', next);
          } catch (e) {
            if (isNotFound(e)) continue;
            throw e;
          }
          await events.record(pod, 'Warning', 'NodeNotReady', 'Node is not ready');
        }
      }

      /** The NoExecute taint this node should carry now, and when to look again if it must wait. */
      async function desiredNoExecute(node: KubeObject, ready: string | undefined, now: number): Promise<{ key?: string; keep?: boolean; waitMs?: number }> {
        if (ready === 'True') return {};
        // No Ready condition yet (startup grace): no decision, whatever taints it has stay.
        if (ready === undefined) return { keep: true };
        const key = ready === 'False' ? TAINT_NOT_READY : TAINT_UNREACHABLE;
        const existing = taintsOf(node).filter((t) => t.effect === 'NoExecute' && NO_EXECUTE_KEYS.has(t.key));
        const states = zoneStates(await reader.list('core/nodes'), node, ready, o.unhealthyZoneThreshold);
        // Every zone fully disrupted looks like a control-plane or network problem: evict nothing.
        if ([...states.values()].every((s) => s.state === 'FullDisruption')) return {};
        // Swapping not-ready and unreachable is immediate; only a first taint is rate limited.
        if (existing.length) return { key };
        const zone = states.get(zoneKey(node)) ?? { state: 'Normal' as ZoneState, size: 1 };
        const qps = zone.state === 'PartialDisruption' ? (zone.size > o.largeClusterThreshold ? o.secondaryEvictionRateQPS : 0) : o.evictionRateQPS;
        if (qps <= 0) return { keep: true, waitMs: o.monitorPeriodMs };
        const wait = limiter.take(zoneKey(node), qps, now);
        return wait ? { keep: true, waitMs: wait } : { key };
      }

      return async (ref: ObjectRef) => {
        let node = await reader.get('core/nodes', undefined, ref.name);
        if (!node) {
          const uid = known.get(ref.name);
          if (uid !== undefined) {
            known.delete(ref.name);
            const gone: KubeObject = { apiVersion: 'v1', kind: 'Node', metadata: { name: ref.name, uid } };
            await events.record(gone, 'Normal', 'RemovingNode', `Node ${ref.name} event: Removing Node ${ref.name} from Controller`);
          }
          // The heartbeat Lease goes with its Node (the garbage collector does not watch Leases).
          if (await reader.get(LEASES, 'kube-node-lease', ref.name)) await client.delete(LEASES, 'kube-node-lease', ref.name);
          return;
        }
        const name = node.metadata.name!;
        if (known.get(name) !== node.metadata.uid) {
          known.set(name, node.metadata.uid!);
          await events.record(node, 'Normal', 'RegisteredNode', `Node ${name} event: Registered Node ${name} in Controller`);
        }

        const now = clock();
        const lease = await reader.get(LEASES, NODE_LEASE_NAMESPACE, name);
        const health = assessHealth(node, lease, now, o);
        if (health.updated) node = await client.updateStatus('core/nodes', health.updated);
        if (health.observedReady === 'True' && health.currentReady !== 'True') {
          await events.record(node, 'Normal', 'NodeNotReady', `Node ${name} status is now: NodeNotReady`);
        }
        const unhealthy = health.currentReady !== undefined && health.currentReady !== 'True';
        if (unhealthy) await markPodsNotReady(node, now);

        const noExecute = await desiredNoExecute(node, health.currentReady, now.getTime());
        const desired = noScheduleTaintKeys(node).map((key) => ({ key, effect: 'NoSchedule' }));
        if (noExecute.key) desired.push({ key: noExecute.key, effect: 'NoExecute' });
        // While a first NoExecute taint waits for the rate limiter, keep what the node has.
        if (noExecute.keep) for (const t of taintsOf(node)) if (t.effect === 'NoExecute' && NO_EXECUTE_KEYS.has(t.key)) desired.push(t);
        const taints = withManagedTaints(node, desired, rfc3339(now));
        if (taints) {
          const next = structuredClone(node);
          const spec = (next.spec ??= {}) as { taints?: Taint[] };
          if (taints.length) spec.taints = taints;
          else delete spec.taints;
          await client.update('core/nodes', next);
        }

        // Look again when the grace runs out, and every monitor period while the node is unhealthy.
        const graceLeft = health.deadline - now.getTime();
        const next = Math.min(graceLeft >= 0 ? graceLeft + 1 : Infinity, unhealthy ? o.monitorPeriodMs : Infinity, noExecute.waitMs ?? Infinity);
        return next === Infinity ? undefined : { requeueAfter: next };
      };
    },
  };
}

export const nodeLifecycle = nodeLifecycleController();
