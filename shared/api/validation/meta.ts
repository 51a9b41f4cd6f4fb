// ObjectMeta validation shared by every kind (apimachinery's ValidateObjectMeta and
// ValidateObjectMetaUpdate), with Kubernetes' field paths and wording.
import type { FieldError } from '../schema/dsl.js';
import { forbidden, invalid, required } from '../schema/errors.js';
import {
  dns1035LabelMessages,
  dns1123LabelMessages,
  dns1123SubdomainMessages,
  pathSegmentNameMessages,
  pathSegmentPrefixMessages,
  qualifiedNameMessages,
  validateLabels,
} from './names.js';
import { goStringSlice } from './render.js';

export type MetaNameRule = 'dns1123Subdomain' | 'dns1123Label' | 'dns1035Label' | 'pathSegment';

export interface ObjectMetaOptions {
  namespaced: boolean;
  nameRule: MetaNameRule;
  /** On create a missing name is fine when generateName is set (the server generates it). */
  isCreate: boolean;
}

export const TOTAL_ANNOTATION_SIZE_LIMIT = 256 * 1024;
export const FIELD_MANAGER_MAX_LENGTH = 128;
const FINALIZER_ORPHAN = 'orphan';
const FINALIZER_FOREGROUND = 'foregroundDeletion';

type Meta = Record<string, unknown>;

const asMeta = (m: unknown): Meta => (m !== null && typeof m === 'object' && !Array.isArray(m) ? (m as Meta) : {});
const str = (v: unknown): string => (typeof v === 'string' ? v : '');
const isRecord = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/** generateName is checked as a prefix: Kubernetes swaps a trailing dash for a letter first. */
function maskTrailingDash(name: string): string {
  return name.length > 1 && name.endsWith('-') ? name.slice(0, -2) + 'a' : name;
}

/** Kubernetes' per-kind name functions (NameIsDNSSubdomain & co); `prefix` is for generateName. */
export function nameMessages(rule: MetaNameRule, name: string, prefix: boolean): readonly string[] {
  switch (rule) {
    case 'dns1123Subdomain':
      return dns1123SubdomainMessages(prefix ? maskTrailingDash(name) : name);
    case 'dns1123Label':
      return dns1123LabelMessages(prefix ? maskTrailingDash(name) : name);
    case 'dns1035Label':
      return dns1035LabelMessages(prefix ? maskTrailingDash(name) : name);
    case 'pathSegment':
      return prefix ? pathSegmentPrefixMessages(name) : pathSegmentNameMessages(name);
  }
}

export function validateAnnotations(annotations: unknown, path: string): FieldError[] {
  if (!isRecord(annotations)) return [];
  const out: FieldError[] = [];
  let chars = 0;
  for (const key in annotations) {
    for (const m of qualifiedNameMessages(key.toLowerCase())) out.push(invalid(path, key, m));
    const v = annotations[key];
    chars += key.length + (typeof v === 'string' ? v.length : 0);
  }
  // A UTF-16 unit is at most 3 UTF-8 bytes, so only count bytes when it could matter.
  if (chars * 3 > TOTAL_ANNOTATION_SIZE_LIMIT && annotationBytes(annotations) > TOTAL_ANNOTATION_SIZE_LIMIT) {
    out.push({ reason: 'FieldValueTooLong', field: path, message: `Too long: must have at most ${TOTAL_ANNOTATION_SIZE_LIMIT} bytes` });
  }
  return out;
}

function annotationBytes(annotations: Record<string, unknown>): number {
  let total = 0;
  for (const key in annotations) {
    const v = annotations[key];
    total += Buffer.byteLength(key) + (typeof v === 'string' ? Buffer.byteLength(v) : 0);
  }
  return total;
}

/** Go's schema.FromAPIVersionAndKind: "v1" -> version v1; "apps/v1" -> apps, v1; anything else -> no version. */
function splitAPIVersion(apiVersion: string): { group: string; version: string } {
  if (apiVersion === '') return { group: '', version: '' };
  const parts = apiVersion.split('/');
  if (parts.length === 1) return { group: '', version: apiVersion };
  if (parts.length === 2) return { group: parts[0], version: parts[1] };
  return { group: '', version: '' };
}

