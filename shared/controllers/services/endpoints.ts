// The Endpoints controller (core/v1 Endpoints, what `kubectl get endpoints` and older consumers
// read): for each Service with a selector, one Endpoints object of the same name listing the
// selected pods' addresses, ready ones under `addresses`, the others under `notReadyAddresses`,
// grouped into subsets by the ports they serve. Selector-less Services (such as `kubernetes`)
// keep whatever Endpoints someone else writes.
import type { KubeObject } from '../../api/kind.js';
import { ApiError } from '../../apiserver/errors.js';
import { deepEqual } from '../../apiserver/metadata.js';
import { isNotFound } from '../runtime/client.js';
import { findPort, isIPv6, isPodReady, podIPs, podSpec, podTargetRef, serviceSpec, shouldPodBeInEndpoints, shouldSetHostname } from './endpoints-pod.js';
import { HEADLESS_LABEL, TRIGGER_TIME_ANNOTATION, isServiceIPSet, receivesEndpoints, rfc3339Nano, selectedPods, servicesSelectingPod } from './endpoints-service.js';
import { TriggerTimeTracker } from './endpoints-trigger-time.js';
import type { ControllerContext, ControllerDef, ObjectRef } from '../runtime/types.js';

/** Label marking Endpoints this controller maintains (and may delete with their Service). */
export const ENDPOINTS_MANAGED_BY_LABEL = 'endpoints.kubernetes.io/managed-by';
export const ENDPOINTS_CONTROLLER_NAME = 'endpoint-controller';
const OVER_CAPACITY_ANNOTATION = 'endpoints.kubernetes.io/over-capacity';
/** Addresses one Endpoints object holds at most; the rest are cut off. */
const MAX_CAPACITY = 1000;

export interface EndpointAddress {
  ip: string;
  hostname?: string;
  nodeName?: string;
  targetRef?: Record<string, string>;
}

export interface EndpointPort {
  name?: string;
  port: number;
  protocol: string;
  appProtocol?: string;
}

export interface EndpointSubset {
  addresses?: EndpointAddress[];
  notReadyAddresses?: EndpointAddress[];
  ports?: EndpointPort[];
}

/** One (address, port) pair as the pods yield it, before packing into subsets. */
interface AddressPort {
  address: EndpointAddress;
  port: EndpointPort | undefined;
  ready: boolean;
}

/** The address of the pod in the Service's first IP family, or undefined when it has none. */
function podAddress(svc: KubeObject, pod: KubeObject): EndpointAddress | undefined {
  const spec = serviceSpec(svc);
  const ips = podIPs(pod);
  let v6: boolean;
  if (spec.ipFamilies?.length) v6 = spec.ipFamilies[0] === 'IPv6';
  else if (isServiceIPSet(svc)) v6 = isIPv6(spec.clusterIP!);
  else v6 = isIPv6(ips[0] ?? '');
  const ip = ips.find((candidate) => isIPv6(candidate) === v6);
  if (!ip) return undefined;
  const address: EndpointAddress = { ip };
  if (shouldSetHostname(pod, svc)) address.hostname = podSpec(pod).hostname;
  const nodeName = podSpec(pod).nodeName;
  if (nodeName) address.nodeName = nodeName;
  address.targetRef = podTargetRef(pod);
  return address;
}

/** The (address, port) pairs of every pod that belongs in the Service's Endpoints. */
function addressPorts(svc: KubeObject, pods: readonly KubeObject[]): AddressPort[] {
  const spec = serviceSpec(svc);
  const publishNotReady = spec.publishNotReadyAddresses === true;
  const out: AddressPort[] = [];
  for (const pod of pods) {
    if (!shouldPodBeInEndpoints(pod, publishNotReady)) continue;
    const address = podAddress(svc, pod);
    if (!address) continue;
    const ready = publishNotReady || isPodReady(pod);
    const ports = spec.ports ?? [];
    if (ports.length === 0) {
      // Headless Services may have no ports: the addresses are published alone.
      if (spec.clusterIP === 'None') out.push({ address, port: undefined, ready });
      continue;
    }
    for (const svcPort of ports) {
      const number = findPort(pod, svcPort);
      if (number === undefined) continue;
      const port: EndpointPort = {
        ...(svcPort.name ? { name: svcPort.name } : {}),
        port: number,
        protocol: svcPort.protocol ?? 'TCP',
        ...(svcPort.appProtocol ? { appProtocol: svcPort.appProtocol } : {}),
      };
      out.push({ address, port, ready });
    }
  }
  return out;
}

const addressKey = (a: EndpointAddress): string => `${a.ip}|${a.targetRef?.uid ?? ''}`;
const portKey = (p: EndpointPort | undefined): string => (p ? JSON.stringify([p.name ?? '', p.port, p.protocol, p.appProtocol ?? '']) : '');

