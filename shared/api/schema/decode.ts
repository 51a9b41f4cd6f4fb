// Structural decoding checks: what Go's JSON decoding into the typed struct would reject (type
// mismatches, bad quantities/times) and what strict field validation reports (unknown and
// duplicate fields), with the messages kube-apiserver returns.
import type { ListType, MapType, StructType, TypeNode } from './dsl.js';
import { shortName } from './dsl.js';
import { quantityError } from '../validation/quantity.js';

export interface DecodeTypeError {
  /** Path with indices, as Kubernetes prints field paths: spec.containers[0].image. */
  path: string;
  /** Go's error text, e.g. `json: cannot unmarshal string into Go struct field DeploymentSpec.spec.replicas of type int32`. */
  message: string;
  /**
   * Errors from a type's own decoder (quantities, times, int-or-string) abort Go's decoding at
   * once and win over plain type mismatches seen earlier; Go keeps going after a mismatch.
   */
  fatal: boolean;
}

export interface StructureReport {
  /** Paths of unknown fields; strict mode prints each as `unknown field "<path>"`. */
  unknownFields: string[];
  /** In document order; checking stops at the first fatal error, as Go's decoder does. */
  typeErrors: DecodeTypeError[];
}

const ROOT_KNOWN = new Set(['apiVersion', 'kind', 'metadata']);

/** The Go type name Go's decoder prints for a schema node. */
export function goTypeName(t: TypeNode): string {
  switch (t.t) {
    case 'string':
      return t.format === 'byte' ? '[]uint8' : 'string';
    case 'integer':
      return t.format;
    case 'number':
      return 'float64';
    case 'boolean':
      return 'bool';
    case 'struct':
      return goStructName(t.ref());
    case 'list':
      return `[]${goTypeName(t.items)}`;
    case 'map':
      return `map[string]${goTypeName(t.values)}`;
    case 'quantity':
      return 'resource.Quantity';
    case 'intOrString':
      return 'intstr.IntOrString';
    case 'time':
      return 'v1.Time';
    case 'microTime':
      return 'v1.MicroTime';
    case 'any':
      return 'interface {}';
  }
}

/** io.k8s.api.apps.v1.DeploymentSpec -> v1.DeploymentSpec (Go's package-qualified name). */
function goStructName(s: StructType): string {
  const last = s.name.lastIndexOf('.');
  const prev = s.name.lastIndexOf('.', last - 1);
  return last < 0 ? s.name : `${s.name.slice(prev + 1, last)}.${s.name.slice(last + 1)}`;
}

function jsonKind(v: unknown): string {
  if (typeof v === 'string') return 'string';
  if (typeof v === 'number') return 'number';
  if (typeof v === 'boolean') return 'bool';
  if (Array.isArray(v)) return 'array';
  return 'object';
}

const INT32_MIN = -2147483648;
const INT32_MAX = 2147483647;

class Checker {
  readonly unknownFields: string[] = [];
  readonly typeErrors: DecodeTypeError[] = [];
  stopped = false;
  /** Go's error context: innermost struct name and the field-name stack (no indices, no map keys). */
  private structName = '';
  private goFields: string[] = [];

  constructor(private readonly collectUnknown: boolean) {}

  private mismatch(path: string, value: string, type: string, fatal = false): void {
    const where = this.goFields.length
      ? `Go struct field ${this.structName}.${this.goFields.join('.')}`
      : `Go value`;
    this.typeErrors.push({ path, message: `json: cannot unmarshal ${value} into ${where} of type ${type}`, fatal });
    if (fatal) this.stopped = true;
  }

  private fatal(path: string, message: string): void {
    this.typeErrors.push({ path, message, fatal: true });
    this.stopped = true;
  }

  struct(obj: Record<string, unknown>, schema: StructType, path: string, root: boolean): void {
    const fields = schema.fields;
    const savedStruct = this.structName;
    const ownName = shortName(schema);
    for (const key in obj) {
      if (this.stopped) return;
      const f = Object.prototype.hasOwnProperty.call(fields, key) ? fields[key] : undefined;
      const childPath = path ? `${path}.${key}` : key;
      if (!f) {
        if (this.collectUnknown && !(root && ROOT_KNOWN.has(key))) this.unknownFields.push(childPath);
        continue;
      }
      const v = obj[key];
      if (v === null || v === undefined) continue;
      this.structName = ownName;
      this.goFields.push(key);
      this.value(v, f.type, childPath);
      this.goFields.pop();
      this.structName = savedStruct;
    }
  }

