// The EndpointSlice controller (discovery.k8s.io/v1): for each Service with a selector, slices of
// at most 100 endpoints per address type and per set of ports, owned by the Service. Every
// selected pod with an IP appears (terminating ones too, with their conditions), slices are
// updated in place where possible, and a Service without endpoints keeps one empty placeholder.
import type { KubeObject } from '../../api/kind.js';
import { ApiError } from '../../apiserver/errors.js';
import { findPort, isPodReady, isIPv6, isTerminating, podIPs, podSpec, podTargetRef, serviceSpec, shouldPodBeInEndpoints, shouldSetHostname } from './endpoints-pod.js';
import { HEADLESS_LABEL, TRIGGER_TIME_ANNOTATION, ZONE_LABEL, isServiceIPSet, receivesEndpoints, rfc3339Nano, selectedPods, servicesSelectingPod } from './endpoints-service.js';
import { TriggerTimeTracker } from './endpoints-trigger-time.js';
import type { ObjectReader } from '../runtime/reader.js';
import type { ControllerContext, ControllerDef, ObjectRef, WatchSpec } from '../runtime/types.js';

export const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';
export const SLICE_MANAGED_BY_LABEL = 'endpointslice.kubernetes.io/managed-by';
export const SLICE_CONTROLLER_NAME = 'endpointslice-controller.k8s.io';
export const MAX_ENDPOINTS_PER_SLICE = 100;
const SLICES = 'discovery.k8s.io/endpointslices';

export interface SliceEndpoint {
  addresses: string[];
  conditions: { ready?: boolean; serving?: boolean; terminating?: boolean };
  hostname?: string;
  targetRef?: Record<string, string>;
  nodeName?: string;
  zone?: string;
  [key: string]: unknown;
}

export interface SlicePort {
  name?: string;
  protocol?: string;
  port?: number;
  appProtocol?: string;
}

type Slice = KubeObject & { addressType?: string; endpoints?: SliceEndpoint[]; ports?: SlicePort[] };

interface Plan {
  create: Slice[];
  update: Slice[];
  remove: Slice[];
}

/** The address types a Service's slices carry, from its IP families. */
function addressTypesOf(svc: KubeObject): string[] {
  const spec = serviceSpec(svc);
  const types = new Set<string>();
  for (const family of spec.ipFamilies ?? []) {
    if (family === 'IPv4') types.add('IPv4');
    if (family === 'IPv6') types.add('IPv6');
  }
  if (types.size) return [...types];
  if (isServiceIPSet(svc)) return [isIPv6(spec.clusterIP!) ? 'IPv6' : 'IPv4'];
  return ['IPv4', 'IPv6'];
}

/** The ports each endpoint of this pod serves; Service ports the pod cannot serve are left out. */
function endpointPorts(svc: KubeObject, pod: KubeObject): SlicePort[] {
  const spec = serviceSpec(svc);
  const out: SlicePort[] = [];
  for (const svcPort of spec.ports ?? []) {
    const port = findPort(pod, svcPort);
    if (port === undefined) continue;
    out.push({ name: svcPort.name ?? '', port, protocol: svcPort.protocol ?? 'TCP', ...(svcPort.appProtocol ? { appProtocol: svcPort.appProtocol } : {}) });
  }
  return out;
}

/** Identity of a set of ports, independent of order and of defaulting. */
function portsKey(ports: readonly SlicePort[] | undefined): string {
  return (ports ?? [])
    .map((p) => JSON.stringify([p.name ?? '', p.protocol ?? 'TCP', p.port ?? null, p.appProtocol ?? null]))
    .sort()
    .join(';');
}

/** Identity of an endpoint: its addresses, hostname and pod; conditions and topology may change in place. */
function endpointKey(ep: SliceEndpoint): string {
  return JSON.stringify([[...ep.addresses].sort(), ep.hostname ?? '', ep.targetRef?.namespace ?? '', ep.targetRef?.name ?? '']);
}

