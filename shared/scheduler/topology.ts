// Pre-computed per-pod state of the two filters that look across nodes: PodTopologySpread
// (DoNotSchedule constraints: matching pods per topology domain) and InterPodAffinity (topology
// pairs holding pods that the incoming pod's required terms select, or whose own anti-affinity
// selects the incoming pod). Both can add or remove a pod, as preemption's dry run needs.
import { matchesLabels } from '../api/selectors/labels.js';
import type { ClusterView, NodeInfo } from './node-info.js';
import { firstUntoleratedTaint, matchesRequiredNodeAffinity } from './node-selection.js';
import { termMatchesPod, type AffinityTerm, type PodInfo, type SpreadConstraint } from './pod-info.js';

const pairKey = (key: string, value: string): string => `${key}\u0000${value}`;

function bump(m: Map<string, number>, key: string, by: number): void {
  const n = (m.get(key) ?? 0) + by;
  if (n === 0) m.delete(key);
  else m.set(key, n);
}

// ---- PodTopologySpread ---------------------------------------------------------------------------

/** Whether a node takes part in a constraint's domains (node inclusion policies). */
export function nodeCountsForSpread(c: SpreadConstraint, pod: PodInfo, node: NodeInfo): boolean {
  if (c.honorAffinity && !matchesRequiredNodeAffinity(pod.nodeAffinity, node.name, node.labels)) return false;
  if (c.honorTaints && firstUntoleratedTaint(node.taints, pod.tolerations)) return false;
  return true;
}

export function countsForSpread(c: SpreadConstraint, owner: PodInfo, p: PodInfo): boolean {
  return p.namespace === owner.namespace && !p.terminating && matchesLabels(c.selector, p.labels);
}

export class SpreadState {
  private constructor(
    readonly constraints: SpreadConstraint[],
    /** Per constraint: topology value -> matching pods, for every domain that has an eligible node. */
    readonly counts: Map<string, number>[],
    /** Per constraint: names of eligible nodes. */
    readonly eligible: Set<string>[],
  ) {}

  static build(view: ClusterView, pod: PodInfo): SpreadState | undefined {
    const constraints = pod.spread.filter((c) => c.hard);
    if (!constraints.length) return undefined;
    const counts = constraints.map(() => new Map<string, number>());
    const eligible = constraints.map(() => new Set<string>());
    for (const node of view.list) {
      if (!constraints.every((c) => c.topologyKey in node.labels)) continue;
      constraints.forEach((c, i) => {
        if (!nodeCountsForSpread(c, pod, node)) return;
        eligible[i].add(node.name);
        const v = node.labels[c.topologyKey];
        if (!counts[i].has(v)) counts[i].set(v, 0);
      });
    }
    for (const p of view.byNamespace.get(pod.namespace) ?? []) {
      const node = view.nodes.get(p.nodeName);
      if (!node) continue;
      constraints.forEach((c, i) => {
        if (eligible[i].has(node.name) && countsForSpread(c, pod, p)) bump(counts[i], node.labels[c.topologyKey], 1);
      });
    }
    return new SpreadState(constraints, counts, eligible);
  }

  clone(): SpreadState {
    return new SpreadState(this.constraints, this.counts.map((m) => new Map(m)), this.eligible);
  }

  /** Adds (+1) or removes (-1) a pod on `node`, as preemption simulates. */
  update(owner: PodInfo, p: PodInfo, node: NodeInfo, by: 1 | -1): void {
    this.constraints.forEach((c, i) => {
      if (this.eligible[i].has(node.name) && countsForSpread(c, owner, p)) {
        const v = node.labels[c.topologyKey];
        this.counts[i].set(v, (this.counts[i].get(v) ?? 0) + by);
      }
    });
  }

  private minMatch(i: number): number {
    const m = this.counts[i];
    if (m.size < this.constraints[i].minDomains) return 0;
    let min = Infinity;
    for (const n of m.values()) if (n < min) min = n;
    return min === Infinity ? 0 : min;
  }

  /** undefined when `node` keeps every constraint's skew; else which way it fails. */
  check(pod: PodInfo, node: NodeInfo): 'missing-label' | 'skew' | undefined {
    for (let i = 0; i < this.constraints.length; i++) {
      const c = this.constraints[i];
      const v = node.labels[c.topologyKey];
      if (v === undefined) return 'missing-label';
      const self = matchesLabels(c.selector, pod.labels) ? 1 : 0;
      const skew = (this.counts[i].get(v) ?? 0) + self - this.minMatch(i);
      if (skew > c.maxSkew) return 'skew';
    }
    return undefined;
  }
}

