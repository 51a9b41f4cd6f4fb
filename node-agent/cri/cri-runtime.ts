// A PodRuntime over CRI (containerd): runs a pod's sandbox, its init containers in order to
// completion, then its containers; adopts what already runs for the pod (by io.kubernetes.pod.uid)
// instead of duplicating it; sets up the pod's volumes first and mounts them into its containers;
// stops and removes everything including the pod cgroup and the pod's volume directory.
import { mkdir, rm } from 'node:fs/promises';
import * as grpc from '@grpc/grpc-js';
import { dirname, join } from 'node:path';
import type { ContainerState, PodRuntime, PodRuntimeState } from '../runtime.js';
import { removeCgroup } from './cgroups.js';
import { CriClient, CriError, nanosToTimestamp, type PodSandbox, type PodSandboxConfig } from './client.js';
import { ensureImage, ImagePullError } from './images.js';
import { pullCredentials, pullSecretsMissingEvent, type PodPullCredentials } from './pull-secrets.js';
import { CONTAINER_NAME_LABEL, containerConfig, plainEnv, podCgroupParent, podLogDirectory, POD_UID_LABEL, sandboxConfig, type ContainerKind, type PodConfigOptions, type PodContainerSpec, type PodObject } from './pod-config.js';
import { containerReady, PodStatusReader, type CriContainerStatus, type CriPodStatus } from './pod-status-poller.js';
import { containerMounts } from '../volumes/container-mounts.js';
import type { NodeAllocatable, VolumeSources } from '../volumes/types.js';
import { VolumeManager, type VolumeManagerOptions } from '../volumes/volume-manager.js';

export interface CriRuntimeOptions {
  /** The runtime's CRI socket, e.g. <node dir>/containerd.sock. */
  socket: string;
  /** Where pod log directories go (default: "pods" next to the socket). */
  logRoot?: string;
  /** cgroupfs path for pod cgroups (default /stratus). */
  cgroupRoot?: string;
  /** Cluster DNS for dnsPolicy ClusterFirst. */
  clusterDns?: PodConfigOptions['clusterDns'];
  /** podIP of hostNetwork pods. */
  nodeIP?: string;
  /** The container's environment with valueFrom/envFrom resolved (the agent's job); default: plain values only. */
  resolveEnv?: (pod: PodObject, container: PodContainerSpec) => Promise<{ name: string; value: string }[]>;
  /** See EnsureImageOptions.localImagesSatisfyAlways (default true). */
  localImagesSatisfyAlways?: boolean;
  /** How often a running init container is checked for its exit (default 100 ms). */
  pollIntervalMs?: number;
  /** ConfigMaps, Secrets (and the pod) for configMap/secret/projected/downwardAPI volumes; without it such sources count as missing. */
  volumeSources?: VolumeSources;
  /** Where pod volumes go, <root>/<pod uid>/volumes/... (default: "volumes" next to the socket). */
  volumeRoot?: string;
  /** How often API-data volumes are refreshed from their sources (default 10 s; 0 = only on startPod). */
  volumeRefreshMs?: number;
  /** Node allocatable: what resourceFieldRef files show for unset limits. */
  allocatable?: NodeAllocatable;
  /** Pod events (e.g. Warning FailedMount) as kubelet would record them. */
  recordEvent?: VolumeManagerOptions['recordEvent'];
  /** Node-side volume problems that are not the pod's fault (e.g. tmpfs unavailable). */
  volumeWarning?: (message: string) => void;
}

export type CriContainerState = Omit<CriContainerStatus, 'startedAt'> & ContainerState;

export interface CriPodState extends PodRuntimeState {
  sandboxId: string;
  initContainers: CriContainerState[];
  containers: CriContainerState[];
  /** Milliseconds spent in RunPodSandbox (0 when adopted) and in the whole startPod call. */
  timings: { runPodSandboxMs: number; totalMs: number };
}

