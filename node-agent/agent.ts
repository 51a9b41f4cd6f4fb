// One node's agent logic (kubelet's core loop, minus the runtime details): register the Node,
// heartbeat through its Lease, run the pods bound to it through a PodRuntime, report their status,
// restart exited containers with kubelet's back-off, and finish graceful deletions. It only ever
// runs pods whose spec.nodeName is this node.
import { isKubeConflict, isKubeNotFound, KubeApiError, type KubeClient } from '../shared/client/kube-client.js';
import type { Logger } from '../shared/apiserver/logger.js';
import { Backoff, goDuration } from './backoff.js';
import { ContainerStartError, InitContainerError, PodStoppedError, type StartPodImageError } from './cri/cri-runtime.js';
import { imagePullBackOffMessage, ImagePullError } from './cri/images.js';
import { ContainerConfigError } from './env.js';
import { runLifecycleHook } from './lifecycle-hooks.js';
import { nodeObject, nodeStatus, type NodeHealth, type NodeIdentity } from './node-object.js';
import type { Pod, PodEventType } from './pod-source.js';
import { finishedPodStatus, runningPodStatus, runtimePodStatus, type WaitingOverride } from './pod-status.js';
import { KubeletEvents } from './probes/kubelet-events.js';
import { PodProber } from './probes/pod-prober.js';
import { probeOf, type ProbedContainerSpec, type ProbeKind } from './probes/spec.js';
import type { PodRuntime, RuntimePodStatus } from './runtime.js';

export const LEASE_DURATION_SECONDS = 40;

const microTime = (d = new Date()) => d.toISOString().replace('Z', '000Z');
const stamp = (d = new Date()) => d.toISOString().replace(/\.\d+Z$/, 'Z');
const errText = (e: unknown) => (e instanceof Error ? e.message : String(e));

type PodSpecView = {
  restartPolicy?: string;
  terminationGracePeriodSeconds?: number;
  containers: (ProbedContainerSpec & { image?: string })[];
  initContainers?: { name: string; image?: string; restartPolicy?: string }[];
};

/** kubelet never stops a container with less than this grace period (minimumGracePeriodInSeconds). */
const MIN_KILL_GRACE_SECONDS = 2;

/** What the agent tracks for a pod it runs on a runtime that reports container states. */
interface PodRecord {
  pod: Pod;
  /** startPod succeeded once (the pod's containers exist or were adopted). */
  started: boolean;
  podIP?: string;
  startTime: string;
  runtime?: RuntimePodStatus;
  waiting: Map<string, WaitingOverride>;
  timers: Set<NodeJS.Timeout>;
  /** A start retry is scheduled. */
  retryPending: boolean;
  /** Containers with a restart scheduled. */
  restartPending: Set<string>;
  posted?: Record<string, unknown>;
  postedKey?: string;
  terminal: boolean;
  stopping: boolean;
  /** Liveness/readiness/startup probes of the pod's containers (pods with probes only). */
  prober?: PodProber;
  /** Container instances whose postStart hook ran (or that were adopted running). */
  hooked: Set<string>;
  /** Containers being killed (failed probe or postStart). */
  killing: Set<string>;
  /** Containers whose first start failed: RunContainerError shows until their first restart. */
  startFailed: Set<string>;
}

export interface NodeAgentOptions {
  /** Back-off of image pulls and failed starts (default kubelet's: 10 s doubling to 5 min). */
  startBackoff?: Backoff;
  /** Back-off of container restarts, CrashLoopBackOff (default kubelet's: 10 s doubling to 5 min). */
  restartBackoff?: Backoff;
  /** How long ErrImagePull shows before ImagePullBackOff while a pull waits for its retry (default 2 s). */
  pullErrorShowMs?: number;
}

export class NodeAgent {
  private nodeUid?: string;
  private readonly started = new Set<string>();
  private readonly chains = new Map<string, Promise<void>>();
  private readonly records = new Map<string, PodRecord>();
  private readonly stopping = new Map<string, Promise<void>>();
  private readonly startBackoff: Backoff;
  private readonly restartBackoff: Backoff;
  private readonly events: KubeletEvents;
  private health: NodeHealth = { memoryPressure: false, diskPressure: false, pidPressure: false };
  private closed = false;

