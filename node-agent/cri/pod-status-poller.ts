// What runs for each pod, read back from the CRI runtime: per container the current instance
// (state, exit code, reason, times) and the previous one, with restart counts. This is what the
// agent needs for containerStatuses, restartPolicy decisions and CrashLoopBackOff.
import { nanosToTimestamp, type Container, type ContainerStatus, type CriClient, type PodSandbox } from './client.js';
import { CONTAINER_TYPE_ANNOTATION, POD_UID_LABEL, RESTART_COUNT_ANNOTATION, type ContainerKind } from './pod-config.js';

/** 'waiting' is a container without an instance yet (e.g. its image could not be pulled). */
export type ContainerRunState = 'waiting' | 'created' | 'running' | 'exited' | 'unknown';

export interface ContainerInstance {
  /** The runtime's container id; containerID is the same with the runtime:// prefix. */
  id: string;
  containerID: string;
  state: ContainerRunState;
  exitCode?: number;
  /** CRI reason, e.g. Completed, Error, OOMKilled. */
  reason?: string;
  message?: string;
  createdAt: string;
  startedAt?: string;
  finishedAt?: string;
}

export interface CriContainerStatus extends ContainerInstance {
  name: string;
  kind: ContainerKind;
  image: string;
  imageID: string;
  restartCount: number;
  /** The instance before the current one (lastState), when the container was restarted. */
  last?: ContainerInstance;
}

export interface CriPodStatus {
  uid: string;
  sandboxId?: string;
  sandboxReady: boolean;
  initContainers: CriContainerStatus[];
  containers: CriContainerStatus[];
}

const STATE: Record<string, ContainerRunState> = { CONTAINER_CREATED: 'created', CONTAINER_RUNNING: 'running', CONTAINER_EXITED: 'exited', CONTAINER_UNKNOWN: 'unknown' };

/** Reads pod statuses with few calls: one list of sandboxes and containers, ContainerStatus only for instances not seen in their current state. */
export class PodStatusReader {
  private readonly cache = new Map<string, ContainerStatus>();

  constructor(
    private readonly client: CriClient,
    private readonly runtimeName = 'containerd',
  ) {}

  /** Statuses of the given pod, or of every pod with io.kubernetes.pod.uid labels when uid is omitted. */
  async read(uid?: string): Promise<Map<string, CriPodStatus>> {
    const selector = uid ? { label_selector: { [POD_UID_LABEL]: uid } } : {};
    const [sandboxes, containers] = await Promise.all([this.client.listPodSandbox(selector), this.client.listContainers(selector)]);
    const pods = new Map<string, { sandboxes: PodSandbox[]; containers: Container[] }>();
    const entry = (id: string) => {
      let e = pods.get(id);
      if (!e) pods.set(id, (e = { sandboxes: [], containers: [] }));
      return e;
    };
    for (const s of sandboxes) if (s.labels[POD_UID_LABEL]) entry(s.labels[POD_UID_LABEL]).sandboxes.push(s);
    for (const c of containers) if (c.labels[POD_UID_LABEL]) entry(c.labels[POD_UID_LABEL]).containers.push(c);

    const live = new Set<string>();
    const out = new Map<string, CriPodStatus>();
    for (const [podUid, found] of pods) {
      const sandbox = newest(found.sandboxes.filter((s) => s.state === 'SANDBOX_READY')) ?? newest(found.sandboxes);
      const statuses = await Promise.all(
        found.containers.map(async (c) => {
          live.add(c.id);
          return this.status(c);
        }),
      );
      const byName = new Map<string, ContainerStatus[]>();
      for (const [i, s] of statuses.entries()) {
        // Containers of an older, replaced sandbox do not describe the pod any more.
        if (!s || (sandbox && found.containers[i].pod_sandbox_id !== sandbox.id)) continue;
        const list = byName.get(s.metadata.name) ?? [];
        list.push(s);
        byName.set(s.metadata.name, list);
      }
      const pod: CriPodStatus = { uid: podUid, sandboxId: sandbox?.id, sandboxReady: sandbox?.state === 'SANDBOX_READY', initContainers: [], containers: [] };
      for (const [name, list] of byName) {
        list.sort((a, b) => restartCount(b) - restartCount(a) || Number(BigInt(b.created_at) - BigInt(a.created_at)));
        const s = toContainerStatus(name, list[0], list[1], this.runtimeName);
        (s.kind === 'init' ? pod.initContainers : pod.containers).push(s);
      }
      out.set(podUid, pod);
    }
    if (!uid) for (const id of this.cache.keys()) if (!live.has(id)) this.cache.delete(id);
    return out;
  }

  private async status(c: Container): Promise<ContainerStatus | undefined> {
    const cached = this.cache.get(c.id);
    // Exited instances never change again; running ones only change state.
    if (cached && cached.state === c.state) return cached;
    try {
      const { status } = await this.client.containerStatus(c.id);
      this.cache.set(c.id, status);
      return status;
    } catch {
      return undefined; // removed between the list and the status call
    }
  }
}

