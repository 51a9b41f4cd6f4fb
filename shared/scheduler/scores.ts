// The score plugins of kube-scheduler's default profile with their default weights: each gives
// every feasible node 0..100 (normalized like the plugin's NormalizeScore), and the weighted sum
// ranks the nodes.
import type { CycleState } from './filters.js';
import type { ClusterView, NodeInfo } from './node-info.js';
import { firstUntoleratedTaint, matchesRequiredNodeAffinity, termMatches, toleratedByAll, type Toleration } from './node-selection.js';
import { termMatchesPod, type PodInfo, type WeightedAffinityTerm } from './pod-info.js';
import { candidatesFor, countsForSpread } from './topology.js';

export const MAX_NODE_SCORE = 100;

/** Plugin weights of the default KubeSchedulerConfiguration profile. */
export const WEIGHTS = {
  TaintToleration: 3,
  NodeAffinity: 2,
  NodeResourcesFit: 1,
  NodeResourcesBalancedAllocation: 1,
  PodTopologySpread: 2,
  InterPodAffinity: 2,
} as const;

const HOSTNAME = 'kubernetes.io/hostname';
const ZONE = 'topology.kubernetes.io/zone';

/** DefaultNormalizeScore: scale to 0..100 by the highest score, optionally reversed. */
function normalize(scores: Float64Array, reverse: boolean): void {
  let max = 0;
  for (const s of scores) if (s > max) max = s;
  if (max === 0) {
    if (reverse) scores.fill(MAX_NODE_SCORE);
    return;
  }
  for (let i = 0; i < scores.length; i++) {
    const s = Math.trunc((MAX_NODE_SCORE * scores[i]) / max);
    scores[i] = reverse ? MAX_NODE_SCORE - s : s;
  }
}

function addWeighted(total: Float64Array, scores: Float64Array, weight: number): void {
  for (let i = 0; i < total.length; i++) total[i] += weight * scores[i];
}

// ---- NodeResourcesFit (LeastAllocated) and NodeResourcesBalancedAllocation -----------------------

function leastRequested(requested: number, capacity: number): number {
  if (requested > capacity) return 0;
  return Math.trunc(((capacity - requested) * MAX_NODE_SCORE) / capacity);
}

/** Free share of cpu and memory after placing the pod (requests without values count as defaults). */
export function leastAllocatedScore(pod: PodInfo, node: NodeInfo): number {
  let sum = 0;
  let weights = 0;
  if (node.allocMilliCpu > 0) {
    sum += leastRequested(node.nonZeroMilliCpu + pod.nonZeroMilliCpu, node.allocMilliCpu);
    weights++;
  }
  if (node.allocMemory > 0) {
    sum += leastRequested(node.nonZeroMemory + pod.nonZeroMemory, node.allocMemory);
    weights++;
  }
  return weights ? Math.trunc(sum / weights) : 0;
}

/** How close the cpu and memory fractions would be (1 - their standard deviation). */
export function balancedAllocationScore(pod: PodInfo, node: NodeInfo): number {
  if (node.allocMilliCpu <= 0 || node.allocMemory <= 0) return MAX_NODE_SCORE;
  const cpu = Math.min(1, (node.milliCpu + pod.requests.milliCpu) / node.allocMilliCpu);
  const memory = Math.min(1, (node.memory + pod.requests.memory) / node.allocMemory);
  const std = Math.abs((cpu - memory) / 2);
  return Math.trunc((1 - std) * MAX_NODE_SCORE);
}

// ---- TaintToleration and NodeAffinity ------------------------------------------------------------

function intolerablePreferNoSchedule(tolerations: Toleration[], node: NodeInfo): number {
  let n = 0;
  for (const taint of node.softTaints) if (!toleratedByAll(tolerations, taint)) n++;
  return n;
}

// ---- PodTopologySpread (ScheduleAnyway constraints, or the system default spreading) --------------

interface SoftConstraint {
  topologyKey: string;
  maxSkew: number;
  honorAffinity: boolean;
  honorTaints: boolean;
  counts: (p: PodInfo) => boolean;
}

