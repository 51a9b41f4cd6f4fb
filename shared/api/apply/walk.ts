// How the apply walkers treat a node: a leaf (scalars, atomic values, type mismatches), an object whose
// members are tracked one by one, or a list whose items are tracked by key or value.
import type { ListType, TypeNode } from '../schema/dsl.js';
import { isObject } from '../patch/go-format.js';
import { listSemantics, shapeOf } from '../patch/type-shape.js';
import { indexItems, ItemNameError } from './list-items.js';
import type { PathElement } from './path-element.js';

export type Granularity = { kind: 'leaf' } | { kind: 'fields' } | { kind: 'items'; list: ListType };

const present = (v: unknown): boolean => v !== undefined && v !== null;

/** Decides the granularity of a node from its schema type and the values found there (undefined = absent). */
export function granularityOf(type: TypeNode | undefined, ...values: unknown[]): Granularity {
  const shape = shapeOf(type);
  const seen = values.filter(present);
  switch (shape.kind) {
    case 'scalar':
      return { kind: 'leaf' };
    case 'list':
      if (listSemantics(shape.list).kind === 'atomic' || !seen.every(Array.isArray)) return { kind: 'leaf' };
      return { kind: 'items', list: shape.list };
    case 'struct':
      if (shape.struct.mapType === 'atomic') return { kind: 'leaf' };
      return seen.every(isObject) ? { kind: 'fields' } : { kind: 'leaf' };
    case 'map':
      return seen.every(isObject) ? { kind: 'fields' } : { kind: 'leaf' };
    default:
      return seen.length > 0 && seen.every(isObject) ? { kind: 'fields' } : { kind: 'leaf' };
  }
}

export const isEmptyContainer = (v: unknown): boolean =>
  !present(v) || (Array.isArray(v) && v.length === 0) || (isObject(v) && Object.keys(v).length === 0);

/** Indexes list items by path element, or undefined when some item cannot be named (treat as a leaf). */
export function tryIndexItems(list: ListType, items: unknown): { order: PathElement[]; byElement: Map<PathElement, unknown> } | undefined {
  try {
    return indexItems(list, Array.isArray(items) ? items : []);
  } catch (e) {
    if (e instanceof ItemNameError) return undefined;
    throw e;
  }
}
