// DefaultPreemption's decision (PostFilter): when no node fits, find nodes where removing pods of
// lower priority would make room, keep as many of those pods as still fit (most important first,
// PodDisruptionBudgets respected where possible), and pick the node whose victims matter least.
// Pure: the controller carries out the deletions.
import { labelSelectorFromStruct, matchesLabels, type MetaLabelSelector } from '../api/selectors/labels.js';
import { Code, runFiltersWithNominated, type CycleState, type FilterStatus } from './filters.js';
import { fitErrorMessage, NO_VICTIMS, PREEMPTION_NOT_HELPFUL } from './messages.js';
import type { ClusterView, NodeInfo } from './node-info.js';
import type { PodInfo } from './pod-info.js';

const MIN_CANDIDATE_NODES_PERCENTAGE = 10;
const MIN_CANDIDATE_NODES_ABSOLUTE = 100;

export type PreemptionResult =
  /** Preempt `victims` on `node` and nominate the pod there. */
  | { node: string; victims: PodInfo[] }
  /**
   * Preemption cannot help; `message` goes after the fit error (already prefixed "preemption: ").
   * `eligible` is false when the pod may not preempt at all (its nomination then stays).
   */
  | { node?: undefined; message: string; eligible: boolean };

interface Candidate {
  node: string;
  victims: PodInfo[];
  pdbViolations: number;
}

/** Descending importance: higher priority first, then the pod that started earlier. */
export function moreImportant(a: PodInfo, b: PodInfo): number {
  if (a.priority !== b.priority) return b.priority - a.priority;
  return a.startedAt - b.startedAt;
}

/** A pod deleted by an earlier preemption and still terminating. */
function terminatingByPreemption(p: PodInfo): boolean {
  if (!p.terminating) return false;
  const conditions = ((p.obj.status as { conditions?: { type?: string; status?: string; reason?: string }[] } | undefined)?.conditions) ?? [];
  const c = conditions.find((x) => x.type === 'DisruptionTarget');
  return c?.status === 'True' && c.reason === 'PreemptionByScheduler';
}

function eligibility(view: ClusterView, pod: PodInfo, statuses: Map<string, FilterStatus>): string | undefined {
  if (pod.preemptNever) return 'not eligible due to preemptionPolicy=Never.';
  if (pod.nominatedNodeName) {
    if (statuses.get(pod.nominatedNodeName)?.code === Code.Unresolvable) return undefined;
    const node = view.nodes.get(pod.nominatedNodeName);
    for (const p of node?.pods.values() ?? []) {
      if (p.priority < pod.priority && terminatingByPreemption(p)) return 'not eligible due to a terminating pod on the nominated node.';
    }
  }
  return undefined;
}

interface Budget {
  namespace: string;
  selector: ReturnType<typeof labelSelectorFromStruct>;
  allowed: number;
  disrupted: Record<string, unknown>;
}

function budgets(view: ClusterView): Budget[] {
  const out: Budget[] = [];
  for (const pdb of view.pdbs.values()) {
    const spec = (pdb.spec ?? {}) as { selector?: MetaLabelSelector };
    const status = (pdb.status ?? {}) as { disruptionsAllowed?: number; disruptedPods?: Record<string, unknown> };
    let selector;
    try {
      selector = labelSelectorFromStruct(spec.selector);
    } catch {
      continue;
    }
    // A PDB with an empty or missing selector matches nothing.
    if (selector.nothing || !selector.requirements.length) continue;
    out.push({ namespace: pdb.metadata.namespace ?? '', selector, allowed: status.disruptionsAllowed ?? 0, disrupted: status.disruptedPods ?? {} });
  }
  return out;
}

/** Splits victims (kept in order) into those whose eviction would break a budget and the rest. */
function splitByBudgetViolation(pods: PodInfo[], pdbs: Budget[]): [PodInfo[], PodInfo[]] {
  const allowed = pdbs.map((b) => b.allowed);
  const violating: PodInfo[] = [];
  const fine: PodInfo[] = [];
  for (const p of pods) {
    let violated = false;
    if (Object.keys(p.labels).length) {
      pdbs.forEach((b, i) => {
        if (b.namespace !== p.namespace || !matchesLabels(b.selector, p.labels) || p.name in b.disrupted) return;
        if (--allowed[i] < 0) violated = true;
      });
    }
    (violated ? violating : fine).push(p);
  }
  return [violating, fine];
}

type VictimsResult = { victims: PodInfo[]; pdbViolations: number } | { status: FilterStatus };

