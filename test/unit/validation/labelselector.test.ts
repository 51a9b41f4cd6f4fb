import { describe, expect, it } from 'vitest';
import { formatFieldError } from '../../../shared/api/schema/errors.js';
import { validateLabelSelector } from '../../../shared/api/validation/labelselector.js';

describe('validateLabelSelector', () => {
  it('accepts a well-formed selector', () => {
    expect(validateLabelSelector({ matchLabels: { app: 'web' }, matchExpressions: [{ key: 'tier', operator: 'In', values: ['a'] }] }, 'spec.selector')).toEqual([]);
  });

  it('reports operator/value combinations like Kubernetes', () => {
    const errs = validateLabelSelector(
      {
        matchExpressions: [
          { key: 'a', operator: 'In', values: [] },
          { key: 'b', operator: 'Exists', values: ['x'] },
          { key: 'c', operator: 'Equals' },
          { key: 'd', operator: 'NotIn', values: ['bad value'] },
        ],
      },
      'spec.selector',
    ).map(formatFieldError);
    expect(errs[0]).toBe("spec.selector.matchExpressions[0].values: Required value: must be specified when `operator` is 'In' or 'NotIn'");
    expect(errs[1]).toBe("spec.selector.matchExpressions[1].values: Forbidden: may not be specified when `operator` is 'Exists' or 'DoesNotExist'");
    expect(errs[2]).toBe('spec.selector.matchExpressions[2].operator: Invalid value: "Equals": not a valid selector operator');
    expect(errs[3]).toMatch(/^spec\.selector\.matchExpressions\[3\]\.values\[0\]: Invalid value: "bad value": a valid label must/);
    expect(errs).toHaveLength(4);
  });

  it('checks matchLabels keys and values', () => {
    const errs = validateLabelSelector({ matchLabels: { 'bad key': 'v' } }, 'spec.selector').map(formatFieldError);
    expect(errs[0]).toMatch(/^spec\.selector\.matchLabels: Invalid value: "bad key": name part/);
  });
});
