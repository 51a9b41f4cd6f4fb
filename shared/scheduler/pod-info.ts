// What the scheduler needs from a pod, computed once per pod version: requests, host ports,
// tolerations, node and pod (anti-)affinity, spread constraints, priority.
import type { KubeObject } from '../api/kind.js';
import { labelSelectorFromStruct, matchesLabels, NOTHING, type LabelSelector, type MetaLabelSelector } from '../api/selectors/labels.js';
import { controllerOf } from '../controllers/runtime/mappers.js';
import {
  preferredNodeAffinityOf,
  requiredNodeAffinityOf,
  type PreferredTerm,
  type RequiredNodeAffinity,
  type Toleration,
} from './node-selection.js';
import { podRequests, type Resources } from './resources.js';

export const DEFAULT_SCHEDULER = 'default-scheduler';

export interface HostPort {
  ip: string;
  /** "<protocol>/<port>" */
  id: string;
}

/** A pod (anti-)affinity term with its namespaces resolved as Kubernetes does. */
export interface AffinityTerm {
  namespaces: Set<string>;
  /** Namespaces whose labels match also count; undefined selects none. */
  namespaceSelector?: LabelSelector;
  selector: LabelSelector;
  topologyKey: string;
}

export interface WeightedAffinityTerm extends AffinityTerm {
  weight: number;
}

export interface SpreadConstraint {
  maxSkew: number;
  topologyKey: string;
  hard: boolean;
  selector: LabelSelector;
  minDomains: number;
  /** Count only nodes matching the pod's required node affinity (nodeAffinityPolicy Honor, the default). */
  honorAffinity: boolean;
  /** Count only nodes whose taints the pod tolerates (nodeTaintsPolicy Honor; default Ignore). */
  honorTaints: boolean;
}

export interface PodInfo {
  /** "<namespace>/<name>" */
  key: string;
  uid: string;
  namespace: string;
  name: string;
  obj: KubeObject;
  labels: Record<string, string>;
  /** spec.nodeName, or the node it is assumed on. */
  nodeName: string;
  priority: number;
  preemptNever: boolean;
  requests: Resources;
  /** cpu/memory with the scoring defaults for containers that request none. */
  nonZeroMilliCpu: number;
  nonZeroMemory: number;
  ports: HostPort[];
  tolerations: Toleration[];
  nodeAffinity?: RequiredNodeAffinity;
  preferredNodeAffinity: PreferredTerm[];
  affinityTerms: AffinityTerm[];
  antiAffinityTerms: AffinityTerm[];
  preferredAffinityTerms: WeightedAffinityTerm[];
  preferredAntiAffinityTerms: WeightedAffinityTerm[];
  spread: SpreadConstraint[];
  controllerUid?: string;
  terminating: boolean;
  /** Succeeded or Failed: no longer holds anything on its node. */
  terminal: boolean;
  /** status.startTime (else creation) in ms, for victim ordering. */
  startedAt: number;
  nominatedNodeName: string;
  schedulerName: string;
  schedulingGated: boolean;
  /** Placed by this scheduler, binding not yet seen in the cache. */
  assumed: boolean;
}

interface ContainerPort {
  hostPort?: number;
  hostIP?: string;
  protocol?: string;
}

function selectorOf(s: MetaLabelSelector | null | undefined, extraKeys: string[] | undefined, labels: Record<string, string>): LabelSelector {
  try {
    if (!extraKeys?.length || !s) return labelSelectorFromStruct(s);
    const matchExpressions = [...(s.matchExpressions ?? [])];
    for (const k of extraKeys) if (k in labels) matchExpressions.push({ key: k, operator: 'In', values: [labels[k]] });
    return labelSelectorFromStruct({ ...s, matchExpressions });
  } catch {
    return NOTHING;
  }
}

interface RawTerm {
  labelSelector?: MetaLabelSelector | null;
  namespaces?: string[] | null;
  namespaceSelector?: MetaLabelSelector | null;
  topologyKey?: string;
  matchLabelKeys?: string[];
}

function affinityTerm(raw: RawTerm, namespace: string, labels: Record<string, string>): AffinityTerm {
  const namespaces = new Set<string>(raw.namespaces ?? []);
  if (!raw.namespaces?.length && raw.namespaceSelector == null) namespaces.add(namespace);
  let namespaceSelector: LabelSelector | undefined;
  if (raw.namespaceSelector != null) {
    try {
      namespaceSelector = labelSelectorFromStruct(raw.namespaceSelector);
    } catch {
      namespaceSelector = undefined;
    }
  }
  return { namespaces, namespaceSelector, selector: selectorOf(raw.labelSelector, raw.matchLabelKeys, labels), topologyKey: raw.topologyKey ?? '' };
}

/** Whether `pod` falls under `term` (namespace set or namespace selector, then the label selector). */
export function termMatchesPod(term: AffinityTerm, pod: PodInfo, namespaceLabels: (ns: string) => Record<string, string> | undefined): boolean {
  if (!term.namespaces.has(pod.namespace)) {
    if (!term.namespaceSelector || !matchesLabels(term.namespaceSelector, namespaceLabels(pod.namespace) ?? {})) return false;
  }
  return matchesLabels(term.selector, pod.labels);
}

