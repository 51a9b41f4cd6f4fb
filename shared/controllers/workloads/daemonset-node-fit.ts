// Which nodes a DaemonSet runs on (daemon controller's NodeShouldRunDaemonPod): the template's
// nodeName, nodeSelector and required node affinity must match the node, and the node's
// NoSchedule/NoExecute taints must be tolerated by the pod, tolerations the controller adds included.
import type { KubeObject } from '../../api/kind.js';

type Obj = Record<string, unknown>;

export interface Taint {
  key: string;
  value?: string;
  effect: string;
}

export interface Toleration {
  key?: string;
  operator?: string;
  value?: string;
  effect?: string;
  tolerationSeconds?: number;
}

interface NodeSelectorRequirement {
  key: string;
  operator: string;
  values?: string[];
}

interface NodeSelectorTerm {
  matchExpressions?: NodeSelectorRequirement[];
  matchFields?: NodeSelectorRequirement[];
}

/** The field key a DaemonSet pod's node affinity pins it with (scheduler's NodeFieldSelectorKeyNodeName). */
export const NODE_NAME_FIELD = 'metadata.name';

const asObj = (v: unknown): Obj => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Obj) : {});
const asList = <T>(v: unknown): T[] => (Array.isArray(v) ? (v as T[]) : []);

