// The batch/v1 kinds as KindDefs: Jobs (with server-generated selectors) and CronJobs.
import { kindDef, type KindDef, type KubeObject, type Printer } from '../kind.js';
import { age, ageColumn, col, get, humanDuration, nameColumn } from '../printers/common.js';
import type { FieldError } from '../schema/dsl.js';
import { invalid, required } from '../schema/errors.js';
import { labelSelectorFromStruct, matchesLabels, type MetaLabelSelector } from '../selectors/labels.js';
import { dns1123LabelMessages } from '../validation/names.js';
import {
  FIELD_IMMUTABLE,
  SELECTOR_MISMATCH,
  asObj,
  deepEqual,
  goLabelSelector,
  goStringMap,
  invalidGo,
  type Obj,
} from '../types/apps.js';
import { CronJob, Job } from '../types/batch.js';
import { containerCells, containersColumn, formatSelector, imagesColumn } from './apps.js';

const batch = { group: 'batch', version: 'v1' } as const;

/** Labels the server puts on a Job's pod template (both the prefixed and the legacy names). */
export const JOB_CONTROLLER_UID_LABEL = 'batch.kubernetes.io/controller-uid';
export const JOB_NAME_LABEL = 'batch.kubernetes.io/job-name';
export const LEGACY_JOB_CONTROLLER_UID_LABEL = 'controller-uid';
export const LEGACY_JOB_NAME_LABEL = 'job-name';

const num = (v: unknown): number => (typeof v === 'number' ? v : 0);
const str = (v: unknown): string => (typeof v === 'string' ? v : '');

/**
 * Selector generation on create (unless spec.manualSelector is true): the pod template gets the
 * job-name and controller-uid labels and the selector matches batch.kubernetes.io/controller-uid.
 * Labels the user already set are left alone; validation then reports conflicts.
 */
export function generateJobSelector(job: KubeObject): void {
  const spec = (job.spec = asObj(job.spec) ?? {}) as Obj;
  if (spec.manualSelector === true) return;
  const template = (spec.template = asObj(spec.template) ?? {}) as Obj;
  const meta = (template.metadata = asObj(template.metadata) ?? {}) as Obj;
  const labels = (meta.labels = { ...(asObj(meta.labels) ?? {}) }) as Record<string, string>;
  const name = job.metadata.name ?? '';
  const uid = job.metadata.uid ?? '';
  for (const key of [LEGACY_JOB_NAME_LABEL, JOB_NAME_LABEL]) if (!(key in labels)) labels[key] = name;
  for (const key of [LEGACY_JOB_CONTROLLER_UID_LABEL, JOB_CONTROLLER_UID_LABEL]) if (!(key in labels)) labels[key] = uid;
  const selector = (spec.selector = asObj(spec.selector) ?? {}) as Obj;
  const matchLabels = (selector.matchLabels = { ...(asObj(selector.matchLabels) ?? {}) }) as Record<string, string>;
  if (!(JOB_CONTROLLER_UID_LABEL in matchLabels)) matchLabels[JOB_CONTROLLER_UID_LABEL] = uid;
}

/** ValidateHasLabel on the pod template's metadata. */
function hasLabel(labels: Record<string, string> | undefined, key: string, expected: string): FieldError[] {
  const path = `spec.template.metadata.labels[${key}]`;
  if (!labels || !(key in labels)) return [required(path, `must be '${expected}'`)];
  return labels[key] === expected ? [] : [invalidGo(path, goStringMap(labels), `must be '${expected}'`)];
}

/** validateGeneratedSelector: a generated selector must select exactly this Job's pods. */
function validateGeneratedSelector(job: KubeObject, requirePrefixedLabels: boolean): FieldError[] {
  const spec = asObj(job.spec) ?? {};
  if (spec.manualSelector === true || spec.selector == null) return [];
  const errs: FieldError[] = [];
  const uid = job.metadata.uid ?? '';
  const name = job.metadata.name ?? '';
  if (!uid) errs.push(required('metadata.uid', ''));
  const labels = asObj(get(spec, 'template', 'metadata', 'labels')) as Record<string, string> | undefined;
  errs.push(...hasLabel(labels, LEGACY_JOB_CONTROLLER_UID_LABEL, uid), ...hasLabel(labels, LEGACY_JOB_NAME_LABEL, name));
  const expected: Record<string, string> = { [LEGACY_JOB_CONTROLLER_UID_LABEL]: uid, [LEGACY_JOB_NAME_LABEL]: name };
  if (requirePrefixedLabels) {
    errs.push(...hasLabel(labels, JOB_CONTROLLER_UID_LABEL, uid), ...hasLabel(labels, JOB_NAME_LABEL, name));
    expected[JOB_CONTROLLER_UID_LABEL] = uid;
    expected[JOB_NAME_LABEL] = name;
  }
  try {
    if (!matchesLabels(labelSelectorFromStruct(spec.selector as MetaLabelSelector), expected)) {
      errs.push(invalidGo('spec.selector', goLabelSelector(spec.selector), '`selector` not auto-generated'));
    }
  } catch {
    // an unconvertible selector is reported by label selector validation
  }
  return errs;
}