function softConstraints(pod: PodInfo): { constraints: SoftConstraint[]; systemDefault: boolean } {
  if (pod.spread.length) {
    const constraints = pod.spread
      .filter((c) => !c.hard)
      .map((c) => ({ topologyKey: c.topologyKey, maxSkew: c.maxSkew, honorAffinity: c.honorAffinity, honorTaints: c.honorTaints, counts: (p: PodInfo) => countsForSpread(c, pod, p) }));
    return { constraints, systemDefault: false };
  }
  const owner = pod.controllerUid;
  if (!owner) return { constraints: [], systemDefault: true };
  // Kubernetes' system default: spread a workload's pods over hosts (maxSkew 3) and zones (maxSkew 5).
  const counts = (p: PodInfo) => p.controllerUid === owner && p.namespace === pod.namespace && !p.terminating;
  return {
    constraints: [
      { topologyKey: HOSTNAME, maxSkew: 3, honorAffinity: true, honorTaints: false, counts },
      { topologyKey: ZONE, maxSkew: 5, honorAffinity: true, honorTaints: false, counts },
    ],
    systemDefault: true,
  };
}

function spreadScores(view: ClusterView, pod: PodInfo, nodes: NodeInfo[]): Float64Array | undefined {
  const { constraints, systemDefault } = softConstraints(pod);
  if (!constraints.length) return undefined;
  const requireAll = !systemDefault;
  const hasAll = (n: NodeInfo) => constraints.every((c) => c.topologyKey in n.labels);
  const ignored = nodes.map((n) => requireAll && !hasAll(n));
  const domainCounts = constraints.map(() => new Map<string, number>());
  const weights = constraints.map((c, i) => {
    if (c.topologyKey === HOSTNAME) return Math.log(ignored.filter((x) => !x).length + 2);
    nodes.forEach((n, j) => {
      if (!ignored[j]) domainCounts[i].set(n.labels[c.topologyKey] ?? '', 0);
    });
    return Math.log(domainCounts[i].size + 2);
  });
  const included = (c: SoftConstraint, n: NodeInfo) =>
    (!c.honorAffinity || matchesRequiredNodeAffinity(pod.nodeAffinity, n.name, n.labels)) && (!c.honorTaints || !firstUntoleratedTaint(n.taints, pod.tolerations));
  if (constraints.some((c) => c.topologyKey !== HOSTNAME)) {
    const candidates = systemDefault ? (view.byController.get(pod.controllerUid!) ?? []) : (view.byNamespace.get(pod.namespace) ?? []);
    for (const p of candidates) {
      const n = view.nodes.get(p.nodeName);
      if (!n?.node || (requireAll && !hasAll(n))) continue;
      constraints.forEach((c, i) => {
        if (c.topologyKey === HOSTNAME || !included(c, n)) return;
        const v = n.labels[c.topologyKey] ?? '';
        const m = domainCounts[i];
        if (m.has(v) && c.counts(p)) m.set(v, m.get(v)! + 1);
      });
    }
  }
  const raw = new Float64Array(nodes.length);
  nodes.forEach((n, j) => {
    if (ignored[j]) return;
    let score = 0;
    constraints.forEach((c, i) => {
      const v = n.labels[c.topologyKey];
      if (v === undefined) return;
      let cnt: number;
      if (c.topologyKey !== HOSTNAME) cnt = domainCounts[i].get(v) ?? 0;
      else if (systemDefault) cnt = n.byController.get(pod.controllerUid!) ?? 0;
      else {
        cnt = 0;
        for (const p of n.pods.values()) if (c.counts(p)) cnt++;
      }
      score += cnt * weights[i] + (c.maxSkew - 1);
    });
    raw[j] = Math.round(score);
  });
  let min = Infinity;
  let max = 0;
  raw.forEach((s, j) => {
    if (ignored[j]) return;
    if (s < min) min = s;
    if (s > max) max = s;
  });
  const out = new Float64Array(nodes.length);
  raw.forEach((s, j) => {
    if (ignored[j]) out[j] = 0;
    else if (max === 0) out[j] = MAX_NODE_SCORE;
    else out[j] = Math.trunc((MAX_NODE_SCORE * (max + min - s)) / max);
  });
  return out;
}

// ---- InterPodAffinity (preferred terms of the pod, and existing pods' terms towards it) -----------

/** Weight given to an existing pod's required affinity term that selects the incoming pod. */
const HARD_POD_AFFINITY_WEIGHT = 1;

