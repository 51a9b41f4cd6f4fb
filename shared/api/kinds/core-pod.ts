// Served kinds: pods, persistentvolumes, persistentvolumeclaims (core/v1), with Kubernetes'
// table columns, field selectors and create/update strategies.
import { kindDef, type KindDef, type KubeObject, type Printer } from '../kind.js';
import type { FieldError } from '../schema/dsl.js';
import { forbidden, invalid } from '../schema/errors.js';
import { age, col, get, humanDuration, nameColumn, ageColumn } from '../printers/common.js';
import { PersistentVolume, PersistentVolumeClaim, Pod } from '../types/core-pod.js';
import { computeQOSClass, semanticEqual, validatePodUpdate } from '../types/core-pod-update.js';
import { validatePodCreate, validatePodOnly } from '../types/core-pod-validation.js';
import { PV_SOURCE_NAMES } from '../types/core-pod-volume-validation.js';
import { asList, asNum, asObj, asStr, isObj, quantityString, quantityValue, type Obj } from '../types/core-pod-checks.js';

// ---- pods -----------------------------------------------------------------------------------------

interface PodRow {
  ready: string;
  status: string;
  restarts: string;
}

const isRestartableInit = (c: Obj | undefined): boolean => c?.restartPolicy === 'Always';
const timeOf = (t: unknown): number | undefined => (typeof t === 'string' && t ? Date.parse(t) : undefined);

/** kubectl's READY / STATUS / RESTARTS for a pod (printPod in Kubernetes' table printers). */
export function podRow(pod: KubeObject, now: Date): PodRow {
  const spec = asObj(pod.spec);
  const status = asObj(pod.status);
  const phase = asStr(status.phase);
  let reason = asStr(status.reason) || phase;
  const conditions = asList(status.conditions).map(asObj);
  for (const c of conditions) if (c.type === 'PodScheduled' && c.reason === 'SchedulingGated') reason = 'SchedulingGated';

  const initSpecs = new Map(asList(spec.initContainers).map((c) => [asStr(asObj(c).name), asObj(c)] as const));
  const total = asList(spec.containers).length + [...initSpecs.values()].filter(isRestartableInit).length;
  let ready = 0;
  let restarts = 0;
  let sidecarRestarts = 0;
  let lastRestart: number | undefined;
  let lastSidecarRestart: number | undefined;
  const later = (a: number | undefined, b: number | undefined) => (b !== undefined && !Number.isNaN(b) && (a === undefined || b > a) ? b : a);

  let initializing = false;
  const initStatuses = asList(status.initContainerStatuses).map(asObj);
  for (let i = 0; i < initStatuses.length; i++) {
    const cs = initStatuses[i];
    const state = asObj(cs.state);
    const terminated = isObj(state.terminated) ? state.terminated : undefined;
    const waiting = isObj(state.waiting) ? state.waiting : undefined;
    const lastTerminated = asObj(asObj(cs.lastState).terminated);
    restarts += asNum(cs.restartCount);
    lastRestart = later(lastRestart, timeOf(lastTerminated.finishedAt));
    const sidecar = isRestartableInit(initSpecs.get(asStr(cs.name)));
    if (sidecar) {
      sidecarRestarts += asNum(cs.restartCount);
      lastSidecarRestart = later(lastSidecarRestart, timeOf(lastTerminated.finishedAt));
    }
    if (terminated && asNum(terminated.exitCode) === 0) continue;
    if (sidecar && cs.started === true) {
      if (cs.ready === true) ready++;
      continue;
    }
    if (terminated) {
      const r = asStr(terminated.reason);
      if (r) reason = `Init:${r}`;
      else reason = asNum(terminated.signal) !== 0 ? `Init:Signal:${asNum(terminated.signal)}` : `Init:ExitCode:${asNum(terminated.exitCode)}`;
    } else if (waiting && asStr(waiting.reason) && waiting.reason !== 'PodInitializing') {
      reason = `Init:${asStr(waiting.reason)}`;
    } else {
      reason = `Init:${i}/${initSpecs.size}`;
    }
    initializing = true;
    break;
  }

  const initializedTrue = conditions.some((c) => c.type === 'Initialized' && c.status === 'True');
  if (!initializing || initializedTrue) {
    restarts = sidecarRestarts;
    lastRestart = lastSidecarRestart;
    let hasRunning = false;
    const statuses = asList(status.containerStatuses).map(asObj);
    for (let i = statuses.length - 1; i >= 0; i--) {
      const cs = statuses[i];
      const state = asObj(cs.state);
      const terminated = isObj(state.terminated) ? state.terminated : undefined;
      const waiting = isObj(state.waiting) ? state.waiting : undefined;
      restarts += asNum(cs.restartCount);
      lastRestart = later(lastRestart, timeOf(asObj(asObj(cs.lastState).terminated).finishedAt));
      if (waiting && asStr(waiting.reason)) reason = asStr(waiting.reason);
      else if (terminated && asStr(terminated.reason)) reason = asStr(terminated.reason);
      else if (terminated) reason = asNum(terminated.signal) !== 0 ? `Signal:${asNum(terminated.signal)}` : `ExitCode:${asNum(terminated.exitCode)}`;
      else if (cs.ready === true && isObj(state.running)) {
        hasRunning = true;
        ready++;
      }
    }
    if (reason === 'Completed' && hasRunning) {
      reason = conditions.some((c) => c.type === 'Ready' && c.status === 'True') ? 'Running' : 'NotReady';
    }
  }

  const deleting = !!pod.metadata.deletionTimestamp;
  if (deleting && status.reason === 'NodeLost') reason = 'Unknown';
  else if (deleting && phase !== 'Succeeded' && phase !== 'Failed') reason = 'Terminating';

  let restartsStr = String(restarts);
  if (restarts !== 0 && lastRestart !== undefined) restartsStr = `${restarts} (${humanDuration(now.getTime() - lastRestart)} ago)`;
  return { ready: `${ready}/${total}`, status: reason, restarts: restartsStr };
}