function selectVictimsOnNode(view: ClusterView, state: CycleState, node: NodeInfo, pdbs: Budget[]): VictimsResult {
  const pod = state.pod;
  const potential = [...node.pods.values()].filter((p) => p.priority < pod.priority);
  if (!potential.length) return { status: { code: Code.Unresolvable, reasons: [NO_VICTIMS] } };
  const sim = node.clone();
  const s: CycleState = { ...state, spread: state.spread?.clone(), affinity: state.affinity?.clone() };
  const remove = (p: PodInfo) => {
    sim.removePod(p.key);
    s.spread?.update(pod, p, node, -1);
    s.affinity?.update(p, node, -1);
  };
  const add = (p: PodInfo) => {
    sim.addPod(p);
    s.spread?.update(pod, p, node, 1);
    s.affinity?.update(p, node, 1);
  };
  potential.forEach(remove);
  const status = runFiltersWithNominated(view, s, sim);
  if (status) return { status };
  potential.sort(moreImportant);
  const [violating, fine] = splitByBudgetViolation(potential, pdbs);
  const victims: PodInfo[] = [];
  const reprieve = (p: PodInfo): boolean => {
    add(p);
    if (!runFiltersWithNominated(view, s, sim)) return true;
    remove(p);
    victims.push(p);
    return false;
  };
  let pdbViolations = 0;
  for (const p of violating) if (!reprieve(p)) pdbViolations++;
  for (const p of fine) reprieve(p);
  if (violating.length && fine.length) victims.sort(moreImportant);
  return { victims, pdbViolations };
}

function earliestStartOfMostImportant(victims: PodInfo[]): number {
  const top = victims[0].priority;
  let earliest = Infinity;
  for (const v of victims) if (v.priority === top && v.startedAt < earliest) earliest = v.startedAt;
  return earliest;
}

/** pickOneNodeForPreemption: fewest budget violations, lowest top victim priority, lowest priority sum, fewest victims, latest start. */
function pickCandidate(candidates: Candidate[]): Candidate {
  const criteria: ((c: Candidate) => number)[] = [
    (c) => -c.pdbViolations,
    (c) => -c.victims[0].priority,
    (c) => -c.victims.reduce((sum, v) => sum + v.priority + 2 ** 31, 0),
    (c) => -c.victims.length,
    (c) => earliestStartOfMostImportant(c.victims),
  ];
  let pool = candidates;
  for (const score of criteria) {
    let best = -Infinity;
    let next: Candidate[] = [];
    for (const c of pool) {
      const s = score(c);
      if (s > best) {
        best = s;
        next = [c];
      } else if (s === best) next.push(c);
    }
    if (next.length === 1) return next[0];
    pool = next;
  }
  return pool[0];
}

export function preempt(view: ClusterView, state: CycleState, statuses: Map<string, FilterStatus>, random: () => number = Math.random): PreemptionResult {
  const pod = state.pod;
  const notEligible = eligibility(view, pod, statuses);
  if (notEligible) return { message: `preemption: ${notEligible}`, eligible: false };
  const all = view.list;
  const potential = all.filter((n) => statuses.get(n.name)?.code === Code.Unschedulable);
  const dryRun = new Map<string, FilterStatus>();
  const candidates: Candidate[] = [];
  if (potential.length) {
    const pdbs = budgets(view);
    const wanted = Math.min(potential.length, Math.max(MIN_CANDIDATE_NODES_ABSOLUTE, Math.trunc((potential.length * MIN_CANDIDATE_NODES_PERCENTAGE) / 100)));
    const offset = Math.floor(random() * potential.length);
    let nonViolating = 0;
    for (let i = 0; i < potential.length; i++) {
      const node = potential[(offset + i) % potential.length];
      const r = selectVictimsOnNode(view, state, node, pdbs);
      if ('status' in r) {
        dryRun.set(node.name, r.status);
        continue;
      }
      candidates.push({ node: node.name, ...r });
      if (!r.pdbViolations) nonViolating++;
      if (nonViolating > 0 && candidates.length >= wanted) break;
    }
  }
  if (!candidates.length) {
    return { message: `preemption: ${fitErrorMessage(all.length, dryRun.values(), PREEMPTION_NOT_HELPFUL)}`, eligible: true };
  }
  // Candidates that violate no budget come first, as in DryRunPreemption's result.
  const ordered = [...candidates.filter((c) => !c.pdbViolations), ...candidates.filter((c) => c.pdbViolations)];
  const best = pickCandidate(ordered);
  return { node: best.node, victims: best.victims };
}

/** Pods nominated to `node` with lower priority than the preemptor: their nomination is cleared. */
export function lowerPriorityNominated(view: ClusterView, node: string, priority: number): PodInfo[] {
  return [...(view.nominated.get(node)?.values() ?? [])].filter((p) => p.priority < priority);
}
