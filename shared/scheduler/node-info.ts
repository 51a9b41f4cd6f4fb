// The scheduler's picture of the cluster (kube-scheduler's cache): per node the requested
// resources, pod count, host ports and pods; pending pods and their nominations; pods this
// scheduler assumed on a node before the binding came back. Fed incrementally from informer
// events in-process, or rebuilt from lists where no informer exists.
import type { KubeObject } from '../api/kind.js';
import type { Taint } from './node-selection.js';
import { assumedOn, isSchedulable, podInfoOf, type HostPort, type PodInfo } from './pod-info.js';
import { nodeAllocatable, type Allocatable } from './resources.js';

const ANY_IP = '0.0.0.0';

export class NodeInfo {
  node: KubeObject | undefined;
  labels: Record<string, string> = {};
  taints: Taint[] = [];
  /** PreferNoSchedule taints only (what the TaintToleration score counts). */
  softTaints: Taint[] = [];
  unschedulable = false;
  // Allocatable and requested amounts are plain fields: the filter loop reads them for hundreds
  // of nodes per pod, and one object per node keeps that cheap.
  allocMilliCpu = 0;
  allocMemory = 0;
  allocEphemeralStorage = 0;
  allocPods = 0;
  allocScalars: Map<string, number> | undefined;
  podCount = 0;
  milliCpu = 0;
  memory = 0;
  ephemeralStorage = 0;
  scalars: Map<string, number> | undefined;
  nonZeroMilliCpu = 0;
  nonZeroMemory = 0;
  readonly pods = new Map<string, PodInfo>();
  /** "<protocol>/<port>" -> ip -> number of pods using it. */
  readonly ports = new Map<string, Map<string, number>>();
  /** Non-terminating pods here by controlling owner uid (the default spreading counts these). */
  readonly byController = new Map<string, number>();

  constructor(readonly name: string) {}

  setNode(node: KubeObject | undefined): void {
    this.node = node;
    if (!node) return;
    const spec = (node.spec ?? {}) as { taints?: Taint[]; unschedulable?: boolean };
    this.labels = node.metadata.labels ?? {};
    this.taints = spec.taints ?? [];
    this.softTaints = this.taints.filter((t) => t.effect === 'PreferNoSchedule');
    this.unschedulable = spec.unschedulable === true;
    this.setAllocatable(nodeAllocatable(node));
  }

  private setAllocatable(a: Allocatable): void {
    this.allocMilliCpu = a.milliCpu;
    this.allocMemory = a.memory;
    this.allocEphemeralStorage = a.ephemeralStorage;
    this.allocPods = a.pods;
    this.allocScalars = a.scalars;
  }

  addPod(p: PodInfo): void {
    this.pods.set(p.key, p);
    this.podCount = this.pods.size;
    this.account(p, 1);
  }

  removePod(key: string): PodInfo | undefined {
    const p = this.pods.get(key);
    if (!p) return undefined;
    this.pods.delete(key);
    this.podCount = this.pods.size;
    this.account(p, -1);
    return p;
  }

  private account(p: PodInfo, sign: 1 | -1): void {
    const r = p.requests;
    this.milliCpu += sign * r.milliCpu;
    this.memory += sign * r.memory;
    this.ephemeralStorage += sign * r.ephemeralStorage;
    if (r.scalars) {
      this.scalars ??= new Map();
      for (const [k, v] of r.scalars) this.scalars.set(k, (this.scalars.get(k) ?? 0) + sign * v);
    }
    this.nonZeroMilliCpu += sign * p.nonZeroMilliCpu;
    this.nonZeroMemory += sign * p.nonZeroMemory;
    for (const port of p.ports) {
      let ips = this.ports.get(port.id);
      if (!ips) this.ports.set(port.id, (ips = new Map()));
      const n = (ips.get(port.ip) ?? 0) + sign;
      if (n > 0) ips.set(port.ip, n);
      else ips.delete(port.ip);
      if (!ips.size) this.ports.delete(port.id);
    }
    if (p.controllerUid && !p.terminating) {
      const n = (this.byController.get(p.controllerUid) ?? 0) + sign;
      if (n > 0) this.byController.set(p.controllerUid, n);
      else this.byController.delete(p.controllerUid);
    }
  }

  /** Whether any wanted host port is taken (0.0.0.0 clashes with every address). */
  portsConflict(wanted: readonly HostPort[]): boolean {
    for (const w of wanted) {
      const ips = this.ports.get(w.id);
      if (!ips) continue;
      if (w.ip === ANY_IP || ips.has(w.ip) || ips.has(ANY_IP)) return true;
    }
    return false;
  }