function readinessGatesCell(pod: KubeObject): string {
  const gates = asList(asObj(pod.spec).readinessGates).map((g) => asStr(asObj(g).conditionType));
  if (gates.length === 0) return '<none>';
  const conditions = asList(asObj(pod.status).conditions).map(asObj);
  const trueCount = gates.filter((type) => conditions.find((c) => c.type === type)?.status === 'True').length;
  return `${trueCount}/${gates.length}`;
}

export const podPrinter: Printer = {
  columns: [
    nameColumn,
    col('Ready', 'string', 'Containers ready out of containers in the pod.'),
    col('Status', 'string', 'Summary of the pod\'s state, as kubectl shows it.'),
    col('Restarts', 'string', 'Container restarts, with the time since the last one.'),
    ageColumn,
    col('IP', 'string', 'Pod IP address.', 1),
    col('Node', 'string', 'Node the pod is bound to.', 1),
    col('Nominated Node', 'string', 'Node the pod is expected to land on after preemption.', 1),
    col('Readiness Gates', 'string', 'Readiness gate conditions that are True, out of all gates.', 1),
  ],
  cells(pod, now) {
    const row = podRow(pod, now);
    const status = asObj(pod.status);
    const ip = asStr(asObj(asList(status.podIPs)[0]).ip);
    const node = asStr(asObj(pod.spec).nodeName);
    const nominated = asStr(status.nominatedNodeName);
    return [
      pod.metadata.name ?? '',
      row.ready,
      row.status,
      row.restarts,
      age(pod.metadata.creationTimestamp, now),
      ip || '<none>',
      node || '<none>',
      nominated || '<none>',
      readinessGatesCell(pod),
    ];
  },
};

/** Kubernetes' pod field-selector set (plus metadata.name/namespace, handled generically). */
const podFieldSelectors: KindDef['fieldSelectors'] = {
  'spec.nodeName': (o) => asStr(get(o, 'spec', 'nodeName')),
  'spec.restartPolicy': (o) => asStr(get(o, 'spec', 'restartPolicy')),
  'spec.schedulerName': (o) => asStr(get(o, 'spec', 'schedulerName')),
  'spec.serviceAccountName': (o) => asStr(get(o, 'spec', 'serviceAccountName')),
  'spec.hostNetwork': (o) => String(get(o, 'spec', 'hostNetwork') === true),
  'status.phase': (o) => asStr(get(o, 'status', 'phase')),
  'status.podIP': (o) => asStr(asObj(asList(get(o, 'status', 'podIPs'))[0]).ip),
  'status.nominatedNodeName': (o) => asStr(get(o, 'status', 'nominatedNodeName')),
};

