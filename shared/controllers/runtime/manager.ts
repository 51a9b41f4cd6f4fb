// The in-process driver (what `stratus start` runs, like kube-controller-manager inside k3s): one
// informer cache fed by one store watch, one work queue per controller, a few workers each.
// Changes of primary resources enqueue the object itself; changes of watched resources are mapped
// onto primary objects. Before each reconcile the cache catches up with every write this process
// made, so a controller never acts on a view older than its own last write.
import type { KubeObject } from '../../api/kind.js';
import type { Registry } from '../../api/registry.js';
import type { Logger } from '../../apiserver/logger.js';
import type { NamespaceLifecycle } from '../../apiserver/namespace-lifecycle.js';
import type { RestStorage } from '../../apiserver/rest.js';
import type { Store } from '../../store/contract.js';
import { InformerCache } from './cache.js';
import { RestClient } from './client.js';
import { createEventRecorder } from './events.js';
import { WorkQueue } from './queue.js';
import { LeaderElector, type LeaderElectionOptions } from './leader.js';
import { StoreReader } from './reader.js';
import { parseRefKey, refKey, refOf, type ControllerContext, type ControllerDef, type ObjectRef, type Reconcile, type Resource } from './types.js';

export interface ManagerOptions {
  store: Store;
  registry: Registry;
  rest: RestStorage;
  namespaces: NamespaceLifecycle;
  log: Logger;
  controllers: readonly ControllerDef[];
  clock?: () => Date;
  /** Run reconciles only while holding the kube-system Lease (for several processes on one store). */
  leaderElection?: LeaderElectionOptions;
}

interface Running {
  def: ControllerDef;
  queue: WorkQueue;
  reconcile: Reconcile;
  workers: Promise<void>[];
}

/** Every resource a set of controllers reads, reconciles or watches (what the cache must hold). */
export function resourcesOf(controllers: readonly ControllerDef[]): Set<Resource> {
  const set = new Set<Resource>();
  for (const c of controllers) {
    for (const r of c.resources) set.add(r);
    for (const w of c.watches ?? []) set.add(w.resource);
    for (const r of c.reads ?? []) set.add(r);
  }
  return set;
}

export class ControllerManager {
  readonly cache: InformerCache;
  private readonly running: Running[] = [];
  private readonly clients: RestClient[] = [];
  private stopped = false;
  private idleWaiters: (() => void)[] = [];
  private inFlight = 0;
  private lastYield = 0;
  readonly elector?: LeaderElector;

  constructor(private readonly opts: ManagerOptions) {
    this.cache = new InformerCache(opts.store, resourcesOf(opts.controllers), opts.log);
    if (opts.leaderElection) {
      const client = new RestClient(opts.rest, opts.registry, opts.store, 'kube-controller-manager');
      this.elector = new LeaderElector(client, new StoreReader(opts.store), opts.log, opts.clock ?? (() => new Date()), opts.leaderElection);
    }
  }

  async start(): Promise<void> {
    const { opts } = this;
    const clock = opts.clock ?? (() => new Date());
    for (const def of opts.controllers) {
      const client = new RestClient(opts.rest, opts.registry, opts.store, def.name === 'scheduler' ? 'kube-scheduler' : 'kube-controller-manager');
      this.clients.push(client);
      const log = opts.log.child({ controller: def.name });
      const ctx: ControllerContext = {
        reader: this.cache,
        client,
        events: createEventRecorder(client, log, clock, def.name),
        log,
        clock,
        registry: opts.registry,
        store: opts.store,
        rest: opts.rest,
        namespaces: opts.namespaces,
      };
      this.running.push({ def, queue: new WorkQueue(), reconcile: def.setup(ctx), workers: [] });
    }
    this.cache.onEvent((resource, _type, obj, old) => this.route(resource, obj, old));
    await this.cache.start();
    this.elector?.start();
    for (const r of this.running) {
      const n = Math.max(1, r.def.workers ?? 4);
      for (let i = 0; i < n; i++) r.workers.push(this.work(r));
    }
    opts.log.info({ controllers: this.running.map((r) => r.def.name) }, 'controllers started');
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.elector?.stop();
    this.cache.stop();
    for (const r of this.running) r.queue.shutDown();
    await Promise.all(this.running.flatMap((r) => r.workers));
  }

  /** Resolves when every queue is empty and no reconcile runs (requeues scheduled for later do not count). */
  whenIdle(): Promise<void> {
    if (this.isIdle()) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Queue a reconcile of `ref` by the named controller (tests and tools). */
  enqueue(controller: string, ref: ObjectRef): void {
    this.running.find((r) => r.def.name === controller)?.queue.add(refKey(ref));
  }

  private isIdle(): boolean {
    return this.inFlight === 0 && this.running.every((r) => r.queue.idle);
  }

  private route(resource: Resource, obj: KubeObject, old: KubeObject | undefined): void {
    for (const r of this.running) {
      if (r.def.resources.includes(resource)) r.queue.add(refKey(refOf(resource, obj)));
      for (const w of r.def.watches ?? []) {
        if (w.resource !== resource) continue;
        for (const o of old && old !== obj ? [obj, old] : [obj]) {
          try {
            const refs = w.map(o, this.cache);
            if (Array.isArray(refs)) for (const ref of refs) r.queue.add(refKey(ref));
            else refs.then((list) => list.forEach((ref) => r.queue.add(refKey(ref)))).catch((err: unknown) => this.opts.log.error({ controller: r.def.name, err: String(err) }, 'watch mapping failed'));
          } catch (err) {
            this.opts.log.error({ controller: r.def.name, resource, err: String(err) }, 'watch mapping failed');
          }
        }
      }
    }
  }

  private async work(r: Running): Promise<void> {
    for (;;) {
      // SQLite writes complete synchronously and cache events arrive as microtasks, so a burst of
      // reconciles could keep the event loop from timers and HTTP requests: yield every ~10 ms.
      if (performance.now() - this.lastYield > 10) {
        await new Promise((resolve) => setImmediate(resolve));
        this.lastYield = performance.now();
      }
      if (this.stopped) return;
      if (this.elector && !this.elector.isLeader) {
        await this.elector.whenLeading();
        continue;
      }
      const key = await r.queue.get();
      if (key === undefined) return;
      if (this.elector && !this.elector.isLeader) {
        // Leadership was lost while waiting: leave the key for whoever leads next.
        r.queue.done(key);
        r.queue.add(key);
        continue;
      }
      this.inFlight++;
      try {
        await this.cache.waitForRev(Math.max(...this.clients.map((c) => c.lastWriteRev)));
        if (this.stopped) return;
        const result = await r.reconcile(parseRefKey(key));
        r.queue.forget(key);
        if (result?.requeueAfter && result.requeueAfter > 0) r.queue.addAfter(key, result.requeueAfter);
      } catch (err) {
        const failures = r.queue.failuresOf(key);
        const log = failures >= 5 ? this.opts.log.warn.bind(this.opts.log) : this.opts.log.debug.bind(this.opts.log);
        log({ controller: r.def.name, key, failures: failures + 1, err: err instanceof Error ? err.message : String(err) }, 'reconcile failed; retrying with backoff');
        r.queue.addRateLimited(key);
      } finally {
        r.queue.done(key);
        this.inFlight--;
        if (this.idleWaiters.length && this.isIdle()) {
          // Let cache events from the last writes land before declaring idle.
          setImmediate(() => {
            if (!this.isIdle()) return;
            for (const w of this.idleWaiters.splice(0)) w();
          });
        }
      }
    }
  }
}
