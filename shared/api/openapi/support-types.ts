// Types that every OpenAPI document refers to but no KindDef reaches: list wrappers, the meta
// types used by operations (Status, DeleteOptions, WatchEvent, Patch) and autoscaling/v1 Scale.
import { any, field, int32, list, ref, str, struct, type StructType } from '../schema/dsl.js';
import type { KindDef } from '../kind.js';
import { DeleteOptions, ListMeta, ObjectMeta, Status } from '../types/meta.js';

export const META_V1 = 'io.k8s.apimachinery.pkg.apis.meta.v1';
export const NAMES = {
  objectMeta: `${META_V1}.ObjectMeta`,
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

/**
 * Support types keyed by schema name. `lookup` returns a same-named type reachable from the kinds
 * (or passed in explicitly), which always wins over the definitions here.
 */
export function supportStructs(kinds: readonly KindDef[], lookup: Lookup): Map<string, StructType> {
  const objectMeta = (): StructType => lookup(NAMES.objectMeta) ?? ObjectMeta;
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

  const scaleSpec = struct('io.k8s.api.autoscaling.v1.ScaleSpec', 'Desired size of a scalable resource.', {
    replicas: field(int32(), 1, 'Desired number of instances.'),
  });
  const scaleStatus = struct('io.k8s.api.autoscaling.v1.ScaleStatus', 'Observed size of a scalable resource.', {
    replicas: field(int32(), 1, 'Number of instances actually observed.', { required: true }),
    selector: field(str(), 2, 'Label selector, in string form, matching the counted pods.'),
  });
  const scale = struct(
    NAMES.scale,
    'The scale subresource of a scalable resource.',
    {
      ...typeMeta,
      metadata: field(ref(objectMeta), 1, 'Standard object metadata.'),
      spec: field(ref(() => lookup(scaleSpec.name) ?? scaleSpec), 2, 'Desired size.'),
      status: field(ref(() => lookup(scaleStatus.name) ?? scaleStatus), 3, 'Observed size; read-only.'),
    },
    { gvk: [{ group: 'autoscaling', version: 'v1', kind: 'Scale' }] },
  );

  const all = [ListMeta, Status, DeleteOptions, watchEvent, patch, scale, scaleSpec, scaleStatus];
  return new Map(all.map((t) => [t.name, t]));
}

function uniqueGroupVersions(kinds: readonly KindDef[]): { group: string; version: string }[] {
  const seen = new Map<string, { group: string; version: string }>();
  for (const k of kinds) seen.set(`${k.group}/${k.version}`, { group: k.group, version: k.version });
  return [...seen.values()];
}
