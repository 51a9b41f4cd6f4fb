// A running pod's status as kubelet reports it: phase, conditions, IPs and container statuses.
import type { ContainerState, PodRuntimeState } from './runtime.js';

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
