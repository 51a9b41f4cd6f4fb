// Generic semantic validation driven by the schema: required fields, enum values, quantities,
// per-field and per-struct validators. Paths are printed as Kubernetes prints them.
import type { Field, FieldError, StructType, TypeNode } from './dsl.js';
import { notSupported, required } from './errors.js';
import { validateQuantity } from '../validation/quantity.js';

interface FieldEntry {
  name: string;
  field: Field;
  enumValues: readonly string[] | undefined;
  /** Whether anything below this field can produce an error. */
  deep: boolean;
}

const entriesCache = new WeakMap<StructType, FieldEntry[]>();
const deepMemo = new WeakMap<StructType, boolean>();

function structIsChecked(s: StructType, visiting: Set<StructType>): boolean {
  const known = deepMemo.get(s);
  if (known !== undefined) return known;
  if (visiting.has(s)) return true;
  visiting.add(s);
  let checked = !!s.validate;
  if (!checked) {
    for (const name in s.fields) {
      const f = s.fields[name];
      if (f.required || f.validate || typeIsChecked(f.type, visiting)) {
        checked = true;
        break;
      }
    }
  }
  visiting.delete(s);
  deepMemo.set(s, checked);
  return checked;
}

function typeIsChecked(t: TypeNode, visiting: Set<StructType>): boolean {
  switch (t.t) {
    case 'string':
      return !!t.enum;
    case 'quantity':
      return true;
    case 'struct':
      return structIsChecked(t.ref(), visiting);
    case 'list':
      return typeIsChecked(t.items, visiting);
    case 'map':
      return typeIsChecked(t.values, visiting);
    default:
      return false;
  }
}

function entriesFor(s: StructType): FieldEntry[] {
  let entries = entriesCache.get(s);
  if (entries) return entries;
  entries = [];
  for (const name in s.fields) {
    const field = s.fields[name];
    const enumValues = field.type.t === 'string' ? field.type.enum : undefined;
    const deep = typeIsChecked(field.type, new Set());
    if (field.required || field.validate || deep) entries.push({ name, field, enumValues, deep });
  }
  entriesCache.set(s, entries);
  return entries;
}

/** Go cannot tell an absent value from its zero value for strings and slices. */
function isMissing(v: unknown): boolean {
  return v === undefined || v === null || v === '' || (Array.isArray(v) && v.length === 0);
}

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

function push(out: FieldError[], errs: FieldError[]): void {
  for (let i = 0; i < errs.length; i++) out.push(errs[i]);
}

function validateValue(v: unknown, t: TypeNode, path: string, out: FieldError[]): void {
  switch (t.t) {
    case 'string':
      if (t.enum && typeof v === 'string' && v !== '' && !t.enum.includes(v)) out.push(notSupported(path, v, t.enum));
      return;
    case 'quantity':
      push(out, validateQuantity(v, path));
      return;
    case 'struct':
      if (isObject(v)) validateStruct(v, t.ref(), path, out);
      return;
    case 'list':
      if (Array.isArray(v)) for (let i = 0; i < v.length; i++) validateValue(v[i], t.items, `${path}[${i}]`, out);
      return;
    case 'map':
      if (isObject(v)) for (const k in v) validateValue(v[k], t.values, `${path}[${k}]`, out);
      return;
    default:
      return;
  }
}

function validateStruct(obj: Record<string, unknown>, schema: StructType, path: string, out: FieldError[]): void {
  const entries = entriesFor(schema);
  for (let i = 0; i < entries.length; i++) {
    const e = entries[i];
    const v = obj[e.name];
    const p = path ? `${path}.${e.name}` : e.name;
    if (isMissing(v)) {
      if (e.field.required) out.push(required(p));
      continue;
    }
    if (e.deep) validateValue(v, e.field.type, p, out);
    if (e.field.validate) push(out, e.field.validate(v, p));
  }
  if (schema.validate) push(out, schema.validate(obj, path));
}

/**
 * Validates `obj` against `schema`: "Required value" for missing required fields, "Unsupported
 * value" for enums, quantity syntax, then each field's and struct's own checks (children first).
 */
export function validateAgainstSchema(obj: Record<string, unknown>, schema: StructType, path = ''): FieldError[] {
  const out: FieldError[] = [];
  validateStruct(obj, schema, path, out);
  return out;
}
