// The in-process informer cache: every object of the resources controllers need, kept current by
// ONE store watch over /registry/ (kine's single log makes that cheap), indexed by namespace,
// owner uid and node. Its revision tells how far it has caught up, so a controller that just
// wrote at revision R can wait until the cache has seen R before it reads again.
import type { KubeObject } from '../../api/kind.js';
import { decodeFromStore } from '../../apiserver/codec.js';
import type { Logger } from '../../apiserver/logger.js';
import type { KeyValue, Store, Watch, WatchEvent } from '../../store/contract.js';
import { matchesFilter, type ChangeListener, type ListFilter, type ObjectReader } from './reader.js';
import { refOfStoreKey, storeKeyOf, type Resource } from './types.js';

export type CacheEventHandler = (resource: Resource, type: 'ADDED' | 'MODIFIED' | 'DELETED', obj: KubeObject, old: KubeObject | undefined) => void;

class ResourceCache {
  readonly objects = new Map<string, KubeObject>();
  private readonly indexes = new Map<string, Set<string>>();

  put(key: string, obj: KubeObject): KubeObject | undefined {
    const old = this.objects.get(key);
    if (old) this.unindex(key, old);
    this.objects.set(key, obj);
    for (const ix of indexKeys(obj)) {
      let set = this.indexes.get(ix);
      if (!set) this.indexes.set(ix, (set = new Set()));
      set.add(key);
    }
    return old;
  }

  remove(key: string): KubeObject | undefined {
    const old = this.objects.get(key);
    if (!old) return undefined;
    this.unindex(key, old);
    this.objects.delete(key);
    return old;
  }

  /** Candidate keys for a filter from the narrowest index it names; undefined = scan everything. */
  candidates(f: ListFilter | undefined): Iterable<string> | undefined {
    if (!f) return undefined;
    if (f.ownerUid !== undefined) return this.indexes.get(`owner:${f.ownerUid}`) ?? [];
    if (f.nodeName !== undefined) return this.indexes.get(`node:${f.nodeName}`) ?? [];
    if (f.namespace !== undefined) return this.indexes.get(`ns:${f.namespace}`) ?? [];
    return undefined;
  }

  private unindex(key: string, obj: KubeObject): void {
    for (const ix of indexKeys(obj)) {
      const set = this.indexes.get(ix);
      if (!set) continue;
      set.delete(key);
      if (!set.size) this.indexes.delete(ix);
    }
  }
}

function indexKeys(obj: KubeObject): string[] {
  const keys: string[] = [];
  if (obj.metadata.namespace) keys.push(`ns:${obj.metadata.namespace}`);
  for (const o of obj.metadata.ownerReferences ?? []) if (typeof o.uid === 'string') keys.push(`owner:${o.uid}`);
  if (obj.kind === 'Pod') keys.push(`node:${(obj.spec as { nodeName?: string } | undefined)?.nodeName ?? ''}`);
  return keys;
}

export class InformerCache implements ObjectReader {
  private readonly caches = new Map<Resource, ResourceCache>();
  private readonly listeners = new Map<Resource, Set<ChangeListener>>();
  private readonly handlers: CacheEventHandler[] = [];
  private watch?: Watch;
  private revision = 0;
  private waiters: { rev: number; resolve: () => void }[] = [];
  private stopped = false;

  constructor(
    private readonly store: Store,
    resources: Iterable<Resource>,
    private readonly log: Logger,
  ) {
    for (const r of resources) this.caches.set(r, new ResourceCache());
  }

  /** The revision up to which every change has been applied. */
  get rev(): number {
    return this.revision;
  }

  /** Called for every change of a cached resource, after the cache applied it. */
  onEvent(handler: CacheEventHandler): void {
    this.handlers.push(handler);
  }

  /** Load every cached resource at one revision, then follow the store from there. */
  async start(): Promise<void> {
    await this.load(false);
  }

  stop(): void {
    this.stopped = true;
    this.watch?.close();
    for (const w of this.waiters) w.resolve();
    this.waiters = [];
  }

