// One node's agent logic (kubelet's core loop, minus the runtime details): register the Node,
// heartbeat through its Lease, run the pods bound to it through a PodRuntime, report their status,
// and finish graceful deletions. It only ever runs pods whose spec.nodeName is this node.
import { isKubeConflict, isKubeNotFound, KubeApiError, type KubeClient } from '../shared/client/kube-client.js';
import type { Logger } from '../shared/apiserver/logger.js';
import { nodeObject, nodeStatus, type NodeHealth, type NodeIdentity } from './node-object.js';
import type { Pod, PodEventType } from './pod-source.js';
import { finishedPodStatus, runningPodStatus } from './pod-status.js';
import type { PodRuntime } from './runtime.js';

export const LEASE_DURATION_SECONDS = 40;

const microTime = (d = new Date()) => d.toISOString().replace('Z', '000Z');

export class NodeAgent {
  private nodeUid?: string;
  private readonly started = new Set<string>();
  private readonly chains = new Map<string, Promise<void>>();
  private health: NodeHealth = { memoryPressure: false, diskPressure: false, pidPressure: false };

  constructor(
    readonly identity: NodeIdentity,
    private readonly client: KubeClient,
    private readonly runtime: PodRuntime,
    private readonly log: Logger,
  ) {}

  get name(): string {
    return this.identity.name;
  }

  /** Create the Node (or take over an existing one of this name) and post its status. */
  async register(): Promise<void> {
    const desired = nodeObject(this.identity);
    let node: { metadata: { uid: string }; status?: { conditions?: Record<string, unknown>[] } };
    try {
      node = await this.client.create('/api/v1/nodes', desired);
    } catch (e) {
      if (!(e instanceof KubeApiError && e.code === 409)) throw e;
      node = await this.client.patch(`/api/v1/nodes/${this.name}`, { metadata: { labels: (desired.metadata as { labels: unknown }).labels } });
    }
    this.nodeUid = node.metadata.uid;
    await this.postStatus(node.status?.conditions);
    await this.renewLease();
  }

  /** Report node status now (conditions, capacity, addresses, nodeInfo). */
  async postStatus(previousConditions?: Record<string, unknown>[]): Promise<void> {
    await this.client.patch(`/api/v1/nodes/${this.name}/status`, { status: nodeStatus(this.identity, this.health, previousConditions) });
  }

  setHealth(health: NodeHealth): void {
    this.health = health;
  }

  /** The heartbeat: renew this node's Lease in kube-node-lease (created on first use). */
  async renewLease(): Promise<void> {
    const path = `/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/${this.name}`;
    const spec = { holderIdentity: this.name, leaseDurationSeconds: LEASE_DURATION_SECONDS, renewTime: microTime() };
    try {
      await this.client.patch(path, { spec });
    } catch (e) {
      if (!isKubeNotFound(e)) throw e;
      const ownerReferences = this.nodeUid ? [{ apiVersion: 'v1', kind: 'Node', name: this.name, uid: this.nodeUid }] : undefined;
      try {
        await this.client.create('/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases', { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: this.name, namespace: 'kube-node-lease', ownerReferences }, spec });
      } catch (err) {
        if (!isKubeConflict(err)) throw err;
      }
    }
  }

  /** A pod event from the pod source; work for one pod is serialised, pods run independently. */
  handlePod(type: PodEventType, pod: Pod): Promise<void> {
    const uid = pod.metadata.uid;
    const prior = this.chains.get(uid) ?? Promise.resolve();
    const next = prior
      .then(() => this.syncPod(type, pod))
      .catch((err: unknown) => this.log.warn({ pod: `${pod.metadata.namespace}/${pod.metadata.name}`, err: err instanceof Error ? err.message : String(err) }, 'pod sync failed'))
      .finally(() => {
        if (this.chains.get(uid) === next) this.chains.delete(uid);
      });
    this.chains.set(uid, next);
    return next;
  }

  /** Wait for all pod work in flight (tests, shutdown). */
  async drain(): Promise<void> {
    await Promise.all([...this.chains.values()]);
  }

  private async syncPod(type: PodEventType, pod: Pod): Promise<void> {
    const { uid, namespace, name } = pod.metadata;
    if (type === 'DELETED') {
      if (this.started.delete(uid)) await this.runtime.stopPod(uid, 0);
      return;
    }
    if (pod.spec.nodeName !== this.name) return;
    if (pod.metadata.deletionTimestamp) {
      const grace = Number((pod.metadata as { deletionGracePeriodSeconds?: number }).deletionGracePeriodSeconds ?? 30);
      await this.runtime.stopPod(uid, grace);
      this.started.delete(uid);
      try {
        await this.client.delete(`/api/v1/namespaces/${namespace}/pods/${name}`, { apiVersion: 'v1', kind: 'DeleteOptions', gracePeriodSeconds: 0, preconditions: { uid } });
      } catch (e) {
        if (!isKubeNotFound(e) && !isKubeConflict(e)) throw e;
      }
      return;
    }
    const phase = (pod.status as { phase?: string } | undefined)?.phase;
    if (phase === 'Succeeded' || phase === 'Failed' || this.started.has(uid)) return;
    this.started.add(uid);
    const state = await this.runtime.startPod(pod);
    try {
      await this.client.patch(`/api/v1/namespaces/${namespace}/pods/${name}/status`, { status: runningPodStatus(state, this.identity.internalIP, pod.status as Record<string, unknown> | undefined) });
    } catch (e) {
      this.started.delete(uid);
      if (isKubeNotFound(e)) return;
      throw e;
    }
    const exit = this.runtime.plannedExit?.(pod);
    if (exit) {
      const timer = setTimeout(() => {
        void this.handleExit(pod, state, exit.exitCode);
      }, exit.afterMs);
      timer.unref?.();
    }
  }

  private async handleExit(pod: Pod, state: Awaited<ReturnType<PodRuntime['startPod']>>, exitCode: number): Promise<void> {
    const { uid, namespace, name } = pod.metadata;
    if (!this.started.has(uid)) return;
    try {
      await this.client.patch(`/api/v1/namespaces/${namespace}/pods/${name}/status`, { status: finishedPodStatus(state, this.identity.internalIP, exitCode, pod.status as Record<string, unknown> | undefined) });
      await this.runtime.stopPod(uid, 0);
    } catch (e) {
      if (!isKubeNotFound(e)) this.log.warn({ pod: `${namespace}/${name}`, err: e instanceof Error ? e.message : String(e) }, 'could not report the pod finished');
    }
  }
}