  constructor(
    readonly identity: NodeIdentity,
    private readonly client: KubeClient,
    private readonly runtime: PodRuntime,
    private readonly log: Logger,
    private readonly opts: NodeAgentOptions = {},
  ) {
    this.startBackoff = opts.startBackoff ?? new Backoff();
    this.restartBackoff = opts.restartBackoff ?? new Backoff();
    this.events = new KubeletEvents(client, identity.name, log);
  }

  get name(): string {
    return this.identity.name;
  }

  /** Whether the runtime reports container states (real runtimes) rather than a fixed "running" (hollow). */
  private get reportsStatus(): boolean {
    return typeof this.runtime.podStatus === 'function';
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
    if (!previousConditions) {
      const node = await this.client.get<{ status?: { conditions?: Record<string, unknown>[] } }>(`/api/v1/nodes/${this.name}`).catch(() => undefined);
      previousConditions = node?.status?.conditions;
    }
    await this.client.patch(`/api/v1/nodes/${this.name}/status`, { status: nodeStatus(this.identity, this.health, previousConditions) });
  }

  setHealth(health: NodeHealth): void {
    this.health = health;
  }

  get currentHealth(): NodeHealth {
    return this.health;
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
    // Stopping runs outside the pod's chain: it has to cancel a start that is still in flight.
    if (type === 'DELETED') return this.forgetPod(pod);
    if (pod.spec.nodeName !== this.name) return Promise.resolve();
    if (pod.metadata.deletionTimestamp) return this.terminatePod(pod);
    return this.enqueue(uid, pod, () => this.syncPod(pod));
  }

  /**
   * The runtime's view of a pod changed (from the node's PodStatusPoller): report it and restart
   * exited containers as the restart policy says. Pods the agent does not run are ignored.
   */
  observe(status: RuntimePodStatus): void {
    const rec = this.records.get(status.uid);
    if (!rec || rec.stopping) return;
    rec.runtime = status;
    rec.prober?.kick();
    void this.enqueue(status.uid, rec.pod, () => this.reconcile(rec));
  }

  /** Uids of the pods this agent runs (or is starting). */
  get podUids(): string[] {
    return [...this.records.keys(), ...this.started];
  }

  /** Wait for all pod work in flight (tests, shutdown). */
  async drain(): Promise<void> {
    await Promise.all([...this.chains.values(), ...this.stopping.values()]);
  }

  /** Stop timers (retries, restarts); running pods are left as they are. */
  async close(): Promise<void> {
    this.closed = true;
    for (const rec of this.records.values()) {
      this.clearTimers(rec);
      rec.prober?.stop();
    }
    await this.drain();
  }

  private enqueue(uid: string, pod: Pod, work: () => Promise<void>): Promise<void> {
    const prior = this.chains.get(uid) ?? Promise.resolve();
    const next = prior
      .then(work)
      .catch((err: unknown) => this.log.warn({ pod: `${pod.metadata.namespace}/${pod.metadata.name}`, err: errText(err) }, 'pod sync failed'))
      .finally(() => {
        if (this.chains.get(uid) === next) this.chains.delete(uid);
      });
    this.chains.set(uid, next);
    return next;
  }

  private syncPod(pod: Pod): Promise<void> {
    return this.reportsStatus ? this.syncRealPod(pod) : this.syncHollowPod(pod);
  }

  // ---- deletion

  /** Graceful deletion: stop within the pod's grace period, then remove the object (grace 0, uid precondition). */
  private terminatePod(pod: Pod): Promise<void> {
    const { uid, namespace, name } = pod.metadata;
    const inFlight = this.stopping.get(uid);
    if (inFlight) return inFlight;
    const rec = this.records.get(uid);
    if (rec) {
      rec.stopping = true;
      this.clearTimers(rec);
      rec.prober?.stop();
    }
    const grace = Number((pod.metadata as { deletionGracePeriodSeconds?: number }).deletionGracePeriodSeconds ?? 30);
    const done = (async () => {
      // preStop hooks run first and their time counts against the grace period.
      const spent = rec ? await this.runPreStopHooks(rec, grace) : 0;
      await this.runtime.stopPod(uid, spent > 0 ? Math.max(grace - spent, MIN_KILL_GRACE_SECONDS) : grace);
      this.started.delete(uid);
      this.records.delete(uid);
      this.startBackoff.resetPrefix(`${uid}/`);
      this.restartBackoff.resetPrefix(`${uid}/`);
      try {
        await this.client.delete(`/api/v1/namespaces/${namespace}/pods/${name}`, { apiVersion: 'v1', kind: 'DeleteOptions', gracePeriodSeconds: 0, preconditions: { uid } });
      } catch (e) {
        if (!isKubeNotFound(e) && !isKubeConflict(e)) throw e;
      }
    })()
      .catch((err: unknown) => this.log.warn({ pod: `${namespace}/${name}`, err: errText(err) }, 'pod termination failed'))
      .finally(() => this.stopping.delete(uid));
    this.stopping.set(uid, done);
    return done;
  }