function compareAddresses(a: EndpointAddress, b: EndpointAddress): number {
  if (a.ip !== b.ip) return a.ip < b.ip ? -1 : 1;
  const ua = a.targetRef?.uid ?? '';
  const ub = b.targetRef?.uid ?? '';
  return ua < ub ? -1 : ua > ub ? 1 : 0;
}

/**
 * The canonical subsets: addresses serving the same set of ports share a subset; an address is
 * listed once per subset, not ready when any of its pairs is not ready; everything sorted.
 */
export function packSubsets(pairs: readonly AddressPort[]): EndpointSubset[] {
  const byPort = new Map<string, { port: EndpointPort | undefined; members: Map<string, { address: EndpointAddress; ready: boolean }> }>();
  for (const { address, port, ready } of pairs) {
    const pk = portKey(port);
    let entry = byPort.get(pk);
    if (!entry) byPort.set(pk, (entry = { port, members: new Map() }));
    const ak = addressKey(address);
    const prior = entry.members.get(ak);
    if (!prior) entry.members.set(ak, { address, ready });
    else if (!ready) prior.ready = false;
  }
  const groups = new Map<string, { members: { address: EndpointAddress; ready: boolean }[]; ports: (EndpointPort | undefined)[] }>();
  for (const { port, members } of byPort.values()) {
    const list = [...members.values()].sort((x, y) => compareAddresses(x.address, y.address));
    const signature = list.map((m) => `${addressKey(m.address)}=${m.ready}`).join(',');
    let group = groups.get(signature);
    if (!group) groups.set(signature, (group = { members: list, ports: [] }));
    group.ports.push(port);
  }
  const subsets: EndpointSubset[] = [];
  for (const { members, ports } of groups.values()) {
    const subset: EndpointSubset = {};
    const ready = members.filter((m) => m.ready).map((m) => m.address);
    const notReady = members.filter((m) => !m.ready).map((m) => m.address);
    if (ready.length) subset.addresses = ready;
    if (notReady.length) subset.notReadyAddresses = notReady;
    const real = ports.filter((p): p is EndpointPort => p !== undefined).sort((x, y) => (portKey(x) < portKey(y) ? -1 : 1));
    if (real.length) subset.ports = real;
    subsets.push(subset);
  }
  return subsets.sort((x, y) => (subsetKey(x) < subsetKey(y) ? -1 : subsetKey(x) > subsetKey(y) ? 1 : 0));
}

const subsetKey = (s: EndpointSubset): string => JSON.stringify([(s.ports ?? []).map(portKey), (s.addresses ?? [])[0]?.ip ?? '', (s.notReadyAddresses ?? [])[0]?.ip ?? '']);

/** Subsets as stored, reduced to what the controller decides (pod resourceVersions ignored). */
function comparable(subsets: unknown): EndpointSubset[] {
  const list = Array.isArray(subsets) ? (subsets as EndpointSubset[]) : [];
  const address = (a: EndpointAddress): EndpointAddress => {
    const out: EndpointAddress = { ip: a.ip };
    if (a.hostname) out.hostname = a.hostname;
    if (a.nodeName) out.nodeName = a.nodeName;
    if (a.targetRef) {
      const { resourceVersion: _rv, ...ref } = a.targetRef;
      out.targetRef = ref;
    }
    return out;
  };
  return list.map((s) => {
    const out: EndpointSubset = {};
    if (s.addresses?.length) out.addresses = s.addresses.map(address);
    if (s.notReadyAddresses?.length) out.notReadyAddresses = s.notReadyAddresses.map(address);
    if (s.ports?.length) {
      out.ports = s.ports.map((p) => ({ ...(p.name ? { name: p.name } : {}), port: p.port, protocol: p.protocol ?? 'TCP', ...(p.appProtocol ? { appProtocol: p.appProtocol } : {}) }));
    }
    return out;
  });
}

const countAddresses = (subsets: readonly EndpointSubset[]): number => subsets.reduce((n, s) => n + (s.addresses?.length ?? 0) + (s.notReadyAddresses?.length ?? 0), 0);

/**
 * Cut subsets down to MAX_CAPACITY addresses, ready ones first, each subset keeping its share.
 * Returns whether anything was cut.
 */
export function truncateSubsets(subsets: EndpointSubset[]): boolean {
  const totalReady = subsets.reduce((n, s) => n + (s.addresses?.length ?? 0), 0);
  const totalNotReady = subsets.reduce((n, s) => n + (s.notReadyAddresses?.length ?? 0), 0);
  if (totalReady + totalNotReady <= MAX_CAPACITY) return false;
  const cutReady = totalReady > MAX_CAPACITY;
  const budget = cutReady ? MAX_CAPACITY : MAX_CAPACITY - totalReady;
  const total = cutReady ? totalReady : totalNotReady;
  let left = budget;
  for (const subset of subsets) {
    const inSubset = cutReady ? (subset.addresses?.length ?? 0) : (subset.notReadyAddresses?.length ?? 0);
    const share = Math.min(Math.ceil((inSubset / total) * budget), left);
    if (cutReady) {
      subset.addresses = (subset.addresses ?? []).slice(0, share);
      delete subset.notReadyAddresses;
      left -= subset.addresses.length;
      if (!subset.addresses.length) delete subset.addresses;
    } else {
      subset.notReadyAddresses = (subset.notReadyAddresses ?? []).slice(0, share);
      left -= subset.notReadyAddresses.length;
      if (!subset.notReadyAddresses.length) delete subset.notReadyAddresses;
    }
  }
  return true;
}

