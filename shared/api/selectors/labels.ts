// Label selectors: the string grammar of ?labelSelector= (apimachinery's labels.Parse), the
// metav1.LabelSelector struct form used by workloads, matching, and the canonical string form.
import { labelValueMessages, qualifiedNameMessages } from '../validation/names.js';
import { renderValue } from '../schema/errors.js';
import { goStringSlice } from '../validation/render.js';

export type LabelOperator = 'in' | 'notin' | '=' | '==' | '!=' | 'exists' | '!' | 'gt' | 'lt';

export interface LabelRequirement {
  key: string;
  operator: LabelOperator;
  /** Empty for exists / '!'; exactly one for =, ==, !=, gt, lt. */
  values: string[];
}

export interface LabelSelector {
  /** ANDed; sorted by key like Kubernetes does. Empty means "everything". */
  requirements: LabelRequirement[];
  /** True only for the selector of a nil metav1.LabelSelector, which selects nothing. */
  nothing?: boolean;
}

/** Raised with Kubernetes' own error text (callers return it as a 400 BadRequest). */
export class SelectorError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SelectorError';
  }
}

export const EVERYTHING: LabelSelector = Object.freeze({ requirements: Object.freeze([]) as unknown as LabelRequirement[] });
export const NOTHING: LabelSelector = Object.freeze({ requirements: Object.freeze([]) as unknown as LabelRequirement[], nothing: true });

const BINARY_OPERATORS = 'in, notin, =, ==, !=, gt, lt';
const VALID_OPERATORS = ['in', 'notin', '=', '==', '!=', 'gt', 'lt', 'exists', '!'];

// ---- lexer --------------------------------------------------------------------------------------

const enum Tok {
  Error,
  End,
  ClosePar,
  Comma,
  DoesNotExist,
  DoubleEquals,
  Equals,
  GreaterThan,
  Identifier,
  In,
  LessThan,
  NotEquals,
  NotIn,
  OpenPar,
}

const KEYWORDS: Record<string, Tok> = {
  ')': Tok.ClosePar,
  ',': Tok.Comma,
  '!': Tok.DoesNotExist,
  '==': Tok.DoubleEquals,
  '=': Tok.Equals,
  '>': Tok.GreaterThan,
  in: Tok.In,
  '<': Tok.LessThan,
  '!=': Tok.NotEquals,
  notin: Tok.NotIn,
  '(': Tok.OpenPar,
};

const isWhitespace = (c: string): boolean => c === ' ' || c === '\t' || c === '\r' || c === '\n';
const isSpecial = (c: string): boolean => c === '=' || c === '!' || c === '(' || c === ')' || c === ',' || c === '>' || c === '<';

function tokenize(s: string): { tok: Tok[]; lit: string[] } {
  const tok: Tok[] = [];
  const lit: string[] = [];
  let pos = 0;
  const end = s.length;
  for (;;) {
    while (pos < end && isWhitespace(s[pos])) pos++;
    if (pos >= end) {
      tok.push(Tok.End);
      lit.push('');
      return { tok, lit };
    }
    const start = pos;
    if (isSpecial(s[pos])) {
      // Longest run of special characters that still forms a known operator.
      let best = -1;
      let bestTok = Tok.Error;
      while (pos < end && isSpecial(s[pos])) {
        const candidate = KEYWORDS[s.slice(start, pos + 1)];
        if (candidate !== undefined) {
          best = pos + 1;
          bestTok = candidate;
        } else if (best > 0) break;
        pos++;
      }
      if (best < 0) {
        tok.push(Tok.Error);
        lit.push(`error expected: keyword found '${s.slice(start, pos)}'`);
      } else {
        pos = best;
        tok.push(bestTok);
        lit.push(s.slice(start, best));
      }
      continue;
    }
    while (pos < end && !isSpecial(s[pos]) && !isWhitespace(s[pos])) pos++;
    const word = s.slice(start, pos);
    const keyword = word === 'in' || word === 'notin' ? KEYWORDS[word] : undefined;
    tok.push(keyword ?? Tok.Identifier);
    lit.push(word);
  }
}

// ---- parser -------------------------------------------------------------------------------------

