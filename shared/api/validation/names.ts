// Name, label and key format checks worded exactly like apimachinery's util/validation package,
// so clients see the same "Invalid value" details a real kube-apiserver returns.
import type { FieldError } from '../schema/dsl.js';
import { invalid } from '../schema/errors.js';

const DNS1123_LABEL_FMT = '[a-z0-9]([-a-z0-9]*[a-z0-9])?';
const DNS1123_SUBDOMAIN_FMT = `${DNS1123_LABEL_FMT}(\\.${DNS1123_LABEL_FMT})*`;
const DNS1035_LABEL_FMT = '[a-z]([-a-z0-9]*[a-z0-9])?';
const QNAME_FMT = '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]';
const LABEL_VALUE_FMT = `(${QNAME_FMT})?`;

const DNS1123_LABEL_RE = new RegExp(`^${DNS1123_LABEL_FMT}$`);
const DNS1123_SUBDOMAIN_RE = new RegExp(`^${DNS1123_SUBDOMAIN_FMT}$`);
const DNS1035_LABEL_RE = new RegExp(`^${DNS1035_LABEL_FMT}$`);
const QNAME_RE = new RegExp(`^${QNAME_FMT}$`);
const LABEL_VALUE_RE = new RegExp(`^${LABEL_VALUE_FMT}$`);

export const DNS1123_LABEL_MAX_LENGTH = 63;
export const DNS1123_SUBDOMAIN_MAX_LENGTH = 253;
export const DNS1035_LABEL_MAX_LENGTH = 63;
export const QUALIFIED_NAME_MAX_LENGTH = 63;
export const LABEL_VALUE_MAX_LENGTH = 63;

/** "must be no more than N characters". */
export function maxLenMessage(length: number): string {
  return `must be no more than ${length} characters`;
}

/** Kubernetes' RegexError wording: description, examples, then the regex. */
export function regexMessage(description: string, fmt: string, ...examples: string[]): string {
  if (examples.length === 0) return `${description} (regex used for validation is '${fmt}')`;
  return `${description} (e.g. ${examples.map((e) => `'${e}', `).join(' or ')}regex used for validation is '${fmt}')`;
}

export const EMPTY_MESSAGE = 'must be non-empty';

const DNS1123_LABEL_MSG = regexMessage(
  "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character",
  DNS1123_LABEL_FMT,
  'my-name',
  '123-abc',
);
const DNS1123_SUBDOMAIN_MSG = regexMessage(
  "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character",
  DNS1123_SUBDOMAIN_FMT,
  'example.com',
);
const DNS1035_LABEL_MSG = regexMessage(
  "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character",
  DNS1035_LABEL_FMT,
  'my-name',
  'abc-123',
);
const QNAME_DESCRIPTION = "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character";
const QNAME_MSG = regexMessage(QNAME_DESCRIPTION, QNAME_FMT, 'MyName', 'my.name', '123-abc');
const LABEL_VALUE_MSG = regexMessage(
  "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character",
  LABEL_VALUE_FMT,
  'MyValue',
  'my_value',
  '12345',
);

const NO_MESSAGES: readonly string[] = Object.freeze([]);

// ---- message-returning checks (Kubernetes' IsXxx functions) ------------------------------------

export function dns1123LabelMessages(value: string): readonly string[] {
  const tooLong = value.length > DNS1123_LABEL_MAX_LENGTH;
  const bad = !DNS1123_LABEL_RE.test(value);
  if (!tooLong && !bad) return NO_MESSAGES;
  const out: string[] = [];
  if (tooLong) out.push(maxLenMessage(DNS1123_LABEL_MAX_LENGTH));
  if (bad) out.push(DNS1123_LABEL_MSG);
  return out;
}

export function dns1123SubdomainMessages(value: string): readonly string[] {
  const tooLong = value.length > DNS1123_SUBDOMAIN_MAX_LENGTH;
  const bad = !DNS1123_SUBDOMAIN_RE.test(value);
  if (!tooLong && !bad) return NO_MESSAGES;
  const out: string[] = [];
  if (tooLong) out.push(maxLenMessage(DNS1123_SUBDOMAIN_MAX_LENGTH));
  if (bad) out.push(DNS1123_SUBDOMAIN_MSG);
  return out;
}

export function dns1035LabelMessages(value: string): readonly string[] {
  const tooLong = value.length > DNS1035_LABEL_MAX_LENGTH;
  const bad = !DNS1035_LABEL_RE.test(value);
  if (!tooLong && !bad) return NO_MESSAGES;
  const out: string[] = [];
  if (tooLong) out.push(maxLenMessage(DNS1035_LABEL_MAX_LENGTH));
  if (bad) out.push(DNS1035_LABEL_MSG);
  return out;
}

