import { describe, expect, it } from 'vitest';
import { formatFieldError } from '../../../shared/api/schema/errors.js';
import { validateAgainstSchema } from '../../../shared/api/schema/validate.js';
import { field, map, str, struct } from '../../../shared/api/schema/dsl.js';
import { applyDefaults } from '../../../shared/api/schema/defaults.js';
import { Deployment, sampleDeployment } from './fixtures.js';

const run = (obj: Record<string, unknown>) => validateAgainstSchema(obj, Deployment).map(formatFieldError);

describe('validateAgainstSchema', () => {
  it('accepts a valid, defaulted object', () => {
    const d = sampleDeployment();
    applyDefaults(d, Deployment);
    expect(run(d)).toEqual([]);
  });

  it('reports missing required fields with Kubernetes paths', () => {
    const d = sampleDeployment() as any;
    d.spec.template.spec.containers = [];
    delete d.spec.selector;
    expect(run(d)).toEqual(['spec.selector: Required value', 'spec.template.spec.containers: Required value']);
    const d2 = sampleDeployment() as any;
    d2.spec.template.spec.containers[0].name = '';
    delete d2.spec.template.spec.containers[0].ports[0].containerPort;
    expect(run(d2)).toEqual([
      'spec.template.spec.containers[0].name: Required value',
      'spec.template.spec.containers[0].ports[0].containerPort: Required value',
    ]);
  });

  it('reports unsupported enum values', () => {
    const d = sampleDeployment() as any;
    d.spec.template.spec.restartPolicy = 'Sometimes';
    expect(run(d)).toEqual(['spec.template.spec.restartPolicy: Unsupported value: "Sometimes": supported values: "Always", "OnFailure", "Never"']);
  });

  it('checks quantities with map keys in brackets', () => {
    const d = sampleDeployment() as any;
    d.spec.template.spec.containers[0].resources.limits.cpu = 'x';
    expect(run(d)).toEqual([
      "spec.template.spec.containers[0].resources.limits[cpu]: quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'",
    ]);
  });

  it('runs struct hooks with the struct path', () => {
    const d = sampleDeployment() as any;
    d.spec.replicas = -1;
    expect(run(d)).toEqual(['spec.replicas: Invalid value: -1: must be greater than or equal to 0']);
  });

  it('runs field validators with the field path, and honours a root path prefix', () => {
    const S = struct('x.v1.S', 's', {
      data: field(map(str()), 1, 'd', {
        validate: (v, p) => (Object.keys(v as object).length > 1 ? [{ reason: 'FieldValueTooMany', field: p, message: 'Too many: 2: must have at most 1 items' }] : []),
      }),
    });
    expect(validateAgainstSchema({ data: { a: '1', b: '2' } }, S).map(formatFieldError)).toEqual(['data: Too many: 2: must have at most 1 items']);
    expect(validateAgainstSchema({ data: { a: '1', b: '2' } }, S, 'spec').map(formatFieldError)).toEqual(['spec.data: Too many: 2: must have at most 1 items']);
  });
});
