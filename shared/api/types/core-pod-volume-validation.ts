// Semantic validation of pod volumes, PersistentVolumes and PersistentVolumeClaims, following
// Kubernetes' ValidateVolumes / ValidatePersistentVolumeSpec / ValidatePersistentVolumeClaimSpec
// (same checks, order, paths and wording for the commonly used sources).
import type { FieldError } from '../schema/dsl.js';
import { duplicate, forbidden, invalid, notSupported, required, tooLong } from '../schema/errors.js';
import { dns1123SubdomainMessages, validateDNS1123Label, validateDNS1123Subdomain } from '../validation/names.js';
import {
  NOT_POSITIVE,
  asList,
  asObj,
  asStr,
  child,
  index,
  isObj,
  key,
  quantityString,
  quantityValue,
  validateFileMode,
  validateLocalNonReservedPath,
  validatePathNoBacksteps,
  type Obj,
} from './core-pod-checks.js';

/**
 * Volume sources in the order Kubernetes checks them. `errorName` is the path segment Kubernetes
 * uses in its "more than 1 volume type" error (two of them differ from the JSON name upstream).
 */
const VOLUME_SOURCES: readonly { name: string; errorName?: string }[] = [
  { name: 'emptyDir' },
  { name: 'hostPath' },
  { name: 'gitRepo' },
  { name: 'gcePersistentDisk' },
  { name: 'awsElasticBlockStore' },
  { name: 'secret' },
  { name: 'nfs' },
  { name: 'iscsi' },
  { name: 'glusterfs' },
  { name: 'flocker' },
  { name: 'persistentVolumeClaim' },
  { name: 'rbd' },
  { name: 'cinder' },
  { name: 'cephfs', errorName: 'cephFS' },
  { name: 'quobyte' },
  { name: 'downwardAPI', errorName: 'downwarAPI' },
  { name: 'fc' },
  { name: 'flexVolume' },
  { name: 'configMap' },
  { name: 'azureFile' },
  { name: 'vsphereVolume' },
  { name: 'photonPersistentDisk' },
  { name: 'portworxVolume' },
  { name: 'azureDisk' },
  { name: 'storageos' },
  { name: 'projected' },
  { name: 'scaleIO' },
  { name: 'csi' },
  { name: 'ephemeral' },
  { name: 'image' },
];

/** JSON names of every pod volume source (a Volume with none of them gets an emptyDir). */
export const POD_VOLUME_SOURCE_NAMES: readonly string[] = VOLUME_SOURCES.map((s) => s.name);

const PV_SOURCES: readonly { name: string; errorName?: string }[] = [
  { name: 'hostPath' },
  { name: 'gcePersistentDisk' },
  { name: 'awsElasticBlockStore' },
  { name: 'glusterfs' },
  { name: 'flocker' },
  { name: 'nfs' },
  { name: 'rbd' },
  { name: 'quobyte' },
  { name: 'cephfs', errorName: 'cephFS' },
  { name: 'iscsi' },
  { name: 'cinder' },
  { name: 'fc' },
  { name: 'flexVolume' },
  { name: 'azureFile' },
  { name: 'vsphereVolume' },
  { name: 'photonPersistentDisk' },
  { name: 'portworxVolume' },
  { name: 'azureDisk' },
  { name: 'scaleIO' },
  { name: 'local' },
  { name: 'storageos' },
  { name: 'csi' },
];

/** JSON names of the persistent volume sources inlined in PersistentVolumeSpec. */
export const PV_SOURCE_NAMES: readonly string[] = PV_SOURCES.map((s) => s.name);

const HOST_PATH_TYPES = ['', 'BlockDevice', 'CharDevice', 'Directory', 'DirectoryOrCreate', 'File', 'FileOrCreate', 'Socket'];
const ACCESS_MODES = ['ReadOnlyMany', 'ReadWriteMany', 'ReadWriteOnce', 'ReadWriteOncePod'];
const RECLAIM_POLICIES = ['Delete', 'Recycle', 'Retain'];
const VOLUME_MODES = ['Block', 'Filesystem'];
const VOLUME_DOWNWARD_FIELDS = ['metadata.annotations', 'metadata.labels', 'metadata.name', 'metadata.namespace', 'metadata.uid'];
const CONTAINER_RESOURCE_FIELDS = ['limits.cpu', 'limits.ephemeral-storage', 'limits.memory', 'requests.cpu', 'requests.ephemeral-storage', 'requests.memory'];

