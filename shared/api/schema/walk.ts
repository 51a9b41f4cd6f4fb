// Rewrites special wire values into the form kube-apiserver writes back after decoding: quantities
// in canonical form ("0.5" -> "500m") and times in UTC RFC 3339 (seconds, or microseconds for
// MicroTime). Run after decoding succeeded; invalid values are left untouched.
import type { StructType, TypeNode } from './dsl.js';
import { canonicalQuantity, parseQuantity } from '../validation/quantity.js';

const memo = new WeakMap<StructType, [string, TypeNode][]>();

function hasSpecial(t: TypeNode, visiting: Set<StructType>): boolean {
  switch (t.t) {
    case 'quantity':
    case 'time':
    case 'microTime':
      return true;
    case 'struct': {
      const s = t.ref();
      if (visiting.has(s)) return true;
      const known = memo.get(s);
      if (known) return known.length > 0;
      visiting.add(s);
      const found = Object.values(s.fields).some((f) => hasSpecial(f.type, visiting));
      visiting.delete(s);
      return found;
    }
    case 'list':
      return hasSpecial(t.items, visiting);
    case 'map':
      return hasSpecial(t.values, visiting);
    default:
      return false;
  }
}

function specialFields(s: StructType): [string, TypeNode][] {
  let fields = memo.get(s);
  if (fields) return fields;
  fields = [];
  for (const name in s.fields) {
    const t = s.fields[name].type;
    if (hasSpecial(t, new Set([s]))) fields.push([name, t]);
  }
  memo.set(s, fields);
  return fields;
}

const TIME_RE = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:[.,](\d+))?(Z|[+-]\d{2}:\d{2})$/;

const pad = (n: number, w: number): string => String(n).padStart(w, '0');

/** Go's UTC rendering of a parsed RFC 3339 time, with `fractionDigits` (0 or 6) sub-second digits. */
export function canonicalTime(s: string, fractionDigits: 0 | 6): string | undefined {
  const m = TIME_RE.exec(s);
  if (!m) return undefined;
  let ms = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6]));
  if (m[1].startsWith('00')) {
    // Date.UTC maps years 0..99 to 1900..1999.
    const d = new Date(ms);
    d.setUTCFullYear(Number(m[1]));
    ms = d.getTime();
  }
  if (m[8] !== 'Z') {
    const sign = m[8][0] === '-' ? -1 : 1;
    ms -= sign * (Number(m[8].slice(1, 3)) * 60 + Number(m[8].slice(4, 6))) * 60_000;
  }
  const d = new Date(ms);
  const base = `${pad(d.getUTCFullYear(), 4)}-${pad(d.getUTCMonth() + 1, 2)}-${pad(d.getUTCDate(), 2)}T${pad(d.getUTCHours(), 2)}:${pad(d.getUTCMinutes(), 2)}:${pad(d.getUTCSeconds(), 2)}`;
  if (fractionDigits === 0) return `${base}Z`;
  const frac = (m[7] ?? '').slice(0, 6).padEnd(6, '0');
  return `${base}.${frac}Z`;
}

function normalizeValue(v: unknown, t: TypeNode): unknown {
  switch (t.t) {
    case 'quantity': {
      if (typeof v !== 'string' && typeof v !== 'number') return v;
      const q = parseQuantity(v);
      return q ? canonicalQuantity(q) : v;
    }
    case 'time':
      return typeof v === 'string' ? (canonicalTime(v, 0) ?? v) : v;
    case 'microTime':
      return typeof v === 'string' ? (canonicalTime(v, 6) ?? v) : v;
    case 'struct':
      if (v !== null && typeof v === 'object' && !Array.isArray(v)) normalizeWireValues(v as Record<string, unknown>, t.ref());
      return v;
    case 'list':
      if (Array.isArray(v)) for (let i = 0; i < v.length; i++) v[i] = normalizeValue(v[i], t.items);
      return v;
    case 'map':
      if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
        const obj = v as Record<string, unknown>;
        for (const k in obj) obj[k] = normalizeValue(obj[k], t.values);
      }
      return v;
    default:
      return v;
  }
}

/** Canonicalizes quantities and times in place, everywhere the schema says they occur. */
export function normalizeWireValues(obj: Record<string, unknown>, schema: StructType): void {
  const fields = specialFields(schema);
  for (let i = 0; i < fields.length; i++) {
    const [name, t] = fields[i];
    const v = obj[name];
    if (v === undefined || v === null) continue;
    const out = normalizeValue(v, t);
    if (out !== v) obj[name] = out;
  }
}
