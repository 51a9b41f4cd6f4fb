// Small core/v1 reference and selector types shared by pods, volumes and persistent volumes
// (io.k8s.api.core.v1.*). Protobuf numbers follow k8s.io/api/core/v1/generated.proto.
//
// Several of these structs embed LocalObjectReference inline: JSON shows a flat `name`, while
// protobuf nests it as message field 1. The DSL cannot express that nesting, so those `name`
// fields carry no protobuf number.
import { bool, field, list, quantity, ref, str, struct, type StructType } from '../schema/dsl.js';

export const CORE = 'io.k8s.api.core.v1';

/** Sets a string field when Kubernetes' defaulting would: absent or empty. */
export function defaultString(obj: Record<string, unknown>, key: string, value: string): void {
  if (obj[key] === undefined || obj[key] === null || obj[key] === '') obj[key] = value;
}

/** Sets a pointer-typed field when it is absent (Go nil). */
export function defaultIfAbsent(obj: Record<string, unknown>, key: string, value: unknown): void {
  if (obj[key] === undefined || obj[key] === null) obj[key] = value;
}

/** Sets a non-pointer integer field when it is absent or zero (Go's zero value). */
export function defaultIfZero(obj: Record<string, unknown>, key: string, value: number): void {
  if (obj[key] === undefined || obj[key] === null || obj[key] === 0) obj[key] = value;
}

