// Watch mappings shared by controllers: from a changed object to the primary objects to reconcile.
import type { KubeObject } from '../../api/kind.js';
import type { ObjectRef, Resource } from './types.js';

/** The controlling owner of `obj` when it is of `kind` (ownerReferences[].controller = true). */
export function controllerOf(obj: KubeObject, kind?: string): { kind: string; name: string; uid: string; apiVersion: string } | undefined {
  for (const o of obj.metadata.ownerReferences ?? []) {
    if (o.controller !== true) continue;
    if (kind && o.kind !== kind) continue;
    return { kind: String(o.kind), name: String(o.name), uid: String(o.uid), apiVersion: String(o.apiVersion) };
  }
  return undefined;
}

/** Map an object to its controlling owner of `kind`, living as `resource` in the same namespace. */
export function toControllerOwner(kind: string, resource: Resource) {
  return (obj: KubeObject): ObjectRef[] => {
    const owner = controllerOf(obj, kind);
    return owner ? [{ resource, ...(obj.metadata.namespace ? { namespace: obj.metadata.namespace } : {}), name: owner.name }] : [];
  };
}

/** An ownerReference marking `owner` as the controller of a new object (blockOwnerDeletion as Kubernetes' controllers set it). */
export function controllerRef(owner: KubeObject): Record<string, unknown> {
  return { apiVersion: owner.apiVersion, kind: owner.kind, name: owner.metadata.name, uid: owner.metadata.uid, controller: true, blockOwnerDeletion: true };
}
