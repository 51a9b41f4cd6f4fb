// One step of a field path in FieldsV1's string encoding, as sigs.k8s.io/structured-merge-diff writes it:
// "f:<field>", "k:<json object of key fields, sorted>", "v:<json value>", "i:<index>".
import { isObject } from '../patch/go-format.js';

export type PathElement = string;
export type FieldPath = readonly PathElement[];

export const fieldElement = (name: string): PathElement => `f:${name}`;
export const indexElement = (i: number): PathElement => `i:${i}`;
export const valueElement = (v: unknown): PathElement => `v:${JSON.stringify(v)}`;

/** Key element of an associative-list item; key fields are written sorted by name. */
export function keyElement(fields: Record<string, unknown>): PathElement {
  const sorted: Record<string, unknown> = {};
  for (const name of Object.keys(fields).sort(byteCompare)) sorted[name] = fields[name];
  return `k:${JSON.stringify(sorted)}`;
}

export function byteCompare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Re-encodes an element read from the wire so equal elements compare equal as strings. */
export function canonicalElement(pe: string): PathElement {
  const prefix = pe.slice(0, 2);
  const body = pe.slice(2);
  switch (prefix) {
    case 'f:':
      return pe;
    case 'k:': {
      const fields = JSON.parse(body) as unknown;
      if (!isObject(fields)) throw new Error(`invalid key element ${pe}`);
      return keyElement(fields);
    }
    case 'v:':
      return valueElement(JSON.parse(body));
    case 'i:':
      if (!/^\d+$/.test(body)) throw new Error(`invalid index element ${pe}`);
      return pe;
    default:
      throw new Error(`unrecognized path element ${JSON.stringify(pe)}`);
  }
}

const TYPE_RANK: Record<string, number> = { 'f:': 0, 'k:': 1, 'v:': 2, 'i:': 3 };

/** structured-merge-diff's total order of path elements (fields, then keys, then values, then indices). */
export function compareElements(a: PathElement, b: PathElement): number {
  const ra = TYPE_RANK[a.slice(0, 2)];
  const rb = TYPE_RANK[b.slice(0, 2)];
  if (ra !== rb) return ra - rb;
  switch (a.slice(0, 2)) {
    case 'f:':
      return byteCompare(a.slice(2), b.slice(2));
    case 'k:':
      return compareKeyFields(JSON.parse(a.slice(2)) as Record<string, unknown>, JSON.parse(b.slice(2)) as Record<string, unknown>);
    case 'v:':
      return compareValues(JSON.parse(a.slice(2)), JSON.parse(b.slice(2)));
    default:
      return Number(a.slice(2)) - Number(b.slice(2));
  }
}

function compareKeyFields(a: Record<string, unknown>, b: Record<string, unknown>): number {
  const ka = Object.keys(a).sort(byteCompare);
  const kb = Object.keys(b).sort(byteCompare);
  for (let i = 0; ; i++) {
    if (i >= ka.length && i >= kb.length) return 0;
    if (i >= ka.length) return -1;
    if (i >= kb.length) return 1;
    const byName = byteCompare(ka[i], kb[i]);
    if (byName) return byName;
    const byValue = compareValues(a[ka[i]], b[kb[i]]);
    if (byValue) return byValue;
  }
}

const valueRank = (v: unknown): number =>
  typeof v === 'number' ? 0 : typeof v === 'string' ? 1 : typeof v === 'boolean' ? 2 : Array.isArray(v) ? 3 : isObject(v) ? 4 : 5;

/** Total order of JSON values: numbers < strings < booleans < lists < maps < null. */
export function compareValues(a: unknown, b: unknown): number {
  const ra = valueRank(a);
  const rb = valueRank(b);
  if (ra !== rb) return ra - rb;
  if (typeof a === 'number') return a - (b as number);
  if (typeof a === 'string') return byteCompare(a, b as string);
  if (typeof a === 'boolean') return Number(a) - Number(b);
  if (Array.isArray(a)) {
    const bl = b as unknown[];
    for (let i = 0; i < Math.min(a.length, bl.length); i++) {
      const c = compareValues(a[i], bl[i]);
      if (c) return c;
    }
    return a.length - bl.length;
  }
  if (isObject(a)) return compareKeyFields(a, b as Record<string, unknown>);
  return 0;
}

/** Go-style rendering of a path element in conflict messages: .name, [k="v",n=1], [="v"], [3]. */
export function printElement(pe: PathElement): string {
  const body = pe.slice(2);
  switch (pe.slice(0, 2)) {
    case 'f:':
      return `.${body}`;
    case 'k:': {
      const fields = JSON.parse(body) as Record<string, unknown>;
      return `[${Object.keys(fields)
        .sort(byteCompare)
        .map((k) => `${k}=${printValue(fields[k])}`)
        .join(',')}]`;
    }
    case 'v:':
      return `[=${printValue(JSON.parse(body))}]`;
    default:
      return `[${body}]`;
  }
}

const printValue = (v: unknown): string => JSON.stringify(v);

/** fieldpath.Path.String(): ".spec.containers[name=\"app\"].image". */
export const printPath = (path: FieldPath): string => path.map(printElement).join('');
