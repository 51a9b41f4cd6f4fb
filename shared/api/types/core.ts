// core/v1 types outside the Pod family: Namespace, ServiceAccount and Event live here; the other
// kinds have their own core-*.ts module and are re-exported so callers can import from one place.
import { bool, field, int32, list, microTime, ref, str, struct, time, type FieldError, type StructType } from '../schema/dsl.js';
import { invalid, required } from '../schema/errors.js';
import { dns1123SubdomainMessages, qualifiedNameMessages } from '../validation/names.js';
import { ListMeta, ObjectMeta } from './meta.js';
import { LocalObjectReference } from './core-pod.js';
import { CORE, ObjectReference, typeMeta } from './core-reference.js';
import { asList, asObj, asStr, type Obj } from './core-validation.js';

export * from './core-reference.js';
export * from './core-service.js';
export * from './core-config.js';
export * from './core-node.js';
export * from './core-endpoints.js';
export * from './core-quota.js';

// ---- Namespace ---------------------------------------------------------------------------------------

export const NamespaceSpec: StructType = struct(`${CORE}.NamespaceSpec`, 'Settings of a namespace.', {
  finalizers: field(list(str(), { listType: 'atomic' }), 1, 'Finalizers that must be cleared before the namespace is removed.'),
});

export const NamespaceCondition: StructType = struct(`${CORE}.NamespaceCondition`, 'One observed aspect of a namespace\'s state.', {
  type: field(str(), 1, 'Condition type, e.g. NamespaceDeletionContentFailure.', { required: true }),
  status: field(str(), 2, 'True, False or Unknown.', { required: true }),
  lastTransitionTime: field(time(), 4, 'When the status last changed.'),
  reason: field(str(), 5, 'CamelCase reason for the last transition.'),
  message: field(str(), 6, 'Human-readable details about the last transition.'),
});

export const NamespaceStatus: StructType = struct(
  `${CORE}.NamespaceStatus`,
  'Observed state of a namespace.',
  {
    phase: field(str(), 1, 'Active, or Terminating once deletion started.', { default: 'Active' }),
    conditions: field(
      list(ref(() => NamespaceCondition), { listType: 'map', mapKeys: ['type'], patchStrategy: 'merge', patchMergeKey: 'type' }),
      2,
      'Current conditions of the namespace.',
    ),
  },
  {
    defaults: (status) => {
      if (!status.phase) status.phase = 'Active';
    },
  },
);

export const NAMESPACE_NAME_LABEL = 'kubernetes.io/metadata.name';
export const KUBERNETES_FINALIZER = 'kubernetes';

export const Namespace: StructType = struct(
  `${CORE}.Namespace`,
  'A scope for names; most objects live in exactly one namespace.',
  {
    ...typeMeta,
    metadata: field(ref(() => ObjectMeta), 1, 'Standard object metadata.'),
    spec: field(ref(() => NamespaceSpec), 2, 'Settings of the namespace.', { default: {} }),
    status: field(ref(() => NamespaceStatus), 3, 'Observed state of the namespace.', { default: {} }),
  },
  { gvk: [{ group: '', version: 'v1', kind: 'Namespace' }], defaults: labelNamespaceWithItsName },
);

export const NamespaceList: StructType = struct(
  `${CORE}.NamespaceList`,
  'A list of Namespaces.',
  {
    ...typeMeta,
    metadata: field(ref(() => ListMeta), 1, 'Standard list metadata.'),
    items: field(list(ref(() => Namespace)), 2, 'The Namespaces.', { required: true }),
  },
  { gvk: [{ group: '', version: 'v1', kind: 'NamespaceList' }] },
);

/** Every named namespace carries kubernetes.io/metadata.name=<name>, so selectors can pick namespaces by name. */
function labelNamespaceWithItsName(ns: Obj): void {
  const meta = asObj(ns.metadata);
  const name = asStr(meta?.name);
  if (!meta || !name) return;
  meta.labels = { ...(asObj(meta.labels) ?? {}), [NAMESPACE_NAME_LABEL]: name };
}

