// A pod's status as kubelet reports it: phase, conditions, IPs and container statuses. Hollow
// runtimes report a plain "everything runs" state; real runtimes report per-container states,
// from which phase and conditions are derived the way kubelet's getPhase does.
import { k8sContainerStatus, type CriContainerStatus } from './cri/pod-status-poller.js';
import type { ContainerState, PodRuntimeState, RuntimePodStatus } from './runtime.js';

const stamp = (d = new Date()) => d.toISOString().replace(/\.\d+Z$/, 'Z');

function runningStatus(c: ContainerState): Record<string, unknown> {
  return { name: c.name, state: { running: { startedAt: c.startedAt } }, lastState: {}, ready: c.ready, restartCount: c.restartCount, image: c.image, imageID: c.imageID, containerID: c.containerID, started: true };
}

function completedStatus(c: ContainerState): Record<string, unknown> {
  return {
    name: c.name,
    state: { terminated: { exitCode: 0, reason: 'Completed', startedAt: c.startedAt, finishedAt: c.startedAt, containerID: c.containerID } },
    lastState: {},
    ready: true,
    restartCount: 0,
    image: c.image,
    imageID: c.imageID,
    containerID: c.containerID,
    started: false,
  };
}

export function runningPodStatus(state: PodRuntimeState, hostIP: string, previous?: Record<string, unknown>): Record<string, unknown> {
  const ready = state.containers.every((c) => c.ready);
  const prevConds = ((previous?.conditions as Record<string, unknown>[] | undefined) ?? []).filter((c) => c.type === 'PodScheduled');
  const t = stamp();
  const cond = (type: string, ok: boolean) => ({ type, status: ok ? 'True' : 'False', lastProbeTime: null, lastTransitionTime: t, ...(ok ? {} : { reason: 'ContainersNotReady' }) });
  return {
    phase: 'Running',
    conditions: [cond('PodReadyToStartContainers', true), cond('Initialized', true), cond('Ready', ready), cond('ContainersReady', ready), ...prevConds],
    hostIP,
    hostIPs: [{ ip: hostIP }],
    podIP: state.podIP,
    podIPs: [{ ip: state.podIP }],
    startTime: state.startedAt,
    ...(state.initContainers.length ? { initContainerStatuses: state.initContainers.map(completedStatus) } : {}),
    containerStatuses: state.containers.map(runningStatus),
    ...(previous?.qosClass ? { qosClass: previous.qosClass } : {}),
  };
}

/** A pod whose containers all exited: Succeeded when every exit code is 0, Failed otherwise (restartPolicy Never/OnFailure). */
export function finishedPodStatus(state: PodRuntimeState, hostIP: string, exitCode: number, previous?: Record<string, unknown>): Record<string, unknown> {
  const running = runningPodStatus(state, hostIP, previous);
  const finishedAt = stamp();
  const reason = exitCode === 0 ? 'Completed' : 'Error';
  const t = finishedAt;
  const conditions = (running.conditions as Record<string, unknown>[]).map((c) =>
    c.type === 'Ready' || c.type === 'ContainersReady' ? { ...c, status: 'False', reason: 'PodCompleted', lastTransitionTime: t } : c.type === 'PodReadyToStartContainers' ? { ...c, status: 'False', lastTransitionTime: t } : c,
  );
  return {
    ...running,
    phase: exitCode === 0 ? 'Succeeded' : 'Failed',
    conditions,
    containerStatuses: state.containers.map((c) => ({
      name: c.name,
      state: { terminated: { exitCode, reason, startedAt: c.startedAt, finishedAt, containerID: c.containerID } },
      lastState: {},
      ready: false,
      restartCount: c.restartCount,
      image: c.image,
      imageID: c.imageID,
      containerID: c.containerID,
      started: false,
    })),
  };
}

/** A waiting reason the agent shows instead of what the runtime reports (back-offs, config errors). */
export interface WaitingOverride {
  reason: string;
  message?: string;
}

interface SpecContainer {
  name: string;
  image?: string;
  restartPolicy?: string;
}

export interface RuntimeStatusInput {
  spec: { restartPolicy?: string; containers: SpecContainer[]; initContainers?: SpecContainer[] };
  runtime: RuntimePodStatus | undefined;
  hostIP: string;
  podIP?: string;
  startTime: string;
  /** By container name. */
  waiting: ReadonlyMap<string, WaitingOverride>;
  /** The pod's status as last seen or posted: keeps PodScheduled, qosClass, transition times and a terminal phase. */
  previous?: Record<string, unknown>;
  /** `started` and `ready` of a running container instance as its probes say (default: both true). */
  probeState?: (container: string, instanceId: string) => { started: boolean; ready: boolean };
}

type Status = Record<string, unknown> & { state: Record<string, unknown>; lastState: Record<string, unknown>; ready: boolean };

type ProbeStateFn = RuntimeStatusInput['probeState'];

function containerStatus(spec: SpecContainer, rt: CriContainerStatus | undefined, override: WaitingOverride | undefined, defaultReason: string, probeState?: ProbeStateFn): Status {
  if (!rt || rt.state === 'waiting') {
    const reason = override?.reason ?? rt?.reason ?? defaultReason;
    const message = override ? override.message : rt?.message;
    return {
      name: spec.name,
      state: { waiting: { reason, ...(message ? { message } : {}) } },
      lastState: rt?.last ? (k8sContainerStatus({ ...rt, ...rt.last, last: undefined }).state as Record<string, unknown>) : {},
      ready: false,
      restartCount: rt?.restartCount ?? 0,
      image: spec.image ?? '',
      imageID: '',
      started: false,
    };
  }
  const probed = rt.state === 'running' && probeState ? probeState(spec.name, rt.id) : undefined;
  const s = k8sContainerStatus(rt, probed ? probed.ready : true) as Status;
  if (probed) s.started = probed.started;
  if (override && rt.state === 'exited') {
    // Back-off after an exit: kubelet shows the exit as lastState and the container as waiting.
    return { ...s, state: { waiting: { reason: override.reason, ...(override.message ? { message: override.message } : {}) } }, lastState: s.state, ready: false, started: false };
  }
  return s;
}