export interface PodStatusPollerOptions {
  intervalMs?: number;
  /** Called for each pod whose containers changed since the previous poll (and once for every pod at the start). */
  onChange: (status: CriPodStatus) => void;
  /** Called with the uid of a pod that no longer has any sandbox or container. */
  onGone?: (uid: string) => void;
  onError?: (err: unknown) => void;
}

/** Polls the runtime for all pods on the node and reports changes (the agent's PLEG). */
export class PodStatusPoller {
  private timer?: NodeJS.Timeout;
  private readonly last = new Map<string, string>();
  private running?: Promise<void>;

  constructor(
    private readonly reader: PodStatusReader,
    private readonly opts: PodStatusPollerOptions,
  ) {}

  start(): void {
    const tick = () => {
      this.running = this.poll()
        .catch((e: unknown) => this.opts.onError?.(e))
        .finally(() => {
          if (this.timer) this.timer = setTimeout(tick, this.opts.intervalMs ?? 1000);
        });
    };
    this.timer = setTimeout(tick, 0);
  }

  async stop(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.running;
  }

  async poll(): Promise<void> {
    const statuses = await this.reader.read();
    for (const [uid, status] of statuses) {
      const key = JSON.stringify(status);
      if (this.last.get(uid) === key) continue;
      this.last.set(uid, key);
      this.opts.onChange(status);
    }
    for (const uid of [...this.last.keys()]) {
      if (statuses.has(uid)) continue;
      this.last.delete(uid);
      this.opts.onGone?.(uid);
    }
  }
}

/** Whether kubelet would call the container ready: running (and, when it has one, its readiness probe passing), or an init container that completed. */
export function containerReady(c: CriContainerStatus, probeReady = true): boolean {
  if (c.kind === 'init' && c.state === 'exited') return c.exitCode === 0;
  return c.state === 'running' && probeReady;
}

/** A containerStatuses / initContainerStatuses entry as kubelet writes it into the pod status. */
export function k8sContainerStatus(c: CriContainerStatus, probeReady = true): Record<string, unknown> {
  return {
    name: c.name,
    state: k8sState(c),
    lastState: c.last ? k8sState(c.last) : {},
    ready: containerReady(c, probeReady),
    restartCount: c.restartCount,
    image: c.image,
    imageID: c.imageID,
    containerID: c.containerID,
    started: c.state === 'running',
  };
}

function k8sState(c: ContainerInstance): Record<string, unknown> {
  if (c.state === 'running') return { running: { startedAt: c.startedAt } };
  if (c.state === 'exited') {
    return {
      terminated: {
        exitCode: c.exitCode ?? 0,
        reason: c.reason || (c.exitCode ? 'Error' : 'Completed'),
        ...(c.message ? { message: c.message } : {}),
        startedAt: c.startedAt ?? null,
        finishedAt: c.finishedAt ?? null,
        containerID: c.containerID,
      },
    };
  }
  return { waiting: { reason: c.reason || 'ContainerCreating', ...(c.message ? { message: c.message } : {}) } };
}

function toInstance(s: ContainerStatus, runtimeName: string): ContainerInstance {
  const state = STATE[s.state] ?? 'unknown';
  return {
    id: s.id,
    containerID: `${runtimeName}://${s.id}`,
    state,
    ...(state === 'exited' ? { exitCode: s.exit_code } : {}),
    ...(s.reason ? { reason: s.reason } : {}),
    ...(s.message ? { message: s.message } : {}),
    createdAt: nanosToTimestamp(s.created_at) ?? '',
    startedAt: nanosToTimestamp(s.started_at),
    finishedAt: nanosToTimestamp(s.finished_at),
  };
}

export function toContainerStatus(name: string, current: ContainerStatus, previous: ContainerStatus | undefined, runtimeName: string): CriContainerStatus {
  return {
    name,
    kind: current.annotations[CONTAINER_TYPE_ANNOTATION] === 'init' ? 'init' : 'container',
    image: current.image?.user_specified_image || current.image?.image || '',
    imageID: current.image_ref,
    restartCount: restartCount(current),
    ...toInstance(current, runtimeName),
    ...(previous ? { last: toInstance(previous, runtimeName) } : {}),
  };
}

function restartCount(s: ContainerStatus): number {
  const n = Number(s.annotations[RESTART_COUNT_ANNOTATION]);
  return Number.isFinite(n) ? n : s.metadata.attempt;
}

function newest<T extends { created_at: string }>(xs: T[]): T | undefined {
  return xs.reduce<T | undefined>((a, b) => (!a || BigInt(b.created_at) > BigInt(a.created_at) ? b : a), undefined);
}
