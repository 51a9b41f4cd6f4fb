// What a pod contributes to the endpoints of a Service, shared by the Endpoints and EndpointSlice
// controllers: whether it belongs at all, whether it is ready, its addresses, its hostname and the
// port each Service port leads to on it (named targetPorts resolve per pod).
import type { KubeObject } from '../../api/kind.js';

export interface ServicePortView {
  name?: string;
  protocol?: string;
  port: number;
  targetPort?: number | string;
  appProtocol?: string;
}

export interface ServiceSpecView {
  type?: string;
  selector?: Record<string, string>;
  clusterIP?: string;
  ipFamilies?: string[];
  ports?: ServicePortView[];
  publishNotReadyAddresses?: boolean;
}

interface ContainerView {
  ports?: { name?: string; containerPort: number; protocol?: string }[];
  restartPolicy?: string;
}

interface PodSpecView {
  nodeName?: string;
  hostname?: string;
  subdomain?: string;
  containers?: ContainerView[];
  initContainers?: ContainerView[];
}

interface PodStatusView {
  phase?: string;
  podIP?: string;
  podIPs?: { ip: string }[];
  conditions?: { type: string; status: string; lastTransitionTime?: string }[];
}

export const serviceSpec = (svc: KubeObject): ServiceSpecView => (svc.spec ?? {}) as ServiceSpecView;
export const podSpec = (pod: KubeObject): PodSpecView => (pod.spec ?? {}) as PodSpecView;
const podStatus = (pod: KubeObject): PodStatusView => (pod.status ?? {}) as PodStatusView;

/** The pod's Ready condition, if the kubelet reported one. */
export function readyCondition(pod: KubeObject): { status: string; lastTransitionTime?: string } | undefined {
  return podStatus(pod).conditions?.find((c) => c.type === 'Ready');
}

export const isPodReady = (pod: KubeObject): boolean => readyCondition(pod)?.status === 'True';

export const isTerminating = (pod: KubeObject): boolean => !!pod.metadata.deletionTimestamp;

/** Succeeded and Failed pods never serve again. */
export function isPodTerminal(pod: KubeObject): boolean {
  const phase = podStatus(pod).phase;
  return phase === 'Succeeded' || phase === 'Failed';
}

/** Every IP of the pod (status.podIPs, or the single podIP older writers set). */
export function podIPs(pod: KubeObject): string[] {
  const status = podStatus(pod);
  const ips = (status.podIPs ?? []).map((p) => p.ip).filter((ip): ip is string => !!ip);
  if (ips.length) return ips;
  return status.podIP ? [status.podIP] : [];
}

export const isIPv6 = (ip: string): boolean => ip.includes(':');

/** Running-or-starting pods with an IP; terminating ones only when asked for. */
export function shouldPodBeInEndpoints(pod: KubeObject, includeTerminating: boolean): boolean {
  if (isPodTerminal(pod)) return false;
  if (podIPs(pod).length === 0) return false;
  return includeTerminating || !isTerminating(pod);
}

/** A pod gets a DNS hostname under the Service when its subdomain names that Service. */
export function shouldSetHostname(pod: KubeObject, svc: KubeObject): boolean {
  const spec = podSpec(pod);
  return !!spec.hostname && spec.subdomain === svc.metadata.name && pod.metadata.namespace === svc.metadata.namespace;
}

/**
 * The pod port a Service port sends to: the targetPort number, or the container port carrying the
 * targetPort's name and the Service port's protocol (sidecar init containers count too).
 */
export function findPort(pod: KubeObject, svcPort: ServicePortView): number | undefined {
  const target = svcPort.targetPort ?? svcPort.port;
  if (typeof target === 'number') return target;
  const protocol = svcPort.protocol ?? 'TCP';
  const spec = podSpec(pod);
  const sidecars = (spec.initContainers ?? []).filter((c) => c.restartPolicy === 'Always');
  for (const container of [...(spec.containers ?? []), ...sidecars]) {
    for (const p of container.ports ?? []) {
      if (p.name === target && (p.protocol ?? 'TCP') === protocol) return p.containerPort;
    }
  }
  return undefined;
}

/** Reference from an endpoint back to its pod. */
export function podTargetRef(pod: KubeObject): Record<string, string> {
  return { kind: 'Pod', namespace: pod.metadata.namespace!, name: pod.metadata.name!, uid: pod.metadata.uid! };
}
