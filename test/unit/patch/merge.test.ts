import { describe, expect, it } from 'vitest';
import { applyMergePatch } from '../../../shared/api/patch/merge.js';
import { PatchError } from '../../../shared/api/patch/errors.js';

const scale = () => ({
  kind: 'Scale',
  apiVersion: 'autoscaling/v1',
  metadata: { name: 'x', namespace: 'default', labels: { app: 'x', tier: 'web' } },
  spec: { replicas: 2 },
  status: { replicas: 2, selector: 'app=x' },
});

describe('applyMergePatch', () => {
  it('applies the body kubectl scale sends', () => {
    const out = applyMergePatch(scale(), { spec: { replicas: 3 } }) as ReturnType<typeof scale>;
    expect(out.spec.replicas).toBe(3);
    expect(out.status).toEqual({ replicas: 2, selector: 'app=x' });
  });

  it('deletes members set to null and merges nested objects (kubectl label)', () => {
    const out = applyMergePatch(scale(), { metadata: { labels: { tier: null, env: 'prod' } } }) as ReturnType<typeof scale>;
    expect(out.metadata.labels).toEqual({ app: 'x', env: 'prod' });
    expect(out.metadata.name).toBe('x');
  });

  it('replaces arrays and scalars wholesale', () => {
    const out = applyMergePatch({ a: [1, 2, 3], b: { c: 1 } }, { a: [4], b: 'flat' });
    expect(out).toEqual({ a: [4], b: 'flat' });
  });

  it('drops null members of objects it inserts', () => {
    expect(applyMergePatch({}, { a: { b: null, c: { d: null, e: 1 } } })).toEqual({ a: { c: { e: 1 } } });
  });

  it('ignores deletions of absent members', () => {
    expect(applyMergePatch({ a: 1 }, { b: null })).toEqual({ a: 1 });
  });

  it('does not modify its inputs', () => {
    const doc = scale();
    const patch = { metadata: { labels: { tier: null } } };
    applyMergePatch(doc, patch);
    expect(doc).toEqual(scale());
    expect(patch).toEqual({ metadata: { labels: { tier: null } } });
  });

  it('rejects a null patch and non-object patches with 400', () => {
    const asError = (fn: () => unknown): PatchError => {
      try {
        fn();
      } catch (e) {
        return e as PatchError;
      }
      throw new Error('expected failure');
    };
    const nullPatch = asError(() => applyMergePatch(scale(), null));
    expect([nullPatch.code, nullPatch.reason, nullPatch.message]).toEqual([400, 'BadRequest', 'Invalid JSON Patch']);
    const listPatch = asError(() => applyMergePatch(scale(), [{ op: 'add' }]));
    expect(listPatch.code).toBe(400);
    expect(listPatch.message).toBe('error decoding patch: json: cannot unmarshal array into Go value of type map[string]interface {}');
  });
});
