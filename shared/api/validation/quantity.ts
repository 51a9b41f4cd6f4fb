// Kubernetes resource.Quantity: parsing ("500m", "1Gi", "1e3", 0.5) and the canonical string the
// API server writes back. Values are kept as exact decimals (digit string + power of ten) so that
// serialization never goes through floating point.
import type { FieldError } from '../schema/dsl.js';

export type QuantityFormat = 'DecimalSI' | 'BinarySI' | 'DecimalExponent';

export interface ParsedQuantity {
  /** Approximate numeric value (for comparisons and arithmetic that tolerate floats). */
  value: number;
  format: QuantityFormat;
  negative: boolean;
  /** Exact magnitude: `digits` (no leading zeros, "0" for zero) times 10^`exponent`. */
  digits: string;
  exponent: number;
  /** The input, when Kubernetes would echo it back unchanged instead of re-canonicalizing it. */
  verbatim?: string;
}

export const QUANTITY_FORMAT_MESSAGE = "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'";
export const QUANTITY_SUFFIX_MESSAGE = "unable to parse quantity's suffix";

const DECIMAL_SUFFIXES: Record<string, number> = { n: -9, u: -6, m: -3, '': 0, k: 3, M: 6, G: 9, T: 12, P: 15, E: 18 };
const BINARY_SUFFIXES: Record<string, number> = { Ki: 10, Mi: 20, Gi: 30, Ti: 40, Pi: 50, Ei: 60 };
const DECIMAL_SUFFIX_BY_EXPONENT = new Map<number, string>(Object.entries(DECIMAL_SUFFIXES).map(([s, e]) => [e, s]));
const BINARY_SUFFIX_BY_POWER = ['', 'Ki', 'Mi', 'Gi', 'Ti', 'Pi', 'Ei'];
const SUFFIX_CHARS = 'eEinumkKMGTP';
const MAX_INT64 = (1n << 63n) - 1n;
const MAX_INT64_DIGITS = '9223372036854775807';

const isDigit = (c: number): boolean => c >= 48 && c <= 57;

interface Scanned {
  negative: boolean;
  /** Integer digits without leading zeros ("0" when none). */
  num: string;
  /** Fraction digits as written. */
  denom: string;
  suffix: string;
}

/** Splits a quantity string the way Kubernetes' scanner does; undefined on a malformed string. */
function scan(str: string): Scanned | undefined {
  const end = str.length;
  let pos = 0;
  let negative = false;
  const first = str.charCodeAt(0);
  if (first === 45 /* - */) {
    negative = true;
    pos++;
  } else if (first === 43 /* + */) pos++;
  while (pos < end && str.charCodeAt(pos) === 48) pos++;
  if (pos >= end) return { negative, num: '0', denom: '', suffix: '' };
  const numStart = pos;
  while (pos < end && isDigit(str.charCodeAt(pos))) pos++;
  const num = pos > numStart ? str.slice(numStart, pos) : '0';
  let denom = '';
  if (pos < end && str.charCodeAt(pos) === 46 /* . */) {
    pos++;
    const denomStart = pos;
    while (pos < end && isDigit(str.charCodeAt(pos))) pos++;
    denom = str.slice(denomStart, pos);
  }
  const suffixStart = pos;
  while (pos < end && SUFFIX_CHARS.includes(str[pos])) pos++;
  if (pos < end && (str[pos] === '-' || str[pos] === '+')) pos++;
  while (pos < end && isDigit(str.charCodeAt(pos))) pos++;
  if (pos < end) return undefined;
  return { negative, num, denom, suffix: str.slice(suffixStart) };
}

function interpretSuffix(suffix: string): { base: 10 | 2; exponent: number; format: QuantityFormat } | undefined {
  const dec = DECIMAL_SUFFIXES[suffix];
  if (dec !== undefined) return { base: 10, exponent: dec, format: 'DecimalSI' };
  const bin = BINARY_SUFFIXES[suffix];
  if (bin !== undefined) return { base: 2, exponent: bin, format: 'BinarySI' };
  if (suffix.length > 1 && (suffix[0] === 'e' || suffix[0] === 'E') && /^[+-]?\d+$/.test(suffix.slice(1))) {
    const exponent = Number(suffix.slice(1));
    if (Number.isSafeInteger(exponent)) return { base: 10, exponent, format: 'DecimalExponent' };
  }
  return undefined;
}

