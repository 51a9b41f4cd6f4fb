// Checks shared by the core/v1 kinds (ports, IPs, config keys, quantities), worded the way
// k8s.io/apimachinery/pkg/util/validation and pkg/apis/core/validation word them.
import type { FieldError } from '../schema/dsl.js';
import { invalid, notSupported, required } from '../schema/errors.js';
import { maxLenMessage, qualifiedNameMessages, regexMessage } from '../validation/names.js';

export type Obj = Record<string, unknown>;

/** Child path as Kubernetes prints it: join('spec', 'ports') -> spec.ports; join('', 'data') -> data. */
export function join(path: string, child: string): string {
  return path ? `${path}.${child}` : child;
}

export const index = (path: string, i: number): string => `${path}[${i}]`;
export const key = (path: string, k: string): string => `${path}[${k}]`;

export function asObj(v: unknown): Obj | undefined {
  return v && typeof v === 'object' && !Array.isArray(v) ? (v as Obj) : undefined;
}

export function asList(v: unknown): unknown[] {
  return Array.isArray(v) ? v : [];
}

export function asStr(v: unknown): string {
  return typeof v === 'string' ? v : '';
}

export function asNum(v: unknown): number {
  return typeof v === 'number' ? v : 0;
}

export const FIELD_IMMUTABLE = 'field is immutable';

/** A field.Error whose bad value is rendered Go-style by the caller (slices, structs). */
export function invalidRendered(field: string, rendered: string, detail: string): FieldError {
  return { reason: 'FieldValueInvalid', field, message: `Invalid value: ${rendered}${detail ? `: ${detail}` : ''}` };
}

export function duplicateRendered(field: string, rendered: string, detail = ''): FieldError {
  return { reason: 'FieldValueDuplicate', field, message: `Duplicate value: ${rendered}${detail ? `: ${detail}` : ''}` };
}

/** Go's %#v of a string slice: []string{"a", "b"} (nil slices print as []string(nil)). */
export function goSlice(typeName: string, values: unknown): string {
  if (!Array.isArray(values)) return `${typeName}(nil)`;
  return `${typeName}{${values.map((v) => JSON.stringify(String(v))).join(', ')}}`;
}

// ---- ports ---------------------------------------------------------------------------------------

export const PORT_RANGE_MESSAGE = 'must be between 1 and 65535, inclusive';
export const SUPPORTED_PROTOCOLS = ['SCTP', 'TCP', 'UDP'] as const;

export function portNumberMessages(port: number): string[] {
  return Number.isInteger(port) && port >= 1 && port <= 65535 ? [] : [PORT_RANGE_MESSAGE];
}

/** IsValidPortName: IANA service names (what a container port may be called). */
export function portNameMessages(name: string): string[] {
  const out: string[] = [];
  if (name.length > 15) out.push(maxLenMessage(15));
  if (!/^[-a-z0-9]+$/.test(name)) out.push('must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)');
  if (!/[a-z]/.test(name)) out.push('must contain at least one letter (a-z)');
  if (name.includes('--')) out.push('must not contain consecutive hyphens');
  if (name.length > 0 && (name.startsWith('-') || name.endsWith('-'))) out.push('must not begin or end with a hyphen');
  return out;
}

/** ValidatePortNumOrName: a number in range or an IANA port name. */
export function validatePortNumOrName(value: unknown, path: string): FieldError[] {
  if (typeof value === 'number') return portNumberMessages(value).map((m) => invalid(path, value, m));
  if (typeof value === 'string') return portNameMessages(value).map((m) => invalid(path, value, m));
  return [];
}

/** Protocol required and one of SCTP/TCP/UDP. */
export function validateProtocol(value: unknown, path: string): FieldError[] {
  const p = asStr(value);
  if (p === '') return [required(path)];
  return (SUPPORTED_PROTOCOLS as readonly string[]).includes(p) ? [] : [notSupported(path, p, SUPPORTED_PROTOCOLS)];
}

export function validateQualifiedNameAt(value: string, path: string): FieldError[] {
  return qualifiedNameMessages(value).map((m) => invalid(path, value, m));
}

// ---- ConfigMap / Secret keys ---------------------------------------------------------------------

