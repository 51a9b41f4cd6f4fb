// Building blocks for core/v1 validation: path helpers, value readers and the small checks
// (port numbers, relative paths, file modes, quantities) that Kubernetes words the same way
// wherever they appear.
import type { FieldError } from '../schema/dsl.js';
import { invalid, renderValue } from '../schema/errors.js';
import { canonicalQuantity, parseQuantity } from '../validation/quantity.js';

export type Obj = Record<string, unknown>;

export const isObj = (v: unknown): v is Obj => !!v && typeof v === 'object' && !Array.isArray(v);
export const asObj = (v: unknown): Obj => (isObj(v) ? v : {});
export const asList = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
export const asStr = (v: unknown): string => (typeof v === 'string' ? v : '');
export const asNum = (v: unknown): number => (typeof v === 'number' ? v : 0);

export const child = (path: string, name: string): string => (path ? `${path}.${name}` : name);
export const index = (path: string, i: number): string => `${path}[${i}]`;
export const key = (path: string, k: string): string => `${path}[${k}]`;

/**
 * field.NotFound. The DSL's FieldError reason union has no FieldValueNotFound yet, so the
 * Kubernetes reason string is asserted here.
 */
export function notFound(field: string, value: unknown, detail = ''): FieldError {
  return {
    reason: 'FieldValueNotFound' as unknown as FieldError['reason'],
    field,
    message: `Not found: ${renderValue(value)}${detail ? `: ${detail}` : ''}`,
  };
}

export const INCLUSIVE_PORT_RANGE = 'must be between 1 and 65535, inclusive';
export const NOT_NEGATIVE = 'must be greater than or equal to 0';
export const NOT_POSITIVE = 'must be greater than zero';
export const FILE_MODE = 'must be a number between 0 and 0777 (octal), both inclusive';
export const inclusiveRange = (lo: number, hi: number): string => `must be between ${lo} and ${hi}, inclusive`;

export function portNumMessages(port: number): string[] {
  return Number.isInteger(port) && port >= 1 && port <= 65535 ? [] : [INCLUSIVE_PORT_RANGE];
}

/** IANA service name rules Kubernetes applies to named ports. */
export function portNameMessages(name: string): string[] {
  const out: string[] = [];
  if (name.length > 15) out.push('must be no more than 15 characters');
  if (!/^[-a-z0-9]+$/.test(name)) out.push('must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)');
  if (!/[a-z]/.test(name)) out.push('must contain at least one letter (a-z)');
  if (name.includes('--')) out.push('must not contain consecutive hyphens');
  if (name.length > 0 && (name.startsWith('-') || name.endsWith('-'))) out.push('must not begin or end with a hyphen');
  return out;
}

/** An int-or-string port: a number in range or an IANA service name. */
export function validatePortNumOrName(port: unknown, path: string): FieldError[] {
  if (typeof port === 'number') return portNumMessages(port).map((m) => invalid(path, port, m));
  if (typeof port === 'string') return portNameMessages(port).map((m) => invalid(path, port, m));
  return [];
}

export function validateNonNegative(value: unknown, path: string): FieldError[] {
  return typeof value === 'number' && value < 0 ? [invalid(path, value, NOT_NEGATIVE)] : [];
}

export function validateFileMode(mode: unknown, path: string): FieldError[] {
  return typeof mode === 'number' && (mode > 0o777 || mode < 0) ? [invalid(path, mode, FILE_MODE)] : [];
}

export function validatePathNoBacksteps(target: string, path: string): FieldError[] {
  return target.split('/').includes('..') ? [invalid(path, target, "must not contain '..'")] : [];
}

/** Relative path without '..' elements (Kubernetes' validateLocalDescendingPath). */
export function validateLocalDescendingPath(target: string, path: string): FieldError[] {
  const errs: FieldError[] = [];
  if (target.startsWith('/')) errs.push(invalid(path, target, 'must be a relative path'));
  errs.push(...validatePathNoBacksteps(target, path));
  return errs;
}

/** Relative path, no '..' elements, and not starting with '..' (ValidateLocalNonReservedPath). */
export function validateLocalNonReservedPath(target: string, path: string): FieldError[] {
  const errs = validateLocalDescendingPath(target, path);
  if (target.startsWith('..') && !target.startsWith('../')) errs.push(invalid(path, target, "must not start with '..'"));
  return errs;
}

/** Numeric value of a quantity, or undefined when it does not parse. */
export function quantityValue(q: unknown): number | undefined {
  if (typeof q !== 'string' && typeof q !== 'number') return undefined;
  return parseQuantity(q)?.value;
}

/** The quantity as Kubernetes prints it in messages (canonical form). */
export function quantityString(q: unknown): string {
  if (typeof q !== 'string' && typeof q !== 'number') return String(q);
  return canonicalQuantity(q);
}

/** IP address check worded like apimachinery's IsValidIP. */
export function validateIP(value: string, path: string): FieldError[] {
  return isIP(value) ? [] : [invalid(path, value, 'must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)')];
}

function isIP(s: string): boolean {
  const v4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
  if (v4.test(s)) return true;
  if (!s.includes(':') || !/^[0-9a-fA-F:.]+$/.test(s)) return false;
  const double = s.split('::');
  if (double.length > 2) return false;
  const groups = (part: string) => (part === '' ? [] : part.split(':'));
  const head = groups(double[0]);
  const tail = double.length === 2 ? groups(double[1]) : [];
  const all = [...head, ...tail];
  let count = all.length;
  const last = all[all.length - 1];
  if (last !== undefined && last.includes('.')) {
    if (!v4.test(last)) return false;
    count += 1;
    all.pop();
  }
  if (!all.every((g) => /^[0-9a-fA-F]{1,4}$/.test(g))) return false;
  return double.length === 2 ? count < 8 : count === 8;
}
