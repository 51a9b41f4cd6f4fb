// io.k8s.api.core.v1.LimitRange and ResourceQuota: per-namespace resource limits, with the
// defaulting of SetDefaults_LimitRangeItem and the checks of ValidateLimitRange/ValidateResourceQuota.
import { field, list, map, quantity, ref, str, struct, type FieldError, type StructType } from '../schema/dsl.js';
import { forbidden, invalid, required } from '../schema/errors.js';
import { qualifiedNameMessages } from '../validation/names.js';
import { ListMeta, ObjectMeta } from './meta.js';
import { CORE, typeMeta } from './core-reference.js';
import {
  asList, asObj, asStr, duplicateRendered, FIELD_IMMUTABLE, goSlice, index, invalidRendered, isExtendedResourceName, isNativeResource,
  join, key, quantityString, quantityValue, validateResourceQuantity, type Obj,
} from './core-validation.js';

// ---- schema ------------------------------------------------------------------------------------------

const resourceList = (proto: number, description: string) => field(map(quantity()), proto, description);

export const LimitRangeItem: StructType = struct(
  `${CORE}.LimitRangeItem`,
  'Limits and defaults for one kind of object (Pod, Container or PersistentVolumeClaim).',
  {
    type: field(str(), 1, 'Kind of object the limits apply to.', { required: true }),
    max: resourceList(2, 'Largest amount of each resource allowed.'),
    min: resourceList(3, 'Smallest amount of each resource allowed.'),
    default: resourceList(4, 'Limit applied when a container sets none.'),
    defaultRequest: resourceList(5, 'Request applied when a container sets none.'),
    maxLimitRequestRatio: resourceList(6, 'Largest allowed ratio of limit to request per resource.'),
  },
  { defaults: defaultLimitRangeItem },
);

export const LimitRangeSpec: StructType = struct(`${CORE}.LimitRangeSpec`, 'The limits a LimitRange enforces.', {
  // Required in Kubernetes' OpenAPI, yet an empty list is accepted, so not marked required here.
  limits: field(list(ref(() => LimitRangeItem), { listType: 'atomic' }), 1, 'Limits per kind of object.'),
});

export const LimitRange: StructType = struct(
  `${CORE}.LimitRange`,
  'Per-object resource limits and defaults enforced in one namespace.',
  {
    ...typeMeta,
    metadata: field(ref(() => ObjectMeta), 1, 'Standard object metadata.'),
    spec: field(ref(() => LimitRangeSpec), 2, 'The limits enforced.', { default: {} }),
  },
  { gvk: [{ group: '', version: 'v1', kind: 'LimitRange' }] },
);

export const LimitRangeList: StructType = struct(
  `${CORE}.LimitRangeList`,
  'A list of LimitRanges.',
  {
    ...typeMeta,
    metadata: field(ref(() => ListMeta), 1, 'Standard list metadata.'),
    items: field(list(ref(() => LimitRange)), 2, 'The LimitRanges.', { required: true }),
  },
  { gvk: [{ group: '', version: 'v1', kind: 'LimitRangeList' }] },
);

export const ScopedResourceSelectorRequirement: StructType = struct(
  `${CORE}.ScopedResourceSelectorRequirement`,
  'One scope-name/operator/values term of a quota scope selector.',
  {
    scopeName: field(str(), 1, 'Quota scope the term applies to, e.g. PriorityClass.', { required: true }),
    operator: field(str(), 2, 'In, NotIn, Exists or DoesNotExist.', { required: true }),
    values: field(list(str(), { listType: 'atomic' }), 3, 'Values for In and NotIn; empty otherwise.'),
  },
);

export const ScopeSelector: StructType = struct(
  `${CORE}.ScopeSelector`,
  'Scope terms that all have to match for an object to count against a quota.',
  {
    matchExpressions: field(list(ref(() => ScopedResourceSelectorRequirement), { listType: 'atomic' }), 1, 'The terms, ANDed.'),
  },
  { mapType: 'atomic' },
);