function hostPorts(spec: Record<string, unknown>): HostPort[] {
  const out: HostPort[] = [];
  const collect = (containers: unknown) => {
    for (const c of (containers as { ports?: ContainerPort[]; restartPolicy?: string }[] | undefined) ?? []) {
      for (const p of c.ports ?? []) {
        if (!p.hostPort || p.hostPort <= 0) continue;
        out.push({ ip: p.hostIP || '0.0.0.0', id: `${p.protocol || 'TCP'}/${p.hostPort}` });
      }
    }
  };
  collect(spec.containers);
  collect(((spec.initContainers as { restartPolicy?: string }[] | undefined) ?? []).filter((c) => c.restartPolicy === 'Always'));
  return out;
}

function spreadConstraints(spec: Record<string, unknown>, labels: Record<string, string>): SpreadConstraint[] {
  const raw = (spec.topologySpreadConstraints as Record<string, unknown>[] | undefined) ?? [];
  return raw.map((c) => ({
    maxSkew: Number(c.maxSkew ?? 1),
    topologyKey: String(c.topologyKey ?? ''),
    hard: c.whenUnsatisfiable !== 'ScheduleAnyway',
    selector: selectorOf(c.labelSelector as MetaLabelSelector | undefined, c.matchLabelKeys as string[] | undefined, labels),
    minDomains: Number(c.minDomains ?? 1),
    honorAffinity: c.nodeAffinityPolicy !== 'Ignore',
    honorTaints: c.nodeTaintsPolicy === 'Honor',
  }));
}

const EMPTY: never[] = [];

/** The API server's Priority admission has set spec.priority and spec.preemptionPolicy from the class. */
export function podInfoOf(pod: KubeObject): PodInfo {
  const spec = (pod.spec ?? {}) as Record<string, unknown>;
  const status = (pod.status ?? {}) as { phase?: string; startTime?: string; nominatedNodeName?: string };
  const namespace = pod.metadata.namespace ?? '';
  const labels = pod.metadata.labels ?? {};
  const requests = podRequests(spec);
  const nonZero = podRequests(spec, true);
  const affinity = (spec.affinity ?? {}) as {
    podAffinity?: { requiredDuringSchedulingIgnoredDuringExecution?: RawTerm[]; preferredDuringSchedulingIgnoredDuringExecution?: { weight: number; podAffinityTerm: RawTerm }[] };
    podAntiAffinity?: { requiredDuringSchedulingIgnoredDuringExecution?: RawTerm[]; preferredDuringSchedulingIgnoredDuringExecution?: { weight: number; podAffinityTerm: RawTerm }[] };
  };
  const terms = (list: RawTerm[] | undefined) => (list?.length ? list.map((t) => affinityTerm(t, namespace, labels)) : EMPTY);
  const weighted = (list: { weight: number; podAffinityTerm: RawTerm }[] | undefined) =>
    list?.length ? list.filter((w) => w.weight).map((w) => ({ ...affinityTerm(w.podAffinityTerm ?? {}, namespace, labels), weight: w.weight })) : EMPTY;
  const started = Date.parse(status.startTime ?? pod.metadata.creationTimestamp ?? '');
  return {
    key: `${namespace}/${pod.metadata.name}`,
    uid: pod.metadata.uid ?? '',
    namespace,
    name: pod.metadata.name ?? '',
    obj: pod,
    labels,
    nodeName: (spec.nodeName as string | undefined) ?? '',
    priority: typeof spec.priority === 'number' ? spec.priority : 0,
    preemptNever: spec.preemptionPolicy === 'Never',
    requests,
    nonZeroMilliCpu: nonZero.milliCpu,
    nonZeroMemory: nonZero.memory,
    ports: hostPorts(spec),
    tolerations: (spec.tolerations as Toleration[] | undefined) ?? EMPTY,
    nodeAffinity: requiredNodeAffinityOf(spec),
    preferredNodeAffinity: preferredNodeAffinityOf(spec),
    affinityTerms: terms(affinity.podAffinity?.requiredDuringSchedulingIgnoredDuringExecution),
    antiAffinityTerms: terms(affinity.podAntiAffinity?.requiredDuringSchedulingIgnoredDuringExecution),
    preferredAffinityTerms: weighted(affinity.podAffinity?.preferredDuringSchedulingIgnoredDuringExecution),
    preferredAntiAffinityTerms: weighted(affinity.podAntiAffinity?.preferredDuringSchedulingIgnoredDuringExecution),
    spread: spreadConstraints(spec, labels),
    controllerUid: controllerOf(pod)?.uid,
    terminating: !!pod.metadata.deletionTimestamp,
    terminal: status.phase === 'Succeeded' || status.phase === 'Failed',
    startedAt: Number.isNaN(started) ? 0 : started,
    nominatedNodeName: status.nominatedNodeName ?? '',
    schedulerName: (spec.schedulerName as string | undefined) || DEFAULT_SCHEDULER,
    schedulingGated: Array.isArray(spec.schedulingGates) && spec.schedulingGates.length > 0,
    assumed: false,
  };
}

/** The same pod placed on `nodeName` by this scheduler (not yet bound). */
export function assumedOn(p: PodInfo, nodeName: string): PodInfo {
  return { ...p, nodeName, assumed: true, nominatedNodeName: '' };
}

/** A pending pod this scheduler is responsible for. */
export function isSchedulable(p: PodInfo): boolean {
  return !p.nodeName && p.schedulerName === DEFAULT_SCHEDULER && !p.terminating && !p.terminal;
}