/** An init container exited non-zero. With restartPolicy Never the pod has failed; otherwise call startPod again after a back-off. */
export class InitContainerError extends Error {
  constructor(
    readonly container: string,
    readonly exitCode: number,
    readonly reason: string,
    readonly podFailed: boolean,
    readonly state: CriPodState,
  ) {
    super(`init container ${container} exited with code ${exitCode} (${reason})`);
    this.name = 'InitContainerError';
  }
}

/**
 * The runtime refused to create (CreateContainerError) or start (RunContainerError) a container;
 * the message is the runtime's. startPod still starts the pod's other containers and then throws
 * the first failure, with every failure of that call in `all` and what runs in `state`.
 */
export class ContainerStartError extends Error {
  all: ContainerStartError[] = [this];
  state?: CriPodState;

  constructor(
    readonly container: string,
    readonly reason: 'CreateContainerError' | 'RunContainerError',
    message: string,
  ) {
    super(message);
    this.name = 'ContainerStartError';
  }
}

/** startPod gave up because stopPod was called for the same pod. */
export class PodStoppedError extends Error {
  constructor(uid: string) {
    super(`pod ${uid} is being stopped`);
    this.name = 'PodStoppedError';
  }
}

/** ImagePullError from startPod also carries what was started anyway (other containers keep running, as with kubelet). */
export type StartPodImageError = ImagePullError & { state?: CriPodState; startErrors?: ContainerStartError[] };

export class CriRuntime implements PodRuntime {
  private readonly reader: PodStatusReader;
  private readonly config: PodConfigOptions;
  private readonly starting = new Map<string, { abort: AbortController; done: Promise<unknown> }>();
  /** The pods' volumes on this node. */
  readonly volumes: VolumeManager;

  private constructor(
    readonly client: CriClient,
    private readonly opts: CriRuntimeOptions,
    /** e.g. containerd://1.6.20 */
    readonly version: string,
    runtimeName: string,
  ) {
    this.reader = new PodStatusReader(client, runtimeName);
    this.config = { logRoot: opts.logRoot ?? join(dirname(opts.socket), 'pods'), cgroupRoot: opts.cgroupRoot ?? '/stratus', clusterDns: opts.clusterDns };
    this.volumes = new VolumeManager({
      root: opts.volumeRoot ?? join(dirname(opts.socket), 'volumes'),
      sources: opts.volumeSources,
      allocatable: opts.allocatable,
      refreshIntervalMs: opts.volumeRefreshMs,
      recordEvent: opts.recordEvent,
      warn: opts.volumeWarning,
    });
  }

  /** Connect and check that the CRI plugin answers (containerd can run without it). */
  static async connect(opts: CriRuntimeOptions): Promise<CriRuntime> {
    const client = new CriClient(opts.socket);
    try {
      const v = await client.version();
      return new CriRuntime(client, opts, `${v.runtime_name}://${v.runtime_version}`, v.runtime_name);
    } catch (e) {
      client.close();
      throw new Error(`CRI runtime at ${opts.socket} does not answer Version: ${e instanceof Error ? e.message : String(e)}`);
    }
  }

  close(): void {
    this.volumes.close();
    this.client.close();
  }

  /** Reads what runs for pods; also the source for a PodStatusPoller. */
  get statusReader(): PodStatusReader {
    return this.reader;
  }

  async podStatus(uid: string): Promise<CriPodStatus | undefined> {
    return (await this.reader.read(uid)).get(uid);
  }

  startPod(podIn: Record<string, unknown>): Promise<CriPodState> {
    const pod = podIn as unknown as PodObject;
    const abort = new AbortController();
    const done = this.syncPod(pod, abort.signal);
    const entry = { abort, done };
    this.starting.set(pod.metadata.uid, entry);
    const clear = () => {
      if (this.starting.get(pod.metadata.uid) === entry) this.starting.delete(pod.metadata.uid);
    };
    done.then(clear, clear);
    return done;
  }