class Parser {
  private pos = 0;
  constructor(
    private readonly tok: Tok[],
    private readonly lit: string[],
  ) {}

  /** In value position the words "in" and "notin" are ordinary identifiers. */
  private asValue(t: Tok): Tok {
    return t === Tok.In || t === Tok.NotIn ? Tok.Identifier : t;
  }
  peekValue(): Tok {
    return this.asValue(this.tok[this.pos]);
  }
  peekLit(): string {
    return this.lit[this.pos];
  }
  next(asValue: boolean): [Tok, string] {
    const i = this.pos++;
    return [asValue ? this.asValue(this.tok[i]) : this.tok[i], this.lit[i]];
  }

  parse(): LabelRequirement[] {
    const out: LabelRequirement[] = [];
    for (;;) {
      const t = this.peekValue();
      if (t === Tok.End) return out;
      if (t !== Tok.Identifier && t !== Tok.DoesNotExist) {
        throw new SelectorError(`found '${this.peekLit()}', expected: !, identifier, or 'end of string'`);
      }
      let req: LabelRequirement;
      try {
        req = this.requirement();
      } catch (e) {
        if (e instanceof SelectorError) throw new SelectorError(`unable to parse requirement: ${e.message}`);
        throw e;
      }
      out.push(req);
      const [after, afterLit] = this.next(true);
      if (after === Tok.End) return out;
      if (after !== Tok.Comma) throw new SelectorError(`found '${afterLit}', expected: ',' or 'end of string'`);
      const t2 = this.peekValue();
      if (t2 !== Tok.Identifier && t2 !== Tok.DoesNotExist) {
        throw new SelectorError(`found '${this.peekLit()}', expected: identifier after ','`);
      }
    }
  }

  private requirement(): LabelRequirement {
    let negated = false;
    let [t, key] = this.next(true);
    if (t === Tok.DoesNotExist) {
      negated = true;
      [t, key] = this.next(true);
    }
    if (t !== Tok.Identifier) throw new SelectorError(`found '${key}', expected: identifier`);
    const keyMsgs = qualifiedNameMessages(key);
    if (keyMsgs.length) throw new SelectorError(`<nil>: Invalid value: ${renderValue(key)}: ${keyMsgs.join('; ')}`);
    // "!key" always ends the requirement; whatever follows is then reported by the caller.
    if (negated) return checkedRequirement(key, '!', []);
    const la = this.peekValue();
    if (la === Tok.End || la === Tok.Comma) return checkedRequirement(key, 'exists', []);
    const op = this.operator();
    return checkedRequirement(key, op, this.valuesFor(op));
  }

  private valuesFor(op: LabelOperator): string[] {
    return op === 'in' || op === 'notin' ? this.setValues() : this.exactValue();
  }

  private operator(): LabelOperator {
    const [t, l] = this.next(false);
    switch (t) {
      case Tok.In:
        return 'in';
      case Tok.Equals:
        return '=';
      case Tok.DoubleEquals:
        return '==';
      case Tok.GreaterThan:
        return 'gt';
      case Tok.LessThan:
        return 'lt';
      case Tok.NotIn:
        return 'notin';
      case Tok.NotEquals:
        return '!=';
      default:
        throw new SelectorError(`found '${l}', expected: ${BINARY_OPERATORS}`);
    }
  }

  private setValues(): string[] {
    const [t, l] = this.next(true);
    if (t !== Tok.OpenPar) throw new SelectorError(`found '${l}' expected: '('`);
    const la = this.peekValue();
    const laLit = this.peekLit();
    if (la === Tok.ClosePar) {
      this.next(true);
      return [''];
    }
    if (la !== Tok.Identifier && la !== Tok.Comma) throw new SelectorError(`found '${laLit}', expected: ',', ')' or identifier`);
    const values = new Set<string>();
    for (;;) {
      const [vt, vl] = this.next(true);
      if (vt === Tok.Identifier) {
        values.add(vl);
        const nt = this.peekValue();
        if (nt === Tok.Comma) continue;
        if (nt === Tok.ClosePar) break;
        throw new SelectorError(`found '${this.peekLit()}', expected: ',' or ')'`);
      } else if (vt === Tok.Comma) {
        if (values.size === 0) values.add('');
        const nt = this.peekValue();
        if (nt === Tok.ClosePar) {
          values.add('');
          break;
        }
        if (nt === Tok.Comma) values.add('');
      } else {
        throw new SelectorError(`found '${vl}', expected: ',', or identifier`);
      }
    }
    const [ct] = this.next(true);
    // Kubernetes reports the token that followed '(' here, not the one it found.
    if (ct !== Tok.ClosePar) throw new SelectorError(`found '${laLit}', expected: ')'`);
    return [...values].sort();
  }