function podToEndpoint(pod: KubeObject, node: KubeObject | undefined, svc: KubeObject, addressType: string): SliceEndpoint {
  const serving = isPodReady(pod);
  const terminating = isTerminating(pod);
  // Terminating pods are never ready, unless the Service publishes not-ready addresses.
  const ready = serviceSpec(svc).publishNotReadyAddresses === true || (serving && !terminating);
  const ep: SliceEndpoint = {
    addresses: podIPs(pod).filter((ip) => isIPv6(ip) === (addressType === 'IPv6')),
    conditions: { ready, serving, terminating },
    targetRef: podTargetRef(pod),
  };
  const spec = podSpec(pod);
  if (spec.nodeName) ep.nodeName = spec.nodeName;
  const zone = node?.metadata.labels?.[ZONE_LABEL];
  if (zone) ep.zone = zone;
  if (shouldSetHostname(pod, svc)) ep.hostname = spec.hostname;
  return ep;
}

/** Whether two endpoints with the same identity differ in what an update would change. */
function endpointChanged(a: SliceEndpoint, b: SliceEndpoint): boolean {
  if ((a.nodeName ?? null) !== (b.nodeName ?? null) || (a.zone ?? null) !== (b.zone ?? null)) return true;
  const ca = a.conditions ?? {};
  const cb = b.conditions ?? {};
  if ((ca.ready ?? null) !== (cb.ready ?? null) || (ca.serving ?? null) !== (cb.serving ?? null) || (ca.terminating ?? null) !== (cb.terminating ?? null)) return true;
  const ra = a.targetRef ?? {};
  const rb = b.targetRef ?? {};
  for (const k of new Set([...Object.keys(ra), ...Object.keys(rb)])) if (k !== 'resourceVersion' && ra[k] !== rb[k]) return true;
  return false;
}

const isReservedLabel = (key: string): boolean => key === SERVICE_NAME_LABEL || key === SLICE_MANAGED_BY_LABEL || key === HEADLESS_LABEL;

/** The labels a slice of this Service should carry, and whether its Service-copied labels are out of date. */
function sliceLabels(slice: Slice | undefined, svc: KubeObject): { labels: Record<string, string>; changed: boolean } {
  const own: Record<string, string> = {};
  for (const [k, v] of Object.entries(slice?.metadata.labels ?? {})) if (!isReservedLabel(k)) own[k] = v;
  const labels: Record<string, string> = {};
  for (const [k, v] of Object.entries(svc.metadata.labels ?? {})) if (!isReservedLabel(k)) labels[k] = v;
  const changed = JSON.stringify(Object.entries(own).sort()) !== JSON.stringify(Object.entries(labels).sort());
  if (!isServiceIPSet(svc)) labels[HEADLESS_LABEL] = '';
  labels[SERVICE_NAME_LABEL] = svc.metadata.name!;
  labels[SLICE_MANAGED_BY_LABEL] = SLICE_CONTROLLER_NAME;
  return { labels, changed };
}

function serviceOwnerRef(svc: KubeObject): Record<string, unknown> {
  return { apiVersion: 'v1', kind: 'Service', name: svc.metadata.name, uid: svc.metadata.uid, controller: true, blockOwnerDeletion: true };
}

const ownedBy = (slice: Slice, svc: KubeObject): boolean =>
  (slice.metadata.ownerReferences ?? []).some((o) => o.uid === svc.metadata.uid && o.kind === 'Service' && o.apiVersion === 'v1');

function newSlice(svc: KubeObject, ports: SlicePort[], addressType: string): Slice {
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: {
      // The API server appends five random characters.
      generateName: `${svc.metadata.name}-`,
      namespace: svc.metadata.namespace,
      labels: sliceLabels(undefined, svc).labels,
      ownerReferences: [serviceOwnerRef(svc)],
    },
    addressType,
    endpoints: [],
    ports,
  };
}

/** An existing slice that is exactly the placeholder this Service would get (kept instead of recreated). */
function isSamePlaceholder(slice: Slice, placeholder: Slice): boolean {
  if (slice.metadata.namespace !== placeholder.metadata.namespace || slice.addressType !== placeholder.addressType) return false;
  if ((slice.endpoints ?? []).length || (slice.ports ?? []).length) return false;
  const sorted = (l: Record<string, string> | undefined) => JSON.stringify(Object.entries(l ?? {}).sort());
  if (sorted(slice.metadata.labels) !== sorted(placeholder.metadata.labels)) return false;
  const refs = (s: Slice) => JSON.stringify((s.metadata.ownerReferences ?? []).map((o) => [o.apiVersion, o.kind, o.name, o.uid, o.controller ?? null, o.blockOwnerDeletion ?? null]));
  return refs(slice) === refs(placeholder);
}