  /**
   * Start the next instance of a container that exited (restartPolicy Always/OnFailure; the agent
   * decides when, e.g. after the CrashLoopBackOff delay). Keeps the previous instance for logs.
   */
  async restartContainer(podIn: Record<string, unknown>, name: string): Promise<CriContainerState> {
    const pod = podIn as unknown as PodObject;
    const uid = pod.metadata.uid;
    const sandbox = newest((await this.client.listPodSandbox({ label_selector: { [POD_UID_LABEL]: uid } })).filter((s) => s.state === 'SANDBOX_READY'));
    if (!sandbox) throw new Error(`pod ${pod.metadata.namespace}/${pod.metadata.name} has no ready sandbox`);
    const spec = [...pod.spec.containers, ...(pod.spec.initContainers ?? [])].find((c) => c.name === name);
    if (!spec) throw new Error(`pod ${pod.metadata.namespace}/${pod.metadata.name} has no container ${name}`);
    const kind: ContainerKind = pod.spec.containers.includes(spec) ? 'container' : 'init';
    const sbConfig = sandboxConfig(pod, sandbox.metadata.attempt, this.config);
    const current = await this.current(uid, name);
    if (current?.state === 'created') await this.startInstance(pod, current.id, name);
    else if (current?.state !== 'running') {
      await this.pruneOldInstances(sandbox.id, name, current?.id);
      const id = await this.createContainer(pod, sandbox.id, sbConfig, spec, kind, current ? current.restartCount + 1 : 0);
      await this.startInstance(pod, id, name);
    }
    const state = await this.podState(uid, sandbox, '', 0, 0);
    return [...state.initContainers, ...state.containers].find((c) => c.name === name)!;
  }

  /** Run a command in the pod's running container `container` and wait for it (probes, exec hooks). */
  async execInContainer(uid: string, container: string, cmd: string[], timeoutSeconds: number): Promise<{ exitCode: number; stdout: string; stderr: string }> {
    const id = await this.runningContainerId(uid, container);
    const res = await this.client.execSync(id, cmd, Math.max(0, Math.floor(timeoutSeconds)));
    return { exitCode: res.exit_code, stdout: Buffer.from(res.stdout ?? []).toString('utf8'), stderr: Buffer.from(res.stderr ?? []).toString('utf8') };
  }

  /** Stop the running instance of a container (e.g. a failed liveness probe); it is kept for logs and restartContainer starts the next one. */
  async killContainer(uid: string, container: string, gracePeriodSeconds: number): Promise<void> {
    const id = await this.runningContainerId(uid, container);
    await ignoreNotFound(this.client.stopContainer(id, Math.max(0, Math.floor(gracePeriodSeconds))));
  }

  private async runningContainerId(uid: string, container: string): Promise<string> {
    const running = await this.client.listContainers({ label_selector: { [POD_UID_LABEL]: uid, [CONTAINER_NAME_LABEL]: container }, state: { state: 'CONTAINER_RUNNING' } });
    const newestFirst = running.sort((a, b) => (BigInt(b.created_at) > BigInt(a.created_at) ? 1 : -1));
    if (!newestFirst[0]) throw new Error(`pod ${uid} has no running container ${container}`);
    return newestFirst[0].id;
  }

  /** Stop the pod's containers within the grace period, then remove them, the sandbox, the pod's logs and its cgroup. */
  async stopPod(uid: string, gracePeriodSeconds: number): Promise<void> {
    const inFlight = this.starting.get(uid);
    if (inFlight) {
      inFlight.abort.abort();
      await inFlight.done.catch(() => undefined);
    }
    const byUid = { label_selector: { [POD_UID_LABEL]: uid } };
    const containers = await this.client.listContainers(byUid);
    const grace = Math.max(0, Math.floor(gracePeriodSeconds));
    await Promise.all(containers.filter((c) => c.state !== 'CONTAINER_EXITED').map((c) => ignoreNotFound(this.client.stopContainer(c.id, grace))));
    await Promise.all(containers.map((c) => ignoreNotFound(this.client.removeContainer(c.id))));
    const sandboxes = await this.client.listPodSandbox(byUid);
    for (const s of sandboxes) {
      await ignoreNotFound(this.client.stopPodSandbox(s.id));
      await ignoreNotFound(this.client.removePodSandbox(s.id));
      await rm(podLogDirectory(this.config.logRoot, s.metadata.namespace, s.metadata.name, uid), { recursive: true, force: true });
    }
    await removeCgroup(podCgroupParent(this.config.cgroupRoot, uid));
    await this.volumes.tearDown(uid);
  }