export const ResourceQuotaSpec: StructType = struct(`${CORE}.ResourceQuotaSpec`, 'The hard limits a quota enforces and what it counts.', {
  hard: resourceList(1, 'Hard limit per named resource.'),
  scopes: field(list(str(), { listType: 'atomic' }), 2, 'Filters every counted object must match; none means all objects.'),
  scopeSelector: field(ref(() => ScopeSelector), 3, 'Scope filters written as selector terms.'),
});

export const ResourceQuotaStatus: StructType = struct(`${CORE}.ResourceQuotaStatus`, 'Enforced limits and observed usage of a quota.', {
  hard: resourceList(1, 'Limits currently enforced.'),
  used: resourceList(2, 'Current usage in the namespace.'),
});

export const ResourceQuota: StructType = struct(
  `${CORE}.ResourceQuota`,
  'Aggregate resource limits enforced per namespace.',
  {
    ...typeMeta,
    metadata: field(ref(() => ObjectMeta), 1, 'Standard object metadata.'),
    spec: field(ref(() => ResourceQuotaSpec), 2, 'The desired quota.', { default: {} }),
    status: field(ref(() => ResourceQuotaStatus), 3, 'Enforced quota and current usage; written by the system.', { default: {} }),
  },
  { gvk: [{ group: '', version: 'v1', kind: 'ResourceQuota' }] },
);

export const ResourceQuotaList: StructType = struct(
  `${CORE}.ResourceQuotaList`,
  'A list of ResourceQuotas.',
  {
    ...typeMeta,
    metadata: field(ref(() => ListMeta), 1, 'Standard list metadata.'),
    items: field(list(ref(() => ResourceQuota)), 2, 'The ResourceQuotas.', { required: true }),
  },
  { gvk: [{ group: '', version: 'v1', kind: 'ResourceQuotaList' }] },
);

/** Container limits default from max, requests from the default limit, then from min. */
function defaultLimitRangeItem(item: Obj): void {
  if (item.type !== 'Container') return;
  const def: Obj = { ...(asObj(item.default) ?? {}) };
  const defReq: Obj = { ...(asObj(item.defaultRequest) ?? {}) };
  for (const [k, v] of Object.entries(asObj(item.max) ?? {})) if (!(k in def)) def[k] = v;
  for (const [k, v] of Object.entries(def)) if (!(k in defReq)) defReq[k] = v;
  for (const [k, v] of Object.entries(asObj(item.min) ?? {})) if (!(k in defReq)) defReq[k] = v;
  if (Object.keys(def).length) item.default = def;
  if (Object.keys(defReq).length) item.defaultRequest = defReq;
}

// ---- resource names ---------------------------------------------------------------------------------------

const isHugePages = (n: string): boolean => n.startsWith('hugepages-');
const isQuotaHugePages = (n: string): boolean => n.startsWith('hugepages-') || n.startsWith('requests.hugepages-');

const COMPUTE = ['cpu', 'memory', 'ephemeral-storage'];
const STANDARD_RESOURCES = new Set([
  ...COMPUTE, 'requests.cpu', 'requests.memory', 'requests.ephemeral-storage', 'limits.cpu', 'limits.memory',
  'limits.ephemeral-storage', 'pods', 'services', 'replicationcontrollers', 'resourcequotas', 'secrets', 'configmaps',
  'persistentvolumeclaims', 'storage', 'requests.storage', 'services.nodeports', 'services.loadbalancers',
]);
const QUOTA_RESOURCES = new Set([...STANDARD_RESOURCES].filter((r) => r !== 'storage'));
const LIMIT_TYPES = ['Pod', 'Container', 'PersistentVolumeClaim'];