export function validateOwnerReferences(refs: unknown, path: string): FieldError[] {
  if (!Array.isArray(refs) || refs.length === 0) return [];
  const out: FieldError[] = [];
  let firstController = '';
  for (const raw of refs) {
    const ref = asMeta(raw);
    const apiVersion = str(ref.apiVersion);
    const kind = str(ref.kind);
    const gv = splitAPIVersion(apiVersion);
    if (!gv.version) out.push(invalid(`${path}.apiVersion`, apiVersion, 'version must not be empty'));
    if (!kind) out.push(invalid(`${path}.kind`, kind, 'kind must not be empty'));
    if (!str(ref.name)) out.push(invalid(`${path}.name`, str(ref.name), 'name must not be empty'));
    if (!str(ref.uid)) out.push(invalid(`${path}.uid`, str(ref.uid), 'uid must not be empty'));
    if (gv.group === '' && gv.version === 'v1' && kind === 'Event') {
      out.push(invalid(path, ref, '/v1, Kind=Event is disallowed from being an owner'));
    }
    if (ref.controller === true) {
      const name = `${kind}/${str(ref.name)}`;
      if (firstController) {
        out.push(
          invalid(path, refs, `Only one reference can have Controller set to true. Found "true" in references for ${firstController} and ${name}`),
        );
      } else firstController = name;
    }
  }
  return out;
}

export function validateFinalizers(finalizers: unknown, path: string): FieldError[] {
  if (!Array.isArray(finalizers) || finalizers.length === 0) return [];
  const out: FieldError[] = [];
  let orphan = false;
  let foreground = false;
  for (const f of finalizers) {
    if (typeof f !== 'string') continue;
    for (const m of qualifiedNameMessages(f)) out.push(invalid(path, f, m));
    if (f === FINALIZER_ORPHAN) orphan = true;
    if (f === FINALIZER_FOREGROUND) foreground = true;
  }
  if (orphan && foreground) {
    out.push({
      reason: 'FieldValueInvalid',
      field: path,
      message: `Invalid value: ${goStringSlice(finalizers as string[])}: finalizer ${FINALIZER_ORPHAN} and ${FINALIZER_FOREGROUND} cannot be both set`,
    });
  }
  return out;
}

export function validateManagedFields(entries: unknown, path: string): FieldError[] {
  if (!Array.isArray(entries) || entries.length === 0) return [];
  const out: FieldError[] = [];
  entries.forEach((raw, i) => {
    const e = asMeta(raw);
    const p = `${path}[${i}]`;
    const operation = str(e.operation);
    if (operation !== 'Apply' && operation !== 'Update') out.push(invalid(`${p}.operation`, operation, 'must be `Apply` or `Update`'));
    const fieldsType = str(e.fieldsType);
    if (fieldsType && fieldsType !== 'FieldsV1') out.push(invalid(`${p}.fieldsType`, fieldsType, 'must be `FieldsV1`'));
    const manager = str(e.manager);
    if (manager.length > FIELD_MANAGER_MAX_LENGTH) {
      out.push({ reason: 'FieldValueTooLong', field: `${p}.manager`, message: `Too long: must have at most ${FIELD_MANAGER_MAX_LENGTH} bytes` });
    }
    const subresource = str(e.subresource);
    if (subresource.length > 256) {
      out.push({ reason: 'FieldValueTooLong', field: `${p}.subresource`, message: 'Too long: must have at most 256 bytes' });
    }
  });
  return out;
}