function stripLeadingZeros(s: string): string {
  let i = 0;
  while (i < s.length - 1 && s.charCodeAt(i) === 48) i++;
  return i ? s.slice(i) : s;
}

function isZeroDigits(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) !== 48) return false;
  return true;
}

function digitsLessOrEqual(a: string, b: string): boolean {
  return a.length !== b.length ? a.length < b.length : a <= b;
}

/** Kubernetes reuses the input string when it is already canonical; this mirrors that decision. */
function verbatimIfCanonical(str: string, s: Scanned, exponent: number, format: QuantityFormat): string | undefined {
  const shifted = s.num + s.denom;
  if (format === 'BinarySI') {
    if (s.denom.length) return undefined;
    const precision = 15 - s.num.length - Math.trunc((exponent * 3) / 10) - 1;
    if (precision < 0) return undefined;
    const product = BigInt(shifted) << BigInt(exponent);
    if (product > MAX_INT64) return undefined;
    const low3 = Number(shifted.slice(-3)) & 7;
    return low3 !== 0 ? str : undefined;
  }
  if (18 - shifted.length < 0) return undefined;
  const scale = exponent - s.denom.length;
  if (scale < -9) return undefined;
  if (scale % 3 === 0 && !shifted.endsWith('000') && shifted[0] !== '0') return str;
  return undefined;
}

/** Rounds a magnitude away from zero to at most nine fractional digits (Kubernetes' nano floor). */
function roundUpToNano(digits: string, exponent: number): { digits: string; exponent: number } {
  if (exponent >= -9 || isZeroDigits(digits)) return { digits, exponent };
  const drop = -9 - exponent;
  if (drop >= digits.length) return { digits: '1', exponent: -9 };
  const kept = digits.slice(0, digits.length - drop);
  const rest = digits.slice(digits.length - drop);
  const bumped = isZeroDigits(rest) ? kept : (BigInt(kept || '0') + 1n).toString();
  return { digits: stripLeadingZeros(bumped || '0'), exponent: -9 };
}

/** Digit string of a JSON number as Go would see its literal (close enough: JS loses the original spelling). */
function numberToQuantityString(n: number): string | undefined {
  if (!Number.isFinite(n)) return undefined;
  return String(n);
}

/**
 * Parses a quantity as Kubernetes does (JSON strings are trimmed, JSON numbers accepted).
 * Returns undefined when Kubernetes would reject it (see quantityError for the message).
 */
export function parseQuantity(input: string | number): ParsedQuantity | undefined {
  const result = parseOrError(input);
  return typeof result === 'string' ? undefined : result;
}

/** The exact error text Kubernetes reports for an unparseable quantity, or undefined if it parses. */
export function quantityError(input: unknown): string | undefined {
  if (typeof input !== 'string' && typeof input !== 'number') return QUANTITY_FORMAT_MESSAGE;
  const result = parseOrError(input);
  return typeof result === 'string' ? result : undefined;
}

function parseOrError(input: string | number): ParsedQuantity | string {
  const str = typeof input === 'number' ? numberToQuantityString(input) : input.trim();
  if (str === undefined || str.length === 0) return QUANTITY_FORMAT_MESSAGE;
  if (str === '0') return { value: 0, format: 'DecimalSI', negative: false, digits: '0', exponent: 0, verbatim: '0' };
  const s = scan(str);
  if (!s) return QUANTITY_FORMAT_MESSAGE;
  const suffix = interpretSuffix(s.suffix);
  if (!suffix) return QUANTITY_SUFFIX_MESSAGE;

  let format = suffix.format;
  let digits = stripLeadingZeros(s.num + s.denom);
  let exponent = -s.denom.length;
  if (suffix.base === 10) exponent += suffix.exponent;
  else digits = (BigInt(digits) << BigInt(suffix.exponent)).toString();

  ({ digits, exponent } = roundUpToNano(digits, exponent));
  const zero = isZeroDigits(digits);
  if (format === 'BinarySI' && !zero) {
    if (exceedsMaxInt64(digits, exponent)) {
      digits = MAX_INT64_DIGITS;
      exponent = 0;
    } else if (exponent < 0 && digits.length <= -exponent) {
      // Binary quantities strictly between 0 and 1 are written in decimal form.
      format = 'DecimalSI';
    }
  }
  const negative = s.negative && !zero;
  const verbatim = verbatimIfCanonical(str, s, suffix.exponent, suffix.format);
  const magnitude = Number(`${digits}e${exponent}`);
  return { value: negative ? -magnitude : magnitude, format, negative, digits: zero ? '0' : digits, exponent: zero ? 0 : exponent, verbatim };
}