/** The Job-only half of ValidateJobSpec: a selector is required and must select the template. */
function validateJobSelector(job: KubeObject): FieldError[] {
  const spec = asObj(job.spec) ?? {};
  const errs: FieldError[] = [];
  if (spec.selector == null) errs.push(required('spec.selector', ''));
  const templateLabels = asObj(get(spec, 'template', 'metadata', 'labels')) as Record<string, string> | undefined;
  try {
    if (!matchesLabels(labelSelectorFromStruct(spec.selector as MetaLabelSelector | undefined), templateLabels)) {
      errs.push(invalidGo('spec.template.metadata.labels', goStringMap(templateLabels), SELECTOR_MISMATCH));
    }
  } catch {
    // reported by label selector validation
  }
  return errs;
}

/** Indexed pods are named <job>-<index>; the largest such hostname must be a DNS label. */
function validateIndexedHostname(job: KubeObject): FieldError[] {
  const spec = asObj(job.spec) ?? {};
  const completions = spec.completions;
  if (spec.completionMode !== 'Indexed' || typeof completions !== 'number' || completions <= 0) return [];
  const hostname = `${job.metadata.name ?? ''}-${completions - 1}`;
  if (dns1123LabelMessages(hostname).length === 0) return [];
  return [invalid('metadata.name', job.metadata.name ?? '', `will not able to create pod with invalid DNS label: ${hostname}`)];
}

/** Fields of a suspended, never-started Job's template that may still change (scheduling directives). */
function schedulingNeutral(template: unknown): Obj {
  const t = structuredClone(asObj(template) ?? {}) as Obj;
  const meta = asObj(t.metadata);
  if (meta) {
    delete meta.labels;
    delete meta.annotations;
  }
  const podSpec = asObj(t.spec);
  if (podSpec) {
    for (const k of ['nodeSelector', 'tolerations', 'schedulingGates']) delete podSpec[k];
    const affinity = asObj(podSpec.affinity);
    if (affinity) {
      delete affinity.nodeAffinity;
      if (Object.keys(affinity).length === 0) delete podSpec.affinity;
    }
  }
  return t;
}

function renderImmutable(path: string, value: unknown): FieldError {
  if (path === 'spec.selector') return invalidGo(path, goLabelSelector(value), FIELD_IMMUTABLE);
  return invalid(path, value ?? null, FIELD_IMMUTABLE);
}

/** ValidateJobSpecUpdate: what may not change once a Job exists. */
function validateJobUpdate(job: KubeObject, old: KubeObject): FieldError[] {
  const spec = asObj(job.spec) ?? {};
  const oldSpec = asObj(old.spec) ?? {};
  const errs: FieldError[] = [];
  const indexed = spec.completionMode === 'Indexed';
  if (!deepEqual(spec.completions, oldSpec.completions)) {
    if (!indexed) errs.push(renderImmutable('spec.completions', spec.completions));
    else if (typeof spec.completions === 'number' && spec.completions !== spec.parallelism) {
      errs.push(invalid('spec.completions', spec.completions, 'can only be modified in tandem with spec.parallelism'));
    }
  }
  if (!deepEqual(spec.selector, oldSpec.selector)) errs.push(renderImmutable('spec.selector', spec.selector));
  const suspendedNeverStarted = oldSpec.suspend === true && get(old, 'status', 'startTime') == null;
  const templateChanged = suspendedNeverStarted
    ? !deepEqual(schedulingNeutral(spec.template), schedulingNeutral(oldSpec.template))
    : !deepEqual(spec.template, oldSpec.template);
  if (templateChanged) errs.push(renderImmutable('spec.template', spec.template));
  for (const key of ['completionMode', 'podFailurePolicy', 'backoffLimitPerIndex', 'managedBy', 'successPolicy']) {
    if (!deepEqual(spec[key], oldSpec[key])) errs.push(renderImmutable(`spec.${key}`, spec[key]));
  }
  return errs;
}

/** Jobs created with the prefixed batch.kubernetes.io labels keep being checked for them on update. */
function hadPrefixedLabels(old: KubeObject): boolean {
  const labels = asObj(get(old.spec, 'template', 'metadata', 'labels')) ?? {};
  return JOB_NAME_LABEL in labels && JOB_CONTROLLER_UID_LABEL in labels;
}

function validateJob(job: KubeObject, old: KubeObject | undefined): FieldError[] {
  return [
    ...validateGeneratedSelector(job, !old || hadPrefixedLabels(old)),
    ...validateJobSelector(job),
    ...validateIndexedHostname(job),
    ...(old ? validateJobUpdate(job, old) : []),
  ];
}

