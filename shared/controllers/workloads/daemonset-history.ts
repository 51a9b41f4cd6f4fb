// A DaemonSet's ControllerRevisions (daemon controller's constructHistory/snapshot/cleanupHistory):
// the current revision is the one whose data equals the current template patch; it is named
// <ds>-<hash of the template and collision count> and its hash labels the pods made from it.
import type { KubeObject } from '../../api/kind.js';
import { isAlreadyExists, type ApiClient } from '../runtime/client.js';
import {
  CONTROLLER_REVISION_HASH_LABEL,
  computeTemplateHash,
  deleteRevision,
  maxRevisionNumber,
  ownedRevisions,
  renumberRevision,
  revisionNumber,
  revisionObject,
  sameRevisionData,
  sortRevisions,
  templatePatch,
} from './controller-history.js';
import type { ObjectReader } from '../runtime/reader.js';

const REVISIONS = 'apps/controllerrevisions';

type Obj = Record<string, unknown>;
const asObj = (v: unknown): Obj => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Obj) : {});

export const collisionCountOf = (owner: KubeObject): number | undefined => {
  const c = asObj(owner.status).collisionCount;
  return typeof c === 'number' ? c : undefined;
};

/** Whether the revision records the DaemonSet's current template (daemon.Match). */
export const matchesTemplate = (ds: KubeObject, revision: KubeObject): boolean => sameRevisionData(templatePatch(ds), revision.data);

export interface DaemonSetHistory {
  current: KubeObject;
  old: KubeObject[];
}

/**
 * Finds (or creates) the revision of the current template and gives it the highest revision
 * number; the others are old. Duplicates of the current revision are merged into the newest one.
 */
export async function constructHistory(reader: ObjectReader, fresh: ObjectReader, client: ApiClient, ds: KubeObject, pods: () => KubeObject[]): Promise<DaemonSetHistory> {
  const current: KubeObject[] = [];
  const old: KubeObject[] = [];
  for (let history of await ownedRevisions(reader, client, ds)) {
    if (history.metadata.labels?.[CONTROLLER_REVISION_HASH_LABEL] === undefined) {
      const labelled = structuredClone(history);
      labelled.metadata.labels = { ...labelled.metadata.labels, [CONTROLLER_REVISION_HASH_LABEL]: labelled.metadata.name! };
      history = await client.update(REVISIONS, labelled);
    }
    (matchesTemplate(ds, history) ? current : old).push(history);
  }
  const next = maxRevisionNumber(old) + 1;
  if (!current.length) return { current: await snapshot(client, fresh, ds, next), old };
  const keep = await dedupCurrent(client, current, pods());
  return { current: revisionNumber(keep) < next ? await renumberRevision(client, keep, next) : keep, old };
}

async function dedupCurrent(client: ApiClient, current: KubeObject[], pods: KubeObject[]): Promise<KubeObject> {
  if (current.length === 1) return current[0];
  let keep = current[0];
  for (const c of current) if (revisionNumber(c) >= revisionNumber(keep)) keep = c;
  const hash = keep.metadata.labels![CONTROLLER_REVISION_HASH_LABEL];
  for (const pod of pods) {
    if (pod.metadata.labels?.[CONTROLLER_REVISION_HASH_LABEL] === hash) continue;
    await client.patch('core/pods', pod.metadata.namespace, pod.metadata.name!, 'merge', { metadata: { labels: { [CONTROLLER_REVISION_HASH_LABEL]: hash } } });
  }
  for (const c of current) if (c.metadata.name !== keep.metadata.name) await deleteRevision(client, c);
  return keep;
}

async function snapshot(client: ApiClient, fresh: ObjectReader, ds: KubeObject, revision: number): Promise<KubeObject> {
  const template = asObj(asObj(ds.spec).template);
  const collisionCount = collisionCountOf(ds);
  const hash = computeTemplateHash(template, collisionCount);
  const name = `${ds.metadata.name}-${hash}`;
  const labels = { ...(asObj(asObj(template.metadata).labels) as Record<string, string>), [CONTROLLER_REVISION_HASH_LABEL]: hash };
  const obj = revisionObject(ds, name, { labels, annotations: ds.metadata.annotations, data: templatePatch(ds), revision });
  try {
    return await client.create(REVISIONS, obj);
  } catch (e) {
    if (!isAlreadyExists(e)) throw e;
    const existing = await fresh.get(REVISIONS, ds.metadata.namespace, name);
    if (existing && matchesTemplate(ds, existing)) return existing;
    // A different template hashed to the same name: bump the collision count and try again later.
    const latest = await fresh.get('apps/daemonsets', ds.metadata.namespace, ds.metadata.name!);
    if (!latest) throw e;
    if (collisionCountOf(latest) !== collisionCount) throw new Error(`found a stale collision count of DaemonSet ${ds.metadata.name}; will retry until it is updated`);
    const bumped = structuredClone(latest);
    bumped.status = { ...asObj(bumped.status), collisionCount: (collisionCount ?? 0) + 1 };
    await client.updateStatus('apps/daemonsets', bumped);
    throw e;
  }
}

/** Deletes the oldest revisions beyond revisionHistoryLimit that no pod still uses. */
export async function cleanupHistory(client: ApiClient, ds: KubeObject, old: KubeObject[], pods: KubeObject[]): Promise<void> {
  const limit = typeof asObj(ds.spec).revisionHistoryLimit === 'number' ? (asObj(ds.spec).revisionHistoryLimit as number) : 10;
  let toKill = old.length - limit;
  if (toKill <= 0) return;
  const live = new Set(pods.map((p) => p.metadata.labels?.[CONTROLLER_REVISION_HASH_LABEL]).filter((h) => h));
  for (const history of sortRevisions([...old])) {
    if (toKill <= 0) break;
    if (live.has(history.metadata.labels?.[CONTROLLER_REVISION_HASH_LABEL])) continue;
    await deleteRevision(client, history);
    toKill--;
  }
}
