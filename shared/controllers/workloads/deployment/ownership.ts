// ControllerRef claiming as Kubernetes' ControllerRefManager does it: a controller keeps the
// objects it controls that still match its selector, releases the ones that stopped matching,
// and adopts matching orphans (never while it is itself being deleted). Shared by the
// ReplicaSet controller (claiming pods) and the Deployment controller (claiming ReplicaSets).
import type { KubeObject } from '../../../api/kind.js';
import { isNotFound, type ApiClient } from '../../runtime/client.js';
import { controllerOf } from '../../runtime/mappers.js';
import type { ObjectReader } from '../../runtime/reader.js';
import type { Resource } from '../../runtime/types.js';

export interface ClaimOwner {
  /** The controller as last read. */
  obj: KubeObject;
  /** Where the controller lives, to re-read it before adopting. */
  resource: Resource;
  apiVersion: string;
  kind: string;
}

export function ownerReferenceTo(owner: ClaimOwner): Record<string, unknown> {
  return { apiVersion: owner.apiVersion, kind: owner.kind, name: owner.obj.metadata.name, uid: owner.obj.metadata.uid, controller: true, blockOwnerDeletion: true };
}

/** Adoption is refused when the controller went away, was replaced, or is being deleted (checked on a new read). */
async function canAdopt(reader: ObjectReader, owner: ClaimOwner): Promise<void> {
  const fresh = await reader.get(owner.resource, owner.obj.metadata.namespace, owner.obj.metadata.name!);
  if (!fresh || fresh.metadata.uid !== owner.obj.metadata.uid) {
    throw new Error(`original ${owner.kind} ${owner.obj.metadata.namespace}/${owner.obj.metadata.name} is gone: got uid ${fresh?.metadata.uid ?? ''}, wanted ${owner.obj.metadata.uid}`);
  }
  if (fresh.metadata.deletionTimestamp) {
    throw new Error(`${owner.kind} ${owner.obj.metadata.namespace}/${owner.obj.metadata.name} has just been deleted at ${fresh.metadata.deletionTimestamp}`);
  }
}

/**
 * The objects `owner` controls after claiming: its matching ones plus adopted orphans (as patched).
 * `match` decides whether an object belongs to the owner's selector.
 */
export async function claimObjects<T extends KubeObject>(
  client: ApiClient,
  reader: ObjectReader,
  owner: ClaimOwner,
  resource: Resource,
  candidates: readonly T[],
  match: (obj: T) => boolean,
): Promise<T[]> {
  const claimed: T[] = [];
  const ownerUid = owner.obj.metadata.uid;
  const ownerDeleting = !!owner.obj.metadata.deletionTimestamp;
  let adoptionChecked = false;
  for (const obj of candidates) {
    const ref = controllerOf(obj);
    if (ref) {
      if (ref.uid !== ownerUid) continue;
      if (match(obj)) {
        claimed.push(obj);
        continue;
      }
      if (ownerDeleting) continue;
      await patchIgnoringNotFound(client, resource, obj, { metadata: { ownerReferences: [{ $patch: 'delete', uid: ownerUid }], uid: obj.metadata.uid } });
      continue;
    }
    if (ownerDeleting || !match(obj) || obj.metadata.deletionTimestamp) continue;
    if (owner.obj.metadata.namespace && owner.obj.metadata.namespace !== obj.metadata.namespace) continue;
    if (!adoptionChecked) {
      await canAdopt(reader, owner);
      adoptionChecked = true;
    }
    const adopted = await patchIgnoringNotFound(client, resource, obj, { metadata: { ownerReferences: [ownerReferenceTo(owner)], uid: obj.metadata.uid } });
    if (adopted) claimed.push(adopted as T);
  }
  return claimed;
}

async function patchIgnoringNotFound(client: ApiClient, resource: Resource, obj: KubeObject, patch: unknown): Promise<KubeObject | undefined> {
  try {
    return await client.patch(resource, obj.metadata.namespace, obj.metadata.name!, 'strategic', patch);
  } catch (e) {
    if (isNotFound(e)) return undefined;
    throw e;
  }
}
