// Strategic merge patch (application/strategic-merge-patch+json) with the semantics of
// k8s.io/apimachinery/pkg/util/strategicpatch on the server side: lists with patch strategy "merge"
// are merged by their merge key (scalar lists as sets), other lists are replaced, null deletes, and
// the directives $patch, $retainKeys, $setElementOrder/<list> and $deleteFromPrimitiveList/<list>
// are honoured. Parts the schema does not describe merge like a JSON merge patch.
import type { StructType, TypeNode } from '../schema/dsl.js';
import { PatchError, badRequest, internal, unprocessable } from './errors.js';
import { deepClone, goString, goTypeName, goValue, hasOwn, isObject, jsonKind, setOwn } from './go-format.js';
import { childType, fieldPatchStrategy, patchMeta, shapeOf, structNode } from './type-shape.js';

const DIRECTIVE = '$patch';
const RETAIN_KEYS = '$retainKeys';
const DELETE_FROM_PRIMITIVE_LIST = '$deleteFromPrimitiveList';
const SET_ELEMENT_ORDER = '$setElementOrder';

// mergepatch error texts; interpretStrategicMergePatchError maps them to 400 / 422.
const ERR_PRIMITIVE_LIST = 'invalid patch format of primitive list';
const ERR_RETAIN_KEYS = 'invalid patch format of retainKeys';
const ERR_SET_ELEMENT_ORDER = 'invalid patch format of setElementOrder list';
const ERR_LIST_OF_LISTS = 'lists of lists are not supported';

type JsonMap = Record<string, unknown>;

/** Applies a strategic merge patch to a copy of `doc`, using `schema` for list strategies and merge keys. */
export function applyStrategicMergePatch(doc: unknown, patch: unknown, schema: StructType): unknown {
  if (patch === null || patch === undefined) return deepClone(doc);
  if (!isObject(patch)) throw badRequest(`json: cannot unmarshal ${jsonKind(patch)} into Go value of type map[string]interface {}`);
  const original = isObject(doc) ? deepClone(doc) : {};
  return mergeMap(original, deepClone(patch), structNode(schema));
}

// ---- errors --------------------------------------------------------------------------------------

const noMergeKey = (m: unknown, key: string): PatchError => internal(`map: ${goValue(m)} does not contain declared merge key: ${key}`);
const badArgType = (expected: string, actual: unknown): PatchError => internal(`expected a ${expected}, but received a ${goTypeName(actual)}`);
const badPatchType = (directive: unknown, m: unknown): PatchError => internal(`unknown patch type: ${goString(directive)} in map: ${goValue(m)}`);

function extractKey(key: string, prefix: string): string {
  const slash = key.indexOf('/');
  if (slash < 0 || key.slice(0, slash) !== prefix) {
    throw badRequest(prefix === SET_ELEMENT_ORDER ? ERR_SET_ELEMENT_ORDER : ERR_PRIMITIVE_LIST);
  }
  return key.slice(slash + 1);
}

// ---- maps ----------------------------------------------------------------------------------------

function mergeMap(original: JsonMap, patch: JsonMap, type: TypeNode | undefined): JsonMap {
  if (hasOwn(patch, DIRECTIVE)) {
    const directive = patch[DIRECTIVE];
    if (directive === 'replace') {
      delete patch[DIRECTIVE];
      return withoutDirectives(patch) as JsonMap;
    }
    if (directive === 'delete') return {};
    throw badPatchType(directive, patch);
  }
  applyRetainKeys(original, patch);
  applyElementOrderLists(original, patch, type);

  for (const [patchKey, patchValue] of Object.entries(patch)) {
    let key = patchKey;
    let isDeleteList = false;
    if (patchKey.startsWith(DELETE_FROM_PRIMITIVE_LIST)) {
      key = extractKey(patchKey, DELETE_FROM_PRIMITIVE_LIST);
      isDeleteList = true;
    }
    if (patchValue === null) {
      delete original[key];
      continue;
    }
    const current = original[key];
    if (!hasOwn(original, key) || valueKind(current) !== valueKind(patchValue)) {
      if (!isDeleteList) setAbsentValue(original, key, patchValue);
      continue;
    }
    if (isObject(current)) {
      if (fieldPatchStrategy(type, key) === 'replace') setAbsentValue(original, key, patchValue);
      else setOwn(original, key, mergeMap(current, patchValue as JsonMap, childType(type, key)));
    } else if (Array.isArray(current)) {
      setOwn(original, key, mergeListField(current, patchValue as unknown[], childType(type, key), isDeleteList));
    } else {
      setOwn(original, key, patchValue);
    }
  }
  return original;
}