/**
 * ValidateVolumes: returns the valid volumes by name (what volumeMounts may reference) plus the
 * errors. A volume with any error is left out of the map, as Kubernetes does.
 */
export function validateVolumes(volumes: unknown, path: string, podName?: string): { byName: Map<string, Obj>; errors: FieldError[] } {
  const byName = new Map<string, Obj>();
  const errors: FieldError[] = [];
  const names = new Set<string>();
  asList(volumes).forEach((v, i) => {
    const vol = asObj(v);
    const idxPath = index(path, i);
    const namePath = child(idxPath, 'name');
    const name = asStr(vol.name);
    const el = validateVolumeSource(vol, idxPath, name, podName);
    if (name.length > 0) el.push(...validateDNS1123Label(name, namePath));
    if (names.has(name)) el.push(duplicate(namePath, name));
    if (el.length === 0) {
      names.add(name);
      byName.set(name, vol);
    } else {
      errors.push(...el);
    }
  });
  return { byName, errors };
}

function validateVolumeSource(vol: Obj, path: string, volName: string, podName: string | undefined): FieldError[] {
  const errs: FieldError[] = [];
  let count = 0;
  for (const src of VOLUME_SOURCES) {
    const value = vol[src.name];
    if (value === undefined || value === null) continue;
    if (count > 0) {
      errs.push(forbidden(child(path, src.errorName ?? src.name), 'may not specify more than 1 volume type'));
      continue;
    }
    count++;
    errs.push(...validateOneVolumeSource(src.name, asObj(value), child(path, src.name), volName, podName));
  }
  if (count === 0) errs.push(required(path, 'must specify a volume type'));
  return errs;
}

function validateOneVolumeSource(kind: string, src: Obj, path: string, volName: string, podName: string | undefined): FieldError[] {
  switch (kind) {
    case 'emptyDir': {
      const v = quantityValue(src.sizeLimit);
      return v !== undefined && v < 0 ? [forbidden(child(path, 'sizeLimit'), 'SizeLimit field must be a valid resource quantity')] : [];
    }
    case 'hostPath':
      return validateHostPath(src, path);
    case 'secret': {
      const errs: FieldError[] = [];
      if (asStr(src.secretName).length === 0) errs.push(required(child(path, 'secretName')));
      errs.push(...validateFileMode(src.defaultMode, child(path, 'defaultMode')));
      asList(src.items).forEach((kp, i) => errs.push(...validateKeyToPath(asObj(kp), index(child(path, 'items'), i))));
      return errs;
    }
    case 'configMap': {
      const errs: FieldError[] = [];
      if (asStr(src.name).length === 0) errs.push(required(child(path, 'name')));
      errs.push(...validateFileMode(src.defaultMode, child(path, 'defaultMode')));
      asList(src.items).forEach((kp, i) => errs.push(...validateKeyToPath(asObj(kp), index(child(path, 'items'), i))));
      return errs;
    }
    case 'nfs':
      return validateNFS(src, path);
    case 'downwardAPI': {
      const errs = validateFileMode(src.defaultMode, child(path, 'defaultMode'));
      for (const item of asList(src.items)) errs.push(...validateDownwardAPIVolumeFile(asObj(item), path));
      return errs;
    }
    case 'projected':
      return validateProjected(src, path);
    case 'csi':
      return validateCSIDriverName(asStr(src.driver), child(path, 'driver'));
    case 'ephemeral':
      return validateEphemeral(src, path, volName, podName);
    default:
      return [];
  }
}

function validateHostPath(src: Obj, path: string): FieldError[] {
  const p = asStr(src.path);
  if (p.length === 0) return [];
  const errs = validatePathNoBacksteps(p, child(path, 'path'));
  if (typeof src.type === 'string' && !HOST_PATH_TYPES.includes(src.type)) errs.push(notSupported(child(path, 'type'), src.type, HOST_PATH_TYPES));
  return errs;
}

function validateNFS(src: Obj, path: string): FieldError[] {
  const errs: FieldError[] = [];
  const p = asStr(src.path);
  if (p.length > 0 && !p.startsWith('/')) errs.push(invalid(child(path, 'path'), p, 'must be an absolute path'));
  return errs;
}

function validateKeyToPath(kp: Obj, path: string): FieldError[] {
  const errs: FieldError[] = [];
  errs.push(...validateLocalNonReservedPath(asStr(kp.path), child(path, 'path')));
  errs.push(...validateFileMode(kp.mode, child(path, 'mode')));
  return errs;
}