function interPodAffinityScores(view: ClusterView, pod: PodInfo, nodes: NodeInfo[]): Float64Array | undefined {
  const own: [WeightedAffinityTerm, number][] = [
    ...pod.preferredAffinityTerms.map((t): [WeightedAffinityTerm, number] => [t, t.weight]),
    ...pod.preferredAntiAffinityTerms.map((t): [WeightedAffinityTerm, number] => [t, -t.weight]),
  ];
  if (!own.length && !view.withAffinity.size) return undefined;
  const pairs = new Map<string, number>();
  const nsLabels = view.namespaceLabelsOf;
  const add = (key: string, n: NodeInfo, w: number) => {
    const value = n.labels[key];
    if (value === undefined || w === 0) return;
    const k = `${key}\u0000${value}`;
    pairs.set(k, (pairs.get(k) ?? 0) + w);
  };
  if (own.length) {
    for (const e of candidatesFor(view, own.map(([t]) => t))) {
      const n = view.nodes.get(e.nodeName);
      if (n?.node) for (const [t, w] of own) if (termMatchesPod(t, e, nsLabels)) add(t.topologyKey, n, w);
    }
  }
  for (const e of view.withAffinity) {
    const n = view.nodes.get(e.nodeName);
    if (!n?.node) continue;
    for (const t of e.affinityTerms) if (termMatchesPod(t, pod, nsLabels)) add(t.topologyKey, n, HARD_POD_AFFINITY_WEIGHT);
    for (const t of e.preferredAffinityTerms) if (termMatchesPod(t, pod, nsLabels)) add(t.topologyKey, n, t.weight);
    for (const t of e.preferredAntiAffinityTerms) if (termMatchesPod(t, pod, nsLabels)) add(t.topologyKey, n, -t.weight);
  }
  if (!pairs.size) return undefined;
  const raw = nodes.map((n) => {
    let s = 0;
    for (const k in n.labels) s += pairs.get(`${k}\u0000${n.labels[k]}`) ?? 0;
    return s;
  });
  let min = Infinity;
  let max = -Infinity;
  for (const s of raw) {
    if (s < min) min = s;
    if (s > max) max = s;
  }
  const out = new Float64Array(nodes.length);
  if (max - min > 0) raw.forEach((s, j) => (out[j] = Math.trunc(MAX_NODE_SCORE * ((s - min) / (max - min)))));
  return out;
}

/** Weighted sum of every score plugin for each of `nodes` (same order). */
export function scoreNodes(view: ClusterView, state: CycleState, nodes: NodeInfo[]): Float64Array {
  const pod = state.pod;
  const total = new Float64Array(nodes.length);
  const scores = new Float64Array(nodes.length);

  if (nodes.some((n) => n.softTaints.length)) {
    const tolerations = pod.tolerations.filter((t) => !t.effect || t.effect === 'PreferNoSchedule');
    nodes.forEach((n, i) => (scores[i] = intolerablePreferNoSchedule(tolerations, n)));
    normalize(scores, true);
    addWeighted(total, scores, WEIGHTS.TaintToleration);
  } else {
    for (let i = 0; i < total.length; i++) total[i] += WEIGHTS.TaintToleration * MAX_NODE_SCORE;
  }

  if (pod.preferredNodeAffinity.length) {
    nodes.forEach((n, i) => {
      let s = 0;
      for (const p of pod.preferredNodeAffinity) if (termMatches(p.term, n.name, n.labels)) s += p.weight;
      scores[i] = s;
    });
    normalize(scores, false);
    addWeighted(total, scores, WEIGHTS.NodeAffinity);
  }

  const bestEffort = pod.requests.milliCpu === 0 && pod.requests.memory === 0;
  for (let i = 0; i < nodes.length; i++) {
    total[i] += WEIGHTS.NodeResourcesFit * leastAllocatedScore(pod, nodes[i]);
    if (!bestEffort) total[i] += WEIGHTS.NodeResourcesBalancedAllocation * balancedAllocationScore(pod, nodes[i]);
  }

  const spread = spreadScores(view, pod, nodes);
  if (spread) addWeighted(total, spread, WEIGHTS.PodTopologySpread);

  const affinity = interPodAffinityScores(view, pod, nodes);
  if (affinity) addWeighted(total, affinity, WEIGHTS.InterPodAffinity);
  return total;
}
