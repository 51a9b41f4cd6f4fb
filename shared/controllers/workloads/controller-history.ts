// ControllerRevisions as Kubernetes' DaemonSet and StatefulSet controllers keep them
// (pkg/controller/history): a revision records the pod template as a strategic merge patch that
// replaces spec.template, is named <owner>-<hash>, and is owned by its DaemonSet or StatefulSet.
// Also the adopt/release bookkeeping both controllers apply to the pods and revisions they select.
import type { KubeObject } from '../../api/kind.js';
import { labelSelectorFromStruct, matchesLabels, type LabelSelector, type MetaLabelSelector } from '../../api/selectors/labels.js';
import { isAlreadyExists, type ApiClient } from '../runtime/client.js';
import { controllerOf, controllerRef } from '../runtime/mappers.js';
import type { ObjectReader } from '../runtime/reader.js';
import type { Resource } from '../runtime/types.js';

/** Pod and revision label naming the revision a pod was made from (apps/v1 ControllerRevisionHashLabelKey). */
export const CONTROLLER_REVISION_HASH_LABEL = 'controller-revision-hash';
/** Label the history package puts on revisions it names (history.ControllerRevisionHashLabel). */
export const HISTORY_HASH_LABEL = 'controller.kubernetes.io/hash';

const REVISIONS: Resource = 'apps/controllerrevisions';
const SAFE_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';
const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;

/** 32-bit FNV-1 (Go's hash/fnv New32) of the bytes. */
export function fnv1(bytes: Uint8Array, seed = FNV_OFFSET): number {
  let h = seed;
  for (const b of bytes) h = (Math.imul(h, FNV_PRIME) ^ b) >>> 0;
  return h >>> 0;
}

/** 32-bit FNV-1a (Go's hash/fnv New32a) of the bytes. */
export function fnv1a(bytes: Uint8Array, seed = FNV_OFFSET): number {
  let h = seed;
  for (const b of bytes) h = Math.imul(h ^ b, FNV_PRIME) >>> 0;
  return h >>> 0;
}

/** rand.SafeEncodeString: each character mapped into the vowel-free alphabet used for generated names. */
export function safeEncodeString(s: string): string {
  let out = '';
  for (const ch of s) out += SAFE_ALPHABET[ch.codePointAt(0)! % SAFE_ALPHABET.length];
  return out;
}

/** A copy with every object's keys sorted, as Go's encoding/json writes a map[string]interface{}. */
export function sortedKeys<T>(value: T): T {
  if (Array.isArray(value)) return value.map((v) => sortedKeys(v)) as T;
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(value).sort()) {
    const v = (value as Record<string, unknown>)[k];
    if (v !== undefined) out[k] = sortedKeys(v);
  }
  return out as T;
}

/** JSON with sorted keys and Go's HTML-safe escapes: the bytes Kubernetes hashes and compares. */
export function goJson(value: unknown): string {
  return JSON.stringify(sortedKeys(value))
    .replace(/</g, '\\u003c')
    .replace(/>/g, '\\u003e')
    .replace(/&/g, '\\u0026')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);

/** The revision data of a DaemonSet or StatefulSet: a patch that puts its current pod template back. */
export function templatePatch(owner: KubeObject): Record<string, unknown> {
  const template = structuredClone((owner.spec as { template?: Record<string, unknown> } | undefined)?.template ?? {});
  return sortedKeys({ spec: { template: { ...template, $patch: 'replace' } } });
}

/** The pod template a revision's data restores (the patch without its directive). */
export function templateOfRevision(revision: KubeObject): Record<string, unknown> {
  const template = structuredClone(((revision.data as { spec?: { template?: Record<string, unknown> } } | undefined)?.spec?.template ?? {}) as Record<string, unknown>);
  delete template.$patch;
  return template;
}

/** Whether two revisions (or a revision and a data object) record the same state. */
export function sameRevisionData(a: unknown, b: unknown): boolean {
  return goJson(a) === goJson(b);
}

/** history.HashControllerRevision: FNV-1 over the data bytes, then the collision count in decimal. */
export function hashRevisionData(data: unknown, collisionCount?: number): string {
  let h = fnv1(utf8(goJson(data)));
  if (collisionCount !== undefined) h = fnv1(utf8(String(collisionCount)), h);
  return safeEncodeString(String(h));
}

/** controller.ComputeHash: FNV-1a over the pod template, then the collision count as 8 little-endian bytes. */
export function computeTemplateHash(template: unknown, collisionCount?: number): string {
  let h = fnv1a(utf8(goJson(template)));
  if (collisionCount !== undefined) {
    const bytes = new Uint8Array(8);
    new DataView(bytes.buffer).setUint32(0, collisionCount >>> 0, true);
    h = fnv1a(bytes, h);
  }
  return safeEncodeString(String(h));
}

/** history.ControllerRevisionName: prefix-hash, the prefix cut to 223 characters. */
export function revisionName(prefix: string, hash: string): string {
  return `${prefix.length > 223 ? prefix.slice(0, 223) : prefix}-${hash}`;
}

export const revisionNumber = (r: KubeObject): number => (typeof r.revision === 'number' ? r.revision : Number(r.revision ?? 0));