function validateDownwardAPIVolumeFile(file: Obj, path: string): FieldError[] {
  const errs: FieldError[] = [];
  const p = asStr(file.path);
  errs.push(...validateLocalNonReservedPath(p, child(path, 'path')));
  if (isObj(file.fieldRef)) {
    errs.push(...validateObjectFieldSelector(file.fieldRef, VOLUME_DOWNWARD_FIELDS, child(path, 'fieldRef')));
    if (isObj(file.resourceFieldRef)) errs.push(invalid(path, 'resource', 'fieldRef and resourceFieldRef can not be specified simultaneously'));
  } else if (isObj(file.resourceFieldRef)) {
    errs.push(...validateResourceFieldSelector(file.resourceFieldRef, child(path, 'resourceFieldRef'), true));
  } else {
    errs.push(required(path, 'one of fieldRef and resourceFieldRef is required'));
  }
  errs.push(...validateFileMode(file.mode, child(path, 'mode')));
  return errs;
}

/** Downward API field selector; `allowed` lists the plain field paths (labels/annotations may also be subscripted). */
export function validateObjectFieldSelector(sel: Obj, allowed: readonly string[], path: string): FieldError[] {
  if (asStr(sel.apiVersion).length === 0) return [required(child(path, 'apiVersion'))];
  const fieldPath = asStr(sel.fieldPath);
  if (fieldPath.length === 0) return [];
  const subscript = /^(metadata\.(?:labels|annotations))\['(.*)'\]$/.exec(fieldPath);
  if (subscript) return [];
  if (!allowed.includes(fieldPath)) return [notSupported(child(path, 'fieldPath'), fieldPath, allowed)];
  return [];
}

/** Container resource selector (limits.cpu, requests.memory, ...); volumes must also name the container. */
export function validateResourceFieldSelector(sel: Obj, path: string, inVolume: boolean): FieldError[] {
  const resource = asStr(sel.resource);
  if (inVolume && asStr(sel.containerName).length === 0) return [required(child(path, 'containerName'))];
  if (resource.length === 0) return [];
  const hugePages = resource.startsWith('requests.hugepages-') || resource.startsWith('limits.hugepages-');
  if (!CONTAINER_RESOURCE_FIELDS.includes(resource) && !hugePages) return [notSupported(child(path, 'resource'), resource, CONTAINER_RESOURCE_FIELDS)];
  return [];
}

function validateProjected(src: Obj, path: string): FieldError[] {
  const errs = validateFileMode(src.defaultMode, child(path, 'defaultMode'));
  const seen = new Set<string>();
  const notePath = (p: string, value: unknown) => {
    if (p.length === 0) return;
    if (seen.has(p)) errs.push(invalid(path, value, 'conflicting duplicate paths'));
    else seen.add(p);
  };
  asList(src.sources).forEach((s, i) => {
    const source = asObj(s);
    const srcPath = index(child(path, 'sources'), i);
    let count = 0;
    for (const kind of ['secret', 'configMap'] as const) {
      if (!isObj(source[kind])) continue;
      count++;
      const proj = source[kind] as Obj;
      const projPath = child(srcPath, kind);
      if (asStr(proj.name).length === 0) errs.push(required(child(projPath, 'name')));
      asList(proj.items).forEach((kp, j) => {
        const item = asObj(kp);
        errs.push(...validateKeyToPath(item, index(child(projPath, 'items'), j)));
        notePath(asStr(item.path), proj.name);
      });
    }
    if (isObj(source.downwardAPI)) {
      count++;
      const projPath = child(srcPath, 'downwardAPI');
      for (const f of asList(source.downwardAPI.items)) {
        const file = asObj(f);
        errs.push(...validateDownwardAPIVolumeFile(file, projPath));
        notePath(asStr(file.path), file.path);
      }
    }
    if (isObj(source.serviceAccountToken)) {
      count++;
      const token = source.serviceAccountToken;
      const projPath = child(srcPath, 'serviceAccountToken');
      const exp = typeof token.expirationSeconds === 'number' ? token.expirationSeconds : 3600;
      if (exp < 600) errs.push(invalid(child(projPath, 'expirationSeconds'), exp, 'may not specify a duration less than 10 minutes'));
      if (exp > 2 ** 32) errs.push(invalid(child(projPath, 'expirationSeconds'), exp, 'may not specify a duration larger than 2^32 seconds'));
      const tokenPath = asStr(token.path);
      if (tokenPath.length > 0) errs.push(...validateLocalNonReservedPath(tokenPath, child(path, 'path')));
    }
    if (isObj(source.clusterTrustBundle)) {
      count++;
      const bundle = source.clusterTrustBundle;
      const projPath = child(srcPath, 'clusterTrustBundlePEM');
      errs.push(...validateLocalNonReservedPath(asStr(bundle.path), child(projPath, 'path')));
      notePath(asStr(bundle.path), bundle.path);
    }
    if (count > 1) errs.push(forbidden(srcPath, 'may not specify more than 1 volume type'));
  });
  return errs;
}