/** A new namespace is Active and always carries the kubernetes finalizer. */
export function prepareNamespaceForCreate(ns: Obj): void {
  ns.status = { phase: 'Active' };
  const spec = (ns.spec = asObj(ns.spec) ?? {});
  const finalizers = asList(spec.finalizers);
  if (!finalizers.includes(KUBERNETES_FINALIZER)) spec.finalizers = [...finalizers, KUBERNETES_FINALIZER];
}

/** spec.finalizers only change through the finalize subresource. */
export function prepareNamespaceForUpdate(ns: Obj, old: Obj): void {
  const spec = (ns.spec = asObj(ns.spec) ?? {});
  const oldFinalizers = asObj(old.spec)?.finalizers;
  if (oldFinalizers === undefined) delete spec.finalizers;
  else spec.finalizers = [...asList(oldFinalizers)];
}

const STANDARD_FINALIZERS = [KUBERNETES_FINALIZER, 'orphan', 'foregroundDeletion'];

/** ValidateNamespace minus ObjectMeta; Kubernetes reports finalizers against the list, without an index. */
export function validateNamespace(ns: Obj): FieldError[] {
  const errs: FieldError[] = [];
  for (const f of asList(asObj(ns.spec)?.finalizers).map(asStr)) {
    errs.push(...qualifiedNameMessages(f).map((m) => invalid('spec.finalizers', f, m)));
    if (!f.includes('/') && !STANDARD_FINALIZERS.includes(f)) {
      errs.push(invalid('spec.finalizers', f, 'name is neither a standard finalizer name nor is it fully qualified'));
    }
  }
  return errs;
}

/** ValidateNamespaceStatusUpdate, applied when a write changes the phase. */
export function validateNamespaceUpdate(ns: Obj, old: Obj): FieldError[] {
  const phase = asStr(asObj(ns.status)?.phase);
  if (phase === asStr(asObj(old.status)?.phase)) return [];
  const deleting = Boolean(asObj(ns.metadata)?.deletionTimestamp);
  if (!deleting && phase !== 'Active') return [invalid('status.Phase', phase, "may only be 'Active' if `deletionTimestamp` is empty")];
  if (deleting && phase !== 'Terminating') return [invalid('status.Phase', phase, "may only be 'Terminating' if `deletionTimestamp` is not empty")];
  return [];
}

// ---- ServiceAccount ----------------------------------------------------------------------------------

export const ServiceAccount: StructType = struct(
  `${CORE}.ServiceAccount`,
  'An identity for processes running in pods, with the secrets they may use.',
  {
    ...typeMeta,
    metadata: field(ref(() => ObjectMeta), 1, 'Standard object metadata.'),
    secrets: field(
      list(ref(() => ObjectReference), { listType: 'map', mapKeys: ['name'], patchStrategy: 'merge', patchMergeKey: 'name' }),
      2,
      'Secrets in the same namespace that pods using this account may use.',
    ),
    imagePullSecrets: field(
      list(ref(() => LocalObjectReference), { listType: 'atomic' }),
      3,
      'Secrets used to pull images for pods using this account.',
    ),
    automountServiceAccountToken: field(bool(), 4, 'Whether pods using this account get an API token mounted; pods may override it.'),
  },
  { gvk: [{ group: '', version: 'v1', kind: 'ServiceAccount' }] },
);

export const ServiceAccountList: StructType = struct(
  `${CORE}.ServiceAccountList`,
  'A list of ServiceAccounts.',
  {
    ...typeMeta,
    metadata: field(ref(() => ListMeta), 1, 'Standard list metadata.'),
    items: field(list(ref(() => ServiceAccount)), 2, 'The ServiceAccounts.', { required: true }),
  },
  { gvk: [{ group: '', version: 'v1', kind: 'ServiceAccountList' }] },
);

// ---- Event -------------------------------------------------------------------------------------------

export const EventSource: StructType = struct(`${CORE}.EventSource`, 'Who reported an event.', {
  component: field(str(), 1, 'Component that reported the event, e.g. kubelet.'),
  host: field(str(), 2, 'Node the event was reported from.'),
});

export const EventSeries: StructType = struct(`${CORE}.EventSeries`, 'Repeated occurrences of an ongoing event.', {
  count: field(int32(), 1, 'Occurrences observed up to the last heartbeat.'),
  lastObservedTime: field(microTime(), 2, 'When the last occurrence was observed.'),
});