// ---- printers ---------------------------------------------------------------------------------------

function conditionTrue(o: KubeObject, type: string): boolean {
  const conditions = get(o, 'status', 'conditions');
  const c = Array.isArray(conditions) ? conditions.map((x) => asObj(x) ?? {}).find((x) => x.type === type) : undefined;
  return c?.status === 'True';
}

function jobStatus(o: KubeObject): string {
  if (conditionTrue(o, 'Complete')) return 'Complete';
  if (conditionTrue(o, 'Failed')) return 'Failed';
  if (o.metadata.deletionTimestamp) return 'Terminating';
  if (conditionTrue(o, 'Suspended')) return 'Suspended';
  if (conditionTrue(o, 'FailureTarget')) return 'FailureTarget';
  return 'Running';
}

function jobCompletions(o: KubeObject): string {
  const succeeded = num(get(o, 'status', 'succeeded'));
  const completions = get(o, 'spec', 'completions');
  if (typeof completions === 'number') return `${succeeded}/${completions}`;
  const parallelism = num(get(o, 'spec', 'parallelism'));
  return parallelism > 1 ? `${succeeded}/1 of ${parallelism}` : `${succeeded}/1`;
}

function jobDuration(o: KubeObject, now: Date): string {
  const start = Date.parse(str(get(o, 'status', 'startTime')));
  if (Number.isNaN(start)) return '';
  const completion = Date.parse(str(get(o, 'status', 'completionTime')));
  return humanDuration((Number.isNaN(completion) ? now.getTime() : completion) - start);
}

const jobPrinter: Printer = {
  columns: [
    nameColumn,
    col('Status', 'string', 'Whether the Job is running, complete, failed or suspended.'),
    col('Completions', 'string', 'Succeeded pods out of the completions required.'),
    col('Duration', 'string', 'How long the Job has run, or took to complete.'),
    ageColumn,
    containersColumn,
    imagesColumn,
    col('Selector', 'string', 'Label selector of the Job\'s pods.', 1),
  ],
  cells: (o, now) => [
    o.metadata.name,
    jobStatus(o),
    jobCompletions(o),
    jobDuration(o, now),
    age(o.metadata.creationTimestamp, now),
    ...containerCells(get(o, 'spec', 'template')),
    formatSelector(get(o, 'spec', 'selector')),
  ],
};

const boolCell = (v: unknown): string => (v === true ? 'True' : v === false ? 'False' : '<unset>');

const cronJobPrinter: Printer = {
  columns: [
    nameColumn,
    col('Schedule', 'string', 'Cron schedule of the runs.'),
    col('Timezone', 'string', 'Time zone the schedule is read in.'),
    col('Suspend', 'boolean', 'Whether future runs are suspended.'),
    col('Active', 'integer', 'Jobs currently running.'),
    col('Last Schedule', 'string', 'Time since a Job was last scheduled.'),
    ageColumn,
    containersColumn,
    imagesColumn,
    col('Selector', 'string', 'Label selector of the created Jobs\' pods.', 1),
  ],
  cells: (o, now) => {
    const active = get(o, 'status', 'active');
    const last = get(o, 'status', 'lastScheduleTime');
    const timeZone = get(o, 'spec', 'timeZone');
    return [
      o.metadata.name,
      str(get(o, 'spec', 'schedule')),
      typeof timeZone === 'string' ? timeZone : '<none>',
      boolCell(get(o, 'spec', 'suspend')),
      Array.isArray(active) ? active.length : 0,
      last ? age(last, now) : '<none>',
      age(o.metadata.creationTimestamp, now),
      ...containerCells(get(o, 'spec', 'jobTemplate', 'spec', 'template')),
      formatSelector(get(o, 'spec', 'jobTemplate', 'spec', 'selector')),
    ];
  },
};

/** The cronjob controller appends an 11-character suffix to Job names, which are limited to 63. */
const MAX_CRONJOB_NAME = 52;

export const kinds: KindDef[] = [
  kindDef({
    ...batch,
    kind: 'CronJob',
    plural: 'cronjobs',
    namespaced: true,
    shortNames: ['cj'],
    categories: ['all'],
    schema: CronJob,
    printer: cronJobPrinter,
    validate: (o, old) => {
      const name = o.metadata.name ?? '';
      return !old && name.length > MAX_CRONJOB_NAME ? [invalid('metadata.name', name, 'must be no more than 52 characters')] : [];
    },
    prepareForCreate: (o) => {
      o.status = {};
    },
  }),
  kindDef({
    ...batch,
    kind: 'Job',
    plural: 'jobs',
    namespaced: true,
    categories: ['all'],
    schema: Job,
    fieldSelectors: { 'status.successful': (o) => String(num(get(o, 'status', 'succeeded'))) },
    printer: jobPrinter,
    validate: validateJob,
    prepareForCreate: (o) => {
      o.status = {};
      generateJobSelector(o);
    },
  }),
];