/** The unchanged slice that ends up closest to full when `count` endpoints are added to it. */
function sliceToFill(slices: Slice[], count: number, max: number): Slice | undefined {
  let best: Slice | undefined;
  let bestRoom = max;
  for (const slice of slices) {
    const room = max - (count + (slice.endpoints ?? []).length);
    if (room >= 0 && room < bestRoom) {
      bestRoom = room;
      best = slice;
      if (room === 0) break;
    }
  }
  return best;
}

function popFirst(desired: Map<string, SliceEndpoint>): SliceEndpoint {
  const [key, ep] = desired.entries().next().value as [string, SliceEndpoint];
  desired.delete(key);
  return ep;
}

/**
 * Slices of one set of ports: keep wanted endpoints where they are (updated in place), drop the
 * rest, top up changed slices, then put what is left into the fullest fitting unchanged slice or
 * new ones.
 */
function planForPorts(svc: KubeObject, existing: Slice[], desired: Map<string, SliceEndpoint>, ports: SlicePort[], addressType: string, max: number): Plan {
  const byName = new Map<string, Slice>();
  const unchanged = new Set<string>();
  const toUpdate = new Set<string>();
  const toRemove = new Set<string>();

  for (const slice of existing) {
    const name = slice.metadata.name!;
    byName.set(name, slice);
    const kept: SliceEndpoint[] = [];
    let endpointUpdated = false;
    for (const ep of slice.endpoints ?? []) {
      const key = endpointKey(ep);
      const want = desired.get(key);
      if (!want) continue;
      kept.push(want);
      if (endpointChanged(want, ep)) endpointUpdated = true;
      desired.delete(key);
    }
    const { labels, changed } = sliceLabels(slice, svc);
    if (endpointUpdated || kept.length !== (slice.endpoints ?? []).length) {
      if (kept.length === 0) toRemove.add(name);
      else {
        const copy = structuredClone(slice);
        copy.endpoints = kept;
        copy.metadata.labels = labels;
        byName.set(name, copy);
        toUpdate.add(name);
      }
    } else if (changed) {
      const copy = structuredClone(slice);
      copy.metadata.labels = labels;
      byName.set(name, copy);
      toUpdate.add(name);
    } else {
      unchanged.add(name);
    }
  }

  if (desired.size && toUpdate.size) {
    const fullestFirst = [...toUpdate].map((n) => byName.get(n)!).sort((a, b) => (b.endpoints ?? []).length - (a.endpoints ?? []).length);
    for (const slice of fullestFirst) {
      slice.endpoints ??= [];
      while (desired.size && slice.endpoints.length < max) slice.endpoints.push(popFirst(desired));
    }
  }

  const create: Slice[] = [];
  while (desired.size) {
    let fill: Slice | undefined;
    if (desired.size < max && unchanged.size) fill = sliceToFill([...unchanged].map((n) => byName.get(n)!), desired.size, max);
    if (fill) {
      fill = structuredClone(fill);
      byName.set(fill.metadata.name!, fill);
    } else {
      fill = newSlice(svc, ports, addressType);
    }
    fill.endpoints ??= [];
    while (desired.size && fill.endpoints.length < max) fill.endpoints.push(popFirst(desired));
    if (fill.metadata.name) {
      toUpdate.add(fill.metadata.name);
      unchanged.delete(fill.metadata.name);
    } else {
      create.push(fill);
    }
  }
  return { create, update: [...toUpdate].map((n) => byName.get(n)!), remove: [...toRemove].map((n) => byName.get(n)!) };
}