const IMAGE_REFERENCE = /^(?:([a-zA-Z0-9.-]+(?::[0-9]+)?)\/)?([a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*)(?::([\w][\w.-]{0,127}))?(?:@([A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}))?$/;

/**
 * Pull policy Kubernetes derives from an image reference: Always for ":latest" or no tag and no
 * digest, otherwise IfNotPresent (also for references that do not parse).
 */
export function defaultPullPolicy(image: unknown): 'Always' | 'IfNotPresent' {
  if (typeof image !== 'string') return 'IfNotPresent';
  const m = IMAGE_REFERENCE.exec(image);
  if (!m) return 'IfNotPresent';
  const [, domain, , tag, digest] = m;
  // A first component without '.', ':' or "localhost" is part of the repository, not a registry.
  if (domain !== undefined && !/[.:]/.test(domain) && domain !== 'localhost' && /[A-Z]/.test(domain)) return 'IfNotPresent';
  if (tag === 'latest') return 'Always';
  return tag === undefined && digest === undefined ? 'Always' : 'IfNotPresent';
}

const inlineName = (description: string) => field(str(), undefined, description);

export const LocalObjectReference: StructType = struct(
  `${CORE}.LocalObjectReference`,
  'Names another object in the same namespace.',
  { name: field(str(), 1, 'Name of the referenced object.') },
  { mapType: 'atomic' },
);

/** ObjectReference is declared once, next to Binding; re-exported here for the pod family. */
export { ObjectReference } from './core-reference.js';

export const SecretReference: StructType = struct(
  `${CORE}.SecretReference`,
  'Names a Secret in any namespace.',
  {
    name: field(str(), 1, 'Name of the Secret.'),
    namespace: field(str(), 2, 'Namespace of the Secret.'),
  },
  { mapType: 'atomic' },
);

export const TypedLocalObjectReference: StructType = struct(
  `${CORE}.TypedLocalObjectReference`,
  'Names an object of a given kind in the same namespace.',
  {
    apiGroup: field(str(), 1, 'API group of the object; empty means the core group.'),
    kind: field(str(), 2, 'Kind of the object.', { required: true }),
    name: field(str(), 3, 'Name of the object.', { required: true }),
  },
  { mapType: 'atomic' },
);

export const TypedObjectReference: StructType = struct(
  `${CORE}.TypedObjectReference`,
  'Names an object of a given kind, optionally in another namespace.',
  {
    apiGroup: field(str(), 1, 'API group of the object; empty means the core group.'),
    kind: field(str(), 2, 'Kind of the object.', { required: true }),
    name: field(str(), 3, 'Name of the object.', { required: true }),
    namespace: field(str(), 4, 'Namespace of the object, when it lives elsewhere.'),
  },
);

export const ObjectFieldSelector: StructType = struct(
  `${CORE}.ObjectFieldSelector`,
  'Selects one field of the pod for the downward API.',
  {
    apiVersion: field(str(), 1, 'Schema version the field path is written against; defaults to v1.'),
    fieldPath: field(str(), 2, 'Path of the selected field, e.g. metadata.name.', { required: true }),
  },
  { mapType: 'atomic', defaults: (o) => defaultString(o, 'apiVersion', 'v1') },
);

export const ResourceFieldSelector: StructType = struct(
  `${CORE}.ResourceFieldSelector`,
  'Selects a container resource request or limit for the downward API.',
  {
    containerName: field(str(), 1, 'Container whose resources are read; required in volumes.'),
    resource: field(str(), 2, 'Resource to read, e.g. limits.cpu.', { required: true }),
    divisor: field(quantity(), 3, 'Unit the value is expressed in; defaults to 1.'),
  },
  { mapType: 'atomic' },
);

export const ConfigMapKeySelector: StructType = struct(
  `${CORE}.ConfigMapKeySelector`,
  'Selects one key of a ConfigMap.',
  {
    name: inlineName('Name of the ConfigMap.'),
    key: field(str(), 2, 'Key to read.', { required: true }),
    optional: field(bool(), 3, 'Whether the ConfigMap or key may be missing.'),
  },
  { mapType: 'atomic' },
);

export const SecretKeySelector: StructType = struct(
  `${CORE}.SecretKeySelector`,
  'Selects one key of a Secret in the pod\'s namespace.',
  {
    name: inlineName('Name of the Secret.'),
    key: field(str(), 2, 'Key to read.', { required: true }),
    optional: field(bool(), 3, 'Whether the Secret or key may be missing.'),
  },
  { mapType: 'atomic' },
);

export const ConfigMapEnvSource: StructType = struct(`${CORE}.ConfigMapEnvSource`, 'Exposes every key of a ConfigMap as environment variables.', {
  name: inlineName('Name of the ConfigMap.'),
  optional: field(bool(), 2, 'Whether the ConfigMap may be missing.'),
});

export const SecretEnvSource: StructType = struct(`${CORE}.SecretEnvSource`, 'Exposes every key of a Secret as environment variables.', {
  name: inlineName('Name of the Secret.'),
  optional: field(bool(), 2, 'Whether the Secret may be missing.'),
});

export const NodeSelectorRequirement: StructType = struct(
  `${CORE}.NodeSelectorRequirement`,
  'One key/operator/values test against node labels or fields.',
  {
    key: field(str(), 1, 'Label or field key the test applies to.', { required: true }),
    operator: field(str(), 2, 'In, NotIn, Exists, DoesNotExist, Gt or Lt.', { required: true }),
    values: field(list(str(), { listType: 'atomic' }), 3, 'Values to compare with; a single integer for Gt and Lt.'),
  },
);

export const NodeSelectorTerm: StructType = struct(
  `${CORE}.NodeSelectorTerm`,
  'A set of node requirements that must all hold.',
  {
    matchExpressions: field(list(ref(() => NodeSelectorRequirement), { listType: 'atomic' }), 1, 'Requirements on node labels.'),
    matchFields: field(list(ref(() => NodeSelectorRequirement), { listType: 'atomic' }), 2, 'Requirements on node fields.'),
  },
  { mapType: 'atomic' },
);

export const NodeSelector: StructType = struct(
  `${CORE}.NodeSelector`,
  'Node terms of which at least one must match.',
  {
    nodeSelectorTerms: field(list(ref(() => NodeSelectorTerm), { listType: 'atomic' }), 1, 'Terms that are ORed together.', { required: true }),
  },
  { mapType: 'atomic' },
);