function exceedsMaxInt64(digits: string, exponent: number): boolean {
  if (exponent >= 0) {
    const intLen = digits.length + exponent;
    if (intLen !== MAX_INT64_DIGITS.length) return intLen > MAX_INT64_DIGITS.length;
    return !digitsLessOrEqual(digits + '0'.repeat(exponent), MAX_INT64_DIGITS);
  }
  const intPart = digits.length + exponent > 0 ? digits.slice(0, digits.length + exponent) : '0';
  const fraction = digits.slice(Math.max(0, digits.length + exponent));
  if (!digitsLessOrEqual(intPart, MAX_INT64_DIGITS)) return true;
  return intPart === MAX_INT64_DIGITS && !isZeroDigits(fraction);
}

/** Canonical decimal form: trailing zeros folded into the exponent, exponent a multiple of three. */
function canonicalDecimal(digits: string, exponent: number, format: QuantityFormat): string {
  let end = digits.length;
  while (end > 1 && digits.charCodeAt(end - 1) === 48) end--;
  let mantissa = end < digits.length ? digits.slice(0, end) : digits;
  let exp = exponent + (digits.length - end);
  const remainder = ((exp % 3) + 3) % 3;
  if (remainder) {
    mantissa += remainder === 1 ? '0' : '00';
    exp -= remainder;
  }
  if (format === 'DecimalSI') {
    const suffix = DECIMAL_SUFFIX_BY_EXPONENT.get(exp);
    if (suffix !== undefined) return mantissa + suffix;
  }
  return exp === 0 ? mantissa : `${mantissa}e${exp}`;
}

function isInteger(digits: string, exponent: number): boolean {
  if (exponent >= 0) return true;
  return isZeroDigits(digits.slice(Math.max(0, digits.length + exponent)));
}

/** Kubernetes' canonical serialization of a quantity ("0.5" -> "500m", "1024Mi" -> "1Gi"). */
export function canonicalQuantity(q: ParsedQuantity | string | number): string {
  if (typeof q !== 'object') {
    const parsed = parseQuantity(q);
    if (!parsed) return String(q);
    q = parsed;
  }
  if (q.verbatim !== undefined) return q.verbatim;
  if (isZeroDigits(q.digits)) return '0';
  const sign = q.negative ? '-' : '';
  let format = q.format;
  if (format === 'BinarySI') {
    const below1024 = Math.abs(q.value) < 1024;
    if (below1024 || !isInteger(q.digits, q.exponent)) format = 'DecimalSI';
  }
  if (format !== 'BinarySI') return sign + canonicalDecimal(q.digits, q.exponent, format);
  let whole =
    q.exponent >= 0 ? BigInt(q.digits) * 10n ** BigInt(q.exponent) : BigInt(q.digits.slice(0, q.digits.length + q.exponent) || '0');
  let power = 0;
  while (power < BINARY_SUFFIX_BY_POWER.length - 1 && whole >= 1024n && whole % 1024n === 0n) {
    whole /= 1024n;
    power++;
  }
  return sign + whole.toString() + BINARY_SUFFIX_BY_POWER[power];
}

/**
 * A quantity that would not decode. Kubernetes reports these while decoding the body (a 400
 * carrying the bare message), so the message has no "Invalid value" prefix.
 */
export function validateQuantity(value: unknown, path: string): FieldError[] {
  if (value === null || value === undefined) return [];
  const message = quantityError(value);
  return message ? [{ reason: 'FieldValueInvalid', field: path, message }] : [];
}
