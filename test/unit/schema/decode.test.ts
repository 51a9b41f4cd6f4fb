import { describe, expect, it } from 'vitest';
import {
  base64Error,
  checkStructure,
  decodeErrorMessage,
  duplicateFieldMessages,
  findDuplicateKeys,
  rfc3339Error,
  unknownFieldMessages,
} from '../../../shared/api/schema/decode.js';
import { Deployment, sampleDeployment } from './fixtures.js';

const check = (obj: unknown) => checkStructure(obj, Deployment, { collectUnknown: true });

describe('checkStructure', () => {
  it('accepts a well-typed object (nulls included)', () => {
    const d = sampleDeployment();
    (d.spec as Record<string, unknown>).replicas = null;
    expect(check(d)).toEqual({ unknownFields: [], typeErrors: [] });
  });

  it('reports type mismatches like Go json decoding', () => {
    const d = sampleDeployment();
    (d.spec as Record<string, unknown>).replicas = 'three';
    expect(decodeErrorMessage(check(d))).toBe('json: cannot unmarshal string into Go struct field DeploymentSpec.spec.replicas of type int32');
  });

  it('names the innermost struct and the full field path without indices', () => {
    const d = sampleDeployment() as any;
    d.spec.template.spec.containers[0].image = 5;
    const r = check(d);
    expect(r.typeErrors[0]).toEqual({
      path: 'spec.template.spec.containers[0].image',
      message: 'json: cannot unmarshal number into Go struct field Container.spec.template.spec.containers.image of type string',
      fatal: false,
    });
  });

  it('prints Go container types', () => {
    const d = sampleDeployment() as any;
    d.spec.template.spec.containers = { name: 'x' };
    expect(decodeErrorMessage(check(d))).toBe('json: cannot unmarshal object into Go struct field PodSpec.spec.template.spec.containers of type []v1.Container');
    const d2 = sampleDeployment() as any;
    d2.spec.template.spec.nodeSelector = { zone: 1 };
    expect(decodeErrorMessage(check(d2))).toBe('json: cannot unmarshal number into Go struct field PodSpec.spec.template.spec.nodeSelector of type string');
    const d3 = sampleDeployment() as any;
    d3.spec.template = 'x';
    expect(decodeErrorMessage(check(d3))).toBe('json: cannot unmarshal string into Go struct field DeploymentSpec.spec.template of type v1.PodTemplateSpec');
  });

  it('rejects fractional and out-of-range integers', () => {
    const d = sampleDeployment() as any;
    d.spec.replicas = 1.5;
    expect(decodeErrorMessage(check(d))).toBe('json: cannot unmarshal number 1.5 into Go struct field DeploymentSpec.spec.replicas of type int32');
    d.spec.replicas = 3000000000;
    expect(decodeErrorMessage(check(d))).toBe('json: cannot unmarshal number 3000000000 into Go struct field DeploymentSpec.spec.replicas of type int32');
    d.spec.replicas = 2;
    d.spec.template.spec.terminationGracePeriodSeconds = 3000000000;
    expect(check(d).typeErrors).toEqual([]);
  });

  it('checks bools, floats and bytes', () => {
    const d = sampleDeployment() as any;
    d.spec.template.spec.hostNetwork = 'yes';
    expect(decodeErrorMessage(check(d))).toBe('json: cannot unmarshal string into Go struct field PodSpec.spec.template.spec.hostNetwork of type bool');
    const d2 = sampleDeployment() as any;
    d2.spec.weight = '1';
    expect(decodeErrorMessage(check(d2))).toBe('json: cannot unmarshal string into Go struct field DeploymentSpec.spec.weight of type float64');
    const d3 = sampleDeployment() as any;
    d3.spec.payload = 'not base64!';
    expect(decodeErrorMessage(check(d3))).toBe('illegal base64 data at input byte 3');
    d3.spec.payload = 12;
    expect(decodeErrorMessage(check(d3))).toBe('json: cannot unmarshal number into Go struct field DeploymentSpec.spec.payload of type []uint8');
  });

  it('accepts quantity strings and numbers and rejects bad ones', () => {
    const d = sampleDeployment() as any;
    d.spec.template.spec.containers[0].resources = { limits: { cpu: 0.5, memory: '1Gi' } };
    expect(check(d).typeErrors).toEqual([]);
    d.spec.template.spec.containers[0].resources.limits.cpu = 'lots';
    expect(decodeErrorMessage(check(d))).toBe("quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'");
  });

  it('accepts integer or string for intOrString', () => {
    const d = sampleDeployment() as any;
    d.spec.strategy = { maxSurge: '25%' };
    expect(check(d).typeErrors).toEqual([]);
    d.spec.strategy.maxSurge = 1;
    expect(check(d).typeErrors).toEqual([]);
    d.spec.strategy.maxSurge = true;
    expect(decodeErrorMessage(check(d))).toBe('json: cannot unmarshal bool into Go struct field DeploymentStrategy.spec.strategy.maxSurge of type int32');
  });

  it('checks RFC 3339 times', () => {
    const d = sampleDeployment() as any;
    d.status = { lastUpdateTime: '2024-05-01T10:00:00Z' };
    expect(check(d).typeErrors).toEqual([]);
    d.status.lastUpdateTime = '2024-05-01';
    expect(decodeErrorMessage(check(d))).toBe('parsing time "2024-05-01" as "2006-01-02T15:04:05Z07:00": cannot parse "" as "T"');
    d.status.lastUpdateTime = 5;
    expect(decodeErrorMessage(check(d))).toBe('json: cannot unmarshal number into Go struct field DeploymentStatus.status.lastUpdateTime of type string');
  });

  it('lets a fatal decoder error win over an earlier mismatch', () => {
    const d = sampleDeployment() as any;
    d.spec.replicas = 'x';
    d.status = { lastUpdateTime: 'nope' };
    const r = check(d);
    expect(r.typeErrors).toHaveLength(2);
    expect(decodeErrorMessage(r)).toMatch(/^parsing time "nope"/);
  });

  it('collects unknown fields in strict-decoding form', () => {
    const d = sampleDeployment() as any;
    d.spec.foo = 1;
    d.spec.template.spec.containers[0].imagee = 'x';
    d.extra = true;
    d.spec.template.metadata.anything = 'goes';
    const r = check(d);
    // Document order: "foo" was added to spec after "template".
    expect(r.unknownFields).toEqual(['spec.template.spec.containers[0].imagee', 'spec.foo', 'extra']);
    expect(unknownFieldMessages(r.unknownFields)).toEqual([
      'unknown field "spec.template.spec.containers[0].imagee"',
      'unknown field "spec.foo"',
      'unknown field "extra"',
    ]);
    expect(checkStructure(d, Deployment, { collectUnknown: false }).unknownFields).toEqual([]);
  });

  it('reports a non-object body', () => {
    expect(decodeErrorMessage(check([]))).toBe('json: cannot unmarshal array into Go value of type v1.Deployment');
  });
});

