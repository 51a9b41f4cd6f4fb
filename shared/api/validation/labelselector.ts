// Validation of a metav1.LabelSelector field (spec.selector of workloads), worded like
// apimachinery's meta/v1/validation.ValidateLabelSelector.
import type { FieldError } from '../schema/dsl.js';
import { forbidden, invalid, required } from '../schema/errors.js';
import { labelValueMessages, qualifiedNameMessages, validateLabels } from './names.js';

const isRecord = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

export function validateLabelSelector(selector: unknown, path: string): FieldError[] {
  if (!isRecord(selector)) return [];
  const out: FieldError[] = [];
  if (isRecord(selector.matchLabels)) {
    for (const e of validateLabels(selector.matchLabels as Record<string, string>, `${path}.matchLabels`)) out.push(e);
  }
  const exprs = Array.isArray(selector.matchExpressions) ? selector.matchExpressions : [];
  exprs.forEach((raw, i) => {
    const expr = isRecord(raw) ? raw : {};
    const p = `${path}.matchExpressions[${i}]`;
    const values = Array.isArray(expr.values) ? (expr.values as unknown[]) : [];
    const operator = typeof expr.operator === 'string' ? expr.operator : '';
    switch (operator) {
      case 'In':
      case 'NotIn':
        if (values.length === 0) out.push(required(`${p}.values`, "must be specified when `operator` is 'In' or 'NotIn'"));
        break;
      case 'Exists':
      case 'DoesNotExist':
        if (values.length > 0) out.push(forbidden(`${p}.values`, "may not be specified when `operator` is 'Exists' or 'DoesNotExist'"));
        break;
      default:
        out.push(invalid(`${p}.operator`, operator, 'not a valid selector operator'));
    }
    const key = typeof expr.key === 'string' ? expr.key : '';
    for (const m of qualifiedNameMessages(key)) out.push(invalid(`${p}.key`, key, m));
    values.forEach((v, j) => {
      if (typeof v !== 'string') return;
      for (const m of labelValueMessages(v)) out.push(invalid(`${p}.values[${j}]`, v, m));
    });
  });
  return out;
}