const CONFIG_KEY_FMT = '[-._a-zA-Z0-9]+';
const CONFIG_KEY_RE = /^[-._a-zA-Z0-9]+$/;
const CONFIG_KEY_MSG = regexMessage(
  "a valid config key must consist of alphanumeric characters, '-', '_' or '.'",
  CONFIG_KEY_FMT,
  'key.name',
  'KEY_NAME',
  'key-name',
);

/** IsConfigMapKey: the key rules shared by ConfigMap data/binaryData and Secret data. */
export function configKeyMessages(k: string): string[] {
  const out: string[] = [];
  if (Buffer.byteLength(k, 'utf8') > 253) out.push(maxLenMessage(253));
  if (!CONFIG_KEY_RE.test(k)) out.push(CONFIG_KEY_MSG);
  if (k === '.') out.push("must not be '.'");
  else if (k === '..') out.push("must not be '..'");
  else if (k.startsWith('..')) out.push("must not start with '..'");
  return out;
}

/** MaxSecretSize: the total data size limit of a Secret or a ConfigMap (1 MiB). */
export const MAX_SECRET_SIZE = 1024 * 1024;

/** Length in bytes of a base64-encoded value (what Kubernetes counts for bytes fields). */
export function decodedLength(b64: unknown): number {
  return typeof b64 === 'string' ? Buffer.from(b64, 'base64').length : 0;
}

// ---- IP addresses and CIDRs ----------------------------------------------------------------------

export const INVALID_IP_MESSAGE = 'must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)';
export const INVALID_CIDR_MESSAGE = 'must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)';

/** Parses an IPv4 or IPv6 literal to its bytes (4 or 16), or undefined. */
export function parseIP(s: string): Uint8Array | undefined {
  const v4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(s);
  if (v4) {
    const parts = v4.slice(1).map(Number);
    return parts.every((p, i) => p <= 255 && !(v4[i + 1].length > 1 && v4[i + 1].startsWith('0'))) ? Uint8Array.from(parts) : undefined;
  }
  if (!s.includes(':')) return undefined;
  let head = s;
  let tail4: Uint8Array | undefined;
  const lastColon = s.lastIndexOf(':');
  if (s.slice(lastColon + 1).includes('.')) {
    tail4 = parseIP(s.slice(lastColon + 1));
    if (!tail4 || tail4.length !== 4) return undefined;
    head = `${s.slice(0, lastColon + 1)}0:0`;
  }
  const halves = head.split('::');
  if (halves.length > 2) return undefined;
  const groups = (h: string): number[] | undefined => {
    if (h === '') return [];
    const out: number[] = [];
    for (const g of h.split(':')) {
      if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return undefined;
      out.push(parseInt(g, 16));
    }
    return out;
  };
  const left = groups(halves[0]);
  const right = halves.length === 2 ? groups(halves[1]) : [];
  if (!left || !right) return undefined;
  const missing = 8 - left.length - right.length;
  if (halves.length === 1 ? missing !== 0 : missing < 1) return undefined;
  const all = [...left, ...Array<number>(halves.length === 2 ? missing : 0).fill(0), ...right];
  const bytes = new Uint8Array(16);
  all.forEach((g, i) => {
    bytes[i * 2] = g >> 8;
    bytes[i * 2 + 1] = g & 0xff;
  });
  if (tail4) bytes.set(tail4, 12);
  return bytes;
}

export function isIPv6(s: string): boolean {
  return parseIP(s)?.length === 16;
}

export function validateIP(value: string, path: string): FieldError[] {
  return parseIP(value) ? [] : [invalid(path, value, INVALID_IP_MESSAGE)];
}

export function validateCIDR(value: string, path: string): FieldError[] {
  const slash = value.indexOf('/');
  const ip = slash > 0 ? parseIP(value.slice(0, slash)) : undefined;
  const bits = slash > 0 ? value.slice(slash + 1) : '';
  const ok = ip && /^\d{1,3}$/.test(bits) && Number(bits) <= ip.length * 8;
  return ok ? [] : [invalid(path, value, INVALID_CIDR_MESSAGE)];
}

