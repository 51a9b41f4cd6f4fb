// Where objects live in the store: /registry/<group or "core">/<plural>/[<namespace>/]<name>.
import type { KindDef } from '../api/kind.js';

const groupSegment = (def: KindDef): string => def.group || 'core';

/** The key of one object. */
export function objectKey(def: KindDef, namespace: string | undefined, name: string): string {
  return def.namespaced ? `/registry/${groupSegment(def)}/${def.plural}/${namespace}/${name}` : `/registry/${groupSegment(def)}/${def.plural}/${name}`;
}

/** The prefix of a collection: all namespaces when `namespace` is absent. */
export function collectionPrefix(def: KindDef, namespace?: string): string {
  return def.namespaced && namespace ? `/registry/${groupSegment(def)}/${def.plural}/${namespace}/` : `/registry/${groupSegment(def)}/${def.plural}/`;
}
