// The Node object an agent registers and the status it reports, shaped as kubelet reports them.
export interface NodeResources {
  cpu: string;
  memory: string;
  pods: string;
  ephemeralStorage: string;
}

export interface NodeIdentity {
  name: string;
  internalIP: string;
  labels?: Record<string, string>;
  taints?: Record<string, unknown>[];
  capacity: NodeResources;
  allocatable?: NodeResources;
  runtimeVersion: string;
  kubeletVersion: string;
  os?: { image: string; kernel: string; machineID: string; arch: string };
}

const stamp = (d = new Date()) => d.toISOString().replace(/\.\d+Z$/, 'Z');

const resourceList = (r: NodeResources) => ({ cpu: r.cpu, 'ephemeral-storage': r.ephemeralStorage, memory: r.memory, pods: r.pods });

export function nodeObject(id: NodeIdentity): Record<string, unknown> {
  const arch = id.os?.arch ?? 'amd64';
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name: id.name,
      labels: { 'beta.kubernetes.io/arch': arch, 'beta.kubernetes.io/os': 'linux', 'kubernetes.io/arch': arch, 'kubernetes.io/hostname': id.name, 'kubernetes.io/os': 'linux', ...id.labels },
      annotations: { 'node.alpha.kubernetes.io/ttl': '0', 'volumes.kubernetes.io/controller-managed-attach-detach': 'true' },
    },
    spec: id.taints?.length ? { taints: id.taints } : {},
  };
}

export interface NodeHealth {
  memoryPressure: boolean;
  diskPressure: boolean;
  pidPressure: boolean;
  /** Why the node is not ready (e.g. the container runtime is down); undefined when ready. */
  notReadyReason?: string;
}

/** Conditions in kubelet's order and wording; transitions keep the previous lastTransitionTime. */
export function nodeConditions(health: NodeHealth, previous: Record<string, unknown>[] = [], now = new Date()): Record<string, unknown>[] {
  const t = stamp(now);
  const cond = (type: string, status: 'True' | 'False', reason: string, message: string) => {
    const prev = previous.find((c) => c.type === type);
    return { type, status, lastHeartbeatTime: t, lastTransitionTime: prev && prev.status === status ? prev.lastTransitionTime : t, reason, message };
  };
  return [
    health.memoryPressure
      ? cond('MemoryPressure', 'True', 'KubeletHasInsufficientMemory', 'kubelet has insufficient memory available')
      : cond('MemoryPressure', 'False', 'KubeletHasSufficientMemory', 'kubelet has sufficient memory available'),
    health.diskPressure ? cond('DiskPressure', 'True', 'KubeletHasDiskPressure', 'kubelet has disk pressure') : cond('DiskPressure', 'False', 'KubeletHasNoDiskPressure', 'kubelet has no disk pressure'),
    health.pidPressure ? cond('PIDPressure', 'True', 'KubeletHasInsufficientPID', 'kubelet has insufficient PID available') : cond('PIDPressure', 'False', 'KubeletHasSufficientPID', 'kubelet has sufficient PID available'),
    health.notReadyReason ? cond('Ready', 'False', 'KubeletNotReady', health.notReadyReason) : cond('Ready', 'True', 'KubeletReady', 'kubelet is posting ready status'),
  ];
}

export function nodeStatus(id: NodeIdentity, health: NodeHealth, previousConditions?: Record<string, unknown>[]): Record<string, unknown> {
  const os = id.os ?? { image: 'stratus hollow node', kernel: 'hollow', machineID: id.name, arch: 'amd64' };
  return {
    capacity: resourceList(id.capacity),
    allocatable: resourceList(id.allocatable ?? id.capacity),
    conditions: nodeConditions(health, previousConditions),
    addresses: [
      { type: 'InternalIP', address: id.internalIP },
      { type: 'Hostname', address: id.name },
    ],
    daemonEndpoints: { kubeletEndpoint: { Port: 10250 } },
    nodeInfo: {
      machineID: os.machineID,
      systemUUID: os.machineID,
      bootID: os.machineID,
      kernelVersion: os.kernel,
      osImage: os.image,
      containerRuntimeVersion: id.runtimeVersion,
      kubeletVersion: id.kubeletVersion,
      kubeProxyVersion: id.kubeletVersion,
      operatingSystem: 'linux',
      architecture: os.arch,
    },
  };
}