  /** The pod object is gone (force deletion, or it vanished while the watch was down): stop what runs. */
  private async forgetPod(pod: Pod): Promise<void> {
    const uid = pod.metadata.uid;
    const pending = this.stopping.get(uid);
    if (pending) return pending;
    const rec = this.records.get(uid);
    if (!rec && !this.started.has(uid)) return;
    if (rec) {
      rec.stopping = true;
      this.clearTimers(rec);
      rec.prober?.stop();
    }
    const done = this.runtime
      .stopPod(uid, 0)
      .catch((err: unknown) => this.log.warn({ pod: `${pod.metadata.namespace}/${pod.metadata.name}`, err: errText(err) }, 'stopping a deleted pod failed'))
      .finally(() => {
        this.started.delete(uid);
        this.records.delete(uid);
        this.stopping.delete(uid);
      });
    this.stopping.set(uid, done);
    return done;
  }

  // ---- real runtimes

  private async syncRealPod(pod: Pod): Promise<void> {
    const uid = pod.metadata.uid;
    const apiStatus = pod.status as Record<string, unknown> | undefined;
    let rec = this.records.get(uid);
    if (!rec) {
      const phase = apiStatus?.phase as string | undefined;
      // A finished pod is never started again (after an agent restart its containers stay for logs).
      if (phase === 'Succeeded' || phase === 'Failed') return;
      rec = {
        pod,
        started: false,
        startTime: (apiStatus?.startTime as string | undefined) ?? stamp(),
        waiting: new Map(),
        timers: new Set(),
        retryPending: false,
        restartPending: new Set(),
        terminal: false,
        stopping: false,
        hooked: new Set(),
        killing: new Set(),
        startFailed: new Set(),
      };
      this.records.set(uid, rec);
    }
    rec.pod = pod;
    if (rec.stopping || rec.terminal || rec.started || rec.retryPending) return;
    await this.startRealPod(rec);
  }