/** ValidateObjectMeta: name/generateName, namespace scope, labels, annotations, owners, finalizers. */
export function validateObjectMeta(meta: unknown, opts: ObjectMetaOptions): FieldError[] {
  const m = asMeta(meta);
  const out: FieldError[] = [];
  const name = str(m.name);
  const generateName = str(m.generateName);
  if (generateName) {
    for (const msg of nameMessages(opts.nameRule, generateName, true)) out.push(invalid('metadata.generateName', generateName, msg));
  }
  if (!name) {
    if (!(opts.isCreate && generateName)) out.push(required('metadata.name', 'name or generateName is required'));
  } else {
    for (const msg of nameMessages(opts.nameRule, name, false)) out.push(invalid('metadata.name', name, msg));
  }
  const namespace = str(m.namespace);
  if (opts.namespaced) {
    if (!namespace) out.push(required('metadata.namespace'));
    else for (const msg of dns1123LabelMessages(namespace)) out.push(invalid('metadata.namespace', namespace, msg));
  } else if (namespace) {
    out.push(forbidden('metadata.namespace', 'not allowed on this type'));
  }
  if (typeof m.generation === 'number' && m.generation < 0) {
    out.push(invalid('metadata.generation', m.generation, 'must be greater than or equal to 0'));
  }
  appendCommon(out, m);
  const finalizers = validateFinalizers(m.finalizers, 'metadata.finalizers');
  for (const e of finalizers) out.push(e);
  for (const e of validateManagedFields(m.managedFields, 'metadata.managedFields')) out.push(e);
  return out;
}

function appendCommon(out: FieldError[], m: Meta): void {
  if (isRecord(m.labels)) for (const e of validateLabels(m.labels as Record<string, string>, 'metadata.labels')) out.push(e);
  for (const e of validateAnnotations(m.annotations, 'metadata.annotations')) out.push(e);
  for (const e of validateOwnerReferences(m.ownerReferences, 'metadata.ownerReferences')) out.push(e);
}

/** Go compares zero values: an absent string equals "", an absent number equals unset. */
function sameScalar(a: unknown, b: unknown): boolean {
  const na = a === undefined || a === null || a === '' ? undefined : a;
  const nb = b === undefined || b === null || b === '' ? undefined : b;
  return na === nb;
}

const IMMUTABLE_META_FIELDS = ['name', 'namespace', 'uid', 'creationTimestamp', 'deletionTimestamp', 'deletionGracePeriodSeconds'] as const;

/**
 * ValidateObjectMetaUpdate: identity fields may not change; no finalizers may be added once
 * deletion started; labels, annotations, owners and managedFields are re-checked. The
 * resourceVersion and generation rules are left to the update handler, which fills them in
 * before validation exactly as kube-apiserver does (see prepareObjectMetaForUpdate).
 */
export function validateObjectMetaUpdate(meta: unknown, old: unknown): FieldError[] {
  const m = asMeta(meta);
  const o = asMeta(old);
  const out: FieldError[] = [];
  if (o.deletionTimestamp) {
    const had = new Set(Array.isArray(o.finalizers) ? (o.finalizers as string[]) : []);
    const added = [...new Set(Array.isArray(m.finalizers) ? (m.finalizers as string[]) : [])].filter((f) => !had.has(f)).sort();
    if (added.length) {
      out.push(forbidden('metadata.finalizers', `no new finalizers can be added if the object is being deleted, found new finalizers ${goStringSlice(added)}`));
    }
  }
  for (const f of IMMUTABLE_META_FIELDS) {
    if (!sameScalar(m[f], o[f])) out.push(invalid(`metadata.${f}`, immutableValue(f, m[f]), 'field is immutable'));
  }
  appendCommon(out, m);
  for (const e of validateManagedFields(m.managedFields, 'metadata.managedFields')) out.push(e);
  return out;
}

/** Go prints the new value; absent strings print as "" and absent pointers as null. */
function immutableValue(field: string, v: unknown): unknown {
  if (v !== undefined && v !== null) return v;
  return field === 'name' || field === 'namespace' || field === 'uid' ? '' : null;
}

/**
 * What kube-apiserver's BeforeUpdate does to metadata before validating: generation, and any
 * uid / creationTimestamp / deletion fields the client left out, come from the stored object.
 */
export function prepareObjectMetaForUpdate(meta: Record<string, unknown>, old: Record<string, unknown>): void {
  if (old.generation !== undefined) meta.generation = old.generation;
  else delete meta.generation;
  if (!meta.uid && old.uid) meta.uid = old.uid;
  if (old.creationTimestamp) meta.creationTimestamp = old.creationTimestamp;
  if (old.deletionTimestamp) meta.deletionTimestamp = old.deletionTimestamp;
  if (old.deletionGracePeriodSeconds != null && meta.deletionGracePeriodSeconds == null) {
    meta.deletionGracePeriodSeconds = old.deletionGracePeriodSeconds;
  }
}