const valueKind = (v: unknown): string => (v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v);

/** A patch value with nothing to merge into: nulls are dropped and directive-bearing parts removed. */
function setAbsentValue(target: JsonMap, key: string, value: unknown): void {
  const cleaned = withoutDirectives(value);
  if (cleaned === DROP) delete target[key];
  else setOwn(target, key, cleaned);
}

const DROP = Symbol('drop');

function withoutDirectives(v: unknown): unknown {
  if (Array.isArray(v)) {
    const out: unknown[] = [];
    for (const item of v) {
      const cleaned = withoutDirectives(item);
      if (cleaned !== DROP) out.push(cleaned);
    }
    return out;
  }
  if (!isObject(v)) return v;
  if (hasOwn(v, DIRECTIVE)) return DROP;
  const out: JsonMap = {};
  for (const [k, x] of Object.entries(v)) {
    if (x === null || k === RETAIN_KEYS || k.startsWith(SET_ELEMENT_ORDER) || k.startsWith(DELETE_FROM_PRIMITIVE_LIST)) continue;
    const cleaned = withoutDirectives(x);
    if (cleaned !== DROP) setOwn(out, k, cleaned);
  }
  return out;
}

function applyRetainKeys(original: JsonMap, patch: JsonMap): void {
  if (!hasOwn(patch, RETAIN_KEYS)) return;
  const retain = patch[RETAIN_KEYS];
  delete patch[RETAIN_KEYS];
  if (!Array.isArray(retain)) throw badRequest(ERR_RETAIN_KEYS);
  const keep = new Set(retain);
  for (const [k, v] of Object.entries(patch)) {
    if (v === null || k.startsWith(DELETE_FROM_PRIMITIVE_LIST) || k.startsWith(SET_ELEMENT_ORDER)) continue;
    if (!keep.has(k)) throw badRequest(ERR_RETAIN_KEYS);
  }
  for (const k of Object.keys(original)) if (!keep.has(k)) delete original[k];
}

// ---- lists ---------------------------------------------------------------------------------------

function mergeListField(current: unknown[], patch: unknown[], type: TypeNode | undefined, isDeleteList: boolean): unknown[] {
  const meta = patchMeta(type);
  if (meta.strategy !== 'merge') {
    const cleaned = withoutDirectives(patch);
    return cleaned as unknown[];
  }
  return mergeList(current, patch, meta.items, meta.mergeKey, isDeleteList);
}

/** Whether all items of the given lists are maps; errors as Kubernetes does on lists of lists or mixed lists. */
function itemsAreMaps(...lists: unknown[][]): boolean {
  let first: string | undefined;
  for (const list of lists) {
    for (const item of list) {
      const kind = Array.isArray(item) ? 'array' : isObject(item) ? 'map' : goTypeName(item);
      if (first === undefined) {
        if (kind === 'array') throw unprocessable(ERR_LIST_OF_LISTS);
        first = kind;
      } else if (kind !== first) {
        throw internal(`list element types are not identical: ${goValue(lists)}`);
      }
    }
  }
  if (first === undefined) throw internal('no elements in any of the given slices');
  return first === 'map';
}

function mergeList(original: unknown[], patch: unknown[], items: TypeNode | undefined, mergeKey: string, isDeleteList: boolean): unknown[] {
  if (original.length === 0 && patch.length === 0) return original;
  const maps = itemsAreMaps(original, patch);
  if (!maps) {
    if (isDeleteList) return original.filter((v) => !patch.includes(v));
    const merged = [...new Set([...original, ...patch])];
    const [fromPatch, serverOnly] = partitionScalars(merged, patch);
    return orderItems(fromPatch, serverOnly, patch, original, '');
  }
  if (!mergeKey) {
    throw internal(`cannot merge lists without merge key for type ${shapeOf(items).kind === 'struct' ? 'struct' : 'interface'}`);
  }
  const special = applySpecialItems(original, patch as JsonMap[], mergeKey);
  const merged = mergeKeyedItems([...special.original], special.patch, mergeKey, items);
  const [fromPatch, serverOnly] = partitionMaps(merged, special.patch, mergeKey);
  return orderItems(fromPatch, serverOnly, special.patch, special.original, mergeKey);
}

