// The garbage collector (Kubernetes' garbage-collector-controller), over every resource whose
// objects can carry ownerReferences:
//  - background: an object all of whose owners are gone (by uid) is deleted;
//  - foreground: an owner being deleted with the "foregroundDeletion" finalizer gets its
//    dependents deleted, and loses the finalizer once no dependent with blockOwnerDeletion=true
//    remains (the API server then removes it);
//  - orphan: an owner being deleted with the "orphan" finalizer is removed from its dependents'
//    ownerReferences, then loses the finalizer.
// Kubernetes keeps an in-memory graph of all owner links; here the informer cache's owner-uid
// index answers "who depends on X", so the reconcile keeps no graph of its own.
import type { KubeObject } from '../../api/kind.js';
import { builtinRegistry, type Registry } from '../../api/registry.js';
import { isNotFound } from '../runtime/client.js';
import { GcKinds } from './gc-kinds.js';
import {
  describeOwner,
  FINALIZER_FOREGROUND,
  FINALIZER_ORPHAN,
  hasFinalizer,
  isDeletingDependents,
  OwnerResolver,
  ownerReferencesOf,
  type OwnerReference,
} from './gc-owners.js';
import { StoreReader, type ObjectReader } from '../runtime/reader.js';
import type { ControllerContext, ControllerDef, ObjectRef, Resource, WatchSpec } from '../runtime/types.js';

export interface GarbageCollectorOptions {
  /** The kinds to collect and resolve owners against (default: the built-in registry). */
  registry?: Registry;
}

interface Dependent {
  resource: Resource;
  obj: KubeObject;
}

const refTo = (resource: Resource, obj: KubeObject): ObjectRef => ({ resource, ...(obj.metadata.namespace ? { namespace: obj.metadata.namespace } : {}), name: obj.metadata.name! });

/** Every collected object that names `owner` (by uid) as an owner; a namespaced owner only has dependents in its namespace. */
async function dependentsOf(kinds: GcKinds, reader: ObjectReader, owner: KubeObject): Promise<Dependent[]> {
  const uid = owner.metadata.uid!;
  const ns = owner.metadata.namespace;
  const out: Dependent[] = [];
  for (const k of kinds.collected) {
    for (const obj of await reader.list(k.resource, { ownerUid: uid })) {
      if (ns && obj.metadata.namespace !== ns) continue;
      if (obj.metadata.uid === uid) continue;
      out.push({ resource: k.resource, obj });
    }
  }
  return out;
}

/** Wake-ups from a changed object: dependents of an owner that is gone, and owners waiting for it in the foreground. */
function watchFor(kinds: GcKinds, resource: Resource): WatchSpec {
  return {
    resource,
    map: async (obj, reader) => {
      const refs: ObjectRef[] = [];
      const current = await reader.get(resource, obj.metadata.namespace, obj.metadata.name!);
      if (!current || current.metadata.uid !== obj.metadata.uid) {
        for (const d of await dependentsOf(kinds, reader, obj)) refs.push(refTo(d.resource, d.obj));
      }
      for (const ref of ownerReferencesOf(obj)) {
        const kind = kinds.ofOwner(ref.apiVersion, ref.kind);
        if (!kind || !kinds.isCollected(kind.resource)) continue;
        const ns = kind.namespaced ? obj.metadata.namespace : undefined;
        const owner = await reader.get(kind.resource, ns, ref.name);
        if (owner?.metadata.uid === ref.uid && owner.metadata.deletionTimestamp) refs.push(refTo(kind.resource, owner));
      }
      return refs;
    },
  };
}

export function garbageCollectorController(opts: GarbageCollectorOptions = {}): ControllerDef {
  const kinds = new GcKinds(opts.registry ?? builtinRegistry());
  const resources = kinds.collected.map((k) => k.resource);
  return {
    name: 'garbage-collector-controller',
    resources,
    watches: resources.map((r) => watchFor(kinds, r)),
    setup: (ctx) => collector(ctx, kinds),
  };
}

