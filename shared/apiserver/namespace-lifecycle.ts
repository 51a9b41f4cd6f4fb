// Namespace lifecycle as kube-apiserver's admission plugin and namespace controller do it:
// objects may only be created in an existing, non-terminating namespace; deleting a namespace
// marks it Terminating, removes everything in it, then removes the namespace.
import type { KindDef, KubeObject } from '../api/kind.js';
import type { Registry } from '../api/registry.js';
import { StoreError, type Store } from '../store/contract.js';
import { decodeFromStore, encodeForStore } from './codec.js';
import { errors } from './errors.js';
import { collectionPrefix, objectKey } from './keys.js';
import type { Logger } from './logger.js';
import { hooksKey, type StorageHooks } from './rest.js';

export class NamespaceLifecycle {
  private readonly finalizing = new Set<string>();
  /** Namespace name -> phase, kept current by a watch (an informer, as kube-apiserver's admission uses). */
  private readonly phases = new Map<string, string>();
  private watch?: { close(): void };

  constructor(
    private readonly store: Store,
    private readonly registry: Registry,
    private readonly log: Logger,
    private readonly hooks: ReadonlyMap<string, StorageHooks> = new Map(),
  ) {}

  private get namespaceDef(): KindDef {
    return this.registry.resource('', 'v1', 'namespaces')!;
  }

  /** Fill the namespace cache and keep it current. */
  async start(): Promise<void> {
    const prefix = collectionPrefix(this.namespaceDef);
    const { items, rev } = await this.store.list({ prefix });
    for (const kv of items) this.phases.set(nameOf(kv.key), phaseOf(kv.value));
    this.watch = this.store.watch({
      prefix,
      afterRev: rev,
      onEvents: (events) => {
        for (const ev of events) {
          if (ev.type === 'DELETE') this.phases.delete(nameOf(ev.key));
          else this.phases.set(nameOf(ev.key), phaseOf(ev.kv.value));
        }
      },
      onError: () => this.phases.clear(),
    });
  }

  stop(): void {
    this.watch?.close();
  }

  /** Refuse creation in a missing (404) or terminating (403) namespace. */
  async admitCreate(def: KindDef, obj: KubeObject): Promise<void> {
    const ns = obj.metadata.namespace;
    if (!ns) return;
    let phase = this.phases.get(ns);
    if (phase === undefined) {
      // A cache miss may be a namespace created a moment ago: ask the store.
      const kv = await this.store.get(objectKey(this.namespaceDef, undefined, ns));
      if (!kv) throw errors.notFound({ group: '', resource: 'namespaces' }, ns);
      phase = phaseOf(kv.value);
    }
    if (phase === 'Terminating') {
      const message = `unable to create new content in namespace ${ns} because it is being terminated`;
      throw errors.forbidden({ group: def.group, resource: def.plural }, obj.metadata.name ?? '', message, [
        { reason: 'NamespaceTerminating', message, field: 'metadata.namespace' },
      ]);
    }
  }

  /** Begin removing a terminating namespace's content in the background. */
  startFinalizing(name: string): void {
    if (this.finalizing.has(name)) return;
    this.finalizing.add(name);
    setImmediate(() => {
      this.finalize(name)
        .catch((err: unknown) => this.log.error({ err: String(err), namespace: name }, 'namespace finalization failed'))
        .finally(() => this.finalizing.delete(name));
    });
  }

  /** Delete every namespaced object in the namespace, then the namespace itself. */
  async finalize(name: string): Promise<void> {
    for (const def of this.registry.kinds) {
      if (!def.namespaced) continue;
      const { items } = await this.store.list({ prefix: collectionPrefix(def, name) });
      const afterWrite = this.hooks.get(hooksKey(def))?.afterWrite;
      for (const kv of items) {
        try {
          await this.store.delete(kv.key);
          await afterWrite?.(decodeFromStore(kv), undefined);
        } catch (e) {
          if (!(e instanceof StoreError && e.code === 'NotFound')) throw e;
        }
      }
    }
    const key = objectKey(this.namespaceDef, undefined, name);
    for (;;) {
      const kv = await this.store.get(key);
      if (!kv) return;
      const ns = decodeFromStore(kv);
      const spec = (ns.spec ?? {}) as { finalizers?: string[] };
      // Only metadata finalizers left (someone else's to remove): nothing for us to write.
      if (!spec.finalizers?.includes('kubernetes') && ns.metadata.finalizers?.length) return;
      spec.finalizers = (spec.finalizers ?? []).filter((f) => f !== 'kubernetes');
      if (!spec.finalizers.length) delete spec.finalizers;
      ns.spec = spec;
      try {
        if (!ns.metadata.finalizers?.length) await this.store.delete(key, kv.rev);
        else await this.store.update(key, encodeForStore(ns), kv.rev);
        this.log.info({ namespace: name }, 'namespace finalized');
        return;
      } catch (e) {
        if (e instanceof StoreError && e.code === 'Conflict') continue;
        throw e;
      }
    }
  }

  /** Resume finalization of namespaces left Terminating by a previous run. */
  async resumePending(): Promise<void> {
    const { items } = await this.store.list({ prefix: collectionPrefix(this.namespaceDef) });
    for (const kv of items) {
      const ns = decodeFromStore(kv);
      if (ns.metadata.deletionTimestamp) this.startFinalizing(ns.metadata.name!);
    }
  }
}

const nameOf = (key: string): string => key.slice(key.lastIndexOf('/') + 1);
const phaseOf = (value: string): string => (JSON.parse(value) as { status?: { phase?: string } }).status?.phase ?? 'Active';
