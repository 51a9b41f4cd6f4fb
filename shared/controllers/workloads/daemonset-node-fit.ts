// Which nodes a DaemonSet runs on (daemon controller's NodeShouldRunDaemonPod): the template's
// nodeName, nodeSelector and required node affinity must match the node, and the node's
// NoSchedule/NoExecute taints must be tolerated by the pod, tolerations the controller adds included.
import type { KubeObject } from '../../api/kind.js';
import { matchesRequiredNodeAffinity, requiredNodeAffinityOf, toleratedByAll, type NodeSelectorTerm, type Taint, type Toleration } from '../../scheduler/node-selection.js';

type Obj = Record<string, unknown>;

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

/** The first taint with one of `effects` that no toleration tolerates. */
function untoleratedTaint(taints: Taint[], tolerations: Toleration[], effects: readonly string[]): Taint | undefined {
  return taints.find((taint) => effects.includes(taint.effect) && !toleratedByAll(tolerations, taint));
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
  if (!matchesRequiredNodeAffinity(requiredNodeAffinityOf(podSpec), node.metadata.name!, node.metadata.labels ?? {})) return { shouldRun: false, shouldContinueRunning: false };
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