const pods = kindDef({
  group: '',
  version: 'v1',
  kind: 'Pod',
  plural: 'pods',
  namespaced: true,
  shortNames: ['po'],
  categories: ['all'],
  nameRule: 'dns1123Subdomain',
  schema: Pod,
  fieldSelectors: podFieldSelectors,
  printer: podPrinter,
  prepareForCreate(obj) {
    obj.status = { phase: 'Pending', qosClass: computeQOSClass(asObj(obj.spec)) };
  },
  prepareForUpdate(obj, old) {
    obj.status = structuredClone(old.status);
  },
  validate(obj, old) {
    return old ? [...validatePodOnly(obj), ...validatePodUpdate(obj, old)] : validatePodCreate(obj);
  },
});

// ---- persistent volumes and claims ---------------------------------------------------------------

/** GetAccessModesAsString: RWO,ROX,RWX,RWOP in that order, duplicates removed. */
export function accessModesString(modes: unknown): string {
  const list = asList(modes);
  const short: [string, string][] = [
    ['ReadWriteOnce', 'RWO'],
    ['ReadOnlyMany', 'ROX'],
    ['ReadWriteMany', 'RWX'],
    ['ReadWriteOncePod', 'RWOP'],
  ];
  return short.filter(([mode]) => list.includes(mode)).map(([, s]) => s).join(',');
}

const BETA_STORAGE_CLASS = 'volume.beta.kubernetes.io/storage-class';

function storageClassOf(obj: KubeObject): string {
  const annotated = obj.metadata.annotations?.[BETA_STORAGE_CLASS];
  return annotated !== undefined ? annotated : asStr(get(obj, 'spec', 'storageClassName'));
}

function storageQuantity(map: unknown): string {
  const q = asObj(map).storage;
  return q === undefined ? '0' : quantityString(q);
}

export const persistentVolumePrinter: Printer = {
  columns: [
    nameColumn,
    col('Capacity', 'string', 'Storage capacity of the volume.'),
    col('Access Modes', 'string', 'Ways the volume can be mounted.'),
    col('Reclaim Policy', 'string', 'What happens to the volume once released.'),
    col('Status', 'string', 'Phase of the volume.'),
    col('Claim', 'string', 'Claim bound to the volume, as namespace/name.'),
    col('StorageClass', 'string', 'StorageClass of the volume.'),
    col('VolumeAttributesClass', 'string', 'VolumeAttributesClass of the volume.'),
    col('Reason', 'string', 'Reason for a failed phase.'),
    ageColumn,
    col('VolumeMode', 'string', 'Filesystem or Block.', 1),
  ],
  cells(pv, now) {
    const spec = asObj(pv.spec);
    const status = asObj(pv.status);
    const claim = isObj(spec.claimRef) ? `${asStr(spec.claimRef.namespace)}/${asStr(spec.claimRef.name)}` : '';
    const phase = pv.metadata.deletionTimestamp ? 'Terminating' : asStr(status.phase);
    return [
      pv.metadata.name ?? '',
      storageQuantity(spec.capacity),
      accessModesString(spec.accessModes),
      asStr(spec.persistentVolumeReclaimPolicy),
      phase,
      claim,
      storageClassOf(pv),
      typeof spec.volumeAttributesClassName === 'string' ? spec.volumeAttributesClassName : '<unset>',
      asStr(status.reason),
      age(pv.metadata.creationTimestamp, now),
      typeof spec.volumeMode === 'string' ? spec.volumeMode : '<unset>',
    ];
  },
};

export const persistentVolumeClaimPrinter: Printer = {
  columns: [
    nameColumn,
    col('Status', 'string', 'Phase of the claim.'),
    col('Volume', 'string', 'PersistentVolume bound to the claim.'),
    col('Capacity', 'string', 'Storage capacity of the bound volume.'),
    col('Access Modes', 'string', 'Access modes of the bound volume.'),
    col('StorageClass', 'string', 'StorageClass of the claim.'),
    col('VolumeAttributesClass', 'string', 'VolumeAttributesClass of the claim.'),
    ageColumn,
    col('VolumeMode', 'string', 'Filesystem or Block.', 1),
  ],
  cells(pvc, now) {
    const spec = asObj(pvc.spec);
    const status = asObj(pvc.status);
    const phase = pvc.metadata.deletionTimestamp ? 'Terminating' : asStr(status.phase);
    const volumeName = asStr(spec.volumeName);
    const bound = volumeName !== '';
    const vac = asStr(spec.volumeAttributesClassName);
    return [
      pvc.metadata.name ?? '',
      phase,
      volumeName,
      bound ? storageQuantity(status.capacity) : '',
      bound ? accessModesString(status.accessModes) : '',
      storageClassOf(pvc),
      vac || '<unset>',
      age(pvc.metadata.creationTimestamp, now),
      typeof spec.volumeMode === 'string' ? spec.volumeMode : '<unset>',
    ];
  },
};

