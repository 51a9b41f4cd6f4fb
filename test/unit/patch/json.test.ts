import { describe, expect, it } from 'vitest';
import { applyJsonPatch } from '../../../shared/api/patch/json.js';
import { PatchError } from '../../../shared/api/patch/errors.js';

const deployment = () => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'x', labels: { app: 'x' }, annotations: { 'deployment.kubernetes.io/revision': '2' } },
  spec: {
    replicas: 2,
    template: { metadata: { labels: { app: 'x' } }, spec: { containers: [{ name: 'app', image: 'nginx:1.27' }] } },
  },
});

function failure(fn: () => unknown): PatchError {
  try {
    fn();
  } catch (e) {
    if (e instanceof PatchError) return e;
    throw e;
  }
  throw new Error('expected a PatchError');
}

describe('applyJsonPatch', () => {
  it('applies the body kubectl rollout undo sends', () => {
    const template = { metadata: { labels: { app: 'x' } }, spec: { containers: [{ name: 'app', image: 'nginx:1.25' }] } };
    const out = applyJsonPatch(deployment(), [
      { op: 'replace', path: '/spec/template', value: template },
      { op: 'replace', path: '/metadata/annotations', value: { 'deployment.kubernetes.io/revision': '1' } },
    ]) as ReturnType<typeof deployment>;
    expect(out.spec.template).toEqual(template);
    expect(out.metadata.annotations).toEqual({ 'deployment.kubernetes.io/revision': '1' });
  });

  it('does not modify its inputs', () => {
    const doc = deployment();
    const ops = [{ op: 'add', path: '/metadata/labels/tier', value: 'web' }];
    applyJsonPatch(doc, ops);
    expect(doc).toEqual(deployment());
    expect(ops).toEqual([{ op: 'add', path: '/metadata/labels/tier', value: 'web' }]);
  });

  it('supports add, remove, move, copy and test', () => {
    const out = applyJsonPatch(deployment(), [
      { op: 'test', path: '/spec/replicas', value: 2 },
      { op: 'add', path: '/spec/template/spec/containers/-', value: { name: 'side', image: 'busybox' } },
      { op: 'add', path: '/spec/template/spec/containers/0', value: { name: 'init', image: 'alpine' } },
      { op: 'copy', from: '/metadata/labels', path: '/spec/selectorCopy' },
      { op: 'move', from: '/spec/selectorCopy', path: '/metadata/moved' },
      { op: 'remove', path: '/metadata/labels/app' },
    ]) as Record<string, any>;
    expect(out.spec.template.spec.containers.map((c: { name: string }) => c.name)).toEqual(['init', 'app', 'side']);
    expect(out.metadata.moved).toEqual({ app: 'x' });
    expect(out.spec.selectorCopy).toBeUndefined();
    expect(out.metadata.labels).toEqual({});
  });

  it('decodes ~0 and ~1 in pointer tokens', () => {
    const out = applyJsonPatch(deployment(), [{ op: 'add', path: '/metadata/annotations/example.com~1a~0b', value: 'v' }]) as Record<string, any>;
    expect(out.metadata.annotations['example.com/a~b']).toBe('v');
  });

  it('counts negative array indices from the end, like evanphx/json-patch', () => {
    const out = applyJsonPatch({ a: [1, 2, 3] }, [
      { op: 'remove', path: '/a/-1' },
      { op: 'replace', path: '/a/-2', value: 9 },
    ]);
    expect(out).toEqual({ a: [9, 2] });
  });

  it('replace of a missing object member adds it (json-patch v4 behaviour)', () => {
    expect(applyJsonPatch({ spec: {} }, [{ op: 'replace', path: '/spec/x', value: 1 }])).toEqual({ spec: { x: 1 } });
  });

  it('a test against an absent member passes only for null', () => {
    expect(applyJsonPatch({ a: 1 }, [{ op: 'test', path: '/b', value: null }])).toEqual({ a: 1 });
  });

  it('a failed test is 422 Invalid with the generic message Kubernetes answers', () => {
    const err = failure(() => applyJsonPatch(deployment(), [{ op: 'test', path: '/spec/replicas', value: 3 }]));
    expect(err.code).toBe(422);
    expect(err.reason).toBe('Invalid');
    expect(err.message).toBe('the server rejected our request due to an error in our request');
    expect(err.causes).toBeUndefined();
    expect(err.detail).toBe('testing value /spec/replicas failed: test failed');
  });

  it.each([
    [{ op: 'add', path: '/spec/nope/x', value: 1 }, 'add operation does not apply: doc is missing path: "/spec/nope/x": missing value'],
    [{ op: 'remove', path: '/metadata/labels/nope' }, "error in remove for path: '/metadata/labels/nope': Unable to remove nonexistent key: nope: missing value"],
    [{ op: 'remove', path: '/nope/x' }, 'remove operation does not apply: doc is missing path: "/nope/x": missing value'],
    [{ op: 'replace', path: '/spec/template/spec/containers/5', value: {} }, 'replace operation does not apply: doc is missing key: /spec/template/spec/containers/5: missing value'],
    [{ op: 'replace', path: '/nope/x', value: 1 }, 'replace operation does not apply: doc is missing path: /nope/x: missing value'],
    [{ op: 'add', path: '/spec/template/spec/containers/7', value: {} }, "error in add for path: '/spec/template/spec/containers/7': Unable to access invalid index: 7: invalid index referenced"],
    [
      { op: 'add', path: '/spec/template/spec/containers/x', value: {} },
      "error in add for path: '/spec/template/spec/containers/x': value was not a proper array index: 'x': strconv.Atoi: parsing \"x\": invalid syntax",
    ],
    [{ op: 'move', from: '/spec/nope', path: '/spec/x' }, "error in move for path: 'nope': Unable to remove nonexistent key: nope: missing value"],
    [{ op: 'copy', from: '/spec/replicas', path: '/nope/x' }, 'copy operation does not apply: doc is missing destination path: /nope/x: missing value'],
    [{ op: 'test', path: '/nope/x', value: 1 }, 'test operation does not apply: is missing path: /nope/x: missing value'],
    [{ op: 'add', value: 1 }, 'add operation failed to decode path: missing value'],
    [{ op: 'frob', path: '/a' }, 'Unexpected kind: frob'],
    [{ path: '/a' }, 'Unexpected kind: unknown'],
  ])('%j fails with %j', (op, detail) => {
    const err = failure(() => applyJsonPatch(deployment(), [op]));
    expect(err.code).toBe(422);
    expect(err.detail).toBe(detail);
  });

  it('stops at the first failing operation and applies nothing', () => {
    const doc = deployment();
    expect(() => applyJsonPatch(doc, [{ op: 'replace', path: '/spec/replicas', value: 5 }, { op: 'test', path: '/spec/replicas', value: 2 }])).toThrow(PatchError);
    expect(doc.spec.replicas).toBe(2);
  });

  it('rejects bodies that are not a list of operations with 400, worded like the strict decoder', () => {
    const notList = failure(() => applyJsonPatch(deployment(), { op: 'add' }));
    expect(notList.code).toBe(400);
    expect(notList.reason).toBe('BadRequest');
    expect(notList.message).toBe('error decoding patch: json: cannot unmarshal object into Go value of type []handlers.jsonPatchOp');

    const notObject = failure(() => applyJsonPatch(deployment(), ['add']));
    expect(notObject.message).toBe('error decoding patch: json: cannot unmarshal string into Go value of type handlers.jsonPatchOp');

    const badField = failure(() => applyJsonPatch(deployment(), [{ op: 'add', path: 5, value: 1 }]));
    expect(badField.code).toBe(400);
    expect(badField.message).toBe('error decoding patch: json: cannot unmarshal number into Go struct field jsonPatchOp.path of type string');
  });

  it('refuses more than 10000 operations with 413', () => {
    const ops = Array.from({ length: 10001 }, () => ({ op: 'test', path: '/spec/replicas', value: 2 }));
    const err = failure(() => applyJsonPatch(deployment(), ops));
    expect(err.code).toBe(413);
    expect(err.reason).toBe('RequestEntityTooLarge');
    expect(err.message).toBe('The allowed maximum operations in a JSON patch is 10000, got 10001');
  });
});