  private exactValue(): string[] {
    const la = this.peekValue();
    if (la === Tok.End || la === Tok.Comma) return [''];
    const [t, l] = this.next(true);
    if (t === Tok.Identifier) return [l];
    throw new SelectorError(`found '${l}', expected: identifier`);
  }
}

/** Kubernetes' NewRequirement checks, with its error text (paths relative to a nil root). */
function requirementErrors(key: string, operator: string, values: string[], pathPrefix: string): string[] {
  const errs: string[] = [];
  const p = (s: string): string => (pathPrefix ? `${pathPrefix}.${s}` : s);
  const keyMsgs = qualifiedNameMessages(key);
  if (keyMsgs.length) errs.push(`${p('key')}: Invalid value: ${renderValue(key)}: ${keyMsgs.join('; ')}`);
  const valuesPath = p('values');
  switch (operator) {
    case 'in':
    case 'notin':
      if (values.length === 0) errs.push(`${valuesPath}: Invalid value: ${goStringSlice(null)}: for 'in', 'notin' operators, values set can't be empty`);
      break;
    case '=':
    case '==':
    case '!=':
      if (values.length !== 1) errs.push(`${valuesPath}: Invalid value: ${goStringSlice(values)}: exact-match compatibility requires one single value`);
      break;
    case 'exists':
    case '!':
      if (values.length !== 0) errs.push(`${valuesPath}: Invalid value: ${goStringSlice(values)}: values set must be empty for exists and does not exist`);
      break;
    case 'gt':
    case 'lt':
      if (values.length !== 1) errs.push(`${valuesPath}: Invalid value: ${goStringSlice(values)}: for 'Gt', 'Lt' operators, exactly one value is required`);
      values.forEach((v, i) => {
        if (parseInt64(v) === undefined) errs.push(`${valuesPath}[${i}]: Invalid value: ${renderValue(v)}: for 'Gt', 'Lt' operators, the value must be an integer`);
      });
      break;
    default:
      errs.push(`${p('operator')}: Unsupported value: ${renderValue(operator)}: supported values: ${VALID_OPERATORS.map((o) => JSON.stringify(o)).join(', ')}`);
  }
  values.forEach((v, i) => {
    const msgs = labelValueMessages(v);
    if (msgs.length) errs.push(`${valuesPath}[${i}][${key}]: Invalid value: ${renderValue(v)}: ${msgs.join('; ')}`);
  });
  return errs;
}

/** apimachinery's aggregate error text: one message alone, several in brackets. */
function aggregate(errs: string[]): string {
  const unique = [...new Set(errs)];
  return unique.length === 1 ? unique[0] : `[${unique.join(', ')}]`;
}

function checkedRequirement(key: string, operator: LabelOperator, values: string[], pathPrefix = ''): LabelRequirement {
  const errs = requirementErrors(key, operator, values, pathPrefix);
  if (errs.length) throw new SelectorError(aggregate(errs));
  return { key, operator, values };
}

function parseInt64(s: string): bigint | undefined {
  if (!/^[+-]?\d+$/.test(s)) return undefined;
  const n = BigInt(s);
  return n >= -(1n << 63n) && n < 1n << 63n ? n : undefined;
}

function byKey(a: LabelRequirement, b: LabelRequirement): number {
  return a.key < b.key ? -1 : a.key > b.key ? 1 : 0;
}

// ---- public API ---------------------------------------------------------------------------------