function immutable(next: unknown, prev: unknown, path: string): FieldError[] {
  return semanticEqual(next, prev) ? [] : [invalid(path, next ?? null, 'field is immutable')];
}

function validatePersistentVolumeUpdate(pv: KubeObject, old: KubeObject): FieldError[] {
  const spec = asObj(pv.spec);
  const oldSpec = asObj(old.spec);
  const source = (s: Obj) => Object.fromEntries(PV_SOURCE_NAMES.map((k) => [k, s[k]]));
  const next = source(spec);
  const prev = source(oldSpec);
  // A CSI controllerExpandSecretRef may be added to a volume that had none.
  if (isObj(next.csi) && isObj(prev.csi) && prev.csi.controllerExpandSecretRef === undefined) {
    next.csi = { ...next.csi, controllerExpandSecretRef: undefined };
  }
  const errs: FieldError[] = [];
  if (!semanticEqual(next, prev)) errs.push(forbidden('spec.persistentvolumesource', 'spec.persistentvolumesource is immutable after creation'));
  errs.push(...immutable(spec.volumeMode, oldSpec.volumeMode, 'volumeMode'));
  return errs;
}

function validatePersistentVolumeClaimUpdate(pvc: KubeObject, old: KubeObject): FieldError[] {
  const spec = asObj(pvc.spec);
  const oldSpec = asObj(old.spec);
  const next: Obj = structuredClone(spec);
  const prev: Obj = structuredClone(oldSpec);
  if (asStr(oldSpec.volumeName) === '') prev.volumeName = next.volumeName;
  if (asStr(asObj(pvc.status).phase) === 'Bound' && isObj(next.resources) && isObj(next.resources.requests)) {
    next.resources = { ...next.resources, requests: { ...next.resources.requests, storage: asObj(asObj(oldSpec.resources).requests).storage } };
  }
  next.volumeAttributesClassName = prev.volumeAttributesClassName;
  const errs: FieldError[] = [];
  if (!semanticEqual(next, prev)) {
    errs.push(forbidden('spec', 'spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims'));
  }
  const newSize = quantityValue(asObj(asObj(spec.resources).requests).storage);
  const oldSize = quantityValue(asObj(asObj(oldSpec.resources).requests).storage);
  if (newSize !== undefined && oldSize !== undefined && newSize < oldSize) {
    // Shrinking is only a way back from a failed expansion: it may not go down to the real capacity.
    const capacity = quantityValue(asObj(asObj(old.status).capacity).storage) ?? 0;
    if (newSize <= capacity) errs.push(forbidden('spec.resources.requests.storage', 'field can not be less than status.capacity'));
  }
  errs.push(...immutable(spec.volumeMode, oldSpec.volumeMode, 'volumeMode'));
  return errs;
}

const persistentVolumes = kindDef({
  group: '',
  version: 'v1',
  kind: 'PersistentVolume',
  plural: 'persistentvolumes',
  namespaced: false,
  shortNames: ['pv'],
  // Kubernetes does not track metadata.generation for volumes and claims.
  tracksGeneration: false,
  schema: PersistentVolume,
  printer: persistentVolumePrinter,
  prepareForCreate(obj) {
    obj.status = { phase: 'Pending', lastPhaseTransitionTime: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z') };
  },
  prepareForUpdate(obj, old) {
    obj.status = structuredClone(old.status);
  },
  validate(obj, old) {
    return old ? validatePersistentVolumeUpdate(obj, old) : [];
  },
});

const persistentVolumeClaims = kindDef({
  group: '',
  version: 'v1',
  kind: 'PersistentVolumeClaim',
  plural: 'persistentvolumeclaims',
  namespaced: true,
  shortNames: ['pvc'],
  tracksGeneration: false,
  schema: PersistentVolumeClaim,
  printer: persistentVolumeClaimPrinter,
  prepareForCreate(obj) {
    obj.status = { phase: 'Pending' };
  },
  prepareForUpdate(obj, old) {
    obj.status = structuredClone(old.status);
  },
  validate(obj, old) {
    return old ? validatePersistentVolumeClaimUpdate(obj, old) : [];
  },
});

export const kinds: KindDef[] = [pods, persistentVolumes, persistentVolumeClaims];
