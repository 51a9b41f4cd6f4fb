// The Service side shared by the Endpoints and EndpointSlice controllers: which Services get
// endpoints from a controller, the pods a Service selects, and the Services a pod belongs to
// (how pod changes wake both controllers).
import type { KubeObject } from '../../api/kind.js';
import { serviceSpec } from './endpoints-pod.js';
import type { ObjectReader } from '../runtime/reader.js';
import type { ObjectRef } from '../runtime/types.js';

/** Label marking Endpoints and EndpointSlices of a Service without a cluster IP. */
export const HEADLESS_LABEL = 'service.kubernetes.io/headless';
/** When the change that led to this endpoints object's content happened (RFC 3339). */
export const TRIGGER_TIME_ANNOTATION = 'endpoints.kubernetes.io/last-change-trigger-time';
export const ZONE_LABEL = 'topology.kubernetes.io/zone';

/** The Service's selector; undefined for selector-less Services (an empty map selects nothing either). */
export function selectorOf(svc: KubeObject): Record<string, string> | undefined {
  const selector = serviceSpec(svc).selector;
  return selector && Object.keys(selector).length > 0 ? selector : undefined;
}

/** ExternalName and selector-less Services get no endpoints from the controllers. */
export function receivesEndpoints(svc: KubeObject): boolean {
  return serviceSpec(svc).type !== 'ExternalName' && selectorOf(svc) !== undefined;
}

export function isServiceIPSet(svc: KubeObject): boolean {
  const ip = serviceSpec(svc).clusterIP;
  return !!ip && ip !== 'None';
}

function matches(selector: Record<string, string>, labels: Record<string, string> | undefined): boolean {
  for (const [k, v] of Object.entries(selector)) if (labels?.[k] !== v) return false;
  return true;
}

/** Pods in the Service's namespace whose labels match its selector. */
export async function selectedPods(reader: ObjectReader, svc: KubeObject): Promise<KubeObject[]> {
  const selector = selectorOf(svc);
  if (!selector) return [];
  return reader.list('core/pods', { namespace: svc.metadata.namespace, labels: selector });
}

/** Watch mapping: a pod wakes every Service of its namespace whose selector matches its labels. */
export async function servicesSelectingPod(reader: ObjectReader, pod: KubeObject): Promise<ObjectRef[]> {
  const namespace = pod.metadata.namespace;
  if (!namespace) return [];
  const services = await reader.list('core/services', { namespace });
  const refs: ObjectRef[] = [];
  for (const svc of services) {
    const selector = selectorOf(svc);
    if (selector && matches(selector, pod.metadata.labels)) refs.push({ resource: 'core/services', namespace, name: svc.metadata.name! });
  }
  return refs;
}

/** Go's RFC3339Nano in UTC: fractional seconds only when present, without trailing zeros. */
export function rfc3339Nano(d: Date): string {
  return d.toISOString().replace(/\.(\d*?)0*Z$/, (_m, frac: string) => (frac ? `.${frac}Z` : 'Z'));
}
