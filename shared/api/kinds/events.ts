// events.k8s.io/v1 Events as a KindDef. They are the same events core/v1 serves; validation follows
// Kubernetes' strict rules for events created through this group, and the table matches core events.
import { kindDef, type KindDef, type KubeObject, type Printer } from '../kind.js';
import { age } from '../printers/common.js';
import { eventColumns } from './core.js';
import type { FieldError } from '../schema/dsl.js';
import { invalid } from '../schema/errors.js';
import { FIELD_IMMUTABLE, asObj, deepEqual, type Obj } from '../types/apps.js';
import { validateEvent } from '../types/core.js';
import { Event } from '../types/events.js';

const str = (v: unknown): string => (typeof v === 'string' ? v : '');

/** The checks every event passes (legacyValidateEvent), applied to this group's field names. */
function legacyChecks(o: KubeObject): FieldError[] {
  return validateEvent({
    metadata: o.metadata,
    involvedObject: o.regarding,
    eventTime: o.eventTime,
    reportingComponent: o.reportingController,
    reportingInstance: o.reportingInstance,
    action: o.action,
    reason: o.reason,
    message: o.note,
  });
}

function seriesChecks(o: KubeObject): FieldError[] {
  const series = asObj(o.series);
  if (!series) return [];
  return typeof series.count === 'number' && series.count >= 2 ? [] : [invalid('series.count', '', 'should be at least 2')];
}

/** Strict rules for events created through events.k8s.io: a new-style event only. */
function createChecks(o: KubeObject): FieldError[] {
  const errs = seriesChecks(o);
  if (o.type !== 'Normal' && o.type !== 'Warning') errs.push(invalid('type', '', `has invalid value: ${str(o.type)}`));
  if (o.deprecatedFirstTimestamp) errs.push(invalid('deprecatedFirstTimestamp', '', 'needs to be unset'));
  if (o.deprecatedLastTimestamp) errs.push(invalid('deprecatedLastTimestamp', '', 'needs to be unset'));
  if (typeof o.deprecatedCount === 'number' && o.deprecatedCount !== 0) errs.push(invalid('deprecatedCount', '', 'needs to be unset'));
  const source = asObj(o.deprecatedSource) ?? {};
  if (str(source.component) || str(source.host)) errs.push(invalid('deprecatedSource', '', 'needs to be unset'));
  return errs;
}

// This group's field -> the name Kubernetes reports it under (the core/v1 name).
const IMMUTABLE_FIELDS: [string, string][] = [
  ['regarding', 'involvedObject'],
  ['reason', 'reason'],
  ['note', 'message'],
  ['deprecatedSource', 'source'],
  ['deprecatedFirstTimestamp', 'firstTimestamp'],
  ['deprecatedLastTimestamp', 'lastTimestamp'],
  ['deprecatedCount', 'count'],
  ['type', 'type'],
];

function updateChecks(o: KubeObject, old: KubeObject): FieldError[] {
  const errs = deepEqual(o.series, old.series) ? [] : seriesChecks(o);
  for (const [name, reported] of IMMUTABLE_FIELDS) {
    if (!deepEqual((o as Obj)[name], (old as Obj)[name])) errs.push(invalid(reported, (o as Obj)[name] ?? null, FIELD_IMMUTABLE));
  }
  return errs;
}

/** "component, instance" from the deprecated source, falling back to the reporting controller. */
function eventSource(o: KubeObject): string {
  const source = asObj(o.deprecatedSource) ?? {};
  const component = str(source.component) || str(o.reportingController);
  const instance = str(source.host) || str(o.reportingInstance);
  return instance ? `${component}, ${instance}` : component;
}

const eventPrinter: Printer = {
  columns: eventColumns,
  cells: (o, now) => {
    const firstSeen = o.deprecatedFirstTimestamp ? age(o.deprecatedFirstTimestamp, now) : age(o.eventTime, now);
    const series = asObj(o.series);
    const lastSeen = series ? age(series.lastObservedTime, now) : o.deprecatedLastTimestamp ? age(o.deprecatedLastTimestamp, now) : firstSeen;
    const count = series ? (typeof series.count === 'number' ? series.count : 0) : typeof o.deprecatedCount === 'number' && o.deprecatedCount !== 0 ? o.deprecatedCount : 1;
    const regarding = asObj(o.regarding) ?? {};
    const kind = str(regarding.kind).toLowerCase();
    const target = str(regarding.name) ? `${kind}/${str(regarding.name)}` : kind;
    return [lastSeen, str(o.type), str(o.reason), target, str(regarding.fieldPath), eventSource(o), str(o.note).trim(), firstSeen, count, o.metadata.name];
  },
};

export const kinds: KindDef[] = [
  kindDef({
    group: 'events.k8s.io',
    version: 'v1',
    kind: 'Event',
    plural: 'events',
    namespaced: true,
    shortNames: ['ev'],
    schema: Event,
    printer: eventPrinter,
    validate: (o, old) => [...legacyChecks(o), ...(old ? updateChecks(o, old) : createChecks(o))],
  }),
];
