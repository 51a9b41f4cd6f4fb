// What the proxy programs, derived from Services and EndpointSlices alone: one entry per Service
// port with a cluster IP, carrying its node port, its session affinity and its ready endpoints.
import { SERVICE_NAME_LABEL } from '../../shared/controllers/services/endpointslice.js';

export type Protocol = 'TCP' | 'UDP' | 'SCTP';

export interface Endpoint {
  ip: string;
  port: number;
}

export interface ServicePort {
  namespace: string;
  name: string;
  /** The Service port's name ('' when the Service has a single unnamed port). */
  portName: string;
  protocol: Protocol;
  clusterIP: string;
  port: number;
  nodePort?: number;
  /** Set for sessionAffinity ClientIP: how long a client sticks to its endpoint. */
  affinitySeconds?: number;
  /** Ready endpoints, sorted and without duplicates. */
  endpoints: Endpoint[];
}

export interface ServiceObject {
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  spec?: {
    type?: string;
    clusterIP?: string;
    externalName?: string;
    selector?: Record<string, string>;
    sessionAffinity?: string;
    sessionAffinityConfig?: { clientIP?: { timeoutSeconds?: number } };
    ports?: { name?: string; protocol?: string; port: number; targetPort?: number | string; nodePort?: number }[];
  };
}

export interface SliceObject {
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  addressType?: string;
  endpoints?: { addresses: string[]; conditions?: { ready?: boolean | null; serving?: boolean; terminating?: boolean }; hostname?: string; targetRef?: { kind?: string; name?: string; namespace?: string } }[];
  ports?: { name?: string | null; protocol?: string; port?: number | null }[];
}

/** Kubernetes' default for sessionAffinityConfig.clientIP.timeoutSeconds (3 hours). */
export const DEFAULT_AFFINITY_SECONDS = 10800;

const IPV4 = /^\d{1,3}(\.\d{1,3}){3}$/;

/** Whether a Service gets proxy rules: it has an IPv4 cluster IP (not headless, not ExternalName). */
export function hasClusterIP(svc: ServiceObject): boolean {
  const spec = svc.spec ?? {};
  return spec.type !== 'ExternalName' && !!spec.clusterIP && IPV4.test(spec.clusterIP);
}

/** Slices of each Service, keyed by namespace/name. */
export function slicesByService(slices: readonly SliceObject[]): Map<string, SliceObject[]> {
  const out = new Map<string, SliceObject[]>();
  for (const slice of slices) {
    const svc = slice.metadata.labels?.[SERVICE_NAME_LABEL];
    if (!svc) continue;
    const key = `${slice.metadata.namespace ?? ''}/${svc}`;
    out.set(key, [...(out.get(key) ?? []), slice]);
  }
  return out;
}

/** Endpoint IPs of a Service port's slices; an absent ready condition counts as ready, as the API says. */
export function readyEndpoints(slices: readonly SliceObject[], portName: string, protocol: Protocol): Endpoint[] {
  const seen = new Map<string, Endpoint>();
  for (const slice of slices) {
    if ((slice.addressType ?? 'IPv4') !== 'IPv4') continue;
    const port = (slice.ports ?? []).find((p) => (p.name ?? '') === portName && (p.protocol ?? 'TCP') === protocol);
    if (!port || typeof port.port !== 'number') continue;
    for (const ep of slice.endpoints ?? []) {
      if (ep.conditions?.ready === false) continue;
      const ip = ep.addresses[0];
      if (!ip) continue;
      seen.set(`${ip}:${port.port}`, { ip, port: port.port });
    }
  }
  return [...seen.values()].sort((a, b) => compareIPs(a.ip, b.ip) || a.port - b.port);
}

function compareIPs(a: string, b: string): number {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < 4; i++) if (pa[i] !== pb[i]) return pa[i] - pb[i];
  return 0;
}

/**
 * Every Service port the proxy should program. `overrides` sends all ports of a Service (keyed
 * namespace/name) to one local address instead of its slices' endpoints: the cluster DNS Service
 * leads to the agent's own DNS server this way.
 */
export function servicePorts(services: readonly ServiceObject[], slices: readonly SliceObject[], overrides: ReadonlyMap<string, Endpoint> = new Map()): ServicePort[] {
  const bySvc = slicesByService(slices);
  const out: ServicePort[] = [];
  for (const svc of services) {
    if (!hasClusterIP(svc)) continue;
    const spec = svc.spec!;
    const namespace = svc.metadata.namespace ?? '';
    const key = `${namespace}/${svc.metadata.name}`;
    const override = overrides.get(key);
    const affinitySeconds = spec.sessionAffinity === 'ClientIP' ? (spec.sessionAffinityConfig?.clientIP?.timeoutSeconds ?? DEFAULT_AFFINITY_SECONDS) : undefined;
    for (const p of spec.ports ?? []) {
      const protocol = (p.protocol ?? 'TCP') as Protocol;
      const portName = p.name ?? '';
      const endpoints = override ? [{ ip: override.ip, port: override.port }] : readyEndpoints(bySvc.get(key) ?? [], portName, protocol);
      out.push({
        namespace,
        name: svc.metadata.name,
        portName,
        protocol,
        clusterIP: spec.clusterIP!,
        port: p.port,
        ...(p.nodePort && (spec.type === 'NodePort' || spec.type === 'LoadBalancer') ? { nodePort: p.nodePort } : {}),
        ...(affinitySeconds !== undefined ? { affinitySeconds } : {}),
        endpoints,
      });
    }
  }
  return out.sort((a, b) => `${a.namespace}/${a.name}/${a.portName}/${a.protocol}`.localeCompare(`${b.namespace}/${b.name}/${b.portName}/${b.protocol}`));
}
