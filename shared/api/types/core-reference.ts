// io.k8s.api.core.v1.ObjectReference and Binding: references other kinds embed (events,
// endpoints, service accounts, the pods/binding subresource).
import { field, ref, str, struct, type StructType } from '../schema/dsl.js';
import { ObjectMeta } from './meta.js';

export const CORE = 'io.k8s.api.core.v1';

/** kind/apiVersion of top-level objects (Go's field order): carried by the protobuf envelope, not the message. */
export const typeMeta = {
  kind: field(str(), undefined, 'REST resource kind this object represents, in CamelCase.'),
  apiVersion: field(str(), undefined, 'Versioned schema of this representation (group/version).'),
};

export const ObjectReference: StructType = struct(
  `${CORE}.ObjectReference`,
  'Points at another object, or at a part of it, precisely enough to look it up.',
  {
    kind: field(str(), 1, 'Kind of the object referred to.'),
    namespace: field(str(), 2, 'Namespace of the object referred to.'),
    name: field(str(), 3, 'Name of the object referred to.'),
    uid: field(str(), 4, 'UID of the object referred to.'),
    apiVersion: field(str(), 5, 'API version of the object referred to.'),
    resourceVersion: field(str(), 6, 'The resourceVersion the reference was taken at, if any.'),
    fieldPath: field(str(), 7, 'Part of the object referred to, e.g. spec.containers{app}.'),
  },
  { mapType: 'atomic' },
);

export const Binding: StructType = struct(
  `${CORE}.Binding`,
  'Ties one object to another, e.g. a pod to the node the scheduler picked.',
  {
    ...typeMeta,
    metadata: field(ref(() => ObjectMeta), 1, 'Standard object metadata; the name is the bound object.'),
    target: field(ref(() => ObjectReference), 2, 'The object to bind to.', { required: true }),
  },
  { gvk: [{ group: '', version: 'v1', kind: 'Binding' }] },
);
