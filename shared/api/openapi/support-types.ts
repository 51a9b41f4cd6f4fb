// Types that every OpenAPI document refers to but no KindDef reaches: list wrappers, the meta
// types used by operations (Status, DeleteOptions, WatchEvent, Patch) and autoscaling/v1 Scale.
// WatchEvent and Patch are declared here because meta.ts does not declare them; a same-named
// struct from the kinds or OpenApiBuildOptions.extraTypes replaces any of these.
import { any, field, list, ref, str, struct, type StructType } from '../schema/dsl.js';
import type { KindDef } from '../kind.js';
import { Scale } from '../types/autoscaling-v1.js';
import { DeleteOptions, ListMeta, Status } from '../types/meta.js';

export const META_V1 = 'io.k8s.apimachinery.pkg.apis.meta.v1';
export const NAMES = {
  listMeta: `${META_V1}.ListMeta`,
  status: `${META_V1}.Status`,
  deleteOptions: `${META_V1}.DeleteOptions`,
  watchEvent: `${META_V1}.WatchEvent`,
  patch: `${META_V1}.Patch`,
  scale: 'io.k8s.api.autoscaling.v1.Scale',
} as const;

type Lookup = (name: string) => StructType | undefined;

const typeMeta = {
  apiVersion: field(str(), undefined, 'Versioned schema of this representation (group/version).'),
  kind: field(str(), undefined, 'REST resource kind this object represents, in CamelCase.'),
};

/** Name of the list schema of a kind: the kind's schema name with its last segment replaced. */
export function listSchemaName(def: KindDef): string {
  const prefix = def.schema.name.slice(0, def.schema.name.lastIndexOf('.') + 1);
  return `${prefix}${def.listKind}`;
}

/** The <Kind>List schema Kubernetes serves for every kind. */
export function listStruct(def: KindDef, lookup: Lookup): StructType {
  return struct(
    listSchemaName(def),
    `A list of ${def.kind} objects.`,
    {
      ...typeMeta,
      metadata: field(ref(() => lookup(NAMES.listMeta) ?? ListMeta), 1, 'Standard list metadata.'),
      items: field(list(ref(() => def.schema)), 2, `The ${def.kind} objects in the list.`, { required: true }),
    },
    { gvk: [{ group: def.group, version: def.version, kind: def.listKind }] },
  );
}

/** Support types keyed by schema name; the registry adds them only under names still free. */
export function supportStructs(kinds: readonly KindDef[]): Map<string, StructType> {
  const groupVersions = uniqueGroupVersions(kinds);

  const watchEvent = struct(
    NAMES.watchEvent,
    'One change notification in a watch stream.',
    {
      type: field(str(), 1, 'ADDED, MODIFIED, DELETED, BOOKMARK or ERROR.', { required: true }),
      object: field(any(), 2, 'The changed object, or a Status for ERROR events.', { required: true }),
    },
    { gvk: groupVersions.map((gv) => ({ ...gv, kind: 'WatchEvent' })) },
  );

  const patch = struct(NAMES.patch, 'Body of a PATCH request; its format follows the Content-Type.', {});

  const all = [ListMeta, Status, DeleteOptions, watchEvent, patch, Scale];
  return new Map(all.map((t) => [t.name, t]));
}

function uniqueGroupVersions(kinds: readonly KindDef[]): { group: string; version: string }[] {
  const seen = new Map<string, { group: string; version: string }>();
  for (const k of kinds) seen.set(`${k.group}/${k.version}`, { group: k.group, version: k.version });
  return [...seen.values()];
}