  private async syncPod(pod: PodObject, signal: AbortSignal): Promise<CriPodState> {
    const started = performance.now();
    const { uid } = pod.metadata;
    // Volumes come first, as with kubelet: a pod whose volumes cannot be set up gets no sandbox.
    await this.volumes.setUp(pod);
    checkAbort(signal, uid);
    const sandboxes = await this.client.listPodSandbox({ label_selector: { [POD_UID_LABEL]: uid } });
    let sandbox = newest(sandboxes.filter((s) => s.state === 'SANDBOX_READY'));
    let runPodSandboxMs = 0;
    if (!sandbox) {
      // A sandbox that died (or was stopped) is replaced by a new attempt, as kubelet does.
      const attempt = sandboxes.length ? Math.max(...sandboxes.map((s) => s.metadata.attempt)) + 1 : 0;
      for (const stale of sandboxes) {
        await ignoreNotFound(this.client.stopPodSandbox(stale.id));
        await ignoreNotFound(this.client.removePodSandbox(stale.id));
      }
      const config = sandboxConfig(pod, attempt, this.config);
      await mkdir(config.log_directory!, { recursive: true });
      checkAbort(signal, uid);
      const t = performance.now();
      const id = await this.client.runPodSandbox(config);
      runPodSandboxMs = performance.now() - t;
      sandbox = { id, metadata: { ...config.metadata, attempt }, state: 'SANDBOX_READY', created_at: String(BigInt(Date.now()) * 1_000_000n), labels: config.labels ?? {}, annotations: {}, runtime_handler: '' };
    }
    const sbConfig = sandboxConfig(pod, sandbox.metadata.attempt, this.config);
    const podIP = pod.spec.hostNetwork ? (this.opts.nodeIP ?? '') : ((await this.client.podSandboxStatus(sandbox.id)).status.network?.ip ?? '');
    const snapshot = () => this.podState(uid, sandbox, podIP, runPodSandboxMs, performance.now() - started, pod);

    const restartPolicy = pod.spec.restartPolicy ?? 'Always';
    for (const spec of pod.spec.initContainers ?? []) {
      checkAbort(signal, uid);
      const sidecar = spec.restartPolicy === 'Always';
      const current = await this.current(uid, spec.name);
      if (current?.state === 'exited' && current.exitCode === 0 && !sidecar) continue;
      if (current?.state === 'running' && sidecar) continue;
      if (current?.state === 'exited' && !sidecar && restartPolicy === 'Never') {
        throw new InitContainerError(spec.name, current.exitCode ?? 1, current.reason ?? 'Error', true, await snapshot());
      }
      let id = current?.id ?? '';
      try {
        if (current?.state === 'created') await this.startInstance(pod, id, spec.name);
        else if (current?.state !== 'running') {
          id = await this.createContainer(pod, sandbox.id, sbConfig, spec, 'init', current ? current.restartCount + 1 : 0);
          await this.startInstance(pod, id, spec.name);
        }
      } catch (e) {
        if (e instanceof ImagePullError) throw withState(e, await snapshot());
        if (e instanceof ContainerStartError) throw withStartState(e, [e], await snapshot());
        throw e;
      }
      if (sidecar) continue;
      const exited = await this.waitForExit(id, uid, signal);
      if (exited.exitCode !== 0) {
        throw new InitContainerError(spec.name, exited.exitCode, exited.reason || 'Error', restartPolicy === 'Never', await snapshot());
      }
    }

    let imageError: StartPodImageError | undefined;
    const startErrors: ContainerStartError[] = [];
    const existing = (await this.reader.read(uid)).get(uid)?.containers ?? [];
    for (const spec of pod.spec.containers) {
      checkAbort(signal, uid);
      const current = existing.find((c) => c.name === spec.name);
      // An exited container is restarted by restartContainer, when the agent's restart policy says so.
      if (current && current.state !== 'created' && current.state !== 'unknown') continue;
      try {
        const id = current?.state === 'created' ? current.id : await this.createContainer(pod, sandbox.id, sbConfig, spec, 'container', current ? current.restartCount + 1 : 0);
        await this.startInstance(pod, id, spec.name);
      } catch (e) {
        // One container failing does not keep the pod's other containers from starting.
        if (e instanceof ContainerStartError) startErrors.push(e);
        else if (e instanceof ImagePullError) imageError ??= e;
        else throw e;
      }
    }
    const state = await snapshot();
    if (imageError) {
      if (startErrors.length) imageError.startErrors = startErrors;
      throw withState(imageError, state);
    }
    if (startErrors.length) throw withStartState(startErrors[0], startErrors, state);
    return state;
  }

