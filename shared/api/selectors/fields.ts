// Field selectors (?fieldSelector=): apimachinery's fields.ParseSelector grammar with its
// backslash escaping, matching, and the errors kube-apiserver returns for unsupported fields.
import { SelectorError } from './labels.js';

export { SelectorError };

export interface FieldRequirement {
  field: string;
  /** '=' and '==' mean the same and are both stored as '='. */
  operator: '=' | '!=';
  /** Unescaped value. */
  value: string;
}

export interface FieldSelector {
  /** ANDed, in the order Kubernetes evaluates them (terms sorted as strings). */
  requirements: FieldRequirement[];
}

const OPERATORS = ['!=', '==', '='] as const;

/** Splits on commas that are not escaped; escapes stay in the pieces. */
function splitTerms(s: string): string[] {
  const terms: string[] = [];
  let start = 0;
  let inSlash = false;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (inSlash) inSlash = false;
    else if (c === '\\') inSlash = true;
    else if (c === ',') {
      terms.push(s.slice(start, i));
      start = i + 1;
    }
  }
  terms.push(s.slice(start));
  return terms;
}

/** The leftmost operator splits a term; the field name itself cannot be escaped. */
function splitTerm(term: string): [string, string, string] | undefined {
  for (let i = 0; i < term.length; i++) {
    for (const op of OPERATORS) {
      if (term.startsWith(op, i)) return [term.slice(0, i), op, term.slice(i + op.length)];
    }
  }
  return undefined;
}

export function unescapeFieldValue(s: string): string {
  if (!/[\\,=]/.test(s)) return s;
  let out = '';
  let inSlash = false;
  for (const c of s) {
    if (inSlash) {
      if (c !== '\\' && c !== ',' && c !== '=') {
        throw new SelectorError(`invalid field selector: invalid escape sequence: \\${c}`);
      }
      out += c;
      inSlash = false;
    } else if (c === '\\') inSlash = true;
    else if (c === ',' || c === '=') {
      // Go prints the rune with %v, i.e. as its code point number.
      throw new SelectorError(`invalid field selector: unescaped character in value: ${c.codePointAt(0)}`);
    } else out += c;
  }
  if (inSlash) throw new SelectorError('invalid field selector: invalid escape sequence: \\');
  return out;
}

export function escapeFieldValue(s: string): string {
  return s.replace(/[\\,=]/g, (c) => `\\${c}`);
}

/** Parses a ?fieldSelector= string; throws SelectorError with Kubernetes' message on bad input. */
export function parseFieldSelector(s: string): FieldSelector {
  if (!s) return { requirements: [] };
  const parts = splitTerms(s).sort();
  const requirements: FieldRequirement[] = [];
  for (const part of parts) {
    if (part === '') continue;
    const split = splitTerm(part);
    if (!split) throw new SelectorError(`invalid selector: '${s}'; can't understand '${part}'`);
    const [field, op, raw] = split;
    requirements.push({ field, operator: op === '!=' ? '!=' : '=', value: unescapeFieldValue(raw) });
  }
  return { requirements };
}

/** Absent fields compare as the empty string, as Kubernetes' fields.Set does. */
export function matchesFields(sel: FieldSelector, get: (field: string) => string | undefined): boolean {
  const reqs = sel.requirements;
  for (let i = 0; i < reqs.length; i++) {
    const r = reqs[i];
    const have = get(r.field) ?? '';
    if (r.operator === '=' ? have !== r.value : have === r.value) return false;
  }
  return true;
}

/** Fields the selector uses that the kind does not support, in evaluation order (first is reported). */
export function unsupportedFields(sel: FieldSelector, supported: readonly string[]): string[] {
  let out: string[] | undefined;
  for (const r of sel.requirements) if (!supported.includes(r.field)) (out ??= []).push(r.field);
  return out ?? [];
}

/**
 * kube-apiserver's 400 message for an unsupported field. Kinds that only know metadata.name and
 * metadata.namespace use the generic conversion; kinds with their own field list (pods, events,
 * secrets, ...) use the shorter "field label not supported" text.
 */
export function unsupportedFieldMessage(field: string, kindHasExtraSelectors: boolean): string {
  if (kindHasExtraSelectors) return `field label not supported: ${field}`;
  return `${JSON.stringify(field)} is not a known field selector: only "metadata.name", "metadata.namespace"`;
}

/** The canonical string form (values escaped), e.g. "metadata.name=a\,b". */
export function fieldSelectorToString(sel: FieldSelector): string {
  return sel.requirements.map((r) => `${r.field}${r.operator}${escapeFieldValue(r.value)}`).join(',');
}

/** The value an "="/"==" term requires for `field`, if any (lets a list use an index). */
export function requiredFieldValue(sel: FieldSelector, field: string): string | undefined {
  for (const r of sel.requirements) if (r.field === field && r.operator === '=') return r.value;
  return undefined;
}
