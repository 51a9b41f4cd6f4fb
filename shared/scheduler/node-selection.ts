// Node-side matching a pod asks for: nodeSelector and node affinity terms (In, NotIn, Exists,
// DoesNotExist, Gt, Lt; matchFields on metadata.name), and taints against tolerations.
import { requirementMatches, type LabelOperator } from '../api/selectors/labels.js';

export interface NodeSelectorRequirement {
  key: string;
  operator: string;
  values?: string[];
}

export interface NodeSelectorTerm {
  matchExpressions?: NodeSelectorRequirement[] | null;
  matchFields?: NodeSelectorRequirement[] | null;
}

export interface Taint {
  key: string;
  value?: string;
  effect: string;
}

export interface Toleration {
  key?: string;
  operator?: string;
  value?: string;
  effect?: string;
  tolerationSeconds?: number;
}

const OPERATORS: Record<string, LabelOperator> = { In: 'in', NotIn: 'notin', Exists: 'exists', DoesNotExist: '!', Gt: 'gt', Lt: 'lt' };

/** A compiled node selector term; `undefined` requirements mean the term can never match. */
export interface CompiledTerm {
  labels: { key: string; operator: LabelOperator; values: string[] }[];
  fields: { key: string; operator: LabelOperator; values: string[] }[];
}

function compileRequirements(list: NodeSelectorRequirement[] | null | undefined, fields: boolean) {
  const out: CompiledTerm['labels'] = [];
  for (const r of list ?? []) {
    const operator = OPERATORS[r.operator];
    if (!operator) return undefined;
    if (fields && (r.key !== 'metadata.name' || (operator !== 'in' && operator !== 'notin'))) return undefined;
    const values = r.values ?? [];
    if ((operator === 'gt' || operator === 'lt') && (values.length !== 1 || !/^[+-]?\d+$/.test(values[0]))) return undefined;
    if ((operator === 'in' || operator === 'notin') && values.length === 0) return undefined;
    out.push({ key: r.key, operator, values });
  }
  return out;
}

/** Compiles a term; an empty or malformed term matches nothing (as in Kubernetes). */
export function compileTerm(term: NodeSelectorTerm | null | undefined): CompiledTerm | undefined {
  if (!term) return undefined;
  const labels = compileRequirements(term.matchExpressions, false);
  const fields = compileRequirements(term.matchFields, true);
  if (!labels || !fields || labels.length + fields.length === 0) return undefined;
  return { labels, fields };
}

export function termMatches(term: CompiledTerm, nodeName: string, labels: Record<string, string>): boolean {
  for (const r of term.labels) if (!requirementMatches(r, labels)) return false;
  if (term.fields.length) {
    const fieldSet = { 'metadata.name': nodeName };
    for (const r of term.fields) if (!requirementMatches(r, fieldSet)) return false;
  }
  return true;
}

/** The pod's hard node constraints: spec.nodeSelector AND any of the required affinity terms. */
export interface RequiredNodeAffinity {
  selector?: [string, string][];
  /** undefined: no required affinity; otherwise ORed terms (compiled; bad terms dropped). */
  terms?: CompiledTerm[];
}

interface PodSpecLike {
  nodeSelector?: Record<string, string>;
  affinity?: { nodeAffinity?: { requiredDuringSchedulingIgnoredDuringExecution?: { nodeSelectorTerms?: NodeSelectorTerm[] } } };
}

export function requiredNodeAffinityOf(spec: PodSpecLike | undefined): RequiredNodeAffinity | undefined {
  const selector = spec?.nodeSelector && Object.keys(spec.nodeSelector).length ? Object.entries(spec.nodeSelector) : undefined;
  const required = spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution;
  const terms = required ? (required.nodeSelectorTerms ?? []).map(compileTerm).filter((t): t is CompiledTerm => !!t) : undefined;
  if (!selector && !terms) return undefined;
  return { selector, terms };
}

export function matchesRequiredNodeAffinity(a: RequiredNodeAffinity | undefined, nodeName: string, labels: Record<string, string>): boolean {
  if (!a) return true;
  if (a.selector) for (const [k, v] of a.selector) if (labels[k] !== v) return false;
  if (a.terms) {
    for (const t of a.terms) if (termMatches(t, nodeName, labels)) return true;
    return false;
  }
  return true;
}

export interface PreferredTerm {
  weight: number;
  term: CompiledTerm;
}

export function preferredNodeAffinityOf(spec: Record<string, unknown> | undefined): PreferredTerm[] {
  const affinity = spec?.affinity as { nodeAffinity?: { preferredDuringSchedulingIgnoredDuringExecution?: { weight?: number; preference?: NodeSelectorTerm }[] } } | undefined;
  const out: PreferredTerm[] = [];
  for (const p of affinity?.nodeAffinity?.preferredDuringSchedulingIgnoredDuringExecution ?? []) {
    if (!p.weight) continue;
    const term = compileTerm(p.preference);
    if (term) out.push({ weight: p.weight, term });
  }
  return out;
}

export function tolerates(t: Toleration, taint: Taint): boolean {
  if (t.effect && t.effect !== taint.effect) return false;
  if (t.key && t.key !== taint.key) return false;
  switch (t.operator ?? '') {
    case '':
    case 'Equal':
      return (t.value ?? '') === (taint.value ?? '');
    case 'Exists':
      return true;
    default:
      return false;
  }
}

export function toleratedByAll(tolerations: Toleration[], taint: Taint): boolean {
  for (const t of tolerations) if (tolerates(t, taint)) return true;
  return false;
}

/** The first NoSchedule/NoExecute taint none of the tolerations tolerates. */
export function firstUntoleratedTaint(taints: Taint[], tolerations: Toleration[]): Taint | undefined {
  for (const taint of taints) {
    if (taint.effect !== 'NoSchedule' && taint.effect !== 'NoExecute') continue;
    if (!toleratedByAll(tolerations, taint)) return taint;
  }
  return undefined;
}
