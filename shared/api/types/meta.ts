// apimachinery meta/v1 types shared by every kind (io.k8s.apimachinery.pkg.apis.meta.v1.*).
// Protobuf numbers follow k8s.io/apimachinery/pkg/apis/meta/v1/generated.proto.
import { any, bool, field, int32, int64, list, map, ref, str, struct, time, type StructType } from '../schema/dsl.js';

const META = 'io.k8s.apimachinery.pkg.apis.meta.v1';

// kind/apiVersion of objects that carry TypeMeta inline (Go order: kind first); protobuf carries them in the
// runtime.Unknown envelope, so they have no field number.
export const typeMetaFields = {
  kind: field(str(), undefined, 'REST resource kind this object represents, in CamelCase.'),
  apiVersion: field(str(), undefined, 'Versioned schema of this representation (group/version).'),
};

export const OwnerReference: StructType = struct(
  `${META}.OwnerReference`,
  'Identifies an object that owns this one; owners live in the same namespace or are cluster-scoped.',
  {
    apiVersion: field(str(), 5, 'API version of the owner.', { required: true }),
    kind: field(str(), 1, 'Kind of the owner.', { required: true }),
    name: field(str(), 3, 'Name of the owner.', { required: true }),
    uid: field(str(), 4, 'UID of the owner.', { required: true }),
    controller: field(bool(), 6, 'True when the owner is the managing controller.'),
    blockOwnerDeletion: field(bool(), 7, 'When true, foreground deletion of the owner waits for this reference to go away.'),
  },
  { mapType: 'atomic' },
);

export const ManagedFieldsEntry: StructType = struct(
  `${META}.ManagedFieldsEntry`,
  'Records which fields one manager owns, in one API version.',
  {
    manager: field(str(), 1, 'Name of the workflow managing these fields.'),
    operation: field(str(), 2, 'Operation that created this entry: Apply or Update.'),
    apiVersion: field(str(), 3, 'API version the field set is expressed in.'),
    time: field(time(), 4, 'When the entry was last changed.'),
    fieldsType: field(str(), 6, 'Format of the field set; only FieldsV1 exists.'),
    // protobuf carries FieldsV1 as a message holding the JSON bytes in field 1 (Raw).
    fieldsV1: field(any(), 7, 'The owned field set as a FieldsV1 trie.'),
    subresource: field(str(), 8, 'Subresource the update went through, empty for the main resource.'),
  },
);

export const ObjectMeta: StructType = struct(
  `${META}.ObjectMeta`,
  'Metadata every persisted object carries.',
  {
    name: field(str(), 1, 'Unique name within the namespace; cannot change.'),
    generateName: field(str(), 2, 'Prefix the server uses to generate a name when none is given.'),
    namespace: field(str(), 3, 'Namespace the object lives in; empty for cluster-scoped objects.'),
    selfLink: field(str(), 4, 'Legacy field, no longer filled in.'),
    uid: field(str(), 5, 'Server-assigned identifier unique in time and space.'),
    resourceVersion: field(str(), 6, 'Opaque version of the object for concurrency control and watches.'),
    generation: field(int64(), 7, 'Sequence number of the desired state.'),
    creationTimestamp: field(time(), 8, 'When the server created the object.'),
    deletionTimestamp: field(time(), 9, 'When graceful deletion was requested to complete.'),
    deletionGracePeriodSeconds: field(int64(), 10, 'Seconds allowed for graceful termination once deletion started.'),
    labels: field(map(str()), 11, 'Key/value pairs used to organize and select objects.'),
    annotations: field(map(str()), 12, 'Unstructured key/value data attached by tools.'),
    ownerReferences: field(
      list(ref(() => OwnerReference), { listType: 'map', mapKeys: ['uid'], patchStrategy: 'merge', patchMergeKey: 'uid' }),
      13,
      'Objects this object depends on; it is garbage collected when all are gone.',
    ),
    finalizers: field(list(str(), { listType: 'set', patchStrategy: 'merge' }), 14, 'Entries that must be removed before the object is deleted.'),
    managedFields: field(list(ref(() => ManagedFieldsEntry), { listType: 'atomic' }), 17, 'Per-manager record of owned fields, for server-side apply.'),
  },
);

export const ListMeta: StructType = struct(`${META}.ListMeta`, 'Metadata of list responses.', {
  selfLink: field(str(), 1, 'Legacy field, no longer filled in.'),
  resourceVersion: field(str(), 2, 'Version of the collection at the time of the list.'),
  continue: field(str(), 3, 'Token to fetch the next chunk of a paginated list.'),
  remainingItemCount: field(int64(), 4, 'Estimated number of items after this chunk.'),
});