  value(v: unknown, t: TypeNode, path: string): void {
    if (v === null || v === undefined || this.stopped) return;
    switch (t.t) {
      case 'string':
        if (typeof v !== 'string') return this.mismatch(path, jsonKind(v), goTypeName(t));
        if (t.format === 'byte') {
          // Go records a bad base64 string and keeps decoding, like a type mismatch.
          const err = base64Error(v);
          if (err) this.typeErrors.push({ path, message: err, fatal: false });
        }
        return;
      case 'boolean':
        if (typeof v !== 'boolean') this.mismatch(path, jsonKind(v), 'bool');
        return;
      case 'number':
        if (typeof v !== 'number') this.mismatch(path, jsonKind(v), 'float64');
        return;
      case 'integer':
        return this.integer(v, t.format, path, false);
      case 'struct':
        if (typeof v !== 'object' || Array.isArray(v)) return this.mismatch(path, jsonKind(v), goTypeName(t));
        return this.struct(v as Record<string, unknown>, t.ref(), path, false);
      case 'list':
        return this.list(v, t, path);
      case 'map':
        return this.map(v, t, path);
      case 'quantity': {
        const err = quantityError(typeof v === 'string' || typeof v === 'number' ? v : JSON.stringify(v));
        if (err) this.fatal(path, err);
        return;
      }
      case 'intOrString':
        if (typeof v === 'string') return;
        return this.integer(v, 'int32', path, true);
      case 'time':
      case 'microTime': {
        if (typeof v !== 'string') return this.mismatch(path, jsonKind(v), 'string', true);
        const err = rfc3339Error(v);
        if (err) this.fatal(path, err);
        return;
      }
      case 'any':
        return;
    }
  }

  private integer(v: unknown, format: 'int32' | 'int64', path: string, fatal: boolean): void {
    if (typeof v !== 'number') return this.mismatch(path, jsonKind(v), format, fatal);
    const ok = Number.isInteger(v) && (format === 'int64' ? Math.abs(v) < 2 ** 63 : v >= INT32_MIN && v <= INT32_MAX);
    if (!ok) this.mismatch(path, `number ${String(v)}`, format, fatal);
  }

  private list(v: unknown, t: ListType, path: string): void {
    if (!Array.isArray(v)) {
      // Go decodes a JSON string into []byte only; every other non-array is a mismatch.
      return this.mismatch(path, jsonKind(v), goTypeName(t));
    }
    const items = t.items;
    for (let i = 0; i < v.length; i++) {
      if (this.stopped) return;
      this.value(v[i], items, `${path}[${i}]`);
    }
  }

  private map(v: unknown, t: MapType, path: string): void {
    if (typeof v !== 'object' || Array.isArray(v)) return this.mismatch(path, jsonKind(v), goTypeName(t));
    const values = t.values;
    const obj = v as Record<string, unknown>;
    for (const key in obj) {
      if (this.stopped) return;
      this.value(obj[key], values, `${path}.${key}`);
    }
  }
}

/**
 * Walks a decoded JSON object against its schema the way Kubernetes' typed decoding would.
 * Unknown-field paths use Kubernetes' strict-decoding form (indices in brackets, map keys dotted).
 */
export function checkStructure(obj: unknown, schema: StructType, opts: { collectUnknown: boolean }): StructureReport {
  const c = new Checker(opts.collectUnknown);
  if (obj === null || typeof obj !== 'object' || Array.isArray(obj)) {
    c.typeErrors.push({ path: '', message: `json: cannot unmarshal ${jsonKind(obj)} into Go value of type ${goStructName(schema)}`, fatal: false });
  } else {
    c.struct(obj as Record<string, unknown>, schema, '', true);
  }
  return { unknownFields: c.unknownFields, typeErrors: c.typeErrors };
}

/** The single decode error Kubernetes would report: the fatal one if any, else the first mismatch. */
export function decodeErrorMessage(report: StructureReport): string | undefined {
  const errs = report.typeErrors;
  if (errs.length === 0) return undefined;
  const last = errs[errs.length - 1];
  return last.fatal ? last.message : errs[0].message;
}

