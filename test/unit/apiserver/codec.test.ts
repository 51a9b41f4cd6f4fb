import { describe, expect, it } from 'vitest';
import { decodeFromStore, encodeForStore, jsonWithResourceVersion } from '../../../shared/apiserver/codec.js';
import { continueToken, parseContinueToken } from '../../../shared/apiserver/continue.js';
import { negotiate } from '../../../shared/apiserver/media.js';
import { ApiError } from '../../../shared/apiserver/errors.js';

describe('stored object codec', () => {
  const obj = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'a', namespace: 'x', resourceVersion: '5' }, data: { k: '"metadata":{' } };

  it('drops the resourceVersion when storing and splices the revision back in', () => {
    const stored = encodeForStore(obj);
    expect(JSON.parse(stored).metadata.resourceVersion).toBeUndefined();
    const text = jsonWithResourceVersion({ key: 'k', value: stored, rev: 42, createRev: 42 });
    const back = JSON.parse(text);
    expect(back.metadata.resourceVersion).toBe('42');
    expect(back.data.k).toBe('"metadata":{');
    expect(decodeFromStore({ key: 'k', value: stored, rev: 42, createRev: 42 })).toEqual(back);
  });

  it('handles empty metadata', () => {
    const text = jsonWithResourceVersion({ key: 'k', value: '{"apiVersion":"v1","kind":"X","metadata":{}}', rev: 3, createRev: 3 });
    expect(JSON.parse(text).metadata).toEqual({ resourceVersion: '3' });
  });
});

describe('continue tokens', () => {
  it('round-trip and stay inside their collection', () => {
    const t = continueToken(17, '/registry/core/configmaps/default/b');
    expect(parseContinueToken(t, '/registry/core/configmaps/default/')).toEqual({ rev: 17, startAfter: '/registry/core/configmaps/default/b' });
    expect(() => parseContinueToken(t, '/registry/core/secrets/default/')).toThrow(ApiError);
    expect(() => parseContinueToken('%%%', '/registry/')).toThrow(/continue key is not valid/);
  });
});

describe('content negotiation', () => {
  it('understands what kubectl sends', () => {
    expect(negotiate('application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json')).toBe('table');
    expect(negotiate('application/vnd.kubernetes.protobuf,application/json')).toBe('json');
    expect(negotiate('application/json, */*')).toBe('json');
    expect(negotiate(undefined)).toBe('json');
    expect(negotiate('application/yaml')).toBe('yaml');
    expect(negotiate('application/json;as=PartialObjectMetadataList;v=v1;g=meta.k8s.io,application/json')).toBe('partial');
    expect(() => negotiate('application/vnd.kubernetes.protobuf')).toThrow(ApiError);
  });
});