export function validateCSIDriverName(driver: string, path: string): FieldError[] {
  const errs: FieldError[] = [];
  if (driver.length === 0) return errs;
  if (driver.length > 63) errs.push(tooLong(path, 63));
  for (const m of dns1123SubdomainMessages(driver.toLowerCase())) errs.push(invalid(path, driver, m));
  return errs;
}

function validateEphemeral(src: Obj, path: string, volName: string, podName: string | undefined): FieldError[] {
  if (!isObj(src.volumeClaimTemplate)) return [required(child(path, 'volumeClaimTemplate'))];
  const errs: FieldError[] = [];
  const tmplPath = child(path, 'volumeClaimTemplate');
  const meta = asObj(src.volumeClaimTemplate.metadata);
  for (const k of Object.keys(meta)) {
    if (k !== 'labels' && k !== 'annotations') errs.push(forbidden(child(child(tmplPath, 'metadata'), k), 'cannot be set'));
  }
  if (podName && volName) {
    const pvcName = `${podName}-${volName}`;
    for (const m of dns1123SubdomainMessages(pvcName)) errs.push(invalid(child(path, 'name'), volName, `PVC name ${JSON.stringify(pvcName)}: ${m}`));
  }
  return errs;
}

// ---- access modes, PV and PVC specs -----------------------------------------------------------

function validateAccessModes(modes: unknown, path: string, requiredDetail: string): FieldError[] {
  const list = asList(modes);
  const errs: FieldError[] = [];
  if (list.length === 0) errs.push(required(path, requiredDetail));
  let rwop = false;
  let other = false;
  for (const mode of list) {
    if (typeof mode !== 'string' || !ACCESS_MODES.includes(mode)) errs.push(notSupported(path, mode, ACCESS_MODES));
    else if (mode === 'ReadWriteOncePod') rwop = true;
    else other = true;
  }
  if (rwop && other) errs.push(forbidden(path, 'may not use ReadWriteOncePod with other access modes'));
  return errs;
}

function validateStorageClassName(value: unknown, path: string): FieldError[] {
  return typeof value === 'string' && value.length > 0 ? validateDNS1123Subdomain(value, path) : [];
}