/** Handles list items carrying $patch: delete removes matching items, replace drops the live list. */
function applySpecialItems(original: unknown[], patch: JsonMap[], mergeKey: string): { original: unknown[]; patch: JsonMap[] } {
  const plain: JsonMap[] = [];
  let replace = false;
  let kept = original;
  for (const item of patch) {
    if (!hasOwn(item, DIRECTIVE)) {
      plain.push(item);
      continue;
    }
    const directive = item[DIRECTIVE];
    if (directive === 'delete') {
      if (!hasOwn(item, mergeKey)) throw noMergeKey(item, mergeKey);
      kept = kept.filter((o, i) => {
        if (!isObject(o)) throw internal(`value for key ${i} is not a map.`);
        return !(hasOwn(o, mergeKey) && o[mergeKey] === item[mergeKey]);
      });
    } else if (directive === 'replace') {
      replace = true;
    } else if (directive === 'merge') {
      throw internal('merging lists cannot yet be specified in the patch');
    } else {
      throw badPatchType(directive, item);
    }
  }
  if (replace) return { original: plain.map((p) => withoutDirectives(p)).filter((p) => p !== DROP), patch: [] };
  return { original: kept, patch: plain };
}

function findByKey(list: unknown[], mergeKey: string, value: unknown): number {
  for (let i = 0; i < list.length; i++) {
    const item = list[i];
    if (!isObject(item)) throw internal(`value for key ${i} is not a map.`);
    if (hasOwn(item, mergeKey) && item[mergeKey] === value) return i;
  }
  return -1;
}

function mergeKeyedItems(original: unknown[], patch: JsonMap[], mergeKey: string, items: TypeNode | undefined): unknown[] {
  for (const item of patch) {
    if (!hasOwn(item, mergeKey)) throw noMergeKey(item, mergeKey);
    const at = findByKey(original, mergeKey, item[mergeKey]);
    if (at >= 0) original[at] = mergeMap(original[at] as JsonMap, item, items);
    else {
      const cleaned = withoutDirectives(item);
      if (cleaned !== DROP) original.push(cleaned);
    }
  }
  return original;
}

// ---- ordering ------------------------------------------------------------------------------------

function partitionScalars(list: unknown[], by: unknown[]): [unknown[], unknown[]] {
  const inPatch = new Set(by);
  return [list.filter((v) => inPatch.has(v)), list.filter((v) => !inPatch.has(v))];
}

function partitionMaps(list: unknown[], by: unknown[], mergeKey: string): [unknown[], unknown[]] {
  const fromPatch: unknown[] = [];
  const serverOnly: unknown[] = [];
  for (const v of list) {
    if (!isObject(v)) throw badArgType('map[string]interface {}', v);
    if (!hasOwn(v, mergeKey)) throw noMergeKey(v, mergeKey);
    (findByKey(by, mergeKey, v[mergeKey]) >= 0 ? fromPatch : serverOnly).push(v);
  }
  return [fromPatch, serverOnly];
}

const identity = (item: unknown, mergeKey: string): unknown => (mergeKey ? (isObject(item) ? item[mergeKey] : undefined) : item);

function indexIn(list: unknown[], item: unknown, mergeKey: string): number {
  const id = identity(item, mergeKey);
  return list.findIndex((x) => identity(x, mergeKey) === id);
}

/** Stable sort of `items` by their position in `order` (delete-directive items last). */
function sortByOrder(items: unknown[], order: unknown[], mergeKey: string): unknown[] {
  let toSort = items;
  let deletions: unknown[] = [];
  if (mergeKey) {
    for (const list of [items, order]) {
      for (const v of list) {
        if (!isObject(v)) throw badArgType('map[string]interface {}', v);
        if (!hasOwn(v, mergeKey)) throw noMergeKey(v, mergeKey);
      }
    }
    toSort = items.filter((v) => (v as JsonMap)[DIRECTIVE] !== 'delete');
    deletions = items.filter((v) => (v as JsonMap)[DIRECTIVE] === 'delete');
  }
  const ranked = toSort.map((v, i) => ({ v, i, at: indexIn(order, v, mergeKey) }));
  ranked.sort((a, b) => {
    if (a.at >= 0 && b.at >= 0) return a.at - b.at || a.i - b.i;
    if (a.at >= 0) return -1;
    if (b.at >= 0) return 1;
    return a.i - b.i;
  });
  return [...ranked.map((r) => r.v), ...deletions];
}