  /** Resolves once the cache reflects every write up to `rev` (at once if it already does). */
  waitForRev(rev: number): Promise<void> {
    if (rev <= this.revision || this.stopped) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ rev, resolve }));
  }

  async get(resource: Resource, namespace: string | undefined, name: string): Promise<KubeObject | undefined> {
    return this.getNow(resource, namespace, name);
  }

  getNow(resource: Resource, namespace: string | undefined, name: string): KubeObject | undefined {
    return this.cacheOf(resource).objects.get(storeKeyOf({ resource, namespace, name }));
  }

  async list(resource: Resource, filter?: ListFilter): Promise<KubeObject[]> {
    return this.listNow(resource, filter);
  }

  listNow(resource: Resource, filter?: ListFilter): KubeObject[] {
    const cache = this.cacheOf(resource);
    const candidates = cache.candidates(filter);
    const out: KubeObject[] = [];
    if (candidates) {
      for (const key of candidates) {
        const obj = cache.objects.get(key);
        if (obj && matchesFilter(obj, filter)) out.push(obj);
      }
    } else {
      for (const obj of cache.objects.values()) if (matchesFilter(obj, filter)) out.push(obj);
    }
    return out;
  }

  subscribe(resource: Resource, listener: ChangeListener): () => void {
    const cache = this.cacheOf(resource);
    for (const obj of cache.objects.values()) listener('ADDED', obj, undefined);
    let set = this.listeners.get(resource);
    if (!set) this.listeners.set(resource, (set = new Set()));
    set.add(listener);
    return () => set!.delete(listener);
  }

  private cacheOf(resource: Resource): ResourceCache {
    const cache = this.caches.get(resource);
    if (!cache) throw new Error(`resource ${resource} is not cached: declare it in the controller's resources, watches or reads`);
    return cache;
  }

  /** (Re)load at one snapshot; on a reload, changes against the old content are reported as events. */
  private async load(reload: boolean): Promise<void> {
    const rev = await this.store.currentRev();
    for (const [resource, cache] of this.caches) {
      const seen = new Set<string>();
      let startAfter: string | undefined;
      for (;;) {
        const page = await this.store.list({ prefix: `/registry/${resource}/`, rev, startAfter, limit: 5000 });
        for (const kv of page.items) {
          seen.add(kv.key);
          const old = cache.objects.get(kv.key);
          if (old && old.metadata.resourceVersion === String(kv.rev)) continue;
          this.apply(resource, cache, kv, old ? 'MODIFIED' : 'ADDED');
        }
        if (!page.more || !page.items.length) break;
        startAfter = page.items[page.items.length - 1].key;
      }
      if (reload) for (const key of [...cache.objects.keys()]) if (!seen.has(key)) this.applyDelete(resource, cache, key);
    }
    this.advance(rev);
    if (this.stopped) return;
    this.watch = this.store.watch({
      prefix: '/registry/',
      afterRev: rev,
      onEvents: (events) => this.onEvents(events),
      onProgress: (r) => this.advance(r),
      onError: (err) => {
        this.log.warn({ err: err.message }, 'controller cache watch ended: reloading');
        this.watch?.close();
        this.load(true).catch((e: unknown) => this.log.error({ err: String(e) }, 'controller cache reload failed'));
      },
    });
  }

  private onEvents(events: WatchEvent[]): void {
    for (const ev of events) {
      const ref = refOfStoreKey(ev.key);
      const cache = ref && this.caches.get(ref.resource);
      if (cache) {
        if (ev.type === 'DELETE') this.applyDelete(ref.resource, cache, ev.key);
        else this.apply(ref.resource, cache, ev.kv, ev.created ? 'ADDED' : 'MODIFIED');
      }
    }
    if (events.length) this.advance(events[events.length - 1].kv.rev);
  }

  private apply(resource: Resource, cache: ResourceCache, kv: KeyValue, type: 'ADDED' | 'MODIFIED'): void {
    let obj: KubeObject;
    try {
      obj = decodeFromStore(kv);
    } catch (err) {
      this.log.error({ key: kv.key, err: String(err) }, 'unreadable stored object skipped by the controller cache');
      return;
    }
    const old = cache.put(kv.key, obj);
    this.emit(resource, old ? 'MODIFIED' : type === 'MODIFIED' ? 'ADDED' : type, obj, old);
  }

  private applyDelete(resource: Resource, cache: ResourceCache, key: string): void {
    const old = cache.remove(key);
    if (old) this.emit(resource, 'DELETED', old, old);
  }

  private emit(resource: Resource, type: 'ADDED' | 'MODIFIED' | 'DELETED', obj: KubeObject, old: KubeObject | undefined): void {
    for (const l of this.listeners.get(resource) ?? []) {
      try {
        l(type, obj, type === 'ADDED' ? undefined : old);
      } catch (err) {
        this.log.error({ resource, err: String(err) }, 'cache listener failed');
      }
    }
    for (const h of this.handlers) h(resource, type, obj, type === 'ADDED' ? undefined : old);
  }

  private advance(rev: number): void {
    if (rev <= this.revision) return;
    this.revision = rev;
    if (!this.waiters.length) return;
    const still: typeof this.waiters = [];
    for (const w of this.waiters) (w.rev <= rev ? w.resolve() : still.push(w));
    this.waiters = still;
  }
}