export const Event: StructType = struct(
  `${CORE}.Event`,
  'A report of something that happened to an object; best-effort and kept for a limited time.',
  {
    ...typeMeta,
    metadata: field(ref(() => ObjectMeta), 1, 'Standard object metadata.', { required: true }),
    // Go always serialises this struct, so an event without one shows involvedObject: {}.
    involvedObject: field(ref(() => ObjectReference), 2, 'The object the event is about.', { required: true, default: {} }),
    reason: field(str(), 3, 'Short machine-readable reason, e.g. Scheduled.'),
    message: field(str(), 4, 'Human-readable description.'),
    source: field(ref(() => EventSource), 5, 'Component that reported the event.', { default: {} }),
    firstTimestamp: field(time(), 6, 'When the event was first recorded.'),
    lastTimestamp: field(time(), 7, 'When the event was most recently recorded.'),
    count: field(int32(), 8, 'How many times the event occurred.'),
    type: field(str(), 9, 'Normal or Warning.'),
    eventTime: field(microTime(), 10, 'When the event was first observed (newer event API).'),
    series: field(ref(() => EventSeries), 11, 'Details of a repeating event; absent for a single occurrence.'),
    action: field(str(), 12, 'What was done, or failed, about the object.'),
    related: field(ref(() => ObjectReference), 13, 'A second object involved in the event.'),
    // Go serialises these two strings even when empty.
    reportingComponent: field(str(), 14, 'Controller that emitted the event, e.g. kubernetes.io/kubelet.', { default: '' }),
    reportingInstance: field(str(), 15, 'Instance of the controller that emitted the event.', { default: '' }),
  },
  { gvk: [{ group: '', version: 'v1', kind: 'Event' }] },
);

export const EventList: StructType = struct(
  `${CORE}.EventList`,
  'A list of Events.',
  {
    ...typeMeta,
    metadata: field(ref(() => ListMeta), 1, 'Standard list metadata.'),
    items: field(list(ref(() => Event)), 2, 'The Events.', { required: true }),
  },
  { gvk: [{ group: '', version: 'v1', kind: 'EventList' }] },
);

const EVENT_TEXT_LIMIT = 128;
const EVENT_NOTE_LIMIT = 1024;

/** legacyValidateEvent: the only checks core/v1 applies to events, on create and update alike. */
export function validateEvent(ev: Obj): FieldError[] {
  const errs: FieldError[] = [];
  const namespace = asStr(asObj(ev.metadata)?.namespace);
  const involvedNamespace = asStr(asObj(ev.involvedObject)?.namespace);
  const mismatch = () => errs.push(invalid('involvedObject.namespace', involvedNamespace, 'does not match event.namespace'));
  if (!ev.eventTime) {
    if (!involvedNamespace) {
      if (namespace !== '' && namespace !== 'default') mismatch();
    } else if (namespace !== involvedNamespace) mismatch();
  } else {
    if (!involvedNamespace && namespace !== 'default' && namespace !== 'kube-system') mismatch();
    const controller = asStr(ev.reportingComponent);
    if (!controller) errs.push(required('reportingController'));
    errs.push(...qualifiedNameMessages(controller).map((m) => invalid('reportingController', controller, m)));
    const instance = asStr(ev.reportingInstance);
    if (!instance) errs.push(required('reportingInstance'));
    if (instance.length > EVENT_TEXT_LIMIT) errs.push(invalid('reportingInstance', '', `can have at most ${EVENT_TEXT_LIMIT} characters`));
    const action = asStr(ev.action);
    if (!action) errs.push(required('action'));
    if (action.length > EVENT_TEXT_LIMIT) errs.push(invalid('action', '', `can have at most ${EVENT_TEXT_LIMIT} characters`));
    const reason = asStr(ev.reason);
    if (!reason) errs.push(required('reason'));
    if (reason.length > EVENT_TEXT_LIMIT) errs.push(invalid('reason', '', `can have at most ${EVENT_TEXT_LIMIT} characters`));
    if (asStr(ev.message).length > EVENT_NOTE_LIMIT) errs.push(invalid('message', '', `can have at most ${EVENT_NOTE_LIMIT} characters`));
  }
  errs.push(...dns1123SubdomainMessages(namespace).map((m) => invalid('namespace', namespace, m)));
  return errs;
}