  private async startRealPod(rec: PodRecord): Promise<void> {
    const { uid, namespace, name } = rec.pod.metadata;
    try {
      const calledAt = Date.now();
      let startFailures: ContainerStartError[] = [];
      const state = await this.runtime.startPod(rec.pod).catch((e: unknown) => {
        // Containers that failed to start exist (exited, StartError): the pod runs and they restart with back-off.
        if (!(e instanceof ContainerStartError) || !e.state || e.all.some((f) => f.reason !== 'RunContainerError' || !this.isMainContainer(rec, f.container))) throw e;
        startFailures = e.all;
        return e.state;
      });
      rec.started = true;
      rec.podIP = state.podIP || rec.podIP;
      for (const [c, w] of rec.waiting) if (w.reason !== 'CrashLoopBackOff') rec.waiting.delete(c);
      for (const f of startFailures) this.showStartFailure(rec, f);
      rec.runtime = (await this.runtime.podStatus!(uid)) ?? rec.runtime;
      // Containers that already ran before this call were adopted: their postStart ran back then.
      for (const c of rec.runtime?.containers ?? []) if (c.id && Date.parse(c.startedAt ?? '') < calledAt - 1000) rec.hooked.add(c.id);
      await this.runPostStartHooks(rec);
      this.startProber(rec);
      await this.reconcile(rec);
      return;
    } catch (e) {
      if (e instanceof PodStoppedError || rec.stopping) return;
      let container: string | undefined;
      let delay: number;
      if (e instanceof ImagePullError) {
        const err = e as StartPodImageError;
        container = err.container;
        if (err.state?.podIP) rec.podIP = err.state.podIP;
        delay = this.startBackoff.next(`${uid}/${container}`);
        rec.waiting.set(container, { reason: err.reason, message: err.message });
        for (const f of err.startErrors ?? []) this.showStartFailure(rec, f);
        // Between attempts kubelet shows the pull as backing off, carrying the last failure.
        const spec = [...(rec.pod.spec as unknown as PodSpecView).containers, ...((rec.pod.spec as unknown as PodSpecView).initContainers ?? [])].find((c) => c.name === container);
        const c = container;
        this.after(rec, Math.min(this.opts.pullErrorShowMs ?? 2000, delay / 2), () => {
          if (rec.waiting.get(c)?.reason !== err.reason) return;
          rec.waiting.set(c, { reason: 'ImagePullBackOff', message: imagePullBackOffMessage(spec?.image ?? err.image, err) });
          return this.reconcile(rec);
        });
      } else if (e instanceof InitContainerError) {
        if (e.state.podIP) rec.podIP = e.state.podIP;
        if (e.podFailed) {
          rec.runtime = (await this.runtime.podStatus!(uid)) ?? rec.runtime;
          await this.reconcile(rec);
          return;
        }
        container = e.container;
        delay = this.restartBackoff.next(`${uid}/${container}`);
        rec.waiting.set(container, { reason: 'CrashLoopBackOff', message: crashLoopMessage(delay, container, rec.pod) });
      } else if (e instanceof ContainerConfigError) {
        container = e.container;
        delay = this.startBackoff.next(`${uid}/${container}`);
        rec.waiting.set(container, { reason: e.reason, message: e.message });
      } else if (e instanceof ContainerStartError) {
        if (e.state?.podIP) rec.podIP = e.state.podIP;
        for (const f of e.all) this.showStartFailure(rec, f);
        container = e.container;
        // showStartFailure already counted a start failure against the back-off.
        delay = rec.startFailed.has(container) ? this.restartBackoff.get(`${uid}/${container}`) : this.restartBackoff.next(`${uid}/${container}`);
      } else {
        delay = this.startBackoff.next(`${uid}/`);
        this.log.warn({ pod: `${namespace}/${name}`, err: errText(e), retryInMs: delay }, 'starting the pod failed');
      }
      rec.runtime = (await this.runtime.podStatus!(uid).catch(() => undefined)) ?? rec.runtime;
      await this.reconcile(rec);
      rec.retryPending = true;
      this.after(rec, delay, async () => {
        rec.retryPending = false;
        if (container && rec.waiting.get(container)?.reason === 'CrashLoopBackOff') rec.waiting.delete(container);
        await this.startRealPod(rec);
      });
    }
  }

  private retryRestartAfterBackoff(rec: PodRecord, container: string, key: string): void {
    rec.restartPending.add(container);
    this.after(rec, this.restartBackoff.get(key), async () => {
      rec.restartPending.delete(container);
      rec.runtime = (await this.runtime.podStatus!(rec.pod.metadata.uid)) ?? rec.runtime;
      await this.reconcile(rec);
    });
  }

  private isMainContainer(rec: PodRecord, name: string): boolean {
    return (rec.pod.spec as unknown as PodSpecView).containers.some((c) => c.name === name);
  }

  /**
   * Show a container the runtime refused as kubelet does: waiting with CreateContainerError or
   * RunContainerError and the runtime's message, and retried after the restart back-off. A start
   * failure of a pod that never restarts shows as what it is, terminated (StartError).
   */
  private showStartFailure(rec: PodRecord, f: ContainerStartError): void {
    const policy = (rec.pod.spec as unknown as PodSpecView).restartPolicy ?? 'Always';
    if (f.reason === 'RunContainerError' && policy === 'Never' && this.isMainContainer(rec, f.container)) return;
    rec.waiting.set(f.container, { reason: f.reason, message: f.message });
    if (f.reason === 'RunContainerError' && this.isMainContainer(rec, f.container)) {
      rec.startFailed.add(f.container);
      this.restartBackoff.next(`${rec.pod.metadata.uid}/${f.container}`);
    }
  }

