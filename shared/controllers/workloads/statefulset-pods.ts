// A StatefulSet pod's identity and storage (statefulset's stateful_set_utils.go): the name
// <set>-<ordinal>, the pod-name and pod-index labels, hostname/subdomain, one claim per
// volumeClaimTemplate named <claim>-<set>-<ordinal>, and the claim owners the retention policy asks for.
import type { KubeObject } from '../../api/kind.js';
import { CONTROLLER_REVISION_HASH_LABEL } from './controller-history.js';
import { isPodReady, isTerminating, podFromTemplate, podPhase } from './daemonset-pods.js';
import { controllerRef } from '../runtime/mappers.js';

/** Label naming the pod of a StatefulSet (apps/v1 StatefulSetPodNameLabel). */
export const POD_NAME_LABEL = 'statefulset.kubernetes.io/pod-name';
/** Label with the pod's ordinal (apps/v1 PodIndexLabel). */
export const POD_INDEX_LABEL = 'apps.kubernetes.io/pod-index';

type Obj = Record<string, unknown>;
const asObj = (v: unknown): Obj => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Obj) : {});
const asList = <T>(v: unknown): T[] => (Array.isArray(v) ? (v as T[]) : []);

const STATEFUL_POD = /^(.*)-([0-9]+)$/;
const INT32_MAX = 2 ** 31 - 1;

/** The parent name and ordinal a pod's name encodes; ordinal -1 when it encodes none. */
export function parentAndOrdinal(pod: KubeObject): { parent: string; ordinal: number } {
  const m = STATEFUL_POD.exec(pod.metadata.name ?? '');
  if (!m) return { parent: '', ordinal: -1 };
  const n = Number(m[2]);
  return { parent: m[1], ordinal: Number.isSafeInteger(n) && n <= INT32_MAX ? n : -1 };
}

export const ordinalOf = (pod: KubeObject): number => parentAndOrdinal(pod).ordinal;
export const podName = (set: KubeObject, ordinal: number): string => `${set.metadata.name}-${ordinal}`;
export const isMemberOf = (set: KubeObject, pod: KubeObject): boolean => parentAndOrdinal(pod).parent === set.metadata.name;
export const revisionOfPod = (pod: KubeObject): string => pod.metadata.labels?.[CONTROLLER_REVISION_HASH_LABEL] ?? '';

const spec = (set: KubeObject): Obj => asObj(set.spec);
export const startOrdinal = (set: KubeObject): number => Number(asObj(spec(set).ordinals).start ?? 0);
export const replicasOf = (set: KubeObject): number => (typeof spec(set).replicas === 'number' ? (spec(set).replicas as number) : 1);
export const endOrdinal = (set: KubeObject): number => startOrdinal(set) + replicasOf(set) - 1;
export const inOrdinalRange = (set: KubeObject, pod: KubeObject): boolean => ordinalOf(pod) >= startOrdinal(set) && ordinalOf(pod) <= endOrdinal(set);
const claimTemplates = (set: KubeObject): KubeObject[] => asList<KubeObject>(spec(set).volumeClaimTemplates);

/** isCreated: the API server gave the pod a phase (a pod only planned here has none). */
export const isCreated = (pod: KubeObject): boolean => podPhase(pod) !== '';
export const isRunningAndReady = (pod: KubeObject): boolean => podPhase(pod) === 'Running' && isPodReady(pod);
export const isHealthy = (pod: KubeObject): boolean => isRunningAndReady(pod) && !isTerminating(pod);

export function claimName(claimTemplate: KubeObject, set: KubeObject, ordinal: number): string {
  return `${claimTemplate.metadata?.name}-${set.metadata.name}-${ordinal}`;
}

/** The claims of a member pod by template name: the templates renamed and labelled with the set's matchLabels. */
export function claimsFor(set: KubeObject, ordinal: number): Map<string, KubeObject> {
  const matchLabels = asObj(asObj(spec(set).selector).matchLabels) as Record<string, string>;
  const claims = new Map<string, KubeObject>();
  for (const template of claimTemplates(set)) {
    const claim = structuredClone(template);
    delete claim.status;
    claim.metadata = { ...claim.metadata, name: claimName(template, set, ordinal), namespace: set.metadata.namespace, labels: { ...claim.metadata?.labels, ...matchLabels } };
    claims.set(template.metadata.name!, claim);
  }
  return claims;
}

/** identityMatches: the pod's name, namespace and identity labels fit its ordinal in the set. */
export function identityMatches(set: KubeObject, pod: KubeObject): boolean {
  const { parent, ordinal } = parentAndOrdinal(pod);
  return (
    ordinal >= 0 &&
    parent === set.metadata.name &&
    pod.metadata.name === podName(set, ordinal) &&
    pod.metadata.namespace === set.metadata.namespace &&
    pod.metadata.labels?.[POD_NAME_LABEL] === pod.metadata.name &&
    pod.metadata.labels?.[POD_INDEX_LABEL] === String(ordinal)
  );
}

/** storageMatches: each claim template is mounted as a volume of that name using the pod's claim. */
export function storageMatches(set: KubeObject, pod: KubeObject): boolean {
  const ordinal = ordinalOf(pod);
  if (ordinal < 0) return false;
  const volumes = new Map(asList<Obj>(asObj(pod.spec).volumes).map((v) => [v.name, v]));
  for (const template of claimTemplates(set)) {
    const volume = volumes.get(template.metadata?.name);
    if (asObj(asObj(volume).persistentVolumeClaim).claimName !== claimName(template, set, ordinal)) return false;
  }
  return true;
}

