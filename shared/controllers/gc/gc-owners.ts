// Owner references as the garbage collector judges them: each owner is solid (exists under that
// uid), dangling (absent, or its name now belongs to an object with another uid) or waiting (being
// deleted in the foreground, i.e. waiting for its dependents to go first). Owners are matched by
// uid only: an owner re-created under the same name is a different object.
import type { KubeObject } from '../../api/kind.js';
import type { GcKind, GcKinds } from './gc-kinds.js';
import type { ObjectReader } from '../runtime/reader.js';

export const FINALIZER_FOREGROUND = 'foregroundDeletion';
export const FINALIZER_ORPHAN = 'orphan';

export interface OwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller?: boolean;
  blockOwnerDeletion?: boolean;
}

export function ownerReferencesOf(obj: KubeObject): OwnerReference[] {
  return (obj.metadata.ownerReferences ?? []) as unknown as OwnerReference[];
}

export const hasFinalizer = (obj: KubeObject, f: string): boolean => !!obj.metadata.finalizers?.includes(f);

/** Being deleted in the foreground: its dependents go first. */
export const isDeletingDependents = (obj: KubeObject): boolean => !!obj.metadata.deletionTimestamp && hasFinalizer(obj, FINALIZER_FOREGROUND);

export type Classification =
  | { kind: 'classified'; solid: OwnerReference[]; dangling: OwnerReference[]; waiting: OwnerReference[]; crossNamespace: OwnerReference[] }
  /** An owner of a kind this server does not serve: nothing can be decided. */
  | { kind: 'unresolvable'; ref: OwnerReference }
  /** A cluster-scoped object naming a namespaced owner: never valid. */
  | { kind: 'invalid'; ref: OwnerReference };

export class OwnerResolver {
  constructor(
    private readonly kinds: GcKinds,
    /** The (possibly cached) reader for collected resources. */
    private readonly reader: ObjectReader,
    /** A reader straight from the store, to confirm an owner really is gone. */
    private readonly live: ObjectReader,
  ) {}

  private async lookup(kind: GcKind, namespace: string | undefined, name: string, fresh: boolean): Promise<KubeObject | undefined> {
    const ns = kind.namespaced ? namespace : undefined;
    const reader = fresh || !this.kinds.isCollected(kind.resource) ? this.live : this.reader;
    return reader.get(kind.resource, ns, name);
  }

  /** The owner `ref` names for an object in `namespace`, when it exists under that uid. */
  async owner(ref: OwnerReference, namespace: string | undefined): Promise<{ kind: GcKind; owner?: KubeObject } | undefined> {
    const kind = this.kinds.ofOwner(ref.apiVersion, ref.kind);
    if (!kind) return undefined;
    const cached = await this.lookup(kind, namespace, ref.name, false);
    if (cached?.metadata.uid === ref.uid) return { kind, owner: cached };
    // Absent (or another uid) in the cache: the store has the last word before anything is deleted.
    const fresh = await this.lookup(kind, namespace, ref.name, true);
    return { kind, owner: fresh?.metadata.uid === ref.uid ? fresh : undefined };
  }

  async classify(item: KubeObject, itemNamespaced: boolean): Promise<Classification> {
    const solid: OwnerReference[] = [];
    const dangling: OwnerReference[] = [];
    const waiting: OwnerReference[] = [];
    const crossNamespace: OwnerReference[] = [];
    for (const ref of ownerReferencesOf(item)) {
      const kind = this.kinds.ofOwner(ref.apiVersion, ref.kind);
      if (!kind) return { kind: 'unresolvable', ref };
      if (!itemNamespaced && kind.namespaced) return { kind: 'invalid', ref };
      const found = await this.owner(ref, item.metadata.namespace);
      if (!found?.owner) {
        dangling.push(ref);
        if (kind.namespaced && (await this.existsElsewhere(kind, ref.uid, item.metadata.namespace))) crossNamespace.push(ref);
      } else if (isDeletingDependents(found.owner)) waiting.push(ref);
      else solid.push(ref);
    }
    return { kind: 'classified', solid, dangling, waiting, crossNamespace };
  }

  /** Whether an object with this uid lives in another namespace (an owner reference across namespaces). */
  private async existsElsewhere(kind: GcKind, uid: string, namespace: string | undefined): Promise<boolean> {
    const reader = this.kinds.isCollected(kind.resource) ? this.reader : this.live;
    return (await reader.list(kind.resource)).some((o) => o.metadata.uid === uid && o.metadata.namespace !== namespace);
  }
}

/** Kubernetes' objectReference string, as its garbage collector prints owners in events. */
export function describeOwner(ref: OwnerReference, namespace: string | undefined): string {
  return `[${ref.apiVersion}/${ref.kind}, namespace: ${namespace ?? ''}, name: ${ref.name}, uid: ${ref.uid}]`;
}