  /** A copy to simulate adding or removing pods on (preemption, nominated pods). */
  clone(): NodeInfo {
    const c = new NodeInfo(this.name);
    c.node = this.node;
    c.labels = this.labels;
    c.taints = this.taints;
    c.softTaints = this.softTaints;
    c.unschedulable = this.unschedulable;
    c.allocMilliCpu = this.allocMilliCpu;
    c.allocMemory = this.allocMemory;
    c.allocEphemeralStorage = this.allocEphemeralStorage;
    c.allocPods = this.allocPods;
    c.allocScalars = this.allocScalars;
    for (const p of this.pods.values()) c.addPod(p);
    return c;
  }
}

/** What a pod change meant for pods waiting on the cluster to change. */
export type PodChange = 'none' | 'assigned-added' | 'assigned-updated' | 'assigned-removed';

function podRelevantlyChanged(a: PodInfo, b: PodInfo): boolean {
  return a.nodeName !== b.nodeName || a.terminating !== b.terminating || JSON.stringify(a.labels) !== JSON.stringify(b.labels);
}

function nodeSignature(node: KubeObject): string {
  const spec = (node.spec ?? {}) as Record<string, unknown>;
  const status = (node.status ?? {}) as Record<string, unknown>;
  return JSON.stringify([node.metadata.labels ?? {}, spec.taints ?? [], spec.unschedulable ?? false, status.allocatable ?? status.capacity ?? {}]);
}

export class ClusterView {
  readonly nodes = new Map<string, NodeInfo>();
  /** Nodes that exist (have a Node object), in a stable order for round-robin search. */
  readonly list: NodeInfo[] = [];
  /** Pods on a node (bound or assumed), by "<ns>/<name>". */
  readonly assigned = new Map<string, PodInfo>();
  /** Pods waiting for this scheduler. */
  readonly pending = new Map<string, PodInfo>();
  /** Assigned pods by namespace (affinity and spreading count within namespaces). */
  readonly byNamespace = new Map<string, Set<PodInfo>>();
  /** Assigned pods with required anti-affinity terms. */
  readonly withAntiAffinity = new Set<PodInfo>();
  /** Assigned pods with any pod (anti-)affinity term (the affinity score looks at these). */
  readonly withAffinity = new Set<PodInfo>();
  /** Assigned pods by controlling owner uid (default spreading across zones counts these). */
  readonly byController = new Map<string, Set<PodInfo>>();
  /** Pending pods nominated to a node after preemption: node -> pods. */
  readonly nominated = new Map<string, Map<string, PodInfo>>();
  readonly namespaceLabels = new Map<string, Record<string, string>>();
  readonly pdbs = new Map<string, KubeObject>();

  // ---- nodes ------------------------------------------------------------------------------------

  /** Applies a node change; true when it may let waiting pods fit (added, or labels/taints/capacity changed). */
  applyNode(type: 'ADDED' | 'MODIFIED' | 'DELETED', node: KubeObject, old?: KubeObject): boolean {
    const name = node.metadata.name!;
    let info = this.nodes.get(name);
    if (type === 'DELETED') {
      if (!info) return false;
      const i = this.list.indexOf(info);
      if (i >= 0) this.list.splice(i, 1);
      info.setNode(undefined);
      if (!info.pods.size) this.nodes.delete(name);
      return false;
    }
    if (!info) this.nodes.set(name, (info = new NodeInfo(name)));
    const existed = !!info.node;
    info.setNode(node);
    if (!existed) {
      this.list.push(info);
      return true;
    }
    return !old || nodeSignature(old) !== nodeSignature(node);
  }

  private nodeFor(name: string): NodeInfo {
    let info = this.nodes.get(name);
    if (!info) this.nodes.set(name, (info = new NodeInfo(name)));
    return info;
  }

  // ---- pods -------------------------------------------------------------------------------------

  applyPod(type: 'ADDED' | 'MODIFIED' | 'DELETED', pod: KubeObject): PodChange {
    const key = `${pod.metadata.namespace ?? ''}/${pod.metadata.name}`;
    if (type === 'DELETED') {
      this.dropPending(key);
      return this.unassign(key) ? 'assigned-removed' : 'none';
    }
    const p = podInfoOf(pod);
    if (p.nodeName) {
      this.dropPending(key);
      if (p.terminal) return this.unassign(key) ? 'assigned-removed' : 'none';
      const before = this.assigned.get(key);
      this.assign(p);
      if (!before || before.assumed) return before?.nodeName === p.nodeName ? 'none' : 'assigned-added';
      return podRelevantlyChanged(before, p) ? 'assigned-updated' : 'none';
    }
    // Unbound: an assumption in flight stays in place until the binding lands or fails.
    if (isSchedulable(p)) this.setPending(p);
    else this.dropPending(key);
    return 'none';
  }

