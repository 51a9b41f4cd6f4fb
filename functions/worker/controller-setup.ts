// Each controller's context on Lambda, built once per execution environment: reads go straight
// to the store (no informer cache: every reconcile sees the current state, including this
// environment's own writes), writes go through the in-process API server storage.
import type { Registry } from '../../shared/api/registry.js';
import type { Logger } from '../../shared/apiserver/logger.js';
import type { NamespaceLifecycle } from '../../shared/apiserver/namespace-lifecycle.js';
import type { RestStorage } from '../../shared/apiserver/rest.js';
import { RestClient } from '../../shared/controllers/runtime/client.js';
import { createEventRecorder } from '../../shared/controllers/runtime/events.js';
import { StoreReader } from '../../shared/controllers/runtime/reader.js';
import type { ControllerContext, ControllerDef, Reconcile } from '../../shared/controllers/runtime/types.js';
import type { Store } from '../../shared/store/contract.js';

export interface ControllerEnvironment {
  store: Store;
  registry: Registry;
  rest: RestStorage;
  namespaces: NamespaceLifecycle;
  log: Logger;
  clock?: () => Date;
}

/** Reconcile functions by controller name. */
export function setupControllers(defs: readonly ControllerDef[], env: ControllerEnvironment): Map<string, Reconcile> {
  const clock = env.clock ?? (() => new Date());
  const reader = new StoreReader(env.store);
  const byName = new Map<string, Reconcile>();
  for (const def of defs) {
    if (byName.has(def.name)) throw new Error(`two controllers are named ${def.name}`);
    // Field managers as the in-process driver names them (kube-scheduler for the scheduler).
    const client = new RestClient(env.rest, env.registry, env.store, def.name === 'scheduler' ? 'kube-scheduler' : 'kube-controller-manager');
    const log = env.log.child({ controller: def.name });
    const ctx: ControllerContext = {
      reader,
      client,
      events: createEventRecorder(client, log, clock, def.name),
      log,
      clock,
      registry: env.registry,
      store: env.store,
      rest: env.rest,
      namespaces: env.namespaces,
    };
    byName.set(def.name, def.setup(ctx));
  }
  return byName;
}