function validateResourceName(name: string, path: string): FieldError[] {
  const errs = qualifiedNameMessages(name).map((m) => invalid(path, name, m));
  if (errs.length) return errs;
  if (!name.includes('/') && !STANDARD_RESOURCES.has(name) && !isQuotaHugePages(name)) {
    return [invalid(path, name, 'must be a standard resource type or fully qualified')];
  }
  return [];
}

function validateContainerResourceName(name: string, path: string): FieldError[] {
  const errs = validateResourceName(name, path);
  if (!name.includes('/')) {
    if (!COMPUTE.includes(name) && !isHugePages(name)) errs.push(invalid(path, name, 'must be a standard resource for containers'));
  } else if (!isNativeResource(name) && !isExtendedResourceName(name)) {
    errs.push(invalid(path, name, "doesn't follow extended resource name standard"));
  }
  return errs;
}

function validateQuotaResourceName(name: string, path: string): FieldError[] {
  const errs = validateResourceName(name, path);
  if (!name.includes('/') && !QUOTA_RESOURCES.has(name) && !isQuotaHugePages(name)) {
    errs.push(invalid(path, name, 'must be a standard resource for quota'));
  }
  return errs;
}

// ---- LimitRange -------------------------------------------------------------------------------------------

/** ValidateLimitRange minus ObjectMeta. */
export function validateLimitRange(lr: Obj): FieldError[] {
  const errs: FieldError[] = [];
  const seenTypes = new Set<string>();
  asList(asObj(lr.spec)?.limits).forEach((raw, i) => {
    const item = asObj(raw) ?? {};
    const path = index('spec.limits', i);
    const type = asStr(item.type);
    // An empty type is reported by the schema's required check.
    const typeErrs = type ? qualifiedNameMessages(type).map((m) => invalid(join(path, 'type'), type, m)) : [];
    if (!typeErrs.length && !type.includes('/') && !LIMIT_TYPES.includes(type)) {
      typeErrs.push(invalid(join(path, 'type'), type, 'must be a standard limit type or fully qualified'));
    }
    errs.push(...typeErrs);
    if (seenTypes.has(type)) errs.push(duplicateRendered(join(path, 'type'), JSON.stringify(type)));
    seenTypes.add(type);

    const nameCheck = type === 'Pod' || type === 'Container' ? validateContainerResourceName : validateResourceName;
    const lists: Record<string, Obj> = {};
    const check = (part: string) => {
      lists[part] = asObj(item[part]) ?? {};
      for (const name of Object.keys(lists[part])) errs.push(...nameCheck(name, key(join(path, part), name)));
    };
    check('max');
    check('min');
    if (type === 'Pod') {
      if (Object.keys(asObj(item.default) ?? {}).length) errs.push(forbidden(join(path, 'default'), "may not be specified when `type` is 'Pod'"));
      if (Object.keys(asObj(item.defaultRequest) ?? {}).length) {
        errs.push(forbidden(join(path, 'defaultRequest'), "may not be specified when `type` is 'Pod'"));
      }
      lists.default = {};
      lists.defaultRequest = {};
    } else {
      check('default');
      check('defaultRequest');
    }
    if (type === 'PersistentVolumeClaim' && !('storage' in lists.min) && !('storage' in lists.max)) {
      errs.push(required(join(path, 'limits'), 'either minimum or maximum storage value is required, but neither was provided'));
    }
    check('maxLimitRequestRatio');
    errs.push(...compareLimits(lists, path));
  });
  return errs;
}