/** Parses a ?labelSelector= string; throws SelectorError with Kubernetes' message on bad input. */
export function parseLabelSelector(s: string): LabelSelector {
  if (s === '' || s === undefined) return { requirements: [] };
  const { tok, lit } = tokenize(s);
  const requirements = new Parser(tok, lit).parse();
  requirements.sort(byKey);
  return { requirements };
}

export interface MetaLabelSelector {
  matchLabels?: Record<string, string> | null;
  matchExpressions?: { key: string; operator: string; values?: string[] | null }[] | null;
}

const STRUCT_OPERATORS: Record<string, LabelOperator> = { In: 'in', NotIn: 'notin', Exists: 'exists', DoesNotExist: '!' };

/**
 * metav1.LabelSelector -> selector (LabelSelectorAsSelector): null/undefined selects nothing,
 * an empty struct selects everything. Throws SelectorError on invalid content.
 */
export function labelSelectorFromStruct(sel: MetaLabelSelector | null | undefined): LabelSelector {
  if (sel === null || sel === undefined) return NOTHING;
  const matchLabels = sel.matchLabels ?? {};
  const exprs = sel.matchExpressions ?? [];
  const requirements: LabelRequirement[] = [];
  for (const key in matchLabels) requirements.push(checkedRequirement(key, '=', [matchLabels[key]]));
  for (const expr of exprs) {
    const op = STRUCT_OPERATORS[expr.operator];
    if (!op) throw new SelectorError(`${JSON.stringify(expr.operator)} is not a valid label selector operator`);
    requirements.push(checkedRequirement(expr.key, op, [...(expr.values ?? [])]));
  }
  if (requirements.length === 0) return { requirements };
  requirements.sort(byKey);
  return { requirements };
}

/** Selector that matches exactly the given labels (labels.SelectorFromSet). */
export function labelSelectorFromSet(set: Record<string, string>): LabelSelector {
  const requirements: LabelRequirement[] = [];
  for (const key in set) requirements.push({ key, operator: '=', values: [set[key]] });
  requirements.sort(byKey);
  return { requirements };
}

export function isEverything(sel: LabelSelector): boolean {
  return !sel.nothing && sel.requirements.length === 0;
}

function hasValue(values: string[], v: string): boolean {
  for (let i = 0; i < values.length; i++) if (values[i] === v) return true;
  return false;
}

export function requirementMatches(r: LabelRequirement, labels: Record<string, string> | undefined | null): boolean {
  const present = labels != null && Object.prototype.hasOwnProperty.call(labels, r.key);
  switch (r.operator) {
    case 'in':
    case '=':
    case '==':
      return present && hasValue(r.values, labels![r.key]);
    case 'notin':
    case '!=':
      return !present || !hasValue(r.values, labels![r.key]);
    case 'exists':
      return present;
    case '!':
      return !present;
    case 'gt':
    case 'lt': {
      if (!present || r.values.length !== 1) return false;
      const have = parseInt64(labels![r.key]);
      const want = parseInt64(r.values[0]);
      if (have === undefined || want === undefined) return false;
      return r.operator === 'gt' ? have > want : have < want;
    }
  }
}

export function matchesLabels(sel: LabelSelector, labels: Record<string, string> | undefined | null): boolean {
  if (sel.nothing) return false;
  const reqs = sel.requirements;
  for (let i = 0; i < reqs.length; i++) if (!requirementMatches(reqs[i], labels)) return false;
  return true;
}

const OPERATOR_TEXT: Record<LabelOperator, string> = {
  '=': '=',
  '==': '==',
  '!=': '!=',
  in: ' in ',
  notin: ' notin ',
  gt: '>',
  lt: '<',
  exists: '',
  '!': '',
};

export function requirementToString(r: LabelRequirement): string {
  if (r.operator === 'exists') return r.key;
  if (r.operator === '!') return `!${r.key}`;
  const values = r.values.length === 1 ? r.values[0] : [...r.values].sort().join(',');
  const body = r.operator === 'in' || r.operator === 'notin' ? `(${values})` : values;
  return r.key + OPERATOR_TEXT[r.operator] + body;
}

/** Kubernetes' String() form, e.g. "app=web,tier in (a,b)" (used for status.selector and tables). */
export function selectorToString(sel: LabelSelector): string {
  return sel.requirements.map(requirementToString).join(',');
}