const terminated = (s: Status) => s.state.terminated as { exitCode: number } | undefined;
const lastTerminated = (s: Status) => s.lastState.terminated as { exitCode: number } | undefined;

/** kubelet's getPhase over the container statuses it is about to report. */
export function podPhase(restartPolicy: string, init: Status[], initSpecs: SpecContainer[], main: Status[]): string {
  let pendingInit = 0;
  let failedInit = 0;
  for (const [i, s] of init.entries()) {
    const sidecar = initSpecs[i]?.restartPolicy === 'Always';
    if (sidecar ? s.state.running || s.started : terminated(s)?.exitCode === 0) continue;
    pendingInit++;
    if (terminated(s) || lastTerminated(s)) failedInit++;
  }
  if (restartPolicy === 'Never' && init.some((s) => (terminated(s)?.exitCode ?? 0) !== 0)) return 'Failed';
  if (pendingInit > 0 && (restartPolicy !== 'Never' || failedInit === 0)) return 'Pending';
  let running = 0;
  let waiting = 0;
  let stopped = 0;
  let succeeded = 0;
  for (const s of main) {
    const t = terminated(s);
    if (s.state.running) running++;
    else if (t) {
      stopped++;
      if (t.exitCode === 0) succeeded++;
    } else if (lastTerminated(s)) {
      stopped++;
      if (lastTerminated(s)!.exitCode === 0) succeeded++;
    } else waiting++;
  }
  if (waiting > 0) return 'Pending';
  if (running > 0) return 'Running';
  if (stopped > 0) {
    if (restartPolicy === 'Always') return 'Running';
    if (stopped === succeeded) return 'Succeeded';
    if (restartPolicy === 'Never') return 'Failed';
    return 'Running';
  }
  return 'Pending';
}

/** The full status of a pod on a real runtime, kubelet-style. */
export function runtimePodStatus(input: RuntimeStatusInput): Record<string, unknown> {
  const { spec, runtime, previous } = input;
  const restartPolicy = spec.restartPolicy ?? 'Always';
  const rtByName = new Map([...(runtime?.initContainers ?? []), ...(runtime?.containers ?? [])].map((c) => [c.name, c]));
  const initSpecs = spec.initContainers ?? [];
  const init = initSpecs.map((c) => containerStatus(c, rtByName.get(c.name), input.waiting.get(c.name), 'PodInitializing'));
  const initDone = init.every((s, i) => (initSpecs[i].restartPolicy === 'Always' ? Boolean(s.state.running) : terminated(s)?.exitCode === 0));
  const main = spec.containers.map((c) => containerStatus(c, rtByName.get(c.name), input.waiting.get(c.name), initDone ? 'ContainerCreating' : 'PodInitializing', input.probeState));
  const prevPhase = previous?.phase as string | undefined;
  let phase = podPhase(restartPolicy, init, initSpecs, main);
  if (prevPhase === 'Succeeded' || prevPhase === 'Failed') phase = prevPhase;
  const terminal = phase === 'Succeeded' || phase === 'Failed';

  const prevConds = (previous?.conditions as Record<string, unknown>[] | undefined) ?? [];
  const now = stamp();
  const cond = (type: string, ok: boolean, reason?: string, message?: string) => {
    const status = ok ? 'True' : 'False';
    const prev = prevConds.find((c) => c.type === type);
    return { type, status, lastProbeTime: null, lastTransitionTime: prev && prev.status === status ? prev.lastTransitionTime : now, ...(reason ? { reason } : {}), ...(message ? { message } : {}) };
  };
  const unready = main.filter((s) => !s.ready).map((s) => s.name as string);
  const incomplete = init.filter((s, i) => (initSpecs[i].restartPolicy === 'Always' ? !s.state.running : terminated(s)?.exitCode !== 0)).map((s) => s.name as string);
  const readiness = (type: string) =>
    terminal
      ? cond(type, false, 'PodCompleted')
      : cond(type, unready.length === 0, unready.length ? 'ContainersNotReady' : undefined, unready.length ? `containers with unready status: [${unready.join(' ')}]` : undefined);
  const containersReady = readiness('ContainersReady');
  const ready = readiness('Ready');
  const initialized = terminal && initDone ? cond('Initialized', true, 'PodCompleted') : cond('Initialized', initDone, initDone ? undefined : 'ContainersNotInitialized', initDone ? undefined : `containers with incomplete status: [${incomplete.join(' ')}]`);
  const sandboxReady = Boolean(runtime?.sandboxReady) && !terminal;

  const podIP = input.podIP || (previous?.podIP as string | undefined);
  return {
    phase,
    conditions: [cond('PodReadyToStartContainers', sandboxReady), initialized, ready, containersReady, ...prevConds.filter((c) => c.type === 'PodScheduled')],
    hostIP: input.hostIP,
    hostIPs: [{ ip: input.hostIP }],
    ...(podIP ? { podIP, podIPs: [{ ip: podIP }] } : {}),
    startTime: input.startTime,
    ...(init.length ? { initContainerStatuses: init } : {}),
    containerStatuses: main,
    ...(previous?.qosClass ? { qosClass: previous.qosClass } : {}),
  };
}