function compareLimits(l: Record<string, Obj>, path: string): FieldError[] {
  const errs: FieldError[] = [];
  const names = new Set(['max', 'min', 'default', 'defaultRequest', 'maxLimitRequestRatio'].flatMap((p) => Object.keys(l[p])));
  const q = (part: string, name: string) => (name in l[part] ? { v: quantityValue(l[part][name]), s: quantityString(l[part][name]) } : undefined);
  for (const name of names) {
    const min = q('min', name);
    const max = q('max', name);
    const def = q('default', name);
    const defReq = q('defaultRequest', name);
    const ratio = q('maxLimitRequestRatio', name);
    const at = (part: string) => key(join(path, part), name);
    if (min && max && min.v > max.v) errs.push(invalid(at('min'), min.s, `min value ${min.s} is greater than max value ${max.s}`));
    if (defReq && min && min.v > defReq.v) {
      errs.push(invalid(at('defaultRequest'), defReq.s, `min value ${min.s} is greater than default request value ${defReq.s}`));
    }
    if (defReq && max && defReq.v > max.v) {
      errs.push(invalid(at('defaultRequest'), defReq.s, `default request value ${defReq.s} is greater than max value ${max.s}`));
    }
    if (defReq && def && defReq.v > def.v) {
      errs.push(invalid(at('defaultRequest'), defReq.s, `default request value ${defReq.s} is greater than default limit value ${def.s}`));
    }
    if (def && min && min.v > def.v) errs.push(invalid(at('default'), min.s, `min value ${min.s} is greater than default value ${def.s}`));
    if (def && max && def.v > max.v) errs.push(invalid(at('default'), max.s, `default value ${def.s} is greater than max value ${max.s}`));
    if (ratio && ratio.v < 1) errs.push(invalid(at('maxLimitRequestRatio'), ratio.s, `ratio ${ratio.s} is less than 1`));
    if (ratio && min && max && min.v > 0 && ratio.v > max.v / min.v) {
      errs.push(invalid(at('maxLimitRequestRatio'), ratio.s, `ratio ${ratio.s} is greater than max/min = ${(max.v / min.v).toFixed(6)}`));
    }
  }
  return errs;
}

// ---- ResourceQuota ----------------------------------------------------------------------------------------

const QUOTA_SCOPES = ['Terminating', 'NotTerminating', 'BestEffort', 'NotBestEffort', 'PriorityClass', 'CrossNamespacePodAffinity', 'VolumeAttributesClass'];
const POD_COMPUTE = new Set(['pods', 'cpu', 'memory', 'limits.cpu', 'limits.memory', 'requests.cpu', 'requests.memory']);
const EXISTS_ONLY_SCOPES = ['BestEffort', 'NotBestEffort', 'Terminating', 'NotTerminating', 'CrossNamespacePodAffinity'];
const CONFLICTING_SCOPES = [['BestEffort', 'NotBestEffort'], ['Terminating', 'NotTerminating']];

function scopeAppliesTo(scope: string, resource: string): boolean {
  switch (scope) {
    case 'BestEffort':
      return resource === 'pods';
    case 'VolumeAttributesClass':
      return resource === 'persistentvolumeclaims' || resource === 'requests.storage';
    default:
      return POD_COMPUTE.has(resource);
  }
}

function validateQuotaScopes(spec: Obj): FieldError[] {
  const scopes = asList(spec.scopes).map(asStr);
  if (!scopes.length) return [];
  const errs: FieldError[] = [];
  const rendered = goSlice('[]core.ResourceQuotaScope', spec.scopes);
  const hard = Object.keys(asObj(spec.hard) ?? {}).sort();
  for (const scope of scopes) {
    if (!QUOTA_SCOPES.includes(scope)) errs.push(invalidRendered('spec.scopes', rendered, 'unsupported scope'));
    for (const r of hard) {
      if (QUOTA_RESOURCES.has(r) && !scopeAppliesTo(scope, r)) errs.push(invalidRendered('spec.scopes', rendered, 'unsupported scope applied to resource'));
    }
  }
  for (const pair of CONFLICTING_SCOPES) if (pair.every((s) => scopes.includes(s))) errs.push(invalidRendered('spec.scopes', rendered, 'conflicting scopes'));
  return errs;
}

