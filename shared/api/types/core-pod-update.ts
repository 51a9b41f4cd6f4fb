// Pod update rules (Kubernetes' ValidatePodUpdate: only images, activeDeadlineSeconds, added
// tolerations, removed scheduling gates and a negative grace period raised to 1 may change) and
// the QoS class computed at creation.
import type { FieldError } from '../schema/dsl.js';
import { forbidden, invalid, required } from '../schema/errors.js';
import { asList, asObj, asStr, child, inclusiveRange, index, isObj, quantityValue, type Obj } from './core-pod-checks.js';

const MAX_INT32 = 2147483647;

/** The fields Kubernetes names in its "pod updates may not change fields other than" message. */
export const UPDATABLE_POD_SPEC_FIELDS = [
  '`spec.containers[*].image`',
  '`spec.initContainers[*].image`',
  '`spec.activeDeadlineSeconds`',
  '`spec.tolerations` (only additions to existing tolerations)',
  '`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)',
];

const QUANTITY_MAPS = new Set(['limits', 'requests', 'overhead', 'capacity', 'allocatedResources']);

function isZeroValue(v: unknown): boolean {
  if (v === undefined || v === null || v === '' || v === 0 || v === false) return true;
  if (Array.isArray(v)) return v.length === 0;
  if (isObj(v)) return Object.values(v).every(isZeroValue);
  return false;
}

/**
 * apimachinery's semantic equality on JSON values: unset, empty and Go zero values are alike,
 * and quantities compare by value ("1" equals "1000m").
 */
export function semanticEqual(a: unknown, b: unknown, quantities = false): boolean {
  if (a === b) return true;
  if (isZeroValue(a) && isZeroValue(b)) return true;
  if (quantities && (typeof a === 'string' || typeof a === 'number') && (typeof b === 'string' || typeof b === 'number')) {
    const qa = quantityValue(a);
    return qa !== undefined && qa === quantityValue(b);
  }
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => semanticEqual(x, b[i], quantities));
  if (isObj(a) && isObj(b)) {
    const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
    for (const k of keys) if (!semanticEqual(a[k], b[k], quantities || QUANTITY_MAPS.has(k))) return false;
    return true;
  }
  return false;
}

/** A short diff of the differing leaves, shaped like the `cmp.Diff` text Kubernetes appends. */
function describeDiff(oldSpec: unknown, newSpec: unknown): string {
  const lines: string[] = [];
  const walk = (a: unknown, b: unknown, path: string, quantities: boolean) => {
    if (lines.length >= 20 || semanticEqual(a, b, quantities)) return;
    if (isObj(a) && isObj(b)) {
      for (const k of new Set([...Object.keys(a), ...Object.keys(b)])) walk(a[k], b[k], child(path, k), quantities || QUANTITY_MAPS.has(k));
      return;
    }
    if (Array.isArray(a) && Array.isArray(b) && a.length === b.length) {
      a.forEach((x, i) => walk(x, b[i], index(path, i), quantities));
      return;
    }
    lines.push(`- \t${path}: ${JSON.stringify(a ?? null)}`, `+ \t${path}: ${JSON.stringify(b ?? null)}`);
  };
  walk(oldSpec, newSpec, '', false);
  return ['  core.PodSpec{', ...lines, '  }', ''].join('\n');
}

function validateContainerUpdates(next: unknown, prev: unknown, path: string): { errors: FieldError[]; stop: boolean } {
  const n = asList(next);
  if (n.length !== asList(prev).length) return { errors: [forbidden(path, 'pod updates may not add or remove containers')], stop: true };
  const errors: FieldError[] = [];
  n.forEach((c, i) => {
    const image = asStr(asObj(c).image);
    if (image.length === 0) errors.push(required(child(index(path, i), 'image')));
    if (image.trim().length !== image.length) errors.push(invalid(child(index(path, i), 'image'), image, 'must not have leading or trailing whitespace'));
  });
  return { errors, stop: false };
}

function validateOnlyAddedTolerations(next: unknown, prev: unknown, path: string): FieldError[] {
  const added = asList(next).map(asObj);
  for (const old of asList(prev).map(asObj)) {
    const kept = added.some((t) => semanticEqual({ ...old, tolerationSeconds: undefined }, { ...t, tolerationSeconds: undefined }));
    if (!kept) return [forbidden(path, 'existing toleration can not be modified except its tolerationSeconds')];
  }
  return [];
}

