// JSON merge patch (RFC 7386), as kube-apiserver applies application/merge-patch+json bodies.
import { badRequest } from './errors.js';
import { deepClone, hasOwn, isObject, jsonKind, setOwn } from './go-format.js';

/** Applies `patch` to `doc` without modifying either; returns the patched document. */
export function applyMergePatch(doc: unknown, patch: unknown): unknown {
  if (patch === null || patch === undefined) throw badRequest('Invalid JSON Patch');
  if (!isObject(patch)) {
    throw badRequest(`error decoding patch: json: cannot unmarshal ${jsonKind(patch)} into Go value of type map[string]interface {}`);
  }
  const target = isObject(doc) ? deepClone(doc) : {};
  mergeInto(target, patch);
  return target;
}

function mergeInto(target: Record<string, unknown>, patch: Record<string, unknown>): void {
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) {
      delete target[key];
      continue;
    }
    const current = hasOwn(target, key) ? target[key] : undefined;
    if (isObject(value) && isObject(current)) {
      mergeInto(current, value);
    } else if (isObject(current)) {
      // evanphx/json-patch keeps a non-object replacing an object verbatim.
      setOwn(target, key, deepClone(value));
    } else {
      setOwn(target, key, withoutNullMembers(deepClone(value)));
    }
  }
}

/** A value that replaces (rather than merges into) the target loses the null members of its objects. */
function withoutNullMembers(v: unknown): unknown {
  if (Array.isArray(v)) return v.map((x) => (x === null ? x : withoutNullMembers(x)));
  if (isObject(v)) {
    for (const [k, x] of Object.entries(v)) {
      if (x === null) delete v[k];
      else v[k] = withoutNullMembers(x);
    }
  }
  return v;
}