  /** Report the status and restart exited containers whose back-off is over. */
  private async reconcile(rec: PodRecord): Promise<void> {
    if (rec.stopping || this.closed) return;
    if (rec.started && !rec.terminal && this.runtime.restartContainer) await this.restartExited(rec);
    await this.report(rec);
  }

  private async restartExited(rec: PodRecord): Promise<void> {
    const spec = rec.pod.spec as unknown as PodSpecView;
    const policy = spec.restartPolicy ?? 'Always';
    if (policy === 'Never') return;
    const { uid } = rec.pod.metadata;
    let restarted = false;
    for (const c of rec.runtime?.containers ?? []) {
      if (c.state !== 'exited' || rec.restartPending.has(c.name)) continue;
      if (policy === 'OnFailure' && c.exitCode === 0) continue;
      if (!spec.containers.some((s) => s.name === c.name)) continue;
      const key = `${uid}/${c.name}`;
      const finishedAt = Date.parse(c.finishedAt ?? '') || Date.now();
      if (this.restartBackoff.inBackOffSince(key, finishedAt)) {
        if (!rec.startFailed.has(c.name)) rec.waiting.set(c.name, { reason: 'CrashLoopBackOff', message: crashLoopMessage(this.restartBackoff.get(key), c.name, rec.pod) });
        rec.restartPending.add(c.name);
        this.after(rec, this.restartBackoff.remaining(key, finishedAt) + 10, async () => {
          rec.restartPending.delete(c.name);
          rec.startFailed.delete(c.name);
          rec.runtime = (await this.runtime.podStatus!(uid)) ?? rec.runtime;
          await this.reconcile(rec);
        });
        continue;
      }
      this.restartBackoff.next(key, finishedAt);
      try {
        await this.runtime.restartContainer!(rec.pod, c.name);
        rec.waiting.delete(c.name);
        restarted = true;
      } catch (e) {
        if (e instanceof ImagePullError) rec.waiting.set(c.name, { reason: e.reason, message: e.message });
        else if (e instanceof ContainerStartError) {
          rec.waiting.set(c.name, { reason: e.reason, message: e.message });
          // No new instance exits to trigger the next attempt: schedule it after the back-off.
          if (e.reason === 'CreateContainerError') this.retryRestartAfterBackoff(rec, c.name, key);
        }
        else if (e instanceof ContainerConfigError) rec.waiting.set(c.name, { reason: e.reason, message: e.message });
        else throw e;
      }
    }
    if (restarted) {
      rec.runtime = (await this.runtime.podStatus!(uid)) ?? rec.runtime;
      await this.runPostStartHooks(rec);
    }
  }

  private async report(rec: PodRecord): Promise<void> {
    const { namespace, name } = rec.pod.metadata;
    const status = runtimePodStatus({
      spec: rec.pod.spec as unknown as PodSpecView,
      runtime: rec.runtime,
      hostIP: this.identity.internalIP,
      podIP: rec.podIP,
      startTime: rec.startTime,
      waiting: rec.waiting,
      previous: rec.posted ?? (rec.pod.status as Record<string, unknown> | undefined),
      probeState: rec.prober ? (c, id) => rec.prober!.state(c, id, true) : undefined,
    });
    if (!rec.posted) {
      // PodScheduled and qosClass come from the API's copy.
      const api = rec.pod.status as Record<string, unknown> | undefined;
      const scheduled = ((api?.conditions as Record<string, unknown>[] | undefined) ?? []).filter((c) => c.type === 'PodScheduled');
      status.conditions = [...(status.conditions as Record<string, unknown>[]).filter((c) => c.type !== 'PodScheduled'), ...scheduled];
      if (api?.qosClass) status.qosClass = api.qosClass;
    }
    const key = JSON.stringify(status);
    if (key === rec.postedKey) return;
    try {
      await this.client.patch(`/api/v1/namespaces/${namespace}/pods/${name}/status`, { status });
    } catch (e) {
      if (isKubeNotFound(e)) return;
      throw e;
    }
    rec.posted = status;
    rec.postedKey = key;
    if (status.phase === 'Succeeded' || status.phase === 'Failed') {
      rec.terminal = true;
      this.clearTimers(rec);
      rec.prober?.stop();
    }
  }

