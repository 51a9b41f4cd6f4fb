// JSON patch (RFC 6902) with the semantics of gopkg.in/evanphx/json-patch.v4, the library
// kube-apiserver uses for application/json-patch+json: negative array indices count from the end,
// "replace" of a missing object member adds it, and failures become 422 with a generic message.
import { deepClone, unescapePathComponent } from 'fast-json-patch';
import { badRequest, tooLarge, unprocessable } from './errors.js';
import { hasOwn, isObject, jsonEqual, jsonKind, setOwn } from './go-format.js';

/** kube-apiserver refuses JSON patches with more operations than this. */
export const MAX_JSON_PATCH_OPERATIONS = 10000;

interface Operation {
  op?: string;
  path?: string;
  from?: string;
  hasValue: boolean;
  value: unknown;
}

/** Applies RFC 6902 `ops` to a copy of `doc`; throws PatchError (400 undecodable, 413 too many ops, 422 not applicable). */
export function applyJsonPatch(doc: unknown, ops: unknown): unknown {
  const operations = decodeOperations(ops);
  if (operations.length > MAX_JSON_PATCH_OPERATIONS) {
    throw tooLarge(`The allowed maximum operations in a JSON patch is ${MAX_JSON_PATCH_OPERATIONS}, got ${operations.length}`);
  }
  const state = { root: deepClone(doc) as unknown };
  for (const op of operations) {
    const failure = applyOne(state, op);
    if (failure) throw unprocessable(failure);
  }
  return state.root;
}

const OP_STRING_FIELDS = ['op', 'path', 'from'] as const;

/** Mirrors the strict decode into []jsonPatchOp that kube-apiserver runs before applying. */
function decodeOperations(ops: unknown): Operation[] {
  if (ops === null || ops === undefined) return [];
  if (!Array.isArray(ops)) {
    throw badRequest(`error decoding patch: json: cannot unmarshal ${jsonKind(ops)} into Go value of type []handlers.jsonPatchOp`);
  }
  return ops.map((raw) => {
    if (raw === null) return { hasValue: false, value: undefined };
    if (!isObject(raw)) {
      throw badRequest(`error decoding patch: json: cannot unmarshal ${jsonKind(raw)} into Go value of type handlers.jsonPatchOp`);
    }
    const op: Operation = { hasValue: 'value' in raw, value: raw.value };
    for (const name of OP_STRING_FIELDS) {
      const v = raw[name];
      if (v === null || v === undefined) continue;
      if (typeof v !== 'string') {
        throw badRequest(`error decoding patch: json: cannot unmarshal ${jsonKind(v)} into Go struct field jsonPatchOp.${name} of type string`);
      }
      op[name] = v;
    }
    return op;
  });
}

// ---- containers (an object or an array found by walking a pointer) ------------------------------

type Container = { kind: 'object'; obj: Record<string, unknown> } | { kind: 'array'; arr: unknown[] };

const MISSING = 'missing value';
const INVALID_INDEX = 'invalid index referenced';

class OpFailure extends Error {}

function atoi(key: string): number {
  if (!/^[+-]?\d+$/.test(key)) throw new OpFailure(`strconv.Atoi: parsing ${JSON.stringify(key)}: invalid syntax`);
  return Number.parseInt(key, 10);
}

const invalidIndex = (idx: number): OpFailure => new OpFailure(`Unable to access invalid index: ${idx}: ${INVALID_INDEX}`);

function containerOf(v: unknown): Container | undefined {
  if (Array.isArray(v)) return { kind: 'array', arr: v };
  if (isObject(v)) return { kind: 'object', obj: v };
  return undefined;
}

function get(c: Container, key: string): unknown {
  if (c.kind === 'object') return hasOwn(c.obj, key) ? c.obj[key] : undefined;
  let idx = atoi(key);
  if (idx < 0) {
    if (idx < -c.arr.length) throw invalidIndex(idx);
    idx += c.arr.length;
  }
  if (idx >= c.arr.length) throw invalidIndex(idx);
  return c.arr[idx];
}

function set(c: Container, key: string, value: unknown): void {
  if (c.kind === 'object') {
    setOwn(c.obj, key, value);
    return;
  }
  let idx = atoi(key);
  if (idx < 0) idx += c.arr.length;
  c.arr[idx] = value;
}

function add(c: Container, key: string, value: unknown): void {
  if (c.kind === 'object') {
    setOwn(c.obj, key, value);
    return;
  }
  if (key === '-') {
    c.arr.push(value);
    return;
  }
  let idx: number;
  try {
    idx = atoi(key);
  } catch (e) {
    throw new OpFailure(`value was not a proper array index: '${key}': ${(e as Error).message}`);
  }
  const size = c.arr.length + 1;
  if (idx >= size) throw invalidIndex(idx);
  if (idx < 0) {
    if (idx < -size) throw invalidIndex(idx);
    idx += size;
  }
  c.arr.splice(idx, 0, value);
}

function remove(c: Container, key: string): void {
  if (c.kind === 'object') {
    if (!hasOwn(c.obj, key)) throw new OpFailure(`Unable to remove nonexistent key: ${key}: ${MISSING}`);
    delete c.obj[key];
    return;
  }
  let idx = atoi(key);
  if (idx >= c.arr.length) throw invalidIndex(idx);
  if (idx < 0) {
    if (idx < -c.arr.length) throw invalidIndex(idx);
    idx += c.arr.length;
  }
  c.arr.splice(idx, 1);
}