/** ValidatePersistentVolumeSpec for a (non-inline) PersistentVolume. */
export function validatePersistentVolumeSpec(spec: Obj, path: string): FieldError[] {
  const errs = validateAccessModes(spec.accessModes, child(path, 'accessModes'), '');
  const capacity = asObj(spec.capacity);
  const capPath = child(path, 'capacity');
  const capKeys = Object.keys(capacity);
  if (capKeys.length === 0) errs.push(required(capPath));
  if (!('storage' in capacity) || capKeys.length > 1) errs.push(notSupported(capPath, capacity, ['storage']));
  for (const k of capKeys) {
    const v = quantityValue(capacity[k]);
    if (v !== undefined && v <= 0) errs.push(invalid(key(capPath, k), quantityString(capacity[k]), NOT_POSITIVE));
  }
  const policy = spec.persistentVolumeReclaimPolicy;
  if (typeof policy === 'string' && policy.length > 0 && !RECLAIM_POLICIES.includes(policy)) {
    errs.push(notSupported(child(path, 'persistentVolumeReclaimPolicy'), policy, RECLAIM_POLICIES));
  }
  const nodeAffinitySet = isObj(spec.nodeAffinity) && isObj(spec.nodeAffinity.required);
  let count = 0;
  for (const src of PV_SOURCES) {
    const value = spec[src.name];
    if (value === undefined || value === null) continue;
    if (count > 0) {
      errs.push(forbidden(child(path, src.errorName ?? src.name), 'may not specify more than 1 volume type'));
      continue;
    }
    count++;
    const srcObj = asObj(value);
    const srcPath = child(path, src.name);
    if (src.name === 'hostPath') errs.push(...validateHostPath(srcObj, srcPath));
    else if (src.name === 'nfs') errs.push(...validateNFS(srcObj, srcPath));
    else if (src.name === 'local') {
      const p = asStr(srcObj.path);
      if (p.length > 0) errs.push(...validatePathNoBacksteps(p, child(srcPath, 'path')));
      if (!nodeAffinitySet) errs.push(required(child(path, 'nodeAffinity'), 'Local volume requires node affinity'));
    } else if (src.name === 'csi') {
      errs.push(...validateCSIDriverName(asStr(srcObj.driver), child(srcPath, 'driver')));
    }
  }
  if (count === 0) errs.push(required(path, 'must specify a volume type'));
  if (/^\/+$/.test(asStr(asObj(spec.hostPath).path)) && policy === 'Recycle') {
    errs.push(forbidden(child(path, 'persistentVolumeReclaimPolicy'), "may not be 'recycle' for a hostPath mount of '/'"));
  }
  errs.push(...validateStorageClassName(spec.storageClassName, child(path, 'storageClassName')));
  if (typeof spec.volumeMode === 'string' && !VOLUME_MODES.includes(spec.volumeMode)) {
    errs.push(notSupported(child(path, 'volumeMode'), spec.volumeMode, VOLUME_MODES));
  }
  if (spec.volumeAttributesClassName !== undefined && spec.volumeAttributesClassName !== null) {
    const vac = asStr(spec.volumeAttributesClassName);
    if (vac.length === 0) errs.push(required(child(path, 'volumeAttributesClassName'), 'an empty string is disallowed'));
    else errs.push(...validateDNS1123Subdomain(vac, child(path, 'volumeAttributesClassName')));
    if (!isObj(spec.csi)) errs.push(required(child(path, 'csi'), 'has to be specified when using volumeAttributesClassName'));
  }
  return errs;
}

function validateDataSource(ds: Obj, path: string): FieldError[] {
  const errs: FieldError[] = [];
  const apiGroup = asStr(ds.apiGroup);
  if (apiGroup.length === 0 && ds.kind !== 'PersistentVolumeClaim') {
    errs.push(invalid(path, asStr(ds.kind), "must be 'PersistentVolumeClaim' when referencing the default apiGroup"));
  }
  if (apiGroup.length > 0) errs.push(...validateDNS1123Subdomain(apiGroup, child(path, 'apiGroup')));
  return errs;
}

/** ValidatePersistentVolumeClaimSpec (used by claims, ephemeral volume templates and StatefulSet templates). */
export function validatePersistentVolumeClaimSpec(spec: Obj, path: string): FieldError[] {
  const errs = validateAccessModes(spec.accessModes, child(path, 'accessModes'), 'at least 1 access mode is required');
  const requests = asObj(asObj(spec.resources).requests);
  const storagePath = key(child(path, 'resources'), 'storage');
  if (!('storage' in requests)) {
    errs.push(required(storagePath));
  } else {
    const v = quantityValue(requests.storage);
    if (v !== undefined && v <= 0) errs.push(invalid(storagePath, quantityString(requests.storage), NOT_POSITIVE));
  }
  errs.push(...validateStorageClassName(spec.storageClassName, child(path, 'storageClassName')));
  if (typeof spec.volumeMode === 'string' && !VOLUME_MODES.includes(spec.volumeMode)) {
    errs.push(notSupported(child(path, 'volumeMode'), spec.volumeMode, VOLUME_MODES));
  }
  if (isObj(spec.dataSource)) errs.push(...validateDataSource(spec.dataSource, child(path, 'dataSource')));
  if (isObj(spec.dataSourceRef)) errs.push(...validateDataSource(spec.dataSourceRef, child(path, 'dataSourceRef')));
  const refNamespace = asStr(asObj(spec.dataSourceRef).namespace);
  if (refNamespace.length > 0) {
    if (isObj(spec.dataSource)) errs.push(invalid(path, child(path, 'dataSource'), 'may not be specified when dataSourceRef.namespace is specified'));
  } else if (isObj(spec.dataSource) && isObj(spec.dataSourceRef)) {
    const a = spec.dataSource;
    const b = spec.dataSourceRef;
    if (asStr(a.apiGroup) !== asStr(b.apiGroup) || a.kind !== b.kind || a.name !== b.name) {
      errs.push(invalid(path, child(path, 'dataSource'), 'must match dataSourceRef'));
    }
  }
  errs.push(...validateStorageClassName(spec.volumeAttributesClassName, child(path, 'volumeAttributesClassName')));
  return errs;
}