/**
 * Orders a merged list: patch items by `patchOrder`, live-only items by `serverOrder`, then interleaves
 * them so a live-only item stays ahead of a patch item it preceded in the live list.
 */
function orderItems(fromPatch: unknown[], serverOnly: unknown[], patchOrder: unknown[], serverOrder: unknown[], mergeKey: string): unknown[] {
  const right = sortByOrder(fromPatch, patchOrder, mergeKey);
  const left = sortByOrder(serverOnly, serverOrder, mergeKey);
  const out: unknown[] = [];
  let i = 0;
  let j = 0;
  while (i < left.length || j < right.length) {
    if (i >= left.length) out.push(right[j++]);
    else if (j >= right.length) out.push(left[i++]);
    else {
      const li = indexIn(serverOrder, left[i], mergeKey);
      const ri = indexIn(serverOrder, right[j], mergeKey);
      if (li >= 0 && ri >= 0 && li < ri) out.push(left[i++]);
      else out.push(right[j++]);
    }
  }
  return out;
}

// ---- $setElementOrder ----------------------------------------------------------------------------

function applyElementOrderLists(original: JsonMap, patch: JsonMap, type: TypeNode | undefined): void {
  for (const directiveKey of Object.keys(patch)) {
    if (!directiveKey.startsWith(SET_ELEMENT_ORDER)) continue;
    const order = patch[directiveKey];
    delete patch[directiveKey];
    if (!Array.isArray(order)) throw badArgType('[]interface {}', order);
    const key = extractKey(directiveKey, SET_ELEMENT_ORDER);

    const inOriginal = hasOwn(original, key);
    const inPatch = hasOwn(patch, key);
    const originalList = original[key];
    const patchList = patch[key];
    if (inOriginal && !Array.isArray(originalList)) throw badArgType('[]interface {}', originalList);
    if (inPatch && !Array.isArray(patchList)) throw badArgType('[]interface {}', patchList);
    const originalItems = (originalList as unknown[] | undefined) ?? [];
    const patchItems = (patchList as unknown[] | undefined) ?? [];

    const fieldType = childType(type, key);
    const meta = patchMeta(fieldType);
    checkOrderCoversPatch(patchItems, order, meta.mergeKey);

    let merged: unknown[];
    if (inOriginal && inPatch) merged = mergeListField(originalItems, patchItems, fieldType, false);
    else if (inOriginal) merged = originalItems;
    else if (inPatch) merged = withoutDirectives(patchItems) as unknown[];
    else continue;

    const maps = itemsAreMaps(originalItems, patchItems);
    const orderKey = maps ? meta.mergeKey : '';
    const [fromPatch, serverOnly] = orderKey ? partitionMaps(merged, order, orderKey) : partitionScalars(merged, order);
    setOwn(original, key, orderItems(fromPatch, serverOnly, order, originalItems, orderKey));
    delete patch[key];
  }
}

/** The patch list must be a subsequence of the $setElementOrder list (ignoring directive items). */
function checkOrderCoversPatch(patchList: unknown[], order: unknown[], mergeKey: string): void {
  if (order.length === 0 || patchList.length === 0) return;
  let items = patchList;
  if (mergeKey) {
    for (const v of patchList) if (!isObject(v)) throw badArgType('map[string]interface {}', v);
    items = patchList.filter((v) => (v as JsonMap)[DIRECTIVE] !== 'delete');
  }
  const sameItem = (a: unknown, b: unknown): boolean => {
    if (!mergeKey) return a === b;
    if (!isObject(a)) throw badArgType('map[string]interface {}', a);
    if (!isObject(b)) throw badArgType('map[string]interface {}', b);
    if (!hasOwn(a, mergeKey)) throw noMergeKey(a, mergeKey);
    if (!hasOwn(b, mergeKey)) throw noMergeKey(b, mergeKey);
    return a[mergeKey] === b[mergeKey];
  };
  let p = 0;
  let o = 0;
  while (p < items.length && o < order.length) {
    if (isObject(items[p]) && hasOwn(items[p] as JsonMap, DIRECTIVE)) {
      p++;
      continue;
    }
    if (sameItem(items[p], order[o])) p++;
    o++;
  }
  if (p < items.length && o >= order.length) {
    throw internal(`The order in patch list:\n${goValue(patchList)}\n doesn't match ${SET_ELEMENT_ORDER} list:\n${goValue(order)}\n`);
  }
}