  /** Run `work` in the pod's chain after `ms`, unless the pod is being stopped by then. */
  private after(rec: PodRecord, ms: number, work: () => Promise<void> | void): void {
    const timer = setTimeout(() => {
      rec.timers.delete(timer);
      if (rec.stopping || this.closed) return;
      void this.enqueue(rec.pod.metadata.uid, rec.pod, async () => {
        if (!rec.stopping && !this.closed) await work();
      });
    }, ms);
    timer.unref?.();
    rec.timers.add(timer);
  }

  private clearTimers(rec: PodRecord): void {
    for (const t of rec.timers) clearTimeout(t);
    rec.timers.clear();
  }

  // ---- probes and lifecycle hooks (real runtimes)

  private containerSpec(rec: PodRecord, name: string): ProbedContainerSpec | undefined {
    return (rec.pod.spec as unknown as PodSpecView).containers.find((c) => c.name === name);
  }

  private exec(uid: string) {
    const run = this.runtime.execInContainer?.bind(this.runtime);
    return run ? (container: string, cmd: string[], timeoutSeconds: number) => run(uid, container, cmd, timeoutSeconds) : undefined;
  }

  private startProber(rec: PodRecord): void {
    if (rec.prober) return;
    const { uid } = rec.pod.metadata;
    const prober = new PodProber({
      containers: (rec.pod.spec as unknown as PodSpecView).containers,
      instance: (name) => rec.runtime?.containers.find((c) => c.name === name),
      podIP: () => rec.podIP,
      exec: this.exec(uid),
      unhealthy: (container, message) => void this.events.record(rec.pod, container, 'Warning', 'Unhealthy', message),
      changed: () => {
        if (!rec.stopping && !this.closed) void this.enqueue(uid, rec.pod, () => this.reconcile(rec));
      },
      failed: (container, kind) => void this.killForProbe(rec, container, kind),
    });
    if (!prober.hasProbes) return;
    rec.prober = prober;
    prober.start();
  }

  /** A failed liveness or startup probe: kill the container; it restarts as the restart policy says. */
  private async killForProbe(rec: PodRecord, container: string, kind: ProbeKind): Promise<void> {
    const spec = rec.pod.spec as unknown as PodSpecView;
    const restarts = (spec.restartPolicy ?? 'Always') !== 'Never';
    const probe = this.containerSpec(rec, container) && probeOf(this.containerSpec(rec, container)!, kind);
    const grace = probe?.terminationGracePeriodSeconds ?? spec.terminationGracePeriodSeconds ?? 30;
    await this.killContainer(rec, container, grace, `Container ${container} failed ${kind} probe${restarts ? ', will be restarted' : ''}`);
  }

  /** kubelet's killContainer: Killing event, preStop within the grace period, then stop what is left of it (at least 2 s). */
  private async killContainer(rec: PodRecord, container: string, grace: number, message: string): Promise<void> {
    const { uid, namespace, name } = rec.pod.metadata;
    if (rec.stopping || this.closed || !this.runtime.killContainer || rec.killing.has(container)) return;
    rec.killing.add(container);
    try {
      void this.events.record(rec.pod, container, 'Normal', 'Killing', message);
      const spent = grace > 0 ? await this.runPreStop(rec, container, grace) : 0;
      await this.runtime.killContainer(uid, container, Math.max(grace - spent, MIN_KILL_GRACE_SECONDS));
    } catch (err) {
      this.log.warn({ pod: `${namespace}/${name}`, container, err: errText(err) }, 'killing a container failed');
    } finally {
      rec.killing.delete(container);
    }
    if (rec.stopping || this.closed) return;
    await this.enqueue(uid, rec.pod, async () => {
      rec.runtime = (await this.runtime.podStatus!(uid)) ?? rec.runtime;
      await this.reconcile(rec);
    });
  }

