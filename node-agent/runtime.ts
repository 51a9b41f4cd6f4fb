// What the agent needs from a container runtime, whether real (CRI/containerd, issue #5) or
// fake (hollow nodes): start a pod's containers, stop them, and say what runs.
export interface ContainerState {
  name: string;
  image: string;
  imageID: string;
  containerID: string;
  startedAt: string;
  ready: boolean;
  restartCount: number;
}

export interface PodRuntimeState {
  podIP: string;
  startedAt: string;
  initContainers: ContainerState[];
  containers: ContainerState[];
}

export interface PodRuntime {
  /** Start (or adopt, if already running) the pod; returns what runs. */
  startPod(pod: Record<string, unknown>): Promise<PodRuntimeState>;
  /** Stop the pod's containers within the grace period and release its resources. */
  stopPod(uid: string, gracePeriodSeconds: number): Promise<void>;
  /** Hollow runtimes only: when this pod's containers will exit on their own, and how. */
  plannedExit?(pod: Record<string, unknown>): { afterMs: number; exitCode: number } | undefined;
  /** Runtime name and version as nodeInfo.containerRuntimeVersion shows it (e.g. containerd://1.6.20). */
  readonly version: string;
}
