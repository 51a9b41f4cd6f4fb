// Navigation of the schema DSL for the merge engines: what a node is (struct, map, list, scalar or
// free-form JSON) and what type a child key or list item has.
import type { ListType, StructType, TypeNode } from '../schema/dsl.js';

export type Shape =
  | { kind: 'struct'; struct: StructType }
  | { kind: 'map'; values: TypeNode }
  | { kind: 'list'; list: ListType }
  | { kind: 'scalar' }
  /** Free-form JSON (any(), or a field the schema does not declare). */
  | { kind: 'untyped' };

export function shapeOf(t: TypeNode | undefined): Shape {
  if (!t) return { kind: 'untyped' };
  switch (t.t) {
    case 'struct':
      return { kind: 'struct', struct: t.ref() };
    case 'map':
      return { kind: 'map', values: t.values };
    case 'list':
      return { kind: 'list', list: t };
    case 'any':
      return { kind: 'untyped' };
    default:
      return { kind: 'scalar' };
  }
}

export const structNode = (s: StructType): TypeNode => ({ t: 'struct', ref: () => s });

/** The type of `key` inside an object of type `t`; undefined when the schema does not say. */
export function childType(t: TypeNode | undefined, key: string): TypeNode | undefined {
  const shape = shapeOf(t);
  if (shape.kind === 'struct') return shape.struct.fields[key]?.type;
  if (shape.kind === 'map') return shape.values;
  return undefined;
}

/** The field-level strategic-merge strategy of `key` inside a struct of type `t` ('replace', 'retainKeys' or undefined). */
export function fieldPatchStrategy(t: TypeNode | undefined, key: string): string | undefined {
  const shape = shapeOf(t);
  return shape.kind === 'struct' ? shape.struct.fields[key]?.patchStrategy : undefined;
}

/** True when `key` is a declared field of the struct type `t`. */
export function isDeclaredField(t: TypeNode | undefined, key: string): boolean {
  const shape = shapeOf(t);
  return shape.kind === 'struct' && Object.prototype.hasOwnProperty.call(shape.struct.fields, key);
}

/** Strategic-merge metadata of a list: its strategy ('merge' or '' for replace) and merge key. */
export function patchMeta(t: TypeNode | undefined): { strategy: 'merge' | ''; mergeKey: string; items: TypeNode | undefined } {
  const shape = shapeOf(t);
  if (shape.kind !== 'list') return { strategy: '', mergeKey: '', items: undefined };
  const strategies = (shape.list.patchStrategy ?? '').split(',');
  return {
    strategy: strategies.includes('merge') ? 'merge' : '',
    mergeKey: shape.list.patchMergeKey ?? '',
    items: shape.list.items,
  };
}

export type ListSemantics = { kind: 'atomic' } | { kind: 'set' } | { kind: 'map'; keys: readonly string[] };

/**
 * Server-side-apply semantics of a list, as Kubernetes derives them from OpenAPI: x-kubernetes-list-type
 * first, else a merge patch strategy makes it associative (keyed by the merge key, or a set of scalars).
 */
export function listSemantics(list: ListType): ListSemantics {
  if (list.listType === 'atomic') return { kind: 'atomic' };
  if (list.listType === 'set') return { kind: 'set' };
  if (list.listType === 'map') {
    const keys = list.mapKeys?.length ? list.mapKeys : list.patchMergeKey ? [list.patchMergeKey] : [];
    return keys.length ? { kind: 'map', keys } : { kind: 'set' };
  }
  if ((list.patchStrategy ?? '').split(',').includes('merge')) {
    return list.patchMergeKey ? { kind: 'map', keys: [list.patchMergeKey] } : { kind: 'set' };
  }
  return { kind: 'atomic' };
}