  /** postStart of every running container instance it has not run for yet; a failure kills that container. */
  private async runPostStartHooks(rec: PodRecord): Promise<void> {
    const { uid } = rec.pod.metadata;
    await Promise.all(
      (rec.runtime?.containers ?? []).map(async (c) => {
        if (c.state !== 'running' || !c.id || rec.hooked.has(c.id)) return;
        rec.hooked.add(c.id);
        const spec = this.containerSpec(rec, c.name);
        const hook = spec?.lifecycle?.postStart;
        if (!spec || !hook) return;
        const exec = this.exec(uid);
        const outcome = await runLifecycleHook(hook, { pod: rec.pod.metadata, container: spec, podIP: rec.podIP ?? '', exec: exec && ((cmd, t) => exec(c.name, cmd, t)) });
        if (outcome.status !== 'failed' || rec.stopping) return;
        void this.events.record(rec.pod, c.name, 'Warning', 'FailedPostStartHook', 'PostStartHook failed');
        const podSpec = rec.pod.spec as unknown as PodSpecView;
        // Until the restart, kubelet shows the hook's error as the container's waiting reason.
        if ((podSpec.restartPolicy ?? 'Always') !== 'Never') rec.waiting.set(c.name, { reason: 'PostStartHookError', message: outcome.message });
        const grace = podSpec.terminationGracePeriodSeconds ?? 30;
        // Killed outside the pod's queue: the kill waits for the grace period and then queues a status refresh itself.
        void this.killContainer(rec, c.name, grace, 'FailedPostStartHook');
      }),
    );
  }

  /** preStop of one container, bounded by the grace period; returns the seconds it took. */
  private async runPreStop(rec: PodRecord, container: string, grace: number): Promise<number> {
    const spec = this.containerSpec(rec, container);
    const hook = spec?.lifecycle?.preStop;
    const running = rec.runtime?.containers.find((c) => c.name === container)?.state === 'running';
    if (!spec || !hook || !running) return 0;
    const started = Date.now();
    const exec = this.exec(rec.pod.metadata.uid);
    const outcome = await runLifecycleHook(hook, { pod: rec.pod.metadata, container: spec, podIP: rec.podIP ?? '', exec: exec && ((cmd, t) => exec(container, cmd, t)) }, grace);
    if (outcome.status === 'failed') void this.events.record(rec.pod, container, 'Warning', 'FailedPreStopHook', 'PreStopHook failed');
    return Math.floor((Date.now() - started) / 1000);
  }

  /** Graceful pod deletion: every running container's preStop, in parallel; returns the seconds the longest took. */
  private async runPreStopHooks(rec: PodRecord, grace: number): Promise<number> {
    if (grace <= 0 || !this.reportsStatus) return 0;
    const spent = await Promise.all((rec.pod.spec as unknown as PodSpecView).containers.map((c) => this.runPreStop(rec, c.name, grace)));
    return Math.max(0, ...spent);
  }

  // ---- hollow runtimes

  private async syncHollowPod(pod: Pod): Promise<void> {
    const { uid, namespace, name } = pod.metadata;
    const phase = (pod.status as { phase?: string } | undefined)?.phase;
    if (phase === 'Succeeded' || phase === 'Failed' || this.started.has(uid)) return;
    this.started.add(uid);
    let state: Awaited<ReturnType<PodRuntime['startPod']>>;
    try {
      state = await this.runtime.startPod(pod);
    } catch (e) {
      this.started.delete(uid);
      throw e;
    }
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
        void this.handleHollowExit(pod, state, exit.exitCode);
      }, exit.afterMs);
      timer.unref?.();
    }
  }

  private async handleHollowExit(pod: Pod, state: Awaited<ReturnType<PodRuntime['startPod']>>, exitCode: number): Promise<void> {
    const { uid, namespace, name } = pod.metadata;
    if (!this.started.has(uid)) return;
    try {
      await this.client.patch(`/api/v1/namespaces/${namespace}/pods/${name}/status`, { status: finishedPodStatus(state, this.identity.internalIP, exitCode, pod.status as Record<string, unknown> | undefined) });
      await this.runtime.stopPod(uid, 0);
    } catch (e) {
      if (!isKubeNotFound(e)) this.log.warn({ pod: `${namespace}/${name}`, err: errText(e) }, 'could not report the pod finished');
    }
  }
}

/** kubelet's CrashLoopBackOff message: back-off <d> restarting failed container=<c> pod=<name>_<ns>(<uid>). */
export function crashLoopMessage(delayMs: number, container: string, pod: Pod): string {
  const { name, namespace, uid } = pod.metadata;
  return `back-off ${goDuration(delayMs)} restarting failed container=${container} pod=${name}_${namespace}(${uid})`;
}