  private async createContainer(pod: PodObject, sandboxId: string, sbConfig: PodSandboxConfig, spec: PodContainerSpec, kind: ContainerKind, restartCount: number): Promise<string> {
    const imageRef = await ensureImage(this.client, {
      container: spec.name,
      image: spec.image ?? '',
      pullPolicy: spec.imagePullPolicy,
      sandboxConfig: sbConfig,
      localImagesSatisfyAlways: this.opts.localImagesSatisfyAlways,
      pullSecrets: await this.pullSecrets(pod),
    });
    const env = this.opts.resolveEnv ? await this.opts.resolveEnv(pod, spec) : plainEnv(spec);
    const mounts = await containerMounts(pod, spec, env, (v) => this.volumes.volumePath(pod, v));
    await mkdir(join(sbConfig.log_directory!, spec.name), { recursive: true });
    try {
      return await this.client.createContainer(sandboxId, containerConfig(pod, spec, kind, restartCount, imageRef, env, mounts), sbConfig);
    } catch (e) {
      throw this.startFailure(pod, spec.name, 'CreateContainerError', e);
    }
  }

  /** StartContainer; when the runtime refuses, containerd leaves the instance exited (128, StartError). */
  private async startInstance(pod: PodObject, id: string, name: string): Promise<void> {
    try {
      await this.client.startContainer(id);
    } catch (e) {
      throw this.startFailure(pod, name, 'RunContainerError', e);
    }
  }

  /** A CRI refusal as kubelet reports it (the runtime's message, a Warning Failed event); other errors pass through. */
  private startFailure(pod: PodObject, container: string, reason: ContainerStartError['reason'], e: unknown): unknown {
    // An unreachable runtime is the node's problem, not the container's: the pod start is retried as a whole.
    if (!(e instanceof CriError) || e.notFound || e.code === grpc.status.UNAVAILABLE) return e;
    this.opts.recordEvent?.(pod, 'Warning', 'Failed', `Error: ${e.details}`);
    return new ContainerStartError(container, reason, e.details);
  }

  /** The registry credentials of the pod's imagePullSecrets; missing Secrets are reported as kubelet does and skipped. */
  private async pullSecrets(pod: PodObject): Promise<PodPullCredentials | undefined> {
    const source = this.opts.volumeSources;
    if (!source || !(pod.spec as { imagePullSecrets?: unknown[] }).imagePullSecrets?.length) return undefined;
    const creds = await pullCredentials(pod as Parameters<typeof pullCredentials>[0], (ns, name) => source.secret(ns, name));
    if (creds.missing.length) {
      const event = pullSecretsMissingEvent(creds.missing);
      this.opts.recordEvent?.(pod, event.type, event.reason, event.message);
    }
    return creds;
  }

