// Field-level difference between two versions of an object (structured-merge-diff's Compare): which
// paths were added, which leaves changed value, and which paths were removed.
import type { TypeNode } from '../schema/dsl.js';
import { isObject, jsonEqual } from '../patch/go-format.js';
import { childType } from '../patch/type-shape.js';
import { FieldSet } from './fieldset.js';
import { fieldElement, type PathElement } from './path-element.js';
import { granularityOf, isEmptyContainer, tryIndexItems } from './walk.js';

export interface Comparison {
  added: FieldSet;
  modified: FieldSet;
  removed: FieldSet;
}

/** Compares `before` with `after` (undefined = absent) under `type`. */
export function compareObjects(before: unknown, after: unknown, type: TypeNode): Comparison {
  const out: Comparison = { added: new FieldSet(), modified: new FieldSet(), removed: new FieldSet() };
  walk(before, after, type, [], out);
  return out;
}

/** Drops `ignored` paths (and everything below them) from a comparison. */
export function withoutIgnored(c: Comparison, ignored: FieldSet): Comparison {
  return {
    added: c.added.recursiveDifference(ignored),
    modified: c.modified.recursiveDifference(ignored),
    removed: c.removed.recursiveDifference(ignored),
  };
}

function leaf(before: unknown, after: unknown, path: PathElement[], out: Comparison): void {
  if (before === undefined) out.added.insert(path);
  else if (after === undefined) out.removed.insert(path);
  else if (!jsonEqual(before, after)) out.modified.insert(path);
}

function walk(before: unknown, after: unknown, type: TypeNode | undefined, path: PathElement[], out: Comparison): void {
  const g = granularityOf(type, before, after);
  if (g.kind === 'leaf' || (isEmptyContainer(before) && isEmptyContainer(after))) {
    leaf(before, after, path, out);
    return;
  }
  if (g.kind === 'fields') {
    const b = isObject(before) ? before : {};
    const a = isObject(after) ? after : {};
    const keys = new Set([...Object.keys(b), ...Object.keys(a)]);
    for (const key of keys) {
      walk(own(b, key), own(a, key), childType(type, key), [...path, fieldElement(key)], out);
    }
  } else {
    const b = tryIndexItems(g.list, before);
    const a = tryIndexItems(g.list, after);
    if (!b || !a) {
      leaf(before, after, path, out);
      return;
    }
    const elements = new Set([...b.order, ...a.order]);
    for (const pe of elements) walk(b.byElement.get(pe), a.byElement.get(pe), g.list.items, [...path, pe], out);
  }
  if (before === undefined) out.added.insert(path);
  else if (after === undefined) out.removed.insert(path);
}

const own = (o: Record<string, unknown>, key: string): unknown => (Object.prototype.hasOwnProperty.call(o, key) ? o[key] : undefined);