/** The plan for one address type, plus the pods skipped because their node is unknown. */
async function planForAddressType(
  reader: ObjectReader,
  svc: KubeObject,
  pods: readonly KubeObject[],
  existing: Slice[],
  addressType: string,
  max: number,
  skipped: string[],
): Promise<Plan> {
  const plan: Plan = { create: [], update: [], remove: [] };
  const existingByPorts = new Map<string, Slice[]>();
  for (const slice of existing) {
    if (!ownedBy(slice, svc)) {
      plan.remove.push(slice);
      continue;
    }
    const key = portsKey(slice.ports);
    existingByPorts.set(key, [...(existingByPorts.get(key) ?? []), slice]);
  }

  const desired = new Map<string, { ports: SlicePort[]; endpoints: Map<string, SliceEndpoint> }>();
  const publishNotReady = serviceSpec(svc).publishNotReadyAddresses === true;
  for (const pod of pods) {
    if (!shouldPodBeInEndpoints(pod, true)) continue;
    const ports = endpointPorts(svc, pod);
    const key = portsKey(ports);
    let group = desired.get(key);
    if (!group) desired.set(key, (group = { ports, endpoints: new Map() }));
    const nodeName = podSpec(pod).nodeName;
    const node = nodeName ? await reader.get('core/nodes', undefined, nodeName) : undefined;
    if (!node && !publishNotReady) {
      // A pod on an unknown node is left out (and the Service retried) unless not-ready pods are published anyway.
      skipped.push(`skipping Pod ${pod.metadata.name} for Service ${svc.metadata.namespace}/${svc.metadata.name}: Node ${nodeName ?? ''} Not Found`);
      continue;
    }
    const ep = podToEndpoint(pod, node, svc, addressType);
    if (ep.addresses.length) group.endpoints.set(endpointKey(ep), ep);
  }

  for (const [key, group] of desired) {
    const part = planForPorts(svc, existingByPorts.get(key) ?? [], group.endpoints, group.ports, addressType, max);
    plan.create.push(...part.create);
    plan.update.push(...part.update);
    plan.remove.push(...part.remove);
  }
  for (const [key, slices] of existingByPorts) if (!desired.has(key)) plan.remove.push(...slices);

  if (existing.length === plan.remove.length && plan.create.length === 0) {
    const placeholder = newSlice(svc, [], addressType);
    if (plan.remove.length === 1 && isSamePlaceholder(plan.remove[0], placeholder)) plan.remove = [];
    else plan.create.push(placeholder);
  }
  return plan;
}

const terminatingNamespace = (e: unknown): boolean =>
  e instanceof ApiError && e.code === 403 && !!e.status.details?.causes?.some((c) => c.reason === 'NamespaceTerminating');

function stampTriggerTime(slice: Slice, triggerTime: Date | undefined): void {
  const annotations = { ...slice.metadata.annotations };
  if (triggerTime) annotations[TRIGGER_TIME_ANNOTATION] = rfc3339Nano(triggerTime);
  else delete annotations[TRIGGER_TIME_ANNOTATION];
  if (Object.keys(annotations).length) slice.metadata.annotations = annotations;
  else delete slice.metadata.annotations;
}