  private setPending(p: PodInfo): void {
    const before = this.pending.get(p.key);
    if (before?.nominatedNodeName && before.nominatedNodeName !== p.nominatedNodeName) this.nominated.get(before.nominatedNodeName)?.delete(p.key);
    this.pending.set(p.key, p);
    if (p.nominatedNodeName) {
      let m = this.nominated.get(p.nominatedNodeName);
      if (!m) this.nominated.set(p.nominatedNodeName, (m = new Map()));
      m.set(p.key, p);
    }
  }

  private dropPending(key: string): void {
    const before = this.pending.get(key);
    if (!before) return;
    this.pending.delete(key);
    if (before.nominatedNodeName) {
      const m = this.nominated.get(before.nominatedNodeName);
      m?.delete(key);
      if (m && !m.size) this.nominated.delete(before.nominatedNodeName);
    }
  }

  private assign(p: PodInfo): void {
    this.unassign(p.key);
    this.assigned.set(p.key, p);
    this.nodeFor(p.nodeName).addPod(p);
    let ns = this.byNamespace.get(p.namespace);
    if (!ns) this.byNamespace.set(p.namespace, (ns = new Set()));
    ns.add(p);
    if (p.antiAffinityTerms.length) this.withAntiAffinity.add(p);
    if (p.affinityTerms.length || p.antiAffinityTerms.length || p.preferredAffinityTerms.length || p.preferredAntiAffinityTerms.length) this.withAffinity.add(p);
    if (p.controllerUid) {
      let owned = this.byController.get(p.controllerUid);
      if (!owned) this.byController.set(p.controllerUid, (owned = new Set()));
      owned.add(p);
    }
  }

  private unassign(key: string): PodInfo | undefined {
    const p = this.assigned.get(key);
    if (!p) return undefined;
    this.assigned.delete(key);
    const node = this.nodes.get(p.nodeName);
    node?.removePod(key);
    if (node && !node.node && !node.pods.size) this.nodes.delete(node.name);
    this.byNamespace.get(p.namespace)?.delete(p);
    this.withAntiAffinity.delete(p);
    this.withAffinity.delete(p);
    if (p.controllerUid) {
      const owned = this.byController.get(p.controllerUid);
      owned?.delete(p);
      if (owned && !owned.size) this.byController.delete(p.controllerUid);
    }
    return p;
  }

  /** Places a pending pod on a node before its binding is written, so the next decision sees it. */
  assume(p: PodInfo, nodeName: string): PodInfo {
    const a = assumedOn(p, nodeName);
    this.assign(a);
    return a;
  }

  isAssumed(key: string): boolean {
    return this.assigned.get(key)?.assumed === true;
  }

  /** Undoes an assumption whose binding failed (a binding that landed replaced it already). */
  forget(key: string): void {
    if (this.assigned.get(key)?.assumed) this.unassign(key);
  }

  /** Pods nominated to `node` at or above `priority`, other than `exceptKey`. */
  nominatedOn(node: string, priority: number, exceptKey: string): PodInfo[] {
    const m = this.nominated.get(node);
    if (!m) return [];
    const out: PodInfo[] = [];
    for (const p of m.values()) if (p.key !== exceptKey && p.priority >= priority && !this.isAssumed(p.key)) out.push(p);
    return out;
  }

  // ---- the rest ---------------------------------------------------------------------------------

  applyNamespace(type: 'ADDED' | 'MODIFIED' | 'DELETED', ns: KubeObject): void {
    if (type === 'DELETED') this.namespaceLabels.delete(ns.metadata.name!);
    else this.namespaceLabels.set(ns.metadata.name!, ns.metadata.labels ?? {});
  }

  applyPdb(type: 'ADDED' | 'MODIFIED' | 'DELETED', pdb: KubeObject): void {
    const key = `${pdb.metadata.namespace}/${pdb.metadata.name}`;
    if (type === 'DELETED') this.pdbs.delete(key);
    else this.pdbs.set(key, pdb);
  }

  namespaceLabelsOf = (ns: string): Record<string, string> | undefined => this.namespaceLabels.get(ns);
}