function validateOnlyDeletedSchedulingGates(next: unknown, prev: unknown, path: string): FieldError[] {
  const old = new Set(asList(prev).map((g) => asStr(asObj(g).name)));
  const errs: FieldError[] = [];
  asList(next).forEach((g, i) => {
    const name = asStr(asObj(g).name);
    if (!old.has(name)) errs.push(forbidden(child(index(path, i), 'name'), `only deletion is allowed, but found new scheduling gate '${name}'`));
  });
  return errs;
}

/** ValidatePodUpdate's spec rules; `pod` is the incoming object, `old` the stored one. */
export function validatePodUpdate(pod: Obj, old: Obj): FieldError[] {
  const spec = asObj(pod.spec);
  const oldSpec = asObj(old.spec);
  const errs: FieldError[] = [];
  for (const list of ['containers', 'initContainers'] as const) {
    const r = validateContainerUpdates(spec[list], oldSpec[list], child('spec', list));
    errs.push(...r.errors);
    if (r.stop) return errs;
  }
  const deadlinePath = 'spec.activeDeadlineSeconds';
  if (typeof spec.activeDeadlineSeconds === 'number') {
    const next = spec.activeDeadlineSeconds;
    if (next < 0 || next > MAX_INT32) return [...errs, invalid(deadlinePath, next, inclusiveRange(0, MAX_INT32))];
    if (typeof oldSpec.activeDeadlineSeconds === 'number' && oldSpec.activeDeadlineSeconds < next) {
      return [...errs, invalid(deadlinePath, next, 'must be less than or equal to previous value')];
    }
  } else if (typeof oldSpec.activeDeadlineSeconds === 'number') {
    errs.push(invalid(deadlinePath, null, 'must not update from a positive integer to nil value'));
  }
  errs.push(...validateOnlyAddedTolerations(spec.tolerations, oldSpec.tolerations, 'spec.tolerations'));
  errs.push(...validateOnlyDeletedSchedulingGates(spec.schedulingGates, oldSpec.schedulingGates, 'spec.schedulingGates'));
  if (semanticEqual(spec, oldSpec)) return errs;

  const munged: Obj = structuredClone(spec);
  for (const list of ['containers', 'initContainers'] as const) {
    const prev = asList(oldSpec[list]);
    munged[list] = asList(munged[list]).map((c, i) => ({ ...asObj(c), image: asObj(prev[i]).image }));
  }
  munged.activeDeadlineSeconds = oldSpec.activeDeadlineSeconds;
  munged.schedulingGates = oldSpec.schedulingGates;
  munged.tolerations = oldSpec.tolerations;
  const oldGrace = oldSpec.terminationGracePeriodSeconds;
  if (typeof oldGrace === 'number' && oldGrace < 0 && munged.terminationGracePeriodSeconds === 1) munged.terminationGracePeriodSeconds = oldGrace;
  if (!semanticEqual(munged, oldSpec)) {
    errs.push(forbidden('spec', `pod updates may not change fields other than ${UPDATABLE_POD_SPEC_FIELDS.join(',')}\n${describeDiff(oldSpec, munged)}`));
  }
  return errs;
}

export type QOSClass = 'Guaranteed' | 'Burstable' | 'BestEffort';

/** Kubernetes' ComputePodQOS over containers and init containers (cpu and memory only). */
export function computeQOSClass(spec: Obj): QOSClass {
  const requests = new Map<string, number>();
  const limits = new Map<string, number>();
  let guaranteed = true;
  for (const c of [...asList(spec.containers), ...asList(spec.initContainers)]) {
    const resources = asObj(asObj(c).resources);
    const lim = asObj(resources.limits);
    // Defaulting copies a limit into a missing request; honour that even before defaults ran.
    const req = { ...lim, ...asObj(resources.requests) };
    for (const name of ['cpu', 'memory']) {
      const r = quantityValue(req[name]);
      if (r !== undefined && r > 0) requests.set(name, (requests.get(name) ?? 0) + r);
    }
    const found = new Set<string>();
    for (const name of ['cpu', 'memory']) {
      const l = quantityValue(lim[name]);
      if (l !== undefined && l > 0) {
        found.add(name);
        limits.set(name, (limits.get(name) ?? 0) + l);
      }
    }
    if (!found.has('cpu') || !found.has('memory')) guaranteed = false;
  }
  if (requests.size === 0 && limits.size === 0) return 'BestEffort';
  if (guaranteed) {
    for (const [name, r] of requests) {
      if (limits.get(name) !== r) {
        guaranteed = false;
        break;
      }
    }
  }
  return guaranteed && requests.size === limits.size ? 'Guaranteed' : 'Burstable';
}
