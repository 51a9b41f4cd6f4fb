// What the agent needs from a container runtime, whether real (CRI/containerd, issue #5) or
// fake (hollow nodes): start a pod's containers, stop them, and say what runs.
import type { CriPodStatus } from './cri/pod-status-poller.js';

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

/** Per-container state read back from a runtime that reports it (state, exit codes, previous instance). */
export type RuntimePodStatus = CriPodStatus;

export interface PodRuntime {
  /** Start (or adopt, if already running) the pod; returns what runs. */
  startPod(pod: Record<string, unknown>): Promise<PodRuntimeState>;
  /** Stop the pod's containers within the grace period and release its resources. */
  stopPod(uid: string, gracePeriodSeconds: number): Promise<void>;
  /** Hollow runtimes only: when this pod's containers will exit on their own, and how. */
  plannedExit?(pod: Record<string, unknown>): { afterMs: number; exitCode: number } | undefined;
  /**
   * Runtimes that report container states (real ones): what runs for the pod now. The agent then
   * derives the pod status from it and restarts exited containers through restartContainer.
   */
  podStatus?(uid: string): Promise<RuntimePodStatus | undefined>;
  /** Start the next instance of an exited container. */
  restartContainer?(pod: Record<string, unknown>, name: string): Promise<unknown>;
  /** Run a command in the container's running instance and wait for it (exec probes and hooks); timeoutSeconds 0: no limit. */
  execInContainer?(uid: string, container: string, cmd: string[], timeoutSeconds: number): Promise<{ exitCode: number; stdout: string; stderr: string }>;
  /** Stop the container's running instance within the grace period (failed liveness/startup probe, failed postStart). */
  killContainer?(uid: string, container: string, gracePeriodSeconds: number): Promise<void>;
  /** Runtime name and version as nodeInfo.containerRuntimeVersion shows it (e.g. containerd://1.6.20). */
  readonly version: string;
}