/** ValidateNonSpecialIP: no unspecified, loopback or link-local addresses (Endpoints, externalIPs). */
export function validateNonSpecialIP(value: string, path: string): FieldError[] {
  const b = parseIP(value);
  if (!b) return [invalid(path, value, 'must be a valid IP address')];
  // An IPv4-mapped IPv6 address behaves like its IPv4 form, as in Go's net.IP.
  const mapped = b.length === 16 && b.slice(0, 10).every((x) => x === 0) && b[10] === 0xff && b[11] === 0xff;
  const v4 = b.length === 4 ? b : mapped ? b.slice(12) : undefined;
  const out: FieldError[] = [];
  if (v4) {
    if (v4.every((x) => x === 0)) out.push(invalid(path, value, `may not be unspecified (${value})`));
    if (v4[0] === 127) out.push(invalid(path, value, 'may not be in the loopback range (127.0.0.0/8, ::1/128)'));
    if (v4[0] === 169 && v4[1] === 254) out.push(invalid(path, value, 'may not be in the link-local range (169.254.0.0/16, fe80::/10)'));
    if (v4[0] === 224 && v4[1] === 0 && v4[2] === 0) {
      out.push(invalid(path, value, 'may not be in the link-local multicast range (224.0.0.0/24, ff02::/10)'));
    }
    return out;
  }
  if (b.every((x) => x === 0)) out.push(invalid(path, value, `may not be unspecified (${value})`));
  if (b.slice(0, 15).every((x) => x === 0) && b[15] === 1) out.push(invalid(path, value, 'may not be in the loopback range (127.0.0.0/8, ::1/128)'));
  if (b[0] === 0xfe && (b[1] & 0xc0) === 0x80) out.push(invalid(path, value, 'may not be in the link-local range (169.254.0.0/16, fe80::/10)'));
  if (b[0] === 0xff && (b[1] & 0x0f) === 0x02) out.push(invalid(path, value, 'may not be in the link-local multicast range (224.0.0.0/24, ff02::/10)'));
  return out;
}

// ---- quantities ----------------------------------------------------------------------------------

const QUANTITY_SUFFIXES: Record<string, number> = {
  '': 1, n: 1e-9, u: 1e-6, m: 1e-3, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18,
  Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60,
};

/** Approximate numeric value of a Quantity ("500m" -> 0.5, "1Gi" -> 1073741824); NaN if unparsable. */
export function quantityValue(q: unknown): number {
  if (typeof q === 'number') return q;
  if (typeof q !== 'string') return NaN;
  const m = /^([+-]?(?:\d+\.?\d*|\.\d+))(?:([eE][+-]?\d+)|(Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE]))?$/.exec(q.trim());
  if (!m) return NaN;
  const base = Number(m[1]);
  if (m[2]) return base * 10 ** Number(m[2].slice(1));
  return base * QUANTITY_SUFFIXES[m[3] ?? ''];
}

/** How a Quantity prints in messages: its string form as sent (canonical when the decoder canonicalises). */
export function quantityString(q: unknown): string {
  return typeof q === 'number' ? String(q) : asStr(q);
}

/** Resource names counted in whole units (IsIntegerResourceName). */
const INTEGER_RESOURCES = new Set([
  'pods', 'services', 'replicationcontrollers', 'resourcequotas', 'secrets', 'configmaps',
  'persistentvolumeclaims', 'services.nodeports', 'services.loadbalancers',
]);

export function isIntegerResourceName(name: string): boolean {
  return INTEGER_RESOURCES.has(name) || isExtendedResourceName(name);
}

/** Extended resources: prefixed, outside kubernetes.io, not requests.* (IsExtendedResourceName). */
export function isExtendedResourceName(name: string): boolean {
  if (isNativeResource(name) || name.startsWith('requests.')) return false;
  return qualifiedNameMessages(`requests.${name}`).length === 0;
}

export function isNativeResource(name: string): boolean {
  return !name.includes('/') || name.includes('kubernetes.io/');
}

/** ValidateResourceQuantityValue: non-negative, whole for integer resources. */
export function validateResourceQuantity(resource: string, q: unknown, path: string): FieldError[] {
  const v = quantityValue(q);
  const out: FieldError[] = [];
  if (v < 0) out.push(invalid(path, quantityString(q), 'must be greater than or equal to 0'));
  if (isIntegerResourceName(resource) && Number.isFinite(v) && Math.round(v * 1000) % 1000 !== 0) {
    out.push(invalid(path, quantityString(q), 'must be an integer'));
  }
  return out;
}