// ---- InterPodAffinity ----------------------------------------------------------------------------

export class AffinityState {
  private constructor(
    readonly pod: PodInfo,
    private readonly nsLabels: (ns: string) => Record<string, string> | undefined,
    /** Pairs where an existing pod's required anti-affinity selects the incoming pod. */
    readonly existingAnti: Map<string, number>,
    /** Pairs holding pods that match all of the incoming pod's required affinity terms. */
    readonly affinity: Map<string, number>,
    /** Pairs holding pods that one of the incoming pod's anti-affinity terms selects. */
    readonly anti: Map<string, number>,
  ) {}

  static build(view: ClusterView, pod: PodInfo): AffinityState | undefined {
    const state = new AffinityState(pod, view.namespaceLabelsOf, new Map(), new Map(), new Map());
    for (const e of view.withAntiAffinity) {
      const node = view.nodes.get(e.nodeName);
      if (node?.node) state.addExisting(e, node, 1);
    }
    if (pod.affinityTerms.length || pod.antiAffinityTerms.length) {
      for (const e of candidatesFor(view, [...pod.affinityTerms, ...pod.antiAffinityTerms])) {
        const node = view.nodes.get(e.nodeName);
        if (node?.node) state.addIncoming(e, node, 1);
      }
    }
    if (!state.existingAnti.size && !pod.affinityTerms.length && !pod.antiAffinityTerms.length) return undefined;
    return state;
  }

  clone(): AffinityState {
    return new AffinityState(this.pod, this.nsLabels, new Map(this.existingAnti), new Map(this.affinity), new Map(this.anti));
  }

  private addExisting(e: PodInfo, node: NodeInfo, by: 1 | -1): void {
    for (const t of e.antiAffinityTerms) {
      const v = node.labels[t.topologyKey];
      if (v !== undefined && termMatchesPod(t, this.pod, this.nsLabels)) bump(this.existingAnti, pairKey(t.topologyKey, v), by);
    }
  }

  private addIncoming(e: PodInfo, node: NodeInfo, by: 1 | -1): void {
    const terms = this.pod.affinityTerms;
    if (terms.length && terms.every((t) => termMatchesPod(t, e, this.nsLabels))) {
      for (const t of terms) {
        const v = node.labels[t.topologyKey];
        if (v !== undefined) bump(this.affinity, pairKey(t.topologyKey, v), by);
      }
    }
    for (const t of this.pod.antiAffinityTerms) {
      const v = node.labels[t.topologyKey];
      if (v !== undefined && termMatchesPod(t, e, this.nsLabels)) bump(this.anti, pairKey(t.topologyKey, v), by);
    }
  }

  update(e: PodInfo, node: NodeInfo, by: 1 | -1): void {
    this.addExisting(e, node, by);
    this.addIncoming(e, node, by);
  }

  /** undefined when `node` satisfies every rule; else the rule it breaks. */
  check(node: NodeInfo): 'affinity' | 'anti-affinity' | 'existing-anti-affinity' | undefined {
    const pod = this.pod;
    if (pod.affinityTerms.length) {
      let podsExist = true;
      for (const t of pod.affinityTerms) {
        const v = node.labels[t.topologyKey];
        if (v === undefined) return 'affinity';
        if ((this.affinity.get(pairKey(t.topologyKey, v)) ?? 0) <= 0) podsExist = false;
      }
      // The first pod of a group that selects itself may go anywhere its topology labels exist.
      if (!podsExist && !(this.affinity.size === 0 && pod.affinityTerms.every((t) => termMatchesPod(t, pod, this.nsLabels)))) return 'affinity';
    }
    for (const t of pod.antiAffinityTerms) {
      const v = node.labels[t.topologyKey];
      if (v !== undefined && (this.anti.get(pairKey(t.topologyKey, v)) ?? 0) > 0) return 'anti-affinity';
    }
    if (this.existingAnti.size) {
      for (const k in node.labels) if ((this.existingAnti.get(pairKey(k, node.labels[k])) ?? 0) > 0) return 'existing-anti-affinity';
    }
    return undefined;
  }
}

/** Assigned pods that terms may select: their namespaces only, unless a namespace selector widens it. */
export function candidatesFor(view: ClusterView, terms: AffinityTerm[]): Iterable<PodInfo> {
  if (terms.some((t) => t.namespaceSelector)) return view.assigned.values();
  const namespaces = new Set<string>();
  for (const t of terms) for (const ns of t.namespaces) namespaces.add(ns);
  const out: PodInfo[] = [];
  for (const ns of namespaces) for (const p of view.byNamespace.get(ns) ?? []) out.push(p);
  return out;
}