/** Ascending by revision number, ties by creation time then name (history.SortControllerRevisions). */
export function sortRevisions(revisions: KubeObject[]): KubeObject[] {
  return revisions.sort((a, b) => {
    const d = revisionNumber(a) - revisionNumber(b);
    if (d !== 0) return d;
    const ta = a.metadata.creationTimestamp ?? '';
    const tb = b.metadata.creationTimestamp ?? '';
    if (ta !== tb) return ta < tb ? -1 : 1;
    return (a.metadata.name ?? '') < (b.metadata.name ?? '') ? -1 : 1;
  });
}

export const maxRevisionNumber = (revisions: KubeObject[]): number => revisions.reduce((m, r) => Math.max(m, revisionNumber(r)), 0);

/** The owner's selector; undefined when it cannot be parsed. */
export function selectorOf(owner: KubeObject): LabelSelector | undefined {
  try {
    return labelSelectorFromStruct((owner.spec as { selector?: MetaLabelSelector } | undefined)?.selector);
  } catch {
    return undefined;
  }
}

/**
 * ControllerRefManager.Claim: keeps what `owner` controls and still selects, adopts orphans it
 * selects (and `canAdopt` accepts), and releases what it controls but no longer selects.
 * Returns the objects it owns afterwards. Objects being deleted are neither adopted nor released.
 */
export async function claimObjects(
  client: ApiClient,
  resource: Resource,
  owner: KubeObject,
  candidates: KubeObject[],
  selector: LabelSelector,
  canAdopt: (obj: KubeObject) => boolean = () => true,
): Promise<KubeObject[]> {
  const uid = owner.metadata.uid;
  const owned: KubeObject[] = [];
  for (const obj of candidates) {
    const ref = controllerOf(obj);
    const matches = matchesLabels(selector, obj.metadata.labels);
    if (ref) {
      if (ref.uid !== uid) continue;
      if (matches || obj.metadata.deletionTimestamp || owner.metadata.deletionTimestamp) {
        owned.push(obj);
        continue;
      }
      const released = structuredClone(obj);
      released.metadata.ownerReferences = (released.metadata.ownerReferences ?? []).filter((o) => o.uid !== uid);
      await client.update(resource, released);
      continue;
    }
    if (!matches || obj.metadata.deletionTimestamp || owner.metadata.deletionTimestamp || !canAdopt(obj)) continue;
    const adopted = structuredClone(obj);
    adopted.metadata.ownerReferences = [...(adopted.metadata.ownerReferences ?? []), controllerRef(owner)];
    owned.push(await client.update(resource, adopted));
  }
  return owned;
}

/** The revisions `owner` controls (adopting orphans that match its selector), sorted by revision. */
export async function ownedRevisions(reader: ObjectReader, client: ApiClient, owner: KubeObject): Promise<KubeObject[]> {
  const selector = selectorOf(owner);
  const inNamespace = await reader.list(REVISIONS, { namespace: owner.metadata.namespace });
  const mine = selector
    ? await claimObjects(client, REVISIONS, owner, inNamespace, selector)
    : inNamespace.filter((r) => controllerOf(r)?.uid === owner.metadata.uid);
  return sortRevisions([...mine]);
}

export interface NewRevision {
  labels: Record<string, string>;
  annotations?: Record<string, string>;
  data: Record<string, unknown>;
  revision: number;
}

/** A ControllerRevision object of `owner` with the given name (not yet created). */
export function revisionObject(owner: KubeObject, name: string, rev: NewRevision): KubeObject {
  return {
    metadata: {
      name,
      namespace: owner.metadata.namespace,
      labels: { ...rev.labels },
      ...(rev.annotations && Object.keys(rev.annotations).length ? { annotations: { ...rev.annotations } } : {}),
      ownerReferences: [controllerRef(owner)],
    },
    data: rev.data,
    revision: rev.revision,
  };
}

/**
 * history.CreateControllerRevision: creates the revision named <owner>-<hash of data and collision
 * count>; when that name is taken by different data the collision count grows and the name changes.
 * Returns the revision (created or found identical) and the collision count it ended with.
 */
export async function createRevision(
  client: ApiClient,
  fresh: ObjectReader,
  owner: KubeObject,
  rev: NewRevision,
  collisionCount: number,
): Promise<{ revision: KubeObject; collisionCount: number }> {
  for (let count = collisionCount; ; count++) {
    const hash = hashRevisionData(rev.data, count);
    const name = revisionName(owner.metadata.name!, hash);
    const obj = revisionObject(owner, name, { ...rev, labels: { ...rev.labels, [HISTORY_HASH_LABEL]: hash } });
    try {
      return { revision: await client.create(REVISIONS, obj), collisionCount: count };
    } catch (e) {
      if (!isAlreadyExists(e)) throw e;
      const existing = await fresh.get(REVISIONS, owner.metadata.namespace, name);
      if (existing && sameRevisionData(existing.data, rev.data)) return { revision: existing, collisionCount: count };
      if (count - collisionCount > 100) throw e;
    }
  }
}

/** Give an existing revision a new revision number (a rollback to it, or a re-ordering). */
export async function renumberRevision(client: ApiClient, revision: KubeObject, revisionNo: number): Promise<KubeObject> {
  if (revisionNumber(revision) === revisionNo) return revision;
  return client.update(REVISIONS, { ...structuredClone(revision), revision: revisionNo });
}

export async function deleteRevision(client: ApiClient, revision: KubeObject): Promise<void> {
  await client.delete(REVISIONS, revision.metadata.namespace, revision.metadata.name!);
}