  private async current(uid: string, name: string): Promise<CriContainerStatus | undefined> {
    const pod = (await this.reader.read(uid)).get(uid);
    return pod && [...pod.initContainers, ...pod.containers].find((c) => c.name === name);
  }

  private async waitForExit(id: string, uid: string, signal: AbortSignal): Promise<{ exitCode: number; reason: string }> {
    for (;;) {
      const { status } = await this.client.containerStatus(id);
      if (status.state === 'CONTAINER_EXITED') return { exitCode: status.exit_code, reason: status.reason };
      checkAbort(signal, uid);
      await new Promise((r) => setTimeout(r, this.opts.pollIntervalMs ?? 100));
    }
  }

  /** Remove exited instances of a container except the most recent one. */
  private async pruneOldInstances(sandboxId: string, name: string, keepId?: string): Promise<void> {
    const all = await this.client.listContainers({ pod_sandbox_id: sandboxId, label_selector: { 'io.kubernetes.container.name': name } });
    await Promise.all(all.filter((c) => c.id !== keepId && c.state === 'CONTAINER_EXITED').map((c) => ignoreNotFound(this.client.removeContainer(c.id))));
  }

  private async podState(uid: string, sandbox: PodSandbox, podIP: string, runPodSandboxMs: number, totalMs: number, pod?: PodObject): Promise<CriPodState> {
    const status = (await this.reader.read(uid)).get(uid);
    const toState = (c: CriContainerStatus): CriContainerState => ({ ...c, startedAt: c.startedAt ?? c.createdAt, ready: containerReady(c) });
    const ordered = (list: CriContainerStatus[], specs: PodContainerSpec[] | undefined, kind: ContainerKind) => {
      const byName = new Map(list.map((c) => [c.name, c]));
      // Containers without an instance yet show as waiting, in spec order.
      return specs ? specs.map((s) => byName.get(s.name) ?? waiting(s, kind)) : list;
    };
    return {
      sandboxId: sandbox.id,
      podIP,
      startedAt: nanosToTimestamp(sandbox.created_at) ?? new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
      initContainers: ordered(status?.initContainers ?? [], pod?.spec.initContainers, 'init').map(toState),
      containers: ordered(status?.containers ?? [], pod?.spec.containers, 'container').map(toState),
      timings: { runPodSandboxMs, totalMs },
    };
  }
}

/** Attach the pod state to an image error, showing the container as waiting with kubelet's reason. */
function withState(e: StartPodImageError, state: CriPodState): StartPodImageError {
  const failed = [...state.initContainers, ...state.containers].find((c) => c.name === e.container && c.state === 'waiting');
  if (failed) Object.assign(failed, { reason: e.reason, message: e.message });
  e.state = state;
  return e;
}

/** Attach the pod state to start failures, showing each failed container that has no instance as waiting with its reason. */
function withStartState(e: ContainerStartError, all: ContainerStartError[], state: CriPodState): ContainerStartError {
  for (const f of all) {
    const failed = [...state.initContainers, ...state.containers].find((c) => c.name === f.container && c.state === 'waiting');
    if (failed) Object.assign(failed, { reason: f.reason, message: f.message });
  }
  e.all = all;
  e.state = state;
  return e;
}

function waiting(spec: PodContainerSpec, kind: ContainerKind): CriContainerStatus {
  return { name: spec.name, kind, image: spec.image ?? '', imageID: '', restartCount: 0, id: '', containerID: '', state: 'waiting', createdAt: '' };
}

function newest(xs: PodSandbox[]): PodSandbox | undefined {
  return xs.reduce<PodSandbox | undefined>((a, b) => (!a || BigInt(b.created_at) > BigInt(a.created_at) ? b : a), undefined);
}

function checkAbort(signal: AbortSignal, uid: string): void {
  if (signal.aborted) throw new PodStoppedError(uid);
}

async function ignoreNotFound(p: Promise<unknown>): Promise<void> {
  try {
    await p;
  } catch (e) {
    if (!(e instanceof CriError && e.notFound)) throw e;
  }
}
