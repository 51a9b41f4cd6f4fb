// What a controller is: a pure reconcile function over object references plus a declaration of
// which changes wake it. Queues, caches, rate limits and drivers (in-process or SQS) live outside.
import type { KubeObject } from '../../api/kind.js';
import type { Registry } from '../../api/registry.js';
import type { Logger } from '../../apiserver/logger.js';
import type { NamespaceLifecycle } from '../../apiserver/namespace-lifecycle.js';
import type { RestStorage } from '../../apiserver/rest.js';
import type { Store } from '../../store/contract.js';
import type { ApiClient } from './client.js';
import type { EventRecorder } from './events.js';
import type { ObjectReader } from './reader.js';

/** A resource as the store names it: "<group or core>/<plural>", e.g. "core/pods", "apps/deployments". */
export type Resource = string;

/** One object a controller is asked to reconcile. */
export interface ObjectRef {
  resource: Resource;
  namespace?: string;
  name: string;
}

export interface ReconcileResult {
  /** Reconcile this object again after this many milliseconds (even without a change). */
  requeueAfter?: number;
}

/** Level-triggered and idempotent; throwing means "retry later with backoff". */
export type Reconcile = (ref: ObjectRef) => Promise<ReconcileResult | void>;

/** A change of `resource` wakes the controller for the objects `map` returns (new and old object both mapped). */
export interface WatchSpec {
  resource: Resource;
  map(obj: KubeObject, reader: ObjectReader): ObjectRef[] | Promise<ObjectRef[]>;
}

export interface ControllerDef {
  name: string;
  /** Primary resources: a change of one of these objects reconciles that object. */
  resources: readonly Resource[];
  /** Secondary resources whose changes are mapped onto primary objects (e.g. pod -> owning ReplicaSet). */
  watches?: readonly WatchSpec[];
  /** Resources it reads through ctx.reader besides the above (the in-process cache keeps them too). */
  reads?: readonly Resource[];
  /** Reconciles of different objects allowed at once in-process (default 4). One object is never reconciled twice at once. */
  workers?: number;
  /** Builds the reconcile function once per execution environment. */
  setup(ctx: ControllerContext): Reconcile;
}

export interface ControllerContext {
  /** Cached (in-process) or direct (Lambda) reads; objects are shared: clone before changing them. */
  reader: ObjectReader;
  /** Writes through the API server's storage: same defaulting, validation and admission as API calls. */
  client: ApiClient;
  events: EventRecorder;
  log: Logger;
  clock: () => Date;
  registry: Registry;
  store: Store;
  rest: RestStorage;
  namespaces: NamespaceLifecycle;
}

/** The queue key of a reference: "<resource>|<namespace>/<name>" (namespace empty when cluster-scoped). */
export function refKey(ref: ObjectRef): string {
  return `${ref.resource}|${ref.namespace ?? ''}/${ref.name}`;
}

export function parseRefKey(key: string): ObjectRef {
  const bar = key.indexOf('|');
  const resource = key.slice(0, bar);
  const rest = key.slice(bar + 1);
  const cut = rest.indexOf('/');
  const namespace = rest.slice(0, cut);
  return { resource, ...(namespace ? { namespace } : {}), name: rest.slice(cut + 1) };
}

/** The reference of an object of `resource`. */
export function refOf(resource: Resource, obj: KubeObject): ObjectRef {
  return { resource, ...(obj.metadata.namespace ? { namespace: obj.metadata.namespace } : {}), name: obj.metadata.name! };
}

/** Store key of a reference, as /registry/<group or core>/<plural>/[<ns>/]<name>. */
export function storeKeyOf(ref: ObjectRef): string {
  return ref.namespace ? `/registry/${ref.resource}/${ref.namespace}/${ref.name}` : `/registry/${ref.resource}/${ref.name}`;
}

/** The resource and reference of a store key (namespaced when the key has four segments after /registry/). */
export function refOfStoreKey(key: string): ObjectRef | undefined {
  const parts = key.split('/');
  // ['', 'registry', group, plural, ns?, name]
  if (parts.length === 5) return { resource: `${parts[2]}/${parts[3]}`, name: parts[4] };
  if (parts.length === 6) return { resource: `${parts[2]}/${parts[3]}`, namespace: parts[4], name: parts[5] };
  return undefined;
}