/** Labels of the Service's Endpoints: the Service's own, plus the headless and managed-by marks. */
function endpointsLabels(svc: KubeObject): Record<string, string> {
  const labels: Record<string, string> = { ...svc.metadata.labels };
  if (isServiceIPSet(svc)) delete labels[HEADLESS_LABEL];
  else labels[HEADLESS_LABEL] = '';
  labels[ENDPOINTS_MANAGED_BY_LABEL] = ENDPOINTS_CONTROLLER_NAME;
  return labels;
}

const terminatingNamespace = (e: unknown): boolean =>
  e instanceof ApiError && e.code === 403 && !!e.status.details?.causes?.some((c) => c.reason === 'NamespaceTerminating');

async function syncService(ctx: ControllerContext, tracker: TriggerTimeTracker, ref: ObjectRef): Promise<void> {
  const { reader, client } = ctx;
  const namespace = ref.namespace!;
  const svc = await reader.get('core/services', namespace, ref.name);
  const current = await reader.get('core/endpoints', namespace, ref.name);
  if (!svc) {
    tracker.forget(namespace, ref.name);
    // Only Endpoints this controller wrote go with the Service; hand-made ones are someone else's.
    if (current?.metadata.labels?.[ENDPOINTS_MANAGED_BY_LABEL] === ENDPOINTS_CONTROLLER_NAME) {
      await client.delete('core/endpoints', namespace, ref.name, { preconditions: { uid: current.metadata.uid } });
    }
    return;
  }
  if (!receivesEndpoints(svc)) return;

  const pods = await selectedPods(reader, svc);
  // Computed on every sync so the tracker's memory stays current even when nothing is written.
  const triggerTime = tracker.compute(svc, pods);
  const subsets = packSubsets(addressPorts(svc, pods));
  const labels = endpointsLabels(svc);

  if (current) {
    const capacityMarkRight = countAddresses(comparable(current.subsets)) <= MAX_CAPACITY && current.metadata.annotations?.[OVER_CAPACITY_ANNOTATION] === undefined;
    if (deepEqual(comparable(current.subsets), comparable(subsets)) && deepEqual(current.metadata.labels ?? {}, labels) && capacityMarkRight) return;
  }

  const next: KubeObject = current ? structuredClone(current) : { metadata: { name: ref.name, namespace } };
  next.apiVersion = 'v1';
  next.kind = 'Endpoints';
  next.metadata.labels = labels;
  const annotations: Record<string, string> = { ...next.metadata.annotations };
  if (triggerTime) annotations[TRIGGER_TIME_ANNOTATION] = rfc3339Nano(triggerTime);
  else delete annotations[TRIGGER_TIME_ANNOTATION];
  if (truncateSubsets(subsets)) annotations[OVER_CAPACITY_ANNOTATION] = 'truncated';
  else delete annotations[OVER_CAPACITY_ANNOTATION];
  if (Object.keys(annotations).length) next.metadata.annotations = annotations;
  else delete next.metadata.annotations;
  next.subsets = subsets;

  try {
    if (current) await client.update('core/endpoints', next);
    else await client.create('core/endpoints', next);
  } catch (e) {
    if (!current && terminatingNamespace(e)) return;
    if (!current && isNotFound(e)) return; // the namespace is gone
    const message = e instanceof Error ? e.message : String(e);
    if (current) await ctx.events.record(next, 'Warning', 'FailedToUpdateEndpoint', `Failed to update endpoint ${namespace}/${ref.name}: ${message}`);
    else await ctx.events.record(next, 'Warning', 'FailedToCreateEndpoint', `Failed to create endpoint for service ${namespace}/${ref.name}: ${message}`);
    throw e;
  }
}

export const endpointsController: ControllerDef = {
  name: ENDPOINTS_CONTROLLER_NAME,
  resources: ['core/services'],
  watches: [
    { resource: 'core/pods', map: (pod, reader) => servicesSelectingPod(reader, pod) },
    // Endpoints changed or removed by someone else are put back from the Service.
    { resource: 'core/endpoints', map: (ep) => (ep.metadata.namespace ? [{ resource: 'core/services', namespace: ep.metadata.namespace, name: ep.metadata.name! }] : []) },
  ],
  workers: 4,
  setup: (ctx) => {
    const tracker = new TriggerTimeTracker();
    return (ref) => syncService(ctx, tracker, ref);
  },
};
