// How controllers read state. In-process the reads come from an informer cache kept current by
// one store watch (cache.ts); on Lambda they go to the store directly (StoreReader below). Both
// return shared objects: never change what a read returned, clone it first.
import type { KubeObject } from '../../api/kind.js';
import { decodeFromStore } from '../../apiserver/codec.js';
import type { Store } from '../../store/contract.js';
import { storeKeyOf, type Resource } from './types.js';

export interface ListFilter {
  namespace?: string;
  /** Only objects with an ownerReference of this uid. */
  ownerUid?: string;
  /** Only pods bound to this node (spec.nodeName); '' lists unbound pods. */
  nodeName?: string;
  /** Only objects whose labels match all of these. */
  labels?: Record<string, string>;
}

export type ChangeListener = (type: 'ADDED' | 'MODIFIED' | 'DELETED', obj: KubeObject, old: KubeObject | undefined) => void;

export interface ObjectReader {
  get(resource: Resource, namespace: string | undefined, name: string): Promise<KubeObject | undefined>;
  list(resource: Resource, filter?: ListFilter): Promise<KubeObject[]>;
  /**
   * In-process only: be told of every change of `resource` after the current content (which is
   * delivered first as ADDED). For controllers that keep derived state, such as the scheduler's
   * node view. Returns a function that stops the listener. Absent on direct readers.
   */
  subscribe?(resource: Resource, listener: ChangeListener): () => void;
}

export function matchesFilter(obj: KubeObject, f: ListFilter | undefined): boolean {
  if (!f) return true;
  if (f.namespace !== undefined && obj.metadata.namespace !== f.namespace) return false;
  if (f.ownerUid !== undefined && !obj.metadata.ownerReferences?.some((o) => o.uid === f.ownerUid)) return false;
  if (f.nodeName !== undefined && ((obj.spec as { nodeName?: string } | undefined)?.nodeName ?? '') !== f.nodeName) return false;
  if (f.labels) {
    const labels = obj.metadata.labels ?? {};
    for (const [k, v] of Object.entries(f.labels)) if (labels[k] !== v) return false;
  }
  return true;
}

/** Reads straight from the store: always current, costs a store read per call (the Lambda worker's reader). */
export class StoreReader implements ObjectReader {
  constructor(private readonly store: Store) {}

  async get(resource: Resource, namespace: string | undefined, name: string): Promise<KubeObject | undefined> {
    const kv = await this.store.get(storeKeyOf({ resource, namespace, name }));
    return kv ? decodeFromStore(kv) : undefined;
  }

  async list(resource: Resource, filter?: ListFilter): Promise<KubeObject[]> {
    const prefix = filter?.namespace ? `/registry/${resource}/${filter.namespace}/` : `/registry/${resource}/`;
    const out: KubeObject[] = [];
    let startAfter: string | undefined;
    for (;;) {
      const page = await this.store.list({ prefix, startAfter, limit: 1000 });
      for (const kv of page.items) {
        const obj = decodeFromStore(kv);
        if (matchesFilter(obj, filter)) out.push(obj);
      }
      if (!page.more || !page.items.length) return out;
      startAfter = page.items[page.items.length - 1].key;
    }
  }
}