/** Label/annotation key: optional DNS-subdomain prefix and '/', then a name part of at most 63 characters. */
export function qualifiedNameMessages(value: string): readonly string[] {
  const slash = value.indexOf('/');
  let name = value;
  let out: string[] | undefined;
  if (slash >= 0) {
    if (value.indexOf('/', slash + 1) >= 0) {
      return [`a qualified name ${QNAME_MSG} with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')`];
    }
    const prefix = value.slice(0, slash);
    name = value.slice(slash + 1);
    if (prefix.length === 0) {
      out = [`prefix part ${EMPTY_MESSAGE}`];
    } else {
      const prefixMsgs = dns1123SubdomainMessages(prefix);
      if (prefixMsgs.length) out = prefixMsgs.map((m) => `prefix part ${m}`);
    }
  }
  if (name.length === 0) (out ??= []).push(`name part ${EMPTY_MESSAGE}`);
  else if (name.length > QUALIFIED_NAME_MAX_LENGTH) (out ??= []).push(`name part ${maxLenMessage(QUALIFIED_NAME_MAX_LENGTH)}`);
  if (!QNAME_RE.test(name)) (out ??= []).push(`name part ${QNAME_MSG}`);
  return out ?? NO_MESSAGES;
}

export function labelValueMessages(value: string): readonly string[] {
  const tooLong = value.length > LABEL_VALUE_MAX_LENGTH;
  const bad = !LABEL_VALUE_RE.test(value);
  if (!tooLong && !bad) return NO_MESSAGES;
  const out: string[] = [];
  if (tooLong) out.push(maxLenMessage(LABEL_VALUE_MAX_LENGTH));
  if (bad) out.push(LABEL_VALUE_MSG);
  return out;
}

/** Names used as a URL path segment: not "." or "..", no "/" or "%". */
export function pathSegmentNameMessages(value: string): readonly string[] {
  if (value === '.' || value === '..') return [`may not be '${value}'`];
  return pathSegmentPrefixMessages(value);
}

/** The generateName form of the path-segment rule (only the "may not contain" part applies). */
export function pathSegmentPrefixMessages(value: string): readonly string[] {
  const slash = value.includes('/');
  const pct = value.includes('%');
  if (!slash && !pct) return NO_MESSAGES;
  const out: string[] = [];
  if (slash) out.push("may not contain '/'");
  if (pct) out.push("may not contain '%'");
  return out;
}

// ---- boolean forms ------------------------------------------------------------------------------

export function isDNS1123Label(s: string): boolean {
  return s.length <= DNS1123_LABEL_MAX_LENGTH && DNS1123_LABEL_RE.test(s);
}

export function isDNS1123Subdomain(s: string): boolean {
  return s.length <= DNS1123_SUBDOMAIN_MAX_LENGTH && DNS1123_SUBDOMAIN_RE.test(s);
}

export function isDNS1035Label(s: string): boolean {
  return s.length <= DNS1035_LABEL_MAX_LENGTH && DNS1035_LABEL_RE.test(s);
}

export function isQualifiedName(s: string): boolean {
  return qualifiedNameMessages(s).length === 0;
}

export function isLabelValue(s: string): boolean {
  return s.length <= LABEL_VALUE_MAX_LENGTH && LABEL_VALUE_RE.test(s);
}

// ---- FieldError forms ---------------------------------------------------------------------------

function toErrors(msgs: readonly string[], path: string, value: string): FieldError[] {
  if (msgs.length === 0) return [];
  return msgs.map((m) => invalid(path, value, m));
}

export function validateDNS1123Label(value: string, path: string): FieldError[] {
  return toErrors(dns1123LabelMessages(value), path, value);
}

export function validateDNS1123Subdomain(value: string, path: string): FieldError[] {
  return toErrors(dns1123SubdomainMessages(value), path, value);
}

export function validateDNS1035Label(value: string, path: string): FieldError[] {
  return toErrors(dns1035LabelMessages(value), path, value);
}

export function validateQualifiedName(value: string, path: string): FieldError[] {
  return toErrors(qualifiedNameMessages(value), path, value);
}

export function validateLabelValue(value: string, path: string): FieldError[] {
  return toErrors(labelValueMessages(value), path, value);
}

export function validatePathSegmentName(value: string, path: string): FieldError[] {
  return toErrors(pathSegmentNameMessages(value), path, value);
}

/** Kubernetes reports label problems at the map's own path (metadata.labels), not per key. */
export function validateLabels(labels: Record<string, string>, path: string): FieldError[] {
  let out: FieldError[] | undefined;
  for (const key in labels) {
    const keyMsgs = qualifiedNameMessages(key);
    for (const m of keyMsgs) (out ??= []).push(invalid(path, key, m));
    const v = labels[key];
    const valueMsgs = typeof v === 'string' ? labelValueMessages(v) : NO_MESSAGES;
    for (const m of valueMsgs) (out ??= []).push(invalid(path, v, m));
  }
  return out ?? [];
}