/** updateStorage: claim volumes first, then the pod's other volumes. */
export function updateStorage(set: KubeObject, pod: KubeObject): void {
  const podSpec = (pod.spec = asObj(pod.spec));
  const claims = claimsFor(set, ordinalOf(pod));
  const volumes: Obj[] = [...claims].map(([name, claim]) => ({ name, persistentVolumeClaim: { claimName: claim.metadata.name } }));
  for (const v of asList<Obj>(podSpec.volumes)) if (!claims.has(v.name as string)) volumes.push(v);
  if (volumes.length) podSpec.volumes = volumes;
}

/** updateIdentity: the pod-name and pod-index labels. */
export function updateIdentity(set: KubeObject, pod: KubeObject): void {
  const ordinal = ordinalOf(pod);
  pod.metadata.name = podName(set, ordinal);
  pod.metadata.namespace = set.metadata.namespace;
  pod.metadata.labels = { ...pod.metadata.labels, [POD_NAME_LABEL]: pod.metadata.name, [POD_INDEX_LABEL]: String(ordinal) };
}

/** newStatefulSetPod: the template's pod named for `ordinal`, with hostname, subdomain and claim volumes. */
export function newStatefulSetPod(set: KubeObject, ordinal: number): KubeObject {
  const pod = podFromTemplate(asObj(spec(set)).template, set);
  pod.metadata.name = podName(set, ordinal);
  updateIdentity(set, pod);
  const podSpec = asObj(pod.spec);
  podSpec.hostname = pod.metadata.name;
  if (typeof spec(set).serviceName === 'string' && spec(set).serviceName) podSpec.subdomain = spec(set).serviceName;
  updateStorage(set, pod);
  return pod;
}

/**
 * newVersionedStatefulSetPod: ordinals below the partition (or, without rollingUpdate, below
 * currentReplicas) are made from the current revision, the rest from the update revision.
 */
export function newVersionedPod(currentSet: KubeObject, updateSet: KubeObject, currentRevision: string, updateRevision: string, ordinal: number): KubeObject {
  const strategy = asObj(spec(currentSet).updateStrategy);
  const ru = strategy.rollingUpdate === undefined || strategy.rollingUpdate === null ? undefined : asObj(strategy.rollingUpdate);
  const start = startOrdinal(currentSet);
  const useCurrent =
    (strategy.type === 'RollingUpdate' && !ru && ordinal < start + Number(asObj(currentSet.status).currentReplicas ?? 0)) ||
    (!!ru && ordinal < start + Number(ru.partition ?? 0));
  const pod = newStatefulSetPod(useCurrent ? currentSet : updateSet, ordinal);
  pod.metadata.labels = { ...pod.metadata.labels, [CONTROLLER_REVISION_HASH_LABEL]: useCurrent ? currentRevision : updateRevision };
  return pod;
}

// ---- claim retention (persistentVolumeClaimRetentionPolicy) -----------------------------------------

interface RetentionPolicy {
  whenDeleted: string;
  whenScaled: string;
}

export function retentionPolicy(set: KubeObject): RetentionPolicy {
  const p = asObj(spec(set).persistentVolumeClaimRetentionPolicy);
  return { whenDeleted: String(p.whenDeleted ?? 'Retain'), whenScaled: String(p.whenScaled ?? 'Retain') };
}

const refersTo = (ref: Obj, obj: KubeObject, apiVersion: string, kind: string): boolean => ref.apiVersion === apiVersion && ref.kind === kind && ref.name === obj.metadata.name;

/**
 * The ownerReferences a claim should carry under the set's retention policy (a reference to the
 * set when deleting the set deletes claims; to the pod when a scale-down does), or undefined when
 * the claim is to be left alone (it has another controller, or references an older set or pod).
 */
export function desiredClaimOwners(claim: KubeObject, set: KubeObject, pod: KubeObject): Record<string, unknown>[] | undefined {
  const refs = claim.metadata.ownerReferences ?? [];
  for (const r of refs) {
    const isSet = refersTo(r, set, 'apps/v1', 'StatefulSet');
    const isPod = refersTo(r, pod, 'v1', 'Pod');
    if ((isSet && r.uid !== set.metadata.uid) || (isPod && r.uid !== pod.metadata.uid)) return undefined;
    if (!isSet && !isPod && r.controller === true) return undefined;
  }
  const kept = refs.filter((r) => !refersTo(r, set, 'apps/v1', 'StatefulSet') && !refersTo(r, pod, 'v1', 'Pod'));
  const { whenDeleted, whenScaled } = retentionPolicy(set);
  const scaledDown = !inOrdinalRange(set, pod);
  const podGoesWithClaim = whenScaled === 'Delete' && scaledDown;
  if (whenDeleted === 'Delete' && !podGoesWithClaim) kept.push(controllerRef(set));
  if (podGoesWithClaim) kept.push({ apiVersion: 'v1', kind: 'Pod', name: pod.metadata.name, uid: pod.metadata.uid, controller: true, blockOwnerDeletion: true });
  return kept;
}

const ownerKey = (refs: Record<string, unknown>[]): string =>
  refs
    .map((r) => `${r.uid}|${r.controller === true}`)
    .sort()
    .join(',');

/** Whether the claim's owners already follow the retention policy. */
export function claimOwnersMatch(claim: KubeObject, set: KubeObject, pod: KubeObject): boolean {
  const want = desiredClaimOwners(claim, set, pod);
  return !want || ownerKey(want) === ownerKey(claim.metadata.ownerReferences ?? []);
}
