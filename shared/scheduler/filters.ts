// The filter plugins of kube-scheduler's default profile, in its order, each answering whether a
// pod may go to a node and, if not, why (the reason strings are Kubernetes' own, since they end up
// in FailedScheduling events) and whether preemption could help (Unschedulable) or not
// (UnschedulableAndUnresolvable).
import type { ClusterView, NodeInfo } from './node-info.js';
import { firstUntoleratedTaint, matchesRequiredNodeAffinity, toleratedByAll, type Taint } from './node-selection.js';
import type { PodInfo } from './pod-info.js';
import { isZero } from './resources.js';
import { AffinityState, SpreadState } from './topology.js';

export const enum Code {
  /** Preemption may make room. */
  Unschedulable = 1,
  /** Removing pods would not help. */
  Unresolvable = 2,
}

export interface FilterStatus {
  code: Code;
  reasons: readonly string[];
}

export const REASONS = {
  unschedulable: 'node(s) were unschedulable',
  nodeName: "node(s) didn't match the requested node name",
  nodeAffinity: "node(s) didn't match Pod's node affinity/selector",
  ports: "node(s) didn't have free ports for the requested pod ports",
  tooManyPods: 'Too many pods',
  spread: "node(s) didn't match pod topology spread constraints",
  spreadLabel: "node(s) didn't match pod topology spread constraints (missing required label)",
  affinity: "node(s) didn't match pod affinity rules",
  antiAffinity: "node(s) didn't match pod anti-affinity rules",
  existingAntiAffinity: "node(s) didn't satisfy existing pods anti-affinity rules",
} as const;

const status = (code: Code, ...reasons: string[]): FilterStatus => ({ code, reasons });
const UNSCHEDULABLE = status(Code.Unresolvable, REASONS.unschedulable);
const NODE_NAME = status(Code.Unresolvable, REASONS.nodeName);
const NODE_AFFINITY = status(Code.Unresolvable, REASONS.nodeAffinity);
const PORTS = status(Code.Unschedulable, REASONS.ports);
const SPREAD = status(Code.Unschedulable, REASONS.spread);
const SPREAD_LABEL = status(Code.Unresolvable, REASONS.spreadLabel);
const AFFINITY = status(Code.Unresolvable, REASONS.affinity);
const ANTI_AFFINITY = status(Code.Unschedulable, REASONS.antiAffinity);
const EXISTING_ANTI_AFFINITY = status(Code.Unschedulable, REASONS.existingAntiAffinity);
const UNSCHEDULABLE_TAINT: Taint = { key: 'node.kubernetes.io/unschedulable', effect: 'NoSchedule' };

/** What PreFilter computes once per pod and scheduling attempt. */
export interface CycleState {
  pod: PodInfo;
  requestsNothing: boolean;
  spread?: SpreadState;
  affinity?: AffinityState;
}

export function preFilter(view: ClusterView, pod: PodInfo): CycleState {
  return { pod, requestsNothing: isZero(pod.requests), spread: SpreadState.build(view, pod), affinity: AffinityState.build(view, pod) };
}

function taintStatus(taint: Taint): FilterStatus {
  return status(Code.Unresolvable, `node(s) had untolerated taint {${taint.key}: ${taint.value ?? ''}}`);
}

/** NodeResourcesFit: every shortfall is reported ("Too many pods", "Insufficient cpu", ...). */
export function fitStatus(state: CycleState, node: NodeInfo): FilterStatus | undefined {
  let reasons: string[] | undefined;
  if (node.podCount + 1 > node.allocPods) (reasons ??= []).push(REASONS.tooManyPods);
  if (!state.requestsNothing) {
    const r = state.pod.requests;
    if (r.milliCpu > 0 && r.milliCpu > node.allocMilliCpu - node.milliCpu) (reasons ??= []).push('Insufficient cpu');
    if (r.memory > 0 && r.memory > node.allocMemory - node.memory) (reasons ??= []).push('Insufficient memory');
    if (r.ephemeralStorage > 0 && r.ephemeralStorage > node.allocEphemeralStorage - node.ephemeralStorage) (reasons ??= []).push('Insufficient ephemeral-storage');
    if (r.scalars) {
      for (const [name, want] of r.scalars) {
        if (want > 0 && want > (node.allocScalars?.get(name) ?? 0) - (node.scalars?.get(name) ?? 0)) (reasons ??= []).push(`Insufficient ${name}`);
      }
    }
  }
  return reasons ? { code: Code.Unschedulable, reasons } : undefined;
}

/** Runs the filters on one node, stopping at the first that rejects it (as the framework does). */
export function runFilters(state: CycleState, node: NodeInfo): FilterStatus | undefined {
  const pod = state.pod;
  // NodeUnschedulable
  if (node.unschedulable && !toleratedByAll(pod.tolerations, UNSCHEDULABLE_TAINT)) return UNSCHEDULABLE;
  // NodeName (pods this scheduler sees carry none; kept for completeness of the profile)
  if (pod.nodeName && pod.nodeName !== node.name) return NODE_NAME;
  // TaintToleration
  if (node.taints.length) {
    const taint = firstUntoleratedTaint(node.taints, pod.tolerations);
    if (taint) return taintStatus(taint);
  }
  // NodeAffinity
  if (pod.nodeAffinity && !matchesRequiredNodeAffinity(pod.nodeAffinity, node.name, node.labels)) return NODE_AFFINITY;
  // NodePorts
  if (pod.ports.length && node.portsConflict(pod.ports)) return PORTS;
  // NodeResourcesFit
  const fit = fitStatus(state, node);
  if (fit) return fit;
  // PodTopologySpread
  if (state.spread) {
    const why = state.spread.check(pod, node);
    if (why) return why === 'missing-label' ? SPREAD_LABEL : SPREAD;
  }
  // InterPodAffinity
  if (state.affinity) {
    const why = state.affinity.check(node);
    if (why) return why === 'affinity' ? AFFINITY : why === 'anti-affinity' ? ANTI_AFFINITY : EXISTING_ANTI_AFFINITY;
  }
  return undefined;
}

/**
 * The filters with pods nominated to the node (at or above the pod's priority) counted as if
 * already there, so a preemptor's room is not taken by others (RunFilterPluginsWithNominatedPods).
 */
export function runFiltersWithNominated(view: ClusterView, state: CycleState, node: NodeInfo): FilterStatus | undefined {
  const nominated = view.nominated.size ? view.nominatedOn(node.name, state.pod.priority, state.pod.key) : [];
  if (!nominated.length) return runFilters(state, node);
  const withNominated = node.clone();
  let s = state;
  if (state.spread || state.affinity) {
    s = { ...state, spread: state.spread?.clone(), affinity: state.affinity?.clone() };
    for (const p of nominated) {
      s.spread?.update(state.pod, p, node, 1);
      s.affinity?.update(p, node, 1);
    }
  }
  for (const p of nominated) withNominated.addPod(p);
  return runFilters(s, withNominated) ?? runFilters(state, node);
}