/** Strict-mode messages for unknown fields, deduplicated as Kubernetes does. */
export function unknownFieldMessages(paths: readonly string[]): string[] {
  return [...new Set(paths)].map((p) => `unknown field ${JSON.stringify(p)}`);
}

// ---- special string formats ---------------------------------------------------------------------

const RFC3339_LAYOUT = '2006-01-02T15:04:05Z07:00';

/**
 * Go's time.Parse(time.RFC3339, s) error text, or undefined when it parses. The layout is walked
 * element by element so the "cannot parse X as Y" part names the same element Go would.
 */
export function rfc3339Error(s: string): string | undefined {
  const quoted = JSON.stringify(s);
  const fail = (rest: string, elem: string): string =>
    `parsing time ${quoted} as "${RFC3339_LAYOUT}": cannot parse ${JSON.stringify(rest)} as ${JSON.stringify(elem)}`;
  const range = (what: string): string => `parsing time ${quoted}: ${what} out of range`;
  let pos = 0;
  const digits = (n: number, elem: string): number | string => {
    const part = s.slice(pos, pos + n);
    if (part.length !== n || !/^\d+$/.test(part)) return fail(s.slice(pos), elem);
    pos += n;
    return Number(part);
  };
  const literal = (lit: string): string | undefined => {
    if (!s.startsWith(lit, pos)) return fail(s.slice(pos), lit);
    pos += lit.length;
    return undefined;
  };
  const year = digits(4, '2006');
  if (typeof year === 'string') return year;
  let e = literal('-');
  if (e) return e;
  const month = digits(2, '01');
  if (typeof month === 'string') return month;
  if (month < 1 || month > 12) return range('month');
  if ((e = literal('-'))) return e;
  const day = digits(2, '02');
  if (typeof day === 'string') return day;
  if ((e = literal('T'))) return e;
  const hour = digits(2, '15');
  if (typeof hour === 'string') return hour;
  if (hour > 23) return range('hour');
  if ((e = literal(':'))) return e;
  const minute = digits(2, '04');
  if (typeof minute === 'string') return minute;
  if (minute > 59) return range('minute');
  if ((e = literal(':'))) return e;
  const second = digits(2, '05');
  if (typeof second === 'string') return second;
  if (second > 59) return range('second');
  if (s[pos] === '.' || s[pos] === ',') {
    let end = pos + 1;
    while (end < s.length && s.charCodeAt(end) >= 48 && s.charCodeAt(end) <= 57) end++;
    if (end === pos + 1) return fail(s.slice(pos), 'Z07:00');
    pos = end;
  }
  if (s[pos] === 'Z') pos++;
  else {
    const tz = /^[+-](\d\d):(\d\d)/.exec(s.slice(pos));
    if (!tz) return fail(s.slice(pos), 'Z07:00');
    if (Number(tz[1]) > 23 || Number(tz[2]) > 59) return `parsing time ${quoted}: time zone offset out of range`;
    pos += 6;
  }
  if (pos !== s.length) return `parsing time ${quoted}: extra text: ${JSON.stringify(s.slice(pos))}`;
  const daysIn = [31, year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
  if (day < 1 || day > daysIn[month - 1]) return range('day');
  return undefined;
}

const B64_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const B64_VALID = new Uint8Array(256);
for (let i = 0; i < B64_ALPHABET.length; i++) B64_VALID[B64_ALPHABET.charCodeAt(i)] = 1;

/**
 * Go's base64.StdEncoding error text ("illegal base64 data at input byte N"), or undefined.
 * Mirrors Go's quantum-by-quantum decoder so the reported offset is the same; newlines are skipped.
 */
export function base64Error(s: string): string | undefined {
  // eslint-disable-next-line no-control-regex
  const src: Uint8Array = /^[\x00-\x7f]*$/.test(s) ? Uint8Array.from(s, (ch) => ch.charCodeAt(0)) : Buffer.from(s, 'utf8');
  const n = src.length;
  const illegal = (at: number): string => `illegal base64 data at input byte ${at}`;
  let si = 0;
  while (si < n) {
    let j = 0;
    for (; j < 4; j++) {
      if (si === n) {
        if (j === 0) return undefined;
        return illegal(si - j);
      }
      const c = src[si++];
      if (B64_VALID[c]) continue;
      if (c === 0x0a || c === 0x0d) {
        j--;
        continue;
      }
      if (c !== 0x3d /* = */ || j < 2) return illegal(si - 1);
      if (j === 2) {
        while (si < n && (src[si] === 0x0a || src[si] === 0x0d)) si++;
        if (si === n) return illegal(n);
        if (src[si] !== 0x3d) return illegal(si - 1);
        si++;
      }
      while (si < n && (src[si] === 0x0a || src[si] === 0x0d)) si++;
      return si < n ? illegal(si) : undefined;
    }
  }
  return undefined;
}

// ---- duplicate keys -----------------------------------------------------------------------------

interface Frame {
  parent: Frame | undefined;
  /** How this container is reached from its parent: a key or an array index. */
  seg: string | number | undefined;
  keys: Set<string> | undefined;
  nextIndex: number;
}

function framePath(f: Frame | undefined): string {
  const segs: (string | number)[] = [];
  for (let x = f; x && x.seg !== undefined; x = x.parent) segs.push(x.seg);
  let out = '';
  for (let i = segs.length - 1; i >= 0; i--) {
    const s = segs[i];
    out += typeof s === 'number' ? `[${s}]` : out ? `.${s}` : s;
  }
  return out;
}

/**
 * Paths of object keys that appear twice in the same object (strict mode prints each as
 * `duplicate field "<path>"`). A single pass over the text; malformed JSON ends the scan early.
 */
export function findDuplicateKeys(jsonText: string): string[] {
  const n = jsonText.length;
  let dups: string[] | undefined;
  let top: Frame | undefined;
  let pendingKey: string | undefined;
  let expectKey = false;
  let i = 0;
  const childSeg = (): string | number | undefined => {
    if (!top) return undefined;
    if (top.keys) return pendingKey;
    return top.nextIndex++;
  };
  while (i < n) {
    const c = jsonText.charCodeAt(i);
    switch (c) {
      case 0x20:
      case 0x09:
      case 0x0a:
      case 0x0d:
      case 0x2c: // ,
        if (c === 0x2c && top?.keys) expectKey = true;
        i++;
        break;
      case 0x3a: // :
        expectKey = false;
        i++;
        break;
      case 0x7b: // {
        top = { parent: top, seg: childSeg(), keys: new Set(), nextIndex: 0 };
        expectKey = true;
        i++;
        break;
      case 0x5b: // [
        top = { parent: top, seg: childSeg(), keys: undefined, nextIndex: 0 };
        expectKey = false;
        i++;
        break;
      case 0x7d: // }
      case 0x5d: // ]
        top = top?.parent;
        expectKey = false;
        i++;
        break;
      case 0x22: {
        // "
        let j = i + 1;
        let escaped = false;
        while (j < n) {
          const d = jsonText.charCodeAt(j);
          if (d === 0x5c) {
            escaped = true;
            j += 2;
            continue;
          }
          if (d === 0x22) break;
          j++;
        }
        if (j >= n) return dups ?? [];
        if (expectKey && top?.keys) {
          let key = jsonText.slice(i + 1, j);
          if (escaped) {
            try {
              key = JSON.parse(jsonText.slice(i, j + 1)) as string;
            } catch {
              return dups ?? [];
            }
          }
          if (top.keys.has(key)) {
            const parent = framePath(top);
            (dups ??= []).push(parent ? `${parent}.${key}` : key);
          } else top.keys.add(key);
          pendingKey = key;
        } else if (top && !top.keys) {
          top.nextIndex++;
        }
        i = j + 1;
        break;
      }
      default: {
        // number / true / false / null: skip to the next structural character
        if (top && !top.keys) top.nextIndex++;
        while (i < n) {
          const d = jsonText.charCodeAt(i);
          if (d === 0x2c || d === 0x7d || d === 0x5d || d === 0x20 || d === 0x0a || d === 0x0d || d === 0x09) break;
          i++;
        }
      }
    }
  }
  return dups ? [...new Set(dups)] : [];
}

/** Strict-mode messages for duplicate keys. */
export function duplicateFieldMessages(paths: readonly string[]): string[] {
  return paths.map((p) => `duplicate field ${JSON.stringify(p)}`);
}
