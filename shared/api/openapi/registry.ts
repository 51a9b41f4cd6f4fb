// Every named struct an OpenAPI document may mention, found by walking the kinds' schemas.
import type { StructType, TypeNode } from '../schema/dsl.js';
import type { KindDef } from '../kind.js';
import { listStruct, supportStructs } from './support-types.js';

export interface GroupVersionKind {
  group: string;
  version: string;
  kind: string;
}

export interface TypeRegistry {
  /** Struct by OpenAPI name; the first declaration seen under a name wins. */
  get(name: string): StructType | undefined;
  /** x-kubernetes-group-version-kind of a schema: its own gvk plus every kind served with it. */
  gvks(name: string): GroupVersionKind[];
}

/** Calls `visit` for every struct referenced (directly or through lists and maps) by `node`. */
export function forEachStructRef(node: TypeNode, visit: (t: StructType) => void): void {
  switch (node.t) {
    case 'struct':
      visit(node.ref());
      return;
    case 'list':
      forEachStructRef(node.items, visit);
      return;
    case 'map':
      forEachStructRef(node.values, visit);
      return;
    default:
      return;
  }
}

export function buildRegistry(kinds: readonly KindDef[], extraTypes: readonly StructType[] = []): TypeRegistry {
  const byName = new Map<string, StructType>();
  const add = (t: StructType): void => {
    if (byName.has(t.name)) return;
    byName.set(t.name, t);
    for (const f of Object.values(t.fields)) forEachStructRef(f.type, add);
  };
  for (const t of extraTypes) add(t);
  for (const k of kinds) add(k.schema);
  const lookup = (name: string): StructType | undefined => byName.get(name);
  for (const t of supportStructs(kinds).values()) add(t);
  for (const k of kinds) add(listStruct(k, lookup));

  const kindGvks = new Map<string, GroupVersionKind[]>();
  for (const k of kinds) {
    const list = kindGvks.get(k.schema.name) ?? [];
    list.push({ group: k.group, version: k.version, kind: k.kind });
    kindGvks.set(k.schema.name, list);
  }

  return {
    get: lookup,
    gvks(name) {
      const own = byName.get(name)?.gvk ?? [];
      const out: GroupVersionKind[] = [];
      for (const g of [...own, ...(kindGvks.get(name) ?? [])]) {
        if (!out.some((o) => o.group === g.group && o.version === g.version && o.kind === g.kind)) {
          out.push({ group: g.group, version: g.version, kind: g.kind });
        }
      }
      return out;
    },
  };
}
