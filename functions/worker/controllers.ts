// The controllers the worker can run: reconcile functions looked up by the resource of the key in
// a work message. A controller reads desired and actual state and writes the difference; queueing,
// retries and backoff live in the worker. Issue #4 adds the workload controllers and the scheduler.
import type { Registry } from '../../shared/api/registry.js';
import type { Logger } from '../../shared/apiserver/logger.js';
import type { NamespaceLifecycle } from '../../shared/apiserver/namespace-lifecycle.js';
import type { RestStorage } from '../../shared/apiserver/rest.js';
import { decodeFromStore } from '../../shared/apiserver/codec.js';
import { StoreError, type Store } from '../../shared/store/contract.js';

export interface ReconcileResult {
  /** Reconcile this key again after this many milliseconds (even without a change). */
  requeueAfter?: number;
}

/** Level-triggered and idempotent; throwing means "retry later with backoff". */
export type Reconcile = (key: string) => Promise<ReconcileResult | void>;

export interface ControllerDef {
  name: string;
  /** Resources whose keys it reconciles, as "<group or core>/<plural>" (the store key segments). */
  resources: readonly string[];
  /** Builds the reconcile function once per execution environment. */
  setup(ctx: ControllerContext): Reconcile;
}

export interface ControllerContext {
  store: Store;
  registry: Registry;
  /** The API server's storage: writes get the same defaulting, validation and metadata as API writes. */
  rest: RestStorage;
  namespaces: NamespaceLifecycle;
  log: Logger;
}

/**
 * Removes the content of a Terminating namespace, then the namespace. The API server starts this
 * in the background when a namespace is deleted; on Lambda that background work may be frozen
 * with the execution environment, so the worker finishes it from the namespace's stream change.
 */
export const namespaceFinalizer: ControllerDef = {
  name: 'namespace-finalizer',
  resources: ['core/namespaces'],
  setup:
    ({ store, namespaces }) =>
    async (key) => {
      const kv = await store.get(key);
      if (!kv) return;
      const ns = decodeFromStore(kv);
      if (!ns.metadata.deletionTimestamp) return;
      try {
        await namespaces.finalize(ns.metadata.name!);
      } catch (e) {
        // The API server's own finalizer may have removed it first: then there is nothing left to do.
        if (!(e instanceof StoreError && e.code === 'NotFound')) throw e;
      }
    },
};

export const builtinControllers: readonly ControllerDef[] = [namespaceFinalizer];

/** Resources reconciled by at least one of `controllers`: what the dispatcher should forward. */
export function controllerResources(controllers: readonly ControllerDef[]): string[] {
  return [...new Set(controllers.flatMap((c) => c.resources))].sort();
}
