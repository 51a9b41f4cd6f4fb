// Defaulting driven by the schema: static `default`s of absent fields, then each struct's
// `defaults` hook, children before parents (the order Kubernetes' generated defaulters use).
import type { Field, StructType, TypeNode } from './dsl.js';

interface DefaultPlan {
  /** Fields with a static default. */
  statics: [string, unknown][];
  /** Fields whose type can contain a struct that has defaulting work. */
  children: [string, TypeNode][];
  hook: ((obj: Record<string, unknown>) => void) | undefined;
}

const plans = new WeakMap<StructType, DefaultPlan>();
const hasWorkMemo = new WeakMap<StructType, boolean>();

/** Whether defaulting a value of this struct can ever change anything. */
function structHasWork(s: StructType, visiting: Set<StructType>): boolean {
  const known = hasWorkMemo.get(s);
  if (known !== undefined) return known;
  if (visiting.has(s)) return true; // recursive types: assume yes rather than miss defaults
  visiting.add(s);
  let work = !!s.defaults;
  for (const name in s.fields) {
    const f: Field = s.fields[name];
    if (f.default !== undefined || typeHasWork(f.type, visiting)) {
      work = true;
      break;
    }
  }
  visiting.delete(s);
  hasWorkMemo.set(s, work);
  return work;
}

function typeHasWork(t: TypeNode, visiting: Set<StructType>): boolean {
  switch (t.t) {
    case 'struct':
      return structHasWork(t.ref(), visiting);
    case 'list':
      return typeHasWork(t.items, visiting);
    case 'map':
      return typeHasWork(t.values, visiting);
    default:
      return false;
  }
}

function planFor(s: StructType): DefaultPlan {
  let plan = plans.get(s);
  if (plan) return plan;
  plan = { statics: [], children: [], hook: s.defaults };
  for (const name in s.fields) {
    const f = s.fields[name];
    if (f.default !== undefined) plan.statics.push([name, f.default]);
    if (typeHasWork(f.type, new Set())) plan.children.push([name, f.type]);
  }
  plans.set(s, plan);
  return plan;
}

function cloneDefault(v: unknown): unknown {
  if (v === null || typeof v !== 'object') return v;
  if (Array.isArray(v)) return v.map(cloneDefault);
  const out: Record<string, unknown> = {};
  for (const k in v as Record<string, unknown>) out[k] = cloneDefault((v as Record<string, unknown>)[k]);
  return out;
}

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

function defaultValue(v: unknown, t: TypeNode): void {
  switch (t.t) {
    case 'struct':
      if (isObject(v)) applyDefaults(v, t.ref());
      return;
    case 'list':
      if (Array.isArray(v)) for (let i = 0; i < v.length; i++) defaultValue(v[i], t.items);
      return;
    case 'map':
      if (isObject(v)) for (const k in v) defaultValue(v[k], t.values);
      return;
    default:
      return;
  }
}

/**
 * Fills absent (or null) fields with their static defaults, recurses into present children, then
 * runs the struct's own `defaults` hook. Mutates `obj` in place.
 */
export function applyDefaults(obj: Record<string, unknown>, schema: StructType): void {
  const plan = planFor(schema);
  const statics = plan.statics;
  for (let i = 0; i < statics.length; i++) {
    const [name, value] = statics[i];
    const cur = obj[name];
    if (cur === undefined || cur === null) obj[name] = cloneDefault(value);
  }
  const children = plan.children;
  for (let i = 0; i < children.length; i++) {
    const [name, type] = children[i];
    const v = obj[name];
    if (v !== undefined && v !== null) defaultValue(v, type);
  }
  if (plan.hook) plan.hook(obj);
}