/** The container holding the last token of `path`, and that token; undefined when a step is missing. */
function findParent(root: unknown, path: string): { c: Container; key: string } | undefined {
  const tokens = path.split('/');
  if (tokens.length < 2) return undefined;
  let c = containerOf(root);
  for (const raw of tokens.slice(1, -1)) {
    if (!c) return undefined;
    let next: unknown;
    try {
      next = get(c, unescapePathComponent(raw));
    } catch {
      return undefined;
    }
    c = containerOf(next);
  }
  return c ? { c, key: unescapePathComponent(tokens[tokens.length - 1]) } : undefined;
}

/** Wraps a container failure the way pkg/errors.Wrapf does: "<context>: <cause>". */
function attempt(context: string, fn: () => void): string | undefined {
  try {
    fn();
    return undefined;
  } catch (e) {
    if (e instanceof OpFailure) return `${context}: ${e.message}`;
    throw e;
  }
}

const valueOf = (op: Operation): unknown => (op.hasValue ? deepClone(op.value) : null);

// ---- operations (each returns the failure text, or undefined on success) ------------------------

function applyOne(state: { root: unknown }, op: Operation): string | undefined {
  switch (op.op) {
    case 'add':
      return opAdd(state.root, op);
    case 'remove':
      return opRemove(state.root, op);
    case 'replace':
      return opReplace(state, op);
    case 'move':
      return opMove(state.root, op);
    case 'test':
      return opTest(state.root, op);
    case 'copy':
      return opCopy(state.root, op);
    default:
      return `Unexpected kind: ${op.op ?? 'unknown'}`;
  }
}

function opAdd(root: unknown, op: Operation): string | undefined {
  if (op.path === undefined) return `add operation failed to decode path: ${MISSING}`;
  const path = op.path;
  const target = findParent(root, path);
  if (!target) return `add operation does not apply: doc is missing path: "${path}": ${MISSING}`;
  return attempt(`error in add for path: '${path}'`, () => add(target.c, target.key, valueOf(op)));
}

function opRemove(root: unknown, op: Operation): string | undefined {
  if (op.path === undefined) return `remove operation failed to decode path: ${MISSING}`;
  const path = op.path;
  const target = findParent(root, path);
  if (!target) return `remove operation does not apply: doc is missing path: "${path}": ${MISSING}`;
  return attempt(`error in remove for path: '${path}'`, () => remove(target.c, target.key));
}

function opReplace(state: { root: unknown }, op: Operation): string | undefined {
  if (op.path === undefined) return `replace operation failed to decode path: operation missing path field: ${MISSING}`;
  const path = op.path;
  if (path === '') {
    // Only an object or array replaces the whole document; anything else is silently ignored.
    if (Array.isArray(op.value) || isObject(op.value)) state.root = deepClone(op.value);
    return undefined;
  }
  const target = findParent(state.root, path);
  if (!target) return `replace operation does not apply: doc is missing path: ${path}: ${MISSING}`;
  try {
    get(target.c, target.key);
  } catch (e) {
    if (e instanceof OpFailure) return `replace operation does not apply: doc is missing key: ${path}: ${MISSING}`;
    throw e;
  }
  return attempt(`error in remove for path: '${path}'`, () => set(target.c, target.key, valueOf(op)));
}

function opMove(root: unknown, op: Operation): string | undefined {
  if (op.from === undefined) return `move operation failed to decode from: operation, missing from field: ${MISSING}`;
  const from = op.from;
  const source = findParent(root, from);
  if (!source) return `move operation does not apply: doc is missing from path: ${from}: ${MISSING}`;
  let value: unknown;
  const getFailure = attempt(`error in move for path: '${source.key}'`, () => {
    value = get(source.c, source.key);
  });
  if (getFailure) return getFailure;
  const removeFailure = attempt(`error in move for path: '${source.key}'`, () => remove(source.c, source.key));
  if (removeFailure) return removeFailure;
  if (op.path === undefined) return `move operation failed to decode path: operation missing path field: ${MISSING}`;
  const path = op.path;
  const dest = findParent(root, path);
  if (!dest) return `move operation does not apply: doc is missing destination path: ${path}: ${MISSING}`;
  return attempt(`error in move for path: '${path}'`, () => add(dest.c, dest.key, value === undefined ? null : value));
}

function opTest(root: unknown, op: Operation): string | undefined {
  if (op.path === undefined) return `test operation failed to decode path: operation missing path field: ${MISSING}`;
  const path = op.path;
  const expected = op.hasValue ? op.value : null;
  const failed = `testing value ${path} failed: test failed`;
  if (path === '') return jsonEqual(root, expected) ? undefined : failed;
  const target = findParent(root, path);
  if (!target) return `test operation does not apply: is missing path: ${path}: ${MISSING}`;
  let actual: unknown;
  const getFailure = attempt(`error in test for path: '${path}'`, () => {
    actual = get(target.c, target.key);
  });
  if (getFailure) return getFailure;
  if (actual === undefined || actual === null) return expected === null ? undefined : failed;
  return jsonEqual(actual, expected) ? undefined : failed;
}

function opCopy(root: unknown, op: Operation): string | undefined {
  if (op.from === undefined) return `copy operation failed to decode from: operation, missing from field: ${MISSING}`;
  const from = op.from;
  const source = findParent(root, from);
  if (!source) return `copy operation does not apply: doc is missing from path: ${from}: ${MISSING}`;
  let value: unknown;
  const getFailure = attempt(`error in copy for from: '${from}'`, () => {
    value = get(source.c, source.key);
  });
  if (getFailure) return getFailure;
  if (op.path === undefined) return `copy operation failed to decode path: ${MISSING}`;
  const path = op.path;
  const dest = findParent(root, path);
  if (!dest) return `copy operation does not apply: doc is missing destination path: ${path}: ${MISSING}`;
  return attempt('error while adding value during copy', () => add(dest.c, dest.key, value === undefined ? null : deepClone(value)));
}