function validateScopeSelector(spec: Obj): FieldError[] {
  const selector = asObj(spec.scopeSelector);
  if (!selector) return [];
  const errs: FieldError[] = [];
  // Kubernetes reports these against the list itself, without an index.
  const path = 'spec.scopeSelector.matchExpressions';
  const hard = Object.keys(asObj(spec.hard) ?? {}).sort();
  const seen = new Set<string>();
  for (const raw of asList(selector.matchExpressions)) {
    const req = asObj(raw) ?? {};
    const scope = asStr(req.scopeName);
    const op = asStr(req.operator);
    const values = asList(req.values);
    // Empty scope names and operators are reported by the schema's required check.
    if (scope && !QUOTA_SCOPES.includes(scope)) errs.push(invalid(join(path, 'scopeName'), scope, 'unsupported scope'));
    for (const r of hard) {
      if (QUOTA_RESOURCES.has(r) && !scopeAppliesTo(scope, r)) errs.push(invalidRendered(path, '&core.ScopeSelector{...}', 'unsupported scope applied to resource'));
    }
    if (EXISTS_ONLY_SCOPES.includes(scope) && op !== 'Exists') {
      errs.push(invalid(join(path, 'operator'), op,
        "must be 'Exists' when scope is any of ResourceQuotaScopeTerminating, ResourceQuotaScopeNotTerminating, ResourceQuotaScopeBestEffort, ResourceQuotaScopeNotBestEffort or ResourceQuotaScopeCrossNamespacePodAffinity"));
    }
    if (op === 'In' || op === 'NotIn') {
      if (!values.length) errs.push(required(join(path, 'values'), "must be at least one value when `operator` is 'In' or 'NotIn' for scope selector"));
    } else if (op === 'Exists' || op === 'DoesNotExist') {
      if (values.length) errs.push(invalidRendered(join(path, 'values'), goSlice('[]string', values), "must be no value when `operator` is 'Exist' or 'DoesNotExist' for scope selector"));
    } else if (op) {
      errs.push(invalid(join(path, 'operator'), op, 'not a valid selector operator'));
    }
    seen.add(scope);
  }
  for (const pair of CONFLICTING_SCOPES) {
    if (pair.every((s) => seen.has(s))) errs.push(invalidRendered(path, goSlice('[]core.ResourceQuotaScope', spec.scopes), 'conflicting scopes'));
  }
  return errs;
}

function validateQuotaList(list: unknown, path: string): FieldError[] {
  const errs: FieldError[] = [];
  for (const [name, q] of Object.entries(asObj(list) ?? {})) {
    errs.push(...validateQuotaResourceName(name, key(path, name)), ...validateResourceQuantity(name, q, key(path, name)));
  }
  return errs;
}

function validateQuotaSpec(spec: Obj): FieldError[] {
  return [...validateQuotaList(spec.hard, 'spec.hard'), ...validateQuotaScopes(spec), ...validateScopeSelector(spec)];
}

/** ValidateResourceQuota minus ObjectMeta. */
export function validateResourceQuota(rq: Obj): FieldError[] {
  const status = asObj(rq.status) ?? {};
  return [
    ...validateQuotaSpec(asObj(rq.spec) ?? {}),
    ...validateQuotaList(status.hard, 'status.hard'),
    ...validateQuotaList(status.used, 'status.used'),
  ];
}

/** ValidateResourceQuotaUpdate: the spec again, and scopes are fixed once a quota exists. */
export function validateResourceQuotaUpdate(rq: Obj, old: Obj): FieldError[] {
  const spec = asObj(rq.spec) ?? {};
  const scopes = new Set(asList(spec.scopes).map(asStr));
  const oldScopes = new Set(asList(asObj(old.spec)?.scopes).map(asStr));
  const same = scopes.size === oldScopes.size && [...scopes].every((s) => oldScopes.has(s));
  const errs = validateQuotaSpec(spec);
  if (!same) errs.push(invalidRendered('spec.scopes', goSlice('[]core.ResourceQuotaScope', spec.scopes), FIELD_IMMUTABLE));
  return errs;
}