export const LabelSelectorRequirement: StructType = struct(
  `${META}.LabelSelectorRequirement`,
  'One key/operator/values term of a label selector.',
  {
    key: field(str(), 1, 'Label key the term applies to.', { required: true }),
    operator: field(str(), 2, 'In, NotIn, Exists or DoesNotExist.', { required: true }),
    values: field(list(str(), { listType: 'atomic' }), 3, 'Values for In and NotIn; empty for Exists and DoesNotExist.'),
  },
);

export const LabelSelector: StructType = struct(
  `${META}.LabelSelector`,
  'Label query; matchLabels and matchExpressions are ANDed, an empty selector matches everything.',
  {
    matchLabels: field(map(str()), 1, 'Exact key=value matches.'),
    matchExpressions: field(list(ref(() => LabelSelectorRequirement), { listType: 'atomic' }), 2, 'Set-based requirements.'),
  },
  { mapType: 'atomic' },
);

export const Condition: StructType = struct(`${META}.Condition`, 'One observed aspect of an object\'s state.', {
  type: field(str(), 1, 'Condition type in CamelCase.', { required: true }),
  status: field(str(), 2, 'True, False or Unknown.', { required: true }),
  observedGeneration: field(int64(), 3, 'metadata.generation the condition was computed from.'),
  lastTransitionTime: field(time(), 4, 'When the status last changed.', { required: true }),
  reason: field(str(), 5, 'Machine-readable CamelCase reason for the last transition.', { required: true }),
  // Required in Kubernetes' OpenAPI yet allowed to be empty; the schema check treats "" as missing.
  message: field(str(), 6, 'Human-readable details about the last transition.'),
});

export const StatusCause: StructType = struct(`${META}.StatusCause`, 'One specific cause of a failed request.', {
  reason: field(str(), 1, 'Machine-readable cause.'),
  message: field(str(), 2, 'Human-readable cause.'),
  field: field(str(), 3, 'Path of the offending field, e.g. spec.containers[0].image.'),
});

export const StatusDetails: StructType = struct(`${META}.StatusDetails`, 'Extra data about a Status, depending on its reason.', {
  name: field(str(), 1, 'Name of the resource concerned.'),
  group: field(str(), 2, 'API group of the resource concerned.'),
  kind: field(str(), 3, 'Kind of the resource concerned.'),
  uid: field(str(), 6, 'UID of the resource concerned.'),
  causes: field(list(ref(() => StatusCause), { listType: 'atomic' }), 4, 'Individual causes of the failure.'),
  retryAfterSeconds: field(int32(), 5, 'Seconds to wait before retrying.'),
});

export const Status: StructType = struct(
  `${META}.Status`,
  'Result of a call that returns no object, and the shape of every error.',
  {
    ...typeMetaFields,
    metadata: field(ref(() => ListMeta), 1, 'Standard list metadata.'),
    status: field(str(), 2, 'Success or Failure.'),
    message: field(str(), 3, 'Human-readable description of the outcome.'),
    reason: field(str(), 4, 'Machine-readable reason for a failure.'),
    details: field(ref(() => StatusDetails), 5, 'Reason-specific details.'),
    code: field(int32(), 6, 'Suggested HTTP status code.'),
  },
  { gvk: [{ group: '', version: 'v1', kind: 'Status' }] },
);

export const Preconditions: StructType = struct(`${META}.Preconditions`, 'Conditions that must hold before an update or delete proceeds.', {
  uid: field(str(), 1, 'Required UID of the target.'),
  resourceVersion: field(str(), 2, 'Required resourceVersion of the target.'),
});

export const DeleteOptions: StructType = struct(
  `${META}.DeleteOptions`,
  'Options for a delete request.',
  {
    ...typeMetaFields,
    gracePeriodSeconds: field(int64(), 1, 'Seconds before the object is removed; 0 deletes at once.'),
    preconditions: field(ref(() => Preconditions), 2, 'Must hold or the delete fails with 409 Conflict.'),
    orphanDependents: field(bool(), 3, 'Deprecated: orphan dependents instead of deleting them; use propagationPolicy.'),
    propagationPolicy: field(str(), 4, 'Garbage collection mode: Orphan, Background or Foreground.'),
    dryRun: field(list(str(), { listType: 'atomic' }), 5, 'When set to All, nothing is persisted.'),
    ignoreStoreReadErrorWithClusterBreakingPotential: field(bool(), 6, 'Delete an object that cannot be read from storage; unsafe.'),
  },
  {
    gvk: [
      { group: '', version: 'v1', kind: 'DeleteOptions' },
      { group: 'meta.k8s.io', version: 'v1', kind: 'DeleteOptions' },
    ],
  },
);
