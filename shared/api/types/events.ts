// events.k8s.io/v1 Event (io.k8s.api.events.v1.*): the structured event API. It stores the same
// events core/v1 serves, under newer field names. Protobuf numbers follow
// k8s.io/api/events/v1/generated.proto.
import { field, int32, microTime, ref, str, struct, time, type StructType } from '../schema/dsl.js';
import { EventSource } from './core.js';
import { ObjectReference, typeMeta } from './core-reference.js';
import { ObjectMeta } from './meta.js';

const EVENTS = 'io.k8s.api.events.v1';

export const EventSeries: StructType = struct(`${EVENTS}.EventSeries`, 'Repeated occurrences of an ongoing event.', {
  count: field(int32(), 1, 'Occurrences observed up to the last heartbeat.', { required: true, default: 0 }),
  lastObservedTime: field(microTime(), 2, 'When the last occurrence was observed.', { required: true }),
});

export const Event: StructType = struct(
  `${EVENTS}.Event`,
  'A report of something that happened in the cluster; informative and best-effort.',
  {
    ...typeMeta,
    metadata: field(ref(() => ObjectMeta), 1, 'Standard object metadata.'),
    eventTime: field(microTime(), 2, 'When the event was first observed.', { required: true }),
    series: field(ref(() => EventSeries), 3, 'Details of a repeating event; absent for a single occurrence.'),
    reportingController: field(str(), 4, 'Controller that emitted the event, e.g. kubernetes.io/kubelet.'),
    reportingInstance: field(str(), 5, 'Instance of that controller, at most 128 characters.'),
    action: field(str(), 6, 'What was done, or failed, about the regarding object.'),
    reason: field(str(), 7, 'Why the action was taken.'),
    regarding: field(ref(() => ObjectReference), 8, 'The object the event is about.', { default: {} }),
    related: field(ref(() => ObjectReference), 9, 'A second object involved in the event.'),
    note: field(str(), 10, 'Human-readable description, at most 1 kB.'),
    type: field(str(), 11, 'Normal or Warning.'),
    deprecatedSource: field(ref(() => EventSource), 12, 'core/v1 source, kept for compatibility.', { default: {} }),
    deprecatedFirstTimestamp: field(time(), 13, 'core/v1 firstTimestamp, kept for compatibility.'),
    deprecatedLastTimestamp: field(time(), 14, 'core/v1 lastTimestamp, kept for compatibility.'),
    deprecatedCount: field(int32(), 15, 'core/v1 count, kept for compatibility.'),
  },
  { gvk: [{ group: 'events.k8s.io', version: 'v1', kind: 'Event' }] },
);
