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
