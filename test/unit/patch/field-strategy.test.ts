import { describe, expect, it } from 'vitest';
import { applyStrategicMergePatch } from '../../../shared/api/patch/strategic.js';
import { PodDisruptionBudget } from '../../../shared/api/types/policy.js';
import { Deployment } from '../../../shared/api/types/apps.js';

describe('field-level patch strategies', () => {
  it('replace swaps a PodDisruptionBudget selector as a whole', () => {
    const live = { spec: { selector: { matchLabels: { app: 'a', tier: 'web' } }, minAvailable: 1 } };
    const out = applyStrategicMergePatch(live, { spec: { selector: { matchLabels: { app: 'b' } } } }, PodDisruptionBudget) as typeof live;
    expect(out.spec.selector).toEqual({ matchLabels: { app: 'b' } });
    expect(out.spec.minAvailable).toBe(1);
  });

  it('other struct fields merge, and $retainKeys on a Deployment strategy drops the other keys', () => {
    const live = { spec: { strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: '25%' } }, selector: { matchLabels: { app: 'a' } } } };
    const merged = applyStrategicMergePatch(live, { spec: { selector: { matchLabels: { tier: 'x' } } } }, Deployment) as any;
    expect(merged.spec.selector.matchLabels).toEqual({ app: 'a', tier: 'x' });
    const switched = applyStrategicMergePatch(live, { spec: { strategy: { $retainKeys: ['type'], type: 'Recreate' } } }, Deployment) as any;
    expect(switched.spec.strategy).toEqual({ type: 'Recreate' });
  });
});
