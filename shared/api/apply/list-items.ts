// The path element that names one item of a non-atomic list: its key fields for associative lists
// (defaults filled in from the item schema), its value for sets.
import type { ListType } from '../schema/dsl.js';
import { hasOwn, isObject } from '../patch/go-format.js';
import { listSemantics, shapeOf } from '../patch/type-shape.js';
import { keyElement, valueElement, type PathElement } from './path-element.js';

/** Thrown with structured-merge-diff's wording when a list item cannot be named. */
export class ItemNameError extends Error {}

export function listItemElement(list: ListType, item: unknown): PathElement {
  const sem = listSemantics(list);
  if (sem.kind === 'map') {
    if (item === null) throw new ItemNameError('associative list with keys may not have a null element');
    if (!isObject(item)) throw new ItemNameError('associative list with keys may not have non-map elements');
    const itemShape = shapeOf(list.items);
    const fields: Record<string, unknown> = {};
    for (const key of sem.keys) {
      if (hasOwn(item, key)) {
        fields[key] = item[key];
        continue;
      }
      const fallback = itemShape.kind === 'struct' ? itemShape.struct.fields[key]?.default : undefined;
      if (fallback === undefined) {
        throw new ItemNameError(`associative list with keys has an element that omits key field ${JSON.stringify(key)} (and doesn't have default value)`);
      }
      fields[key] = fallback;
    }
    return keyElement(fields);
  }
  if (isObject(item)) throw new ItemNameError("associative list without keys has an element that's a map type");
  if (Array.isArray(item)) throw new ItemNameError('not supported: associative list with lists as elements');
  if (item === null) throw new ItemNameError("associative list without keys has an element that's an explicit null");
  return valueElement(item);
}

/** Items of `list` indexed by their path element, in list order; duplicates keep the first item. */
export function indexItems(list: ListType, items: unknown[]): { order: PathElement[]; byElement: Map<PathElement, unknown> } {
  const order: PathElement[] = [];
  const byElement = new Map<PathElement, unknown>();
  for (const item of items) {
    const pe = listItemElement(list, item);
    if (byElement.has(pe)) continue;
    byElement.set(pe, item);
    order.push(pe);
  }
  return { order, byElement };
}