/** Apply a plan: creates become updates of slices that would be deleted, then create, update, delete. */
async function apply(ctx: ControllerContext, svc: KubeObject, plan: Plan, triggerTime: Date | undefined): Promise<void> {
  const { client } = ctx;
  const where = `${svc.metadata.namespace}/${svc.metadata.name}`;
  const create = [...plan.create];
  const update = [...plan.update];
  const remove = [...plan.remove];
  for (let i = 0; i < remove.length && create.length; ) {
    const old = remove[i];
    const slice = create[create.length - 1];
    if (old.addressType === slice.addressType && ownedBy(old, svc)) {
      slice.metadata.name = old.metadata.name;
      slice.metadata.resourceVersion = old.metadata.resourceVersion;
      create.pop();
      update.push(slice);
      remove.splice(i, 1);
    } else {
      i++;
    }
  }
  // A Service on its way out gets no new slices: the garbage collector is removing them.
  if (!svc.metadata.deletionTimestamp) {
    for (const slice of create) {
      stampTriggerTime(slice, triggerTime);
      try {
        await client.create(SLICES, slice);
      } catch (e) {
        if (terminatingNamespace(e)) return;
        throw new Error(`failed to create EndpointSlice for Service ${where}: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
      }
    }
  }
  for (const slice of update) {
    stampTriggerTime(slice, triggerTime);
    try {
      await client.update(SLICES, slice);
    } catch (e) {
      throw new Error(`failed to update ${slice.metadata.name} EndpointSlice for Service ${where}: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
    }
  }
  for (const slice of remove) {
    try {
      await client.delete(SLICES, slice.metadata.namespace, slice.metadata.name!);
    } catch (e) {
      throw new Error(`failed to delete ${slice.metadata.name} EndpointSlice for Service ${where}: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
    }
  }
}

async function syncService(ctx: ControllerContext, tracker: TriggerTimeTracker, max: number, ref: ObjectRef): Promise<void> {
  const { reader, client } = ctx;
  const namespace = ref.namespace!;
  const managed = { [SERVICE_NAME_LABEL]: ref.name, [SLICE_MANAGED_BY_LABEL]: SLICE_CONTROLLER_NAME };
  const svc = await reader.get('core/services', namespace, ref.name);
  if (!svc) {
    tracker.forget(namespace, ref.name);
    // The garbage collector removes owned slices too; without one running, nothing else would.
    for (const slice of await reader.list(SLICES, { namespace, labels: managed })) await client.delete(SLICES, namespace, slice.metadata.name!);
    return;
  }
  if (!receivesEndpoints(svc)) return;

  const pods = await selectedPods(reader, svc);
  const slices = ((await reader.list(SLICES, { namespace, labels: managed })) as Slice[]).filter((s) => !s.metadata.deletionTimestamp);
  const triggerTime = tracker.compute(svc, pods);

  const types = addressTypesOf(svc);
  const skipped: string[] = [];
  const failures: string[] = [];
  for (const addressType of types) {
    try {
      const plan = await planForAddressType(
        reader,
        svc,
        pods,
        slices.filter((s) => s.addressType === addressType),
        addressType,
        max,
        skipped,
      );
      await apply(ctx, svc, plan, triggerTime);
    } catch (e) {
      failures.push(e instanceof Error ? e.message : String(e));
    }
  }
  for (const slice of slices) {
    if (types.includes(slice.addressType ?? '')) continue;
    try {
      await client.delete(SLICES, namespace, slice.metadata.name!);
    } catch (e) {
      failures.push(`error deleting ${slice.metadata.name} EndpointSlice for Service ${namespace}/${ref.name}: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
  const errors = [...new Set(skipped), ...failures];
  if (errors.length) {
    const message = errors.length === 1 ? errors[0] : `[${errors.join(', ')}]`;
    await ctx.events.record(svc, 'Warning', 'FailedToUpdateEndpointSlices', `Error updating Endpoint Slices for Service ${namespace}/${ref.name}: ${message}`);
    throw new Error(message);
  }
}

/**
 * Nodes matter for the zone of endpoints and for pods whose node was not known yet: a node seen
 * for the first time or with a new zone wakes the Services of the pods on it. Heartbeats do not.
 */
function nodeWatch(): WatchSpec {
  const seen = new Map<string, { uid: string; rv: number; zone: string | undefined }>();
  return {
    resource: 'core/nodes',
    async map(node, reader) {
      const name = node.metadata.name!;
      const uid = node.metadata.uid ?? '';
      const rv = Number(node.metadata.resourceVersion ?? 0);
      const zone = node.metadata.labels?.[ZONE_LABEL];
      const prior = seen.get(name);
      if (prior && prior.uid === uid) {
        if (rv < prior.rv || zone === prior.zone) return [];
      }
      seen.set(name, { uid, rv, zone });
      const refs = new Map<string, ObjectRef>();
      for (const pod of await reader.list('core/pods', { nodeName: name })) {
        for (const ref of await servicesSelectingPod(reader, pod)) refs.set(`${ref.namespace}/${ref.name}`, ref);
      }
      return [...refs.values()];
    },
  };
}

/** The controller with a different slice size (Kubernetes' --max-endpoints-per-slice). */
export function endpointSliceControllerWith(opts: { maxEndpointsPerSlice?: number } = {}): ControllerDef {
  const max = opts.maxEndpointsPerSlice ?? MAX_ENDPOINTS_PER_SLICE;
  return {
    name: 'endpoint-slice-controller',
    resources: ['core/services'],
    watches: [
      { resource: 'core/pods', map: (pod, reader) => servicesSelectingPod(reader, pod) },
      {
        resource: SLICES,
        map: (slice) => {
          const service = slice.metadata.labels?.[SERVICE_NAME_LABEL];
          if (!service || slice.metadata.labels?.[SLICE_MANAGED_BY_LABEL] !== SLICE_CONTROLLER_NAME) return [];
          return [{ resource: 'core/services', namespace: slice.metadata.namespace, name: service }];
        },
      },
      nodeWatch(),
    ],
    workers: 4,
    setup: (ctx) => {
      const tracker = new TriggerTimeTracker();
      return (ref) => syncService(ctx, tracker, max, ref);
    },
  };
}

export const endpointSliceController: ControllerDef = endpointSliceControllerWith();