/** The tolerations every DaemonSet pod gets (util.AddOrUpdateDaemonPodTolerations). */
export function daemonTolerations(hostNetwork: boolean): Toleration[] {
  const list: Toleration[] = [
    { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute' },
    { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute' },
    { key: 'node.kubernetes.io/disk-pressure', operator: 'Exists', effect: 'NoSchedule' },
    { key: 'node.kubernetes.io/memory-pressure', operator: 'Exists', effect: 'NoSchedule' },
    { key: 'node.kubernetes.io/pid-pressure', operator: 'Exists', effect: 'NoSchedule' },
    { key: 'node.kubernetes.io/unschedulable', operator: 'Exists', effect: 'NoSchedule' },
  ];
  if (hostNetwork) list.push({ key: 'node.kubernetes.io/network-unavailable', operator: 'Exists', effect: 'NoSchedule' });
  return list;
}

const sameToleration = (a: Toleration, b: Toleration): boolean =>
  (a.key ?? '') === (b.key ?? '') && (a.operator ?? '') === (b.operator ?? '') && (a.value ?? '') === (b.value ?? '') && (a.effect ?? '') === (b.effect ?? '');

/** Adds the daemon tolerations a pod spec lacks (v1helper.AddOrUpdateTolerationInPodSpec for each). */
export function addDaemonTolerations(spec: Obj): void {
  const tolerations = asList<Toleration>(spec.tolerations).slice();
  for (const t of daemonTolerations(spec.hostNetwork === true)) {
    if (!tolerations.some((have) => sameToleration(have, t))) tolerations.push(t);
  }
  spec.tolerations = tolerations;
}

/** Toleration.ToleratesTaint. */
export function tolerates(t: Toleration, taint: Taint): boolean {
  if (t.effect && t.effect !== taint.effect) return false;
  if (t.key && t.key !== taint.key) return false;
  switch (t.operator ?? 'Equal') {
    case 'Exists':
      return true;
    case 'Equal':
    case '':
      return (t.value ?? '') === (taint.value ?? '');
    default:
      return false;
  }
}

/** The first taint with one of `effects` that no toleration tolerates. */
export function untoleratedTaint(taints: Taint[], tolerations: Toleration[], effects: readonly string[]): Taint | undefined {
  return taints.find((taint) => effects.includes(taint.effect) && !tolerations.some((t) => tolerates(t, taint)));
}

function requirementMatches(req: NodeSelectorRequirement, value: string | undefined): boolean {
  const values = req.values ?? [];
  switch (req.operator) {
    case 'In':
      return value !== undefined && values.includes(value);
    case 'NotIn':
      return value === undefined || !values.includes(value);
    case 'Exists':
      return value !== undefined;
    case 'DoesNotExist':
      return value === undefined;
    case 'Gt':
    case 'Lt': {
      if (value === undefined || values.length !== 1) return false;
      const int = /^[+-]?\d+$/;
      if (!int.test(value) || !int.test(values[0])) return false;
      const have = BigInt(value);
      const want = BigInt(values[0]);
      return req.operator === 'Gt' ? have > want : have < want;
    }
    default:
      return false;
  }
}

function termMatches(term: NodeSelectorTerm, node: KubeObject): boolean {
  const exprs = term.matchExpressions ?? [];
  const fields = term.matchFields ?? [];
  // An empty term selects no node.
  if (!exprs.length && !fields.length) return false;
  const labels = node.metadata.labels ?? {};
  for (const e of exprs) {
    const value = Object.prototype.hasOwnProperty.call(labels, e.key) ? labels[e.key] : undefined;
    if (!requirementMatches(e, value)) return false;
  }
  for (const f of fields) {
    if (f.key !== NODE_NAME_FIELD) return false;
    if (!requirementMatches(f, node.metadata.name)) return false;
  }
  return true;
}

/** nodeaffinity.GetRequiredNodeAffinity(pod).Match(node): nodeSelector and required node affinity. */
export function matchesRequiredNodeAffinity(podSpec: Obj, node: KubeObject): boolean {
  const labels = node.metadata.labels ?? {};
  for (const [k, v] of Object.entries(asObj(podSpec.nodeSelector))) if (labels[k] !== v) return false;
  const required = asObj(asObj(asObj(podSpec.affinity).nodeAffinity).requiredDuringSchedulingIgnoredDuringExecution);
  if (!Object.keys(required).length) return true;
  return asList<NodeSelectorTerm>(required.nodeSelectorTerms).some((t) => termMatches(t, node));
}

export interface NodeFit {
  /** A daemon pod should be created on the node if it has none. */
  shouldRun: boolean;
  /** A daemon pod already on the node may stay. */
  shouldContinueRunning: boolean;
}

/** The pod spec a DaemonSet's pod would have: the template's, with the daemon tolerations added. */
export function daemonPodSpec(ds: KubeObject): Obj {
  const spec = structuredClone(asObj(asObj(asObj(ds.spec).template).spec));
  addDaemonTolerations(spec);
  return spec;
}

/** NodeShouldRunDaemonPod, given the spec from daemonPodSpec (computed once per reconcile). */
export function nodeShouldRunDaemonPod(podSpec: Obj, node: KubeObject): NodeFit {
  const nodeName = typeof podSpec.nodeName === 'string' ? podSpec.nodeName : '';
  if (nodeName && nodeName !== node.metadata.name) return { shouldRun: false, shouldContinueRunning: false };
  if (!matchesRequiredNodeAffinity(podSpec, node)) return { shouldRun: false, shouldContinueRunning: false };
  const taints = asList<Taint>(asObj(node.spec).taints);
  const tolerations = asList<Toleration>(podSpec.tolerations);
  if (untoleratedTaint(taints, tolerations, ['NoSchedule', 'NoExecute'])) {
    // A pod already there may stay unless a NoExecute taint would evict it.
    return { shouldRun: false, shouldContinueRunning: !untoleratedTaint(taints, tolerations, ['NoExecute']) };
  }
  return { shouldRun: true, shouldContinueRunning: true };
}

/** util.ReplaceDaemonSetPodNodeNameNodeAffinity: pin the pod to `nodeName` through required node affinity. */
export function pinToNode(spec: Obj, nodeName: string): void {
  const term = { matchFields: [{ key: NODE_NAME_FIELD, operator: 'In', values: [nodeName] }] };
  const affinity = asObj(spec.affinity);
  const nodeAffinity = asObj(affinity.nodeAffinity);
  const required = asObj(nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution);
  spec.affinity = { ...affinity, nodeAffinity: { ...nodeAffinity, requiredDuringSchedulingIgnoredDuringExecution: { ...required, nodeSelectorTerms: [term] } } };
}

/** util.GetTargetNodeName: spec.nodeName, else the node named by the pinning affinity; undefined when neither. */
export function targetNodeName(pod: KubeObject): string | undefined {
  const spec = asObj(pod.spec);
  if (typeof spec.nodeName === 'string' && spec.nodeName) return spec.nodeName;
  const terms = asList<NodeSelectorTerm>(asObj(asObj(asObj(spec.affinity).nodeAffinity).requiredDuringSchedulingIgnoredDuringExecution).nodeSelectorTerms);
  for (const term of terms) {
    for (const f of term.matchFields ?? []) {
      if (f.key === NODE_NAME_FIELD && f.operator === 'In') return f.values?.length === 1 ? f.values[0] : undefined;
    }
  }
  return undefined;
}
