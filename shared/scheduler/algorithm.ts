// One scheduling decision (schedulePod): try the nominated node first, otherwise filter nodes
// round-robin until enough feasible ones are found (adaptive percentageOfNodesToScore), score
// them and pick the best, breaking ties at random. Synchronous: the caller assumes the result
// before anything else can change the view.
import { preFilter, runFiltersWithNominated, type CycleState, type FilterStatus } from './filters.js';
import type { ClusterView, NodeInfo } from './node-info.js';
import type { PodInfo } from './pod-info.js';
import { scoreNodes } from './scores.js';

/** Below this many nodes every node is examined. */
const MIN_FEASIBLE_NODES_TO_FIND = 100;
const MIN_FEASIBLE_NODES_PERCENTAGE = 5;
const BASE_PERCENTAGE_OF_NODES_TO_SCORE = 50;

/** How many feasible nodes to look for among `numAllNodes` (kube-scheduler's numFeasibleNodesToFind). */
export function numFeasibleNodesToFind(numAllNodes: number, percentageOfNodesToScore = 0): number {
  if (numAllNodes < MIN_FEASIBLE_NODES_TO_FIND) return numAllNodes;
  let percentage = percentageOfNodesToScore;
  if (percentage <= 0) {
    percentage = BASE_PERCENTAGE_OF_NODES_TO_SCORE - Math.trunc(numAllNodes / 125);
    if (percentage < MIN_FEASIBLE_NODES_PERCENTAGE) percentage = MIN_FEASIBLE_NODES_PERCENTAGE;
  }
  const n = Math.trunc((numAllNodes * percentage) / 100);
  return n < MIN_FEASIBLE_NODES_TO_FIND ? MIN_FEASIBLE_NODES_TO_FIND : n;
}

export type Decision =
  | { node: string; state: CycleState }
  /** No node fits: why each examined node was rejected. */
  | { node?: undefined; state: CycleState; statuses: Map<string, FilterStatus>; numAllNodes: number };

export class Algorithm {
  private nextStartNodeIndex = 0;

  constructor(
    private readonly percentageOfNodesToScore = 0,
    private readonly random: () => number = Math.random,
  ) {}

  schedule(view: ClusterView, pod: PodInfo): Decision {
    const state = preFilter(view, pod);
    const nodes = view.list;
    const statuses = new Map<string, FilterStatus>();
    if (!nodes.length) return { state, statuses, numAllNodes: 0 };

    // A preemptor goes back to its nominated node when that node now fits it.
    if (pod.nominatedNodeName) {
      const nominated = view.nodes.get(pod.nominatedNodeName);
      if (nominated?.node && !runFiltersWithNominated(view, state, nominated)) return { node: nominated.name, state };
    }

    const wanted = numFeasibleNodesToFind(nodes.length, this.percentageOfNodesToScore);
    const feasible: NodeInfo[] = [];
    const start = this.nextStartNodeIndex % nodes.length;
    let processed = 0;
    while (processed < nodes.length && feasible.length < wanted) {
      const node = nodes[(start + processed) % nodes.length];
      processed++;
      const status = runFiltersWithNominated(view, state, node);
      if (status) statuses.set(node.name, status);
      else feasible.push(node);
    }
    this.nextStartNodeIndex = (start + processed) % nodes.length;

    if (!feasible.length) return { state, statuses, numAllNodes: nodes.length };
    if (feasible.length === 1) return { node: feasible[0].name, state };
    return { node: this.selectHost(feasible, scoreNodes(view, state, feasible)), state };
  }

  /** The highest score; among equals each is equally likely (reservoir sampling). */
  private selectHost(nodes: NodeInfo[], scores: Float64Array): string {
    let best = 0;
    let ties = 1;
    for (let i = 1; i < nodes.length; i++) {
      if (scores[i] > scores[best]) {
        best = i;
        ties = 1;
      } else if (scores[i] === scores[best]) {
        ties++;
        if (this.random() * ties < 1) best = i;
      }
    }
    return nodes[best].name;
  }
}