describe('findDuplicateKeys', () => {
  it('finds duplicates with their full path', () => {
    const text = '{"kind":"Deployment","spec":{"replicas":1,"replicas":2,"template":{"spec":{"containers":[{"name":"a"},{"name":"b","name":"c"}]}}},"metadata":{"labels":{"a":"1","a":"2"}},"kind":"X"}';
    expect(findDuplicateKeys(text)).toEqual(['spec.replicas', 'spec.template.spec.containers[1].name', 'metadata.labels.a', 'kind']);
    expect(duplicateFieldMessages(['spec.replicas'])).toEqual(['duplicate field "spec.replicas"']);
  });

  it('ignores equal keys in different objects and handles escapes and arrays of scalars', () => {
    expect(findDuplicateKeys('{"a":{"x":1},"b":{"x":"\\"}"},"c":[1,"x",{"k":1,"k":2}],"d\\u0041":1,"dA":2}')).toEqual(['c[2].k', 'dA']);
    expect(findDuplicateKeys('{"a":1,"b":[true,false,null]}')).toEqual([]);
    expect(findDuplicateKeys('not json')).toEqual([]);
  });
});

describe('format helpers', () => {
  it('rfc3339Error', () => {
    expect(rfc3339Error('2024-01-02T03:04:05Z')).toBeUndefined();
    expect(rfc3339Error('2024-01-02T03:04:05.123456+02:00')).toBeUndefined();
    expect(rfc3339Error('2024-13-02T03:04:05Z')).toBe('parsing time "2024-13-02T03:04:05Z": month out of range');
    expect(rfc3339Error('2023-02-29T03:04:05Z')).toBe('parsing time "2023-02-29T03:04:05Z": day out of range');
    expect(rfc3339Error('yesterday')).toBe('parsing time "yesterday" as "2006-01-02T15:04:05Z07:00": cannot parse "yesterday" as "2006"');
    expect(rfc3339Error('2024-01-02T03:04:05')).toBe('parsing time "2024-01-02T03:04:05" as "2006-01-02T15:04:05Z07:00": cannot parse "" as "Z07:00"');
  });

  it('base64Error', () => {
    expect(base64Error('aGVsbG8=')).toBeUndefined();
    expect(base64Error('aGVs\nbG8=')).toBeUndefined();
    expect(base64Error('')).toBeUndefined();
    expect(base64Error('aGVsbG8')).toBe('illegal base64 data at input byte 4');
    expect(base64Error('a===')).toBe('illegal base64 data at input byte 1');
    expect(base64Error('aGVsbG8=x')).toBe('illegal base64 data at input byte 8');
  });
});
