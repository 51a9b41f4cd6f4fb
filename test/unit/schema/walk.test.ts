import { describe, expect, it } from 'vitest';
import { canonicalTime, normalizeWireValues } from '../../../shared/api/schema/walk.js';
import { Deployment, sampleDeployment } from './fixtures.js';

describe('normalizeWireValues', () => {
  it('canonicalizes quantities wherever the schema has them', () => {
    const d = sampleDeployment() as any;
    d.spec.template.spec.containers[0].resources = { limits: { cpu: 0.5, memory: '1024Mi' }, requests: { cpu: '1000m', bad: 'x' } };
    normalizeWireValues(d, Deployment);
    expect(d.spec.template.spec.containers[0].resources).toEqual({ limits: { cpu: '500m', memory: '1Gi' }, requests: { cpu: '1', bad: 'x' } });
  });

  it('rewrites times in UTC without fractions', () => {
    const d = sampleDeployment() as any;
    d.status = { lastUpdateTime: '2024-05-01T12:30:00.999+02:00' };
    normalizeWireValues(d, Deployment);
    expect(d.status.lastUpdateTime).toBe('2024-05-01T10:30:00Z');
  });

  it('canonicalTime handles micro precision and day rollover', () => {
    expect(canonicalTime('2024-01-01T00:30:00.1234567-01:00', 6)).toBe('2024-01-01T01:30:00.123456Z');
    expect(canonicalTime('2024-01-01T00:30:00+01:00', 0)).toBe('2023-12-31T23:30:00Z');
    expect(canonicalTime('bad', 0)).toBeUndefined();
  });
});
