// Removal of a set of fields (members, list items and everything below them) from an object, as
// structured-merge-diff's RemoveItems does when server-side apply prunes fields nobody owns any more.
import type { TypeNode } from '../schema/dsl.js';
import { isObject, setOwn } from '../patch/go-format.js';
import { childType } from '../patch/type-shape.js';
import type { FieldSet } from './fieldset.js';
import { listItemElement } from './list-items.js';
import { fieldElement } from './path-element.js';
import { granularityOf, isEmptyContainer, tryIndexItems } from './walk.js';

/**
 * Returns `value` without the paths in `toRemove`. A container left with nothing becomes null (the
 * caller drops nulls once ownership has been computed).
 */
export function removeFields(value: unknown, toRemove: FieldSet, type: TypeNode): unknown {
  return remove(value, toRemove, type);
}

function remove(value: unknown, toRemove: FieldSet, type: TypeNode | undefined): unknown {
  const g = granularityOf(type, value);
  if (g.kind === 'leaf' || isEmptyContainer(value)) return value;
  if (g.kind === 'fields') {
    const out: Record<string, unknown> = {};
    for (const [key, child] of Object.entries(value as Record<string, unknown>)) {
      const pe = fieldElement(key);
      if (toRemove.members.has(pe)) continue;
      const below = toRemove.children.get(pe);
      setOwn(out, key, below && !below.isEmpty() ? remove(child, below, childType(type, key)) : child);
    }
    return Object.keys(out).length ? out : null;
  }
  const indexed = tryIndexItems(g.list, value);
  if (!indexed) return value;
  const items: unknown[] = [];
  for (const item of value as unknown[]) {
    const pe = listItemElement(g.list, item);
    if (toRemove.members.has(pe)) continue;
    const below = toRemove.children.get(pe);
    items.push(below && !below.isEmpty() ? remove(item, below, g.list.items) : item);
  }
  return items.length ? items : null;
}

/** Deletes object members whose value is null, recursively (Go decoding turns them into absent fields). */
export function dropNullMembers(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(dropNullMembers);
  if (!isObject(value)) return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) if (v !== null) setOwn(out, k, dropNullMembers(v));
  return out;
}