function collector({ reader, client, events, log, store }: ControllerContext, kinds: GcKinds) {
  const owners = new OwnerResolver(kinds, reader, new StoreReader(store));
  const namespaced = new Map(kinds.all.map((k) => [k.resource, k.namespaced]));

  async function patchOwnerReferences(d: Dependent, refs: OwnerReference[]): Promise<KubeObject | undefined> {
    const m = d.obj.metadata;
    try {
      return await client.patch(d.resource, m.namespace, m.name!, 'merge', { metadata: { ownerReferences: refs.length ? refs : null, resourceVersion: m.resourceVersion } });
    } catch (e) {
      if (isNotFound(e)) return undefined;
      throw e;
    }
  }

  async function removeFinalizer(d: Dependent, finalizer: string): Promise<void> {
    const m = d.obj.metadata;
    const rest = (m.finalizers ?? []).filter((f) => f !== finalizer);
    try {
      await client.patch(d.resource, m.namespace, m.name!, 'merge', { metadata: { finalizers: rest.length ? rest : null, resourceVersion: m.resourceVersion } });
    } catch (e) {
      if (!isNotFound(e)) throw e;
    }
  }

  async function deleteObject(d: Dependent, propagationPolicy: string): Promise<void> {
    const m = d.obj.metadata;
    log.debug({ object: `${d.resource} ${m.namespace ?? ''}/${m.name}`, propagationPolicy }, 'garbage collecting');
    await client.delete(d.resource, m.namespace, m.name!, { propagationPolicy, preconditions: { uid: m.uid, resourceVersion: m.resourceVersion } });
  }

  /** Delete `item` if none of its owners remains, or drop the references to owners that are gone. */
  async function attemptToDelete(item: Dependent): Promise<void> {
    if (!ownerReferencesOf(item.obj).length) return;
    const c = await owners.classify(item.obj, namespaced.get(item.resource) ?? true);
    if (c.kind === 'unresolvable') {
      log.debug({ object: item.obj.metadata.name, owner: c.ref }, 'owner of an unknown kind: not collected');
      return;
    }
    if (c.kind === 'invalid') {
      await events.record(item.obj, 'Warning', 'OwnerRefInvalidNamespace', `ownerRef ${describeOwner(c.ref, item.obj.metadata.namespace)} does not exist in namespace "${item.obj.metadata.namespace ?? ''}"`);
      return;
    }
    for (const ref of c.crossNamespace) {
      await events.record(item.obj, 'Warning', 'OwnerRefInvalidNamespace', `ownerRef ${describeOwner(ref, item.obj.metadata.namespace)} does not exist in namespace "${item.obj.metadata.namespace ?? ''}"`);
    }
    if (c.solid.length) {
      if (!c.dangling.length && !c.waiting.length) return;
      // Owners that are gone or waiting for their dependents must not keep pointing here (a waiting owner would wait forever).
      const drop = new Set([...c.dangling, ...c.waiting].map((r) => r.uid));
      await patchOwnerReferences(item, ownerReferencesOf(item.obj).filter((r) => !drop.has(r.uid)));
      return;
    }
    if (c.waiting.length) {
      const deps = await dependentsOf(kinds, reader, item.obj);
      if (deps.length) {
        let target = item;
        if (deps.some((d) => isDeletingDependents(d.obj))) {
          // A dependent that itself waits in the foreground could close a cycle: stop blocking the owners.
          const unblocked = ownerReferencesOf(item.obj).map((r) => (r.blockOwnerDeletion ? { ...r, blockOwnerDeletion: false } : r));
          const patched = await patchOwnerReferences(item, unblocked);
          if (!patched) return;
          target = { resource: item.resource, obj: patched };
        }
        await deleteObject(target, 'Foreground');
        return;
      }
    }
    const policy = hasFinalizer(item.obj, FINALIZER_ORPHAN) ? 'Orphan' : hasFinalizer(item.obj, FINALIZER_FOREGROUND) ? 'Foreground' : 'Background';
    await deleteObject(item, policy);
  }

  /** Foreground deletion: delete the dependents; drop the finalizer once no blocking dependent is left. */
  async function deleteDependentsFirst(owner: Dependent): Promise<void> {
    const uid = owner.obj.metadata.uid;
    const deps = await dependentsOf(kinds, reader, owner.obj);
    const blocking = deps.filter((d) => ownerReferencesOf(d.obj).some((r) => r.uid === uid && r.blockOwnerDeletion === true));
    for (const d of deps) if (!d.obj.metadata.deletionTimestamp) await attemptToDelete(d);
    if (!blocking.length) await removeFinalizer(owner, FINALIZER_FOREGROUND);
  }

  /** Orphan deletion: the dependents stop naming the owner, then the owner loses its finalizer. */
  async function orphanDependents(owner: Dependent): Promise<void> {
    const uid = owner.obj.metadata.uid;
    for (const d of await dependentsOf(kinds, reader, owner.obj)) {
      await patchOwnerReferences(d, ownerReferencesOf(d.obj).filter((r) => r.uid !== uid));
    }
    await removeFinalizer(owner, FINALIZER_ORPHAN);
  }

  return async (ref: ObjectRef) => {
    const obj = await reader.get(ref.resource, ref.namespace, ref.name);
    if (!obj) return;
    const item: Dependent = { resource: ref.resource, obj };
    if (obj.metadata.deletionTimestamp) {
      // Being deleted is a one-way trip: only the finalizers this controller owns need work.
      if (hasFinalizer(obj, FINALIZER_ORPHAN)) return orphanDependents(item);
      if (hasFinalizer(obj, FINALIZER_FOREGROUND)) return deleteDependentsFirst(item);
      return;
    }
    await attemptToDelete(item);
  };
}

export const garbageCollector = garbageCollectorController();
