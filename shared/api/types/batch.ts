// batch/v1 types (io.k8s.api.batch.v1.*): Job and CronJob, plus the cron schedule parser CronJob
// validation needs (the robfig/cron v3 standard dialect Kubernetes uses, with its error texts).
// Protobuf numbers follow k8s.io/api/batch/v1/generated.proto.
import { bool, field, int32, int64, list, ref, str, struct, time, type FieldError, type StructType } from '../schema/dsl.js';
import { duplicate, invalid, notSupported, required, tooLong, tooMany } from '../schema/errors.js';
import { dns1123SubdomainMessages, regexMessage } from '../validation/names.js';
import { asObj, at, nonNegative, type Obj } from './apps.js';
import { PodTemplateSpec } from './core-pod.js';
import { ObjectReference, typeMeta } from './core-reference.js';
import { LabelSelector, ObjectMeta } from './meta.js';

const BATCH = 'io.k8s.api.batch.v1';

// ---- cron schedules --------------------------------------------------------------------------------

interface CronBounds {
  min: number;
  max: number;
  names?: Record<string, number>;
}

const MONTH_NAMES: Record<string, number> = { jan: 1, feb: 2, mar: 3, apr: 4, may: 5, jun: 6, jul: 7, aug: 8, sep: 9, oct: 10, nov: 11, dec: 12 };
const DOW_NAMES: Record<string, number> = { sun: 0, mon: 1, tue: 2, wed: 3, thu: 4, fri: 5, sat: 6 };
const CRON_FIELDS: readonly CronBounds[] = [
  { min: 0, max: 59 },
  { min: 0, max: 23 },
  { min: 1, max: 31 },
  { min: 1, max: 12, names: MONTH_NAMES },
  { min: 0, max: 6, names: DOW_NAMES },
];

/** One parsed cron field: the allowed values, and whether it was written as a bare '*' or '?'. */
interface CronField {
  values: Set<number>;
  star: boolean;
}

export class CronParseError extends Error {}

/** strconv.Atoi plus robfig's negative check, with their messages. */
function cronInt(expr: string): number {
  if (!/^[+-]?[0-9]+$/.test(expr)) throw new CronParseError(`failed to parse int from ${expr}: strconv.Atoi: parsing ${JSON.stringify(expr)}: invalid syntax`);
  const n = Number(expr);
  if (!Number.isSafeInteger(n) || Math.abs(n) > 2 ** 63 - 1) {
    throw new CronParseError(`failed to parse int from ${expr}: strconv.Atoi: parsing ${JSON.stringify(expr)}: value out of range`);
  }
  if (n < 0) throw new CronParseError(`negative number (${n}) not allowed: ${expr}`);
  return n;
}

function cronRange(expr: string, b: CronBounds, into: CronField): void {
  const rangeAndStep = expr.split('/');
  const lowAndHigh = rangeAndStep[0].split('-');
  let start: number;
  let end: number;
  let star = false;
  if (lowAndHigh[0] === '*' || lowAndHigh[0] === '?') {
    start = b.min;
    end = b.max;
    star = true;
  } else {
    const named = (s: string) => b.names?.[s.toLowerCase()] ?? cronInt(s);
    start = named(lowAndHigh[0]);
    if (lowAndHigh.length === 1) end = start;
    else if (lowAndHigh.length === 2) end = named(lowAndHigh[1]);
    else throw new CronParseError(`too many hyphens: ${expr}`);
  }
  let step = 1;
  if (rangeAndStep.length === 2) {
    step = cronInt(rangeAndStep[1]);
    if (lowAndHigh.length === 1) end = b.max; // "N/step" means N through the maximum
    if (step > 1) star = false;
  } else if (rangeAndStep.length > 2) {
    throw new CronParseError(`too many slashes: ${expr}`);
  }
  if (start < b.min) throw new CronParseError(`beginning of range (${start}) below minimum (${b.min}): ${expr}`);
  if (end > b.max) throw new CronParseError(`end of range (${end}) above maximum (${b.max}): ${expr}`);
  if (start > end) throw new CronParseError(`beginning of range (${start}) beyond end of range (${end}): ${expr}`);
  if (step === 0) throw new CronParseError(`step of range should be a positive number: ${expr}`);
  for (let v = start; v <= end; v += step) into.values.add(v);
  if (star) into.star = true;
}

function cronField(text: string, b: CronBounds): CronField {
  const f: CronField = { values: new Set(), star: false };
  for (const expr of text.split(',').filter((e) => e !== '')) cronRange(expr, b, f);
  return f;
}

const every = (b: CronBounds): CronField => cronField('*', b);
const only = (v: number): CronField => ({ values: new Set([v]), star: false });

const DESCRIPTORS: Record<string, () => CronField[]> = {
  '@yearly': () => [only(0), only(0), only(1), only(1), every(CRON_FIELDS[4])],
  '@annually': () => DESCRIPTORS['@yearly'](),
  '@monthly': () => [only(0), only(0), only(1), every(CRON_FIELDS[3]), every(CRON_FIELDS[4])],
  '@weekly': () => [only(0), only(0), every(CRON_FIELDS[2]), every(CRON_FIELDS[3]), only(0)],
  '@daily': () => [only(0), only(0), every(CRON_FIELDS[2]), every(CRON_FIELDS[3]), every(CRON_FIELDS[4])],
  '@midnight': () => DESCRIPTORS['@daily'](),
  '@hourly': () => [only(0), every(CRON_FIELDS[1]), every(CRON_FIELDS[2]), every(CRON_FIELDS[3]), every(CRON_FIELDS[4])],
};

const DURATION_UNITS: Record<string, number> = { ns: 1e-6, us: 1e-3, 'µs': 1e-3, 'μs': 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Go's time.ParseDuration, in milliseconds, with Go's error texts. */
function goDurationMs(s: string): number {
  const quoted = JSON.stringify(s);
  let rest = s;
  let sign = 1;
  if (rest.startsWith('-') || rest.startsWith('+')) {
    sign = rest.startsWith('-') ? -1 : 1;
    rest = rest.slice(1);
  }
  if (rest === '0') return 0;
  if (rest === '') throw new Error(`time: invalid duration ${quoted}`);
  let total = 0;
  while (rest !== '') {
    const num = /^([0-9]*)(\.[0-9]*)?/.exec(rest)!;
    if (num[0] === '' || num[0] === '.') throw new Error(`time: invalid duration ${quoted}`);
    rest = rest.slice(num[0].length);
    const unit = /^[^0-9.]*/.exec(rest)![0];
    if (unit === '') throw new Error(`time: missing unit in duration ${quoted}`);
    const scale = DURATION_UNITS[unit];
    if (scale === undefined) throw new Error(`time: unknown unit ${JSON.stringify(unit)} in duration ${quoted}`);
    total += Number(num[0]) * scale;
    rest = rest.slice(unit.length);
  }
  return sign * total;
}

const wallClockFormats = new Map<string, Intl.DateTimeFormat>();

function wallClockFormat(timeZone: string): Intl.DateTimeFormat {
  let f = wallClockFormats.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    wallClockFormats.set(timeZone, f);
  }
  return f;
}

/** True when the IANA zone is known (Go's time.LoadLocation succeeds). */
export function isKnownTimeZone(name: string): boolean {
  if (name === '' || name === 'UTC') return true;
  try {
    wallClockFormat(name);
    return true;
  } catch {
    return false;
  }
}

/** The wall clock of `ms` in `timeZone`, expressed as if it were a UTC instant. */
function wallMs(ms: number, timeZone: string): number {
  if (timeZone === 'UTC') return ms;
  const parts: Record<string, number> = {};
  for (const p of wallClockFormat(timeZone).formatToParts(new Date(ms))) if (p.type !== 'literal') parts[p.type] = Number(p.value);
  return Date.UTC(parts.year, parts.month - 1, parts.day, parts.hour, parts.minute, parts.second);
}

/** Instant whose wall clock in `timeZone` reads `wall` (DST gaps resolve forward). */
function instantOfWall(wall: number, timeZone: string): number {
  if (timeZone === 'UTC') return wall;
  let guess = wall - (wallMs(wall, timeZone) - wall);
  guess = wall - (wallMs(guess, timeZone) - guess);
  return guess;
}

const MINUTE = 60_000;
const HOUR = 3_600_000;
const DAY = 86_400_000;

/** A parsed CronJob schedule. */
export interface CronSchedule {
  /** First activation strictly after `after`; `timeZone` applies unless the schedule carries TZ=. */
  next(after: Date, timeZone?: string): Date | undefined;
}

class FieldSchedule implements CronSchedule {
  constructor(
    private readonly fields: CronField[],
    private readonly zone: string | undefined,
  ) {}

  private dayMatches(wall: Date): boolean {
    const [, , dom, , dow] = this.fields;
    const domMatch = dom.values.has(wall.getUTCDate());
    const dowMatch = dow.values.has(wall.getUTCDay());
    return dom.star || dow.star ? domMatch && dowMatch : domMatch || dowMatch;
  }

  next(after: Date, timeZone = 'UTC'): Date | undefined {
    const zone = this.zone ?? timeZone;
    const [minutes, hours, , months] = this.fields;
    let wall = Math.floor(wallMs(after.getTime(), zone) / MINUTE) * MINUTE + MINUTE;
    const limit = wall + 5 * 366 * DAY;
    while (wall < limit) {
      const d = new Date(wall);
      if (!months.values.has(d.getUTCMonth() + 1)) {
        wall = Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1);
      } else if (!this.dayMatches(d)) {
        wall = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate() + 1);
      } else if (!hours.values.has(d.getUTCHours())) {
        wall = Math.floor(wall / HOUR) * HOUR + HOUR;
      } else if (!minutes.values.has(d.getUTCMinutes())) {
        wall += MINUTE;
      } else {
        const instant = instantOfWall(wall, zone);
        if (instant > after.getTime()) return new Date(instant);
        wall += MINUTE;
      }
    }
    return undefined;
  }
}

class EverySchedule implements CronSchedule {
  constructor(private readonly delayMs: number) {}

  next(after: Date): Date {
    return new Date(Math.floor(after.getTime() / 1000) * 1000 + this.delayMs);
  }
}

/**
 * cron.ParseStandard: five fields (minute hour day-of-month month day-of-week), names for months
 * and weekdays, '*', '?', ranges, steps, lists, @hourly-style descriptors, "@every <duration>" and
 * a TZ=/CRON_TZ= prefix. Throws CronParseError worded like robfig/cron v3.
 */
export function parseCronSchedule(spec: string): CronSchedule {
  if (spec.length === 0) throw new CronParseError('empty spec string');
  let zone: string | undefined;
  if (spec.startsWith('TZ=') || spec.startsWith('CRON_TZ=')) {
    const space = spec.indexOf(' ');
    if (space === -1) throw new CronParseError(`invalid timezone specification: ${spec}`);
    const name = spec.slice(spec.indexOf('=') + 1, space);
    if (!isKnownTimeZone(name)) throw new CronParseError(`provided bad location ${name}: unknown time zone ${name}`);
    zone = name || 'UTC';
    spec = spec.slice(space).trim();
  }
  if (spec.startsWith('@')) {
    const descriptor = DESCRIPTORS[spec];
    if (descriptor) return new FieldSchedule(descriptor(), zone);
    if (spec.startsWith('@every ')) {
      let delay: number;
      try {
        delay = goDurationMs(spec.slice('@every '.length));
      } catch (e) {
        throw new CronParseError(`failed to parse duration ${spec}: ${(e as Error).message}`);
      }
      return new EverySchedule(Math.max(1000, delay - (delay % 1000)));
    }
    throw new CronParseError(`unrecognized descriptor: ${spec}`);
  }
  const parts = spec.split(/\s+/).filter((p) => p !== '');
  if (parts.length !== 5) throw new CronParseError(`expected exactly 5 fields, found ${parts.length}: [${parts.join(' ')}]`);
  return new FieldSchedule(
    parts.map((p, i) => cronField(p, CRON_FIELDS[i])),
    zone,
  );
}

/** The robfig/cron error for a schedule, or undefined when it parses. */
export function cronScheduleError(spec: string): string | undefined {
  try {
    parseCronSchedule(spec);
    return undefined;
  } catch (e) {
    if (e instanceof CronParseError) return e.message;
    throw e;
  }
}

// ---- field checks ----------------------------------------------------------------------------------

const TIME_ZONE_PART = /^[A-Za-z.\-_0-9+]{1,14}$/;

/** validateTimeZone of CronJobSpec.timeZone. */
export function validateTimeZone(tz: unknown, path: string): FieldError[] {
  if (typeof tz !== 'string') return [];
  if (tz === '') return [invalid(path, tz, 'timeZone must be nil or non-empty string')];
  for (const part of tz.split('/')) {
    if (part === '.' || part === '..' || part.startsWith('-') || !TIME_ZONE_PART.test(part)) return [invalid(path, tz, `unknown time zone ${tz}`)];
  }
  const errs: FieldError[] = [];
  if (tz.toLowerCase() === 'local') errs.push(invalid(path, tz, 'timeZone must be an explicit time zone as defined in https://www.iana.org/time-zones'));
  else if (!isKnownTimeZone(tz)) errs.push(invalid(path, tz, `unknown time zone ${tz}`));
  return errs;
}

function validateSchedule(schedule: unknown, path: string): FieldError[] {
  if (typeof schedule !== 'string' || schedule === '') return [];
  const errs: FieldError[] = [];
  const problem = cronScheduleError(schedule);
  if (problem) errs.push(invalid(path, schedule, problem));
  // Only schedules stored before the timeZone field existed may keep a TZ prefix; new ones may not.
  if (schedule.includes('TZ')) errs.push(invalid(path, schedule, 'cannot use TZ or CRON_TZ in schedule, use timeZone field instead'));
  return errs;
}

const HTTP_PATH = /^[A-Za-z0-9/\-._~%!$&'()*+,;=:]+$/;

/** IsDomainPrefixedPath (Job spec.managedBy). */
function validateDomainPrefixedPath(v: string, path: string): FieldError[] {
  if (v === '') return [required(path, '')];
  const slash = v.indexOf('/');
  const host = slash < 0 ? '' : v.slice(0, slash);
  const rest = slash < 0 ? '' : v.slice(slash + 1);
  if (!host || !rest) return [invalid(path, v, 'must be a domain-prefixed path (such as "acme.io/foo")')];
  const errs = dns1123SubdomainMessages(host).map((m) => invalid(path, host, m));
  if (!HTTP_PATH.test(rest)) errs.push(invalid(path, rest, regexMessage('Invalid path', "[A-Za-z0-9/\\-._~%!$&'()*+,;=:]+")));
  return errs;
}

/** Parses "1,3-5,7" style index sets below `completions`; returns the count or an error text. */
export function countIndexes(text: string, completions: number): number | string {
  if (text === '') return 0;
  let last: number | undefined;
  let total = 0;
  for (const interval of text.split(',')) {
    const limits = interval.split('-');
    if (limits.length > 2) return `the fragment ${JSON.stringify(interval)} violates the requirement that an index interval can have at most two parts separated by '-'`;
    const bounds: number[] = [];
    for (const l of limits) {
      if (!/^[+-]?[0-9]+$/.test(l)) return `cannot convert string to integer for index: ${JSON.stringify(l)}`;
      const x = Number(l);
      if (x >= completions) return `too large index: ${JSON.stringify(l)}`;
      if (last !== undefined && last >= x) return `non-increasing order, previous: ${last}, current: ${x}`;
      bounds.push(x);
      last = x;
    }
    total += bounds.length === 2 ? bounds[1] - bounds[0] + 1 : 1;
  }
  return total;
}

const POD_FAILURE_ACTIONS = ['Count', 'FailIndex', 'FailJob', 'Ignore'];
const EXIT_CODE_OPERATORS = ['In', 'NotIn'];
const CONDITION_STATUSES = ['False', 'True', 'Unknown'];
const REPLACEMENT_POLICIES = ['Failed', 'TerminatingOrFailed'];
const quotedList = (xs: readonly string[]) => `[${xs.map((x) => JSON.stringify(x)).join(' ')}]`;

function containerNames(spec: Obj): Set<string> {
  const podSpec = asObj(asObj(spec.template)?.spec);
  const names = new Set<string>();
  for (const key of ['containers', 'initContainers']) {
    const cs = podSpec?.[key];
    if (Array.isArray(cs)) for (const c of cs) names.add(String(asObj(c)?.name ?? ''));
  }
  return names;
}

function validatePodFailurePolicy(spec: Obj, policy: Obj, path: string): FieldError[] {
  const errs: FieldError[] = [];
  const rules = Array.isArray(policy.rules) ? policy.rules : [];
  const rulesPath = at(path, 'rules');
  if (rules.length > 20) errs.push(tooMany(rulesPath, rules.length, 20));
  const names = containerNames(spec);
  rules.forEach((r, i) => {
    const rule = asObj(r) ?? {};
    const rulePath = `${rulesPath}[${i}]`;
    const action = rule.action ?? '';
    if (action === '') {
      // absent: reported by the generic required check
    } else if (action === 'FailIndex') {
      if (spec.backoffLimitPerIndex == null) errs.push(invalid(at(rulePath, 'action'), action, 'requires the backoffLimitPerIndex to be set'));
    } else if (!POD_FAILURE_ACTIONS.includes(action as string)) errs.push(notSupported(at(rulePath, 'action'), action, POD_FAILURE_ACTIONS));
    const onExit = asObj(rule.onExitCodes);
    const onConditions = Array.isArray(rule.onPodConditions) ? rule.onPodConditions : [];
    if (onExit) errs.push(...validateOnExitCodes(onExit, at(rulePath, 'onExitCodes'), names));
    onConditions.forEach((c, j) => {
      const pattern = asObj(c) ?? {};
      const statusPath = `${at(rulePath, 'onPodConditions')}[${j}].status`;
      const status = pattern.status ?? '';
      if (status === '') errs.push(required(statusPath, `valid values: ${quotedList(CONDITION_STATUSES)}`));
      else if (!CONDITION_STATUSES.includes(status as string)) errs.push(notSupported(statusPath, status, CONDITION_STATUSES));
    });
    if (onExit && onConditions.length > 0) {
      errs.push({ reason: 'FieldValueInvalid', field: rulePath, message: 'Invalid value: specifying both OnExitCodes and OnPodConditions is not supported' });
    }
    if (!onExit && onConditions.length === 0) {
      errs.push({ reason: 'FieldValueInvalid', field: rulePath, message: 'Invalid value: specifying one of OnExitCodes and OnPodConditions is required' });
    }
  });
  return errs;
}

function validateOnExitCodes(req: Obj, path: string, names: Set<string>): FieldError[] {
  const errs: FieldError[] = [];
  const op = req.operator ?? '';
  if (op !== '' && !EXIT_CODE_OPERATORS.includes(op as string)) errs.push(notSupported(at(path, 'operator'), op, EXIT_CODE_OPERATORS));
  if (typeof req.containerName === 'string' && !names.has(req.containerName)) {
    errs.push(invalid(at(path, 'containerName'), req.containerName, 'must be one of the container or initContainer names in the pod template'));
  }
  const values = Array.isArray(req.values) ? (req.values as number[]) : [];
  const valuesPath = at(path, 'values');
  if (values.length > 255) errs.push(tooMany(valuesPath, values.length, 255));
  const seen = new Set<number>();
  let ordered = true;
  values.forEach((v, j) => {
    if (op === 'In' && v === 0) errs.push(invalid(`${valuesPath}[${j}]`, v, 'must not be 0 for the In operator'));
    if (seen.has(v)) errs.push(duplicate(`${valuesPath}[${j}]`, v));
    seen.add(v);
    if (j > 0 && values[j - 1] > v) ordered = false;
  });
  if (!ordered) errs.push(invalid(valuesPath, values, 'must be ordered'));
  return errs;
}

function validateSuccessPolicy(spec: Obj, policy: Obj, path: string): FieldError[] {
  const errs: FieldError[] = [];
  const rules = Array.isArray(policy.rules) ? policy.rules : [];
  const rulesPath = at(path, 'rules');
  if (rules.length > 20) errs.push(tooMany(rulesPath, rules.length, 20));
  const completions = typeof spec.completions === 'number' ? spec.completions : 0;
  rules.forEach((r, i) => {
    const rule = asObj(r) ?? {};
    const rulePath = `${rulesPath}[${i}]`;
    if (rule.succeededCount == null && rule.succeededIndexes == null) {
      errs.push(required(rulePath, 'at least one of succeededCount or succeededIndexes must be specified'));
    }
    let total = 0;
    if (typeof rule.succeededIndexes === 'string') {
      const p = at(rulePath, 'succeededIndexes');
      if (rule.succeededIndexes.length > 64 * 1024) errs.push(tooLong(p, 64 * 1024));
      const counted = countIndexes(rule.succeededIndexes, completions);
      if (typeof counted === 'string') errs.push(invalid(p, rule.succeededIndexes, `error parsing succeededIndexes: ${counted}`));
      else total = counted;
    }
    if (typeof rule.succeededCount === 'number') {
      const p = at(rulePath, 'succeededCount');
      errs.push(...nonNegative(rule.succeededCount, p));
      if (rule.succeededCount > completions) {
        errs.push(invalid(p, rule.succeededCount, `must be less than or equal to ${completions} (the number of specified completions)`));
      }
      if (typeof rule.succeededIndexes === 'string' && rule.succeededCount > total) {
        errs.push(invalid(p, rule.succeededCount, `must be less than or equal to ${total} (the number of indexes in the specified succeededIndexes field)`));
      }
    }
  });
  return errs;
}

/** validateJobSpec: the checks shared by Jobs and CronJob job templates. */
function validateJobSpec(spec: Obj, path: string): FieldError[] {
  const errs: FieldError[] = [];
  const indexed = spec.completionMode === 'Indexed';
  if (spec.maxFailedIndexes != null && spec.backoffLimitPerIndex == null) {
    errs.push(required(at(path, 'backoffLimitPerIndex'), 'when maxFailedIndexes is specified'));
  }
  if (typeof spec.managedBy === 'string') {
    errs.push(...validateDomainPrefixedPath(spec.managedBy, at(path, 'managedBy')));
    if (spec.managedBy.length > 63) errs.push(tooLong(at(path, 'managedBy'), 63));
  }
  if (spec.completionMode != null) {
    if (spec.completionMode !== 'NonIndexed' && !indexed) errs.push(notSupported(at(path, 'completionMode'), spec.completionMode, ['NonIndexed', 'Indexed']));
    if (indexed) {
      if (spec.completions == null) errs.push(required(at(path, 'completions'), 'when completion mode is Indexed'));
      if (typeof spec.parallelism === 'number' && spec.parallelism > 100_000) {
        errs.push(invalid(at(path, 'parallelism'), spec.parallelism, 'must be less than or equal to 100000 when completion mode is Indexed'));
      }
      if (typeof spec.completions === 'number' && typeof spec.maxFailedIndexes === 'number' && spec.maxFailedIndexes > spec.completions) {
        errs.push(invalid(at(path, 'maxFailedIndexes'), spec.maxFailedIndexes, 'must be less than or equal to completions'));
      }
      if (typeof spec.maxFailedIndexes === 'number' && spec.maxFailedIndexes > 100_000) {
        errs.push(invalid(at(path, 'maxFailedIndexes'), spec.maxFailedIndexes, 'must be less than or equal to 100000'));
      }
    }
  }
  if (!indexed) {
    if (spec.backoffLimitPerIndex != null) errs.push(invalid(at(path, 'backoffLimitPerIndex'), spec.backoffLimitPerIndex, 'requires indexed completion mode'));
    if (spec.maxFailedIndexes != null) errs.push(invalid(at(path, 'maxFailedIndexes'), spec.maxFailedIndexes, 'requires indexed completion mode'));
  }
  const failurePolicy = asObj(spec.podFailurePolicy);
  if (failurePolicy) errs.push(...validatePodFailurePolicy(spec, failurePolicy, at(path, 'podFailurePolicy')));
  const successPolicy = asObj(spec.successPolicy);
  if (successPolicy) {
    if (!indexed) errs.push(invalid(at(path, 'successPolicy'), successPolicy, 'requires indexed completion mode'));
    else errs.push(...validateSuccessPolicy(spec, successPolicy, at(path, 'successPolicy')));
  }
  const replacement = spec.podReplacementPolicy;
  if (typeof replacement === 'string') {
    if (failurePolicy) {
      if (replacement !== 'Failed') errs.push(notSupported(at(path, 'podReplacementPolicy'), replacement, ['Failed']));
    } else if (!REPLACEMENT_POLICIES.includes(replacement)) {
      errs.push(notSupported(at(path, 'podReplacementPolicy'), replacement, REPLACEMENT_POLICIES));
    }
  }
  // Pod defaulting turns a missing restartPolicy into Always, which no Job may use.
  const policy = asObj(asObj(spec.template)?.spec)?.restartPolicy ?? '';
  const policyPath = at(path, 'template.spec.restartPolicy');
  if (policy === 'Always' || policy === '') errs.push(required(policyPath, 'valid values: "OnFailure", "Never"'));
  else if (policy !== 'OnFailure' && policy !== 'Never') errs.push(notSupported(policyPath, policy, ['OnFailure', 'Never']));
  else if (failurePolicy && policy !== 'Never') errs.push(invalid(policyPath, policy, 'only "Never" is supported when podFailurePolicy is specified'));
  return errs;
}

// ---- Job -------------------------------------------------------------------------------------------

export const PodFailurePolicyOnExitCodesRequirement: StructType = struct(
  `${BATCH}.PodFailurePolicyOnExitCodesRequirement`,
  'Matches a failed pod by the exit codes of its containers.',
  {
    containerName: field(str(), 1, 'Only look at this container; all containers when unset.'),
    operator: field(str(), 2, 'In or NotIn: how exit codes relate to values.', { required: true }),
    values: field(list(int32(), { listType: 'set' }), 3, 'Sorted, distinct exit codes to compare against.', { required: true }),
  },
);

export const PodFailurePolicyOnPodConditionsPattern: StructType = struct(
  `${BATCH}.PodFailurePolicyOnPodConditionsPattern`,
  'Matches a failed pod by one of its conditions.',
  {
    type: field(str(), 1, 'Pod condition type to look for.', { required: true }),
    status: field(str(), 2, 'Condition status to look for; defaults to True.'),
  },
);

export const PodFailurePolicyRule: StructType = struct(
  `${BATCH}.PodFailurePolicyRule`,
  'What to do with a pod failure that meets the requirement.',
  {
    action: field(str(), 1, 'FailJob, FailIndex, Ignore or Count.', { required: true }),
    onExitCodes: field(ref(() => PodFailurePolicyOnExitCodesRequirement), 2, 'Requirement on container exit codes.'),
    onPodConditions: field(list(ref(() => PodFailurePolicyOnPodConditionsPattern), { listType: 'atomic' }), 3, 'Requirement on pod conditions; any pattern may match.'),
  },
);

export const PodFailurePolicy: StructType = struct(`${BATCH}.PodFailurePolicy`, 'How failed pods count against the Job.', {
  rules: field(list(ref(() => PodFailurePolicyRule), { listType: 'atomic' }), 1, 'Rules evaluated in order; the first match decides.', { required: true }),
});

export const SuccessPolicyRule: StructType = struct(`${BATCH}.SuccessPolicyRule`, 'One way an Indexed Job can succeed early.', {
  succeededIndexes: field(str(), 1, 'Indexes that must all succeed, e.g. "0,2-4".'),
  succeededCount: field(int32(), 2, 'How many (of succeededIndexes, when set) must succeed.'),
});

export const SuccessPolicy: StructType = struct(`${BATCH}.SuccessPolicy`, 'When an Indexed Job may be declared successful.', {
  rules: field(list(ref(() => SuccessPolicyRule), { listType: 'atomic' }), 1, 'Alternative rules; the first one met wins.', { required: true }),
});

export const JobSpec: StructType = struct(
  `${BATCH}.JobSpec`,
  'Desired behaviour of a Job.',
  {
    parallelism: field(int32(), 1, 'Most pods running at once.', { validate: nonNegative }),
    completions: field(int32(), 2, 'Successful pods needed; unset means any single success completes the Job.', { validate: nonNegative }),
    activeDeadlineSeconds: field(int64(), 3, 'Seconds the Job may stay active before it is terminated.', { validate: nonNegative }),
    podFailurePolicy: field(ref(() => PodFailurePolicy), 11, 'How pod failures are treated; needs restartPolicy Never.'),
    successPolicy: field(ref(() => SuccessPolicy), 16, 'When an Indexed Job may succeed before all indexes complete.'),
    backoffLimit: field(int32(), 7, 'Retries before the Job is marked failed; defaults to 6.', { validate: nonNegative }),
    backoffLimitPerIndex: field(int32(), 12, 'Retries per index of an Indexed Job.', { validate: nonNegative }),
    maxFailedIndexes: field(int32(), 13, 'Failed indexes tolerated before the whole Job fails.', { validate: nonNegative }),
    selector: field(ref(() => LabelSelector), 4, 'Selects the Job\'s pods; normally generated by the server.'),
    manualSelector: field(bool(), 5, 'True when the user picks selector and pod labels instead of the server.'),
    template: field(ref(() => PodTemplateSpec), 6, 'Pod template; restartPolicy must be Never or OnFailure.', { required: true, default: {} }),
    ttlSecondsAfterFinished: field(int32(), 8, 'Seconds after finishing before the Job may be deleted automatically.', { validate: nonNegative }),
    completionMode: field(str(), 9, 'NonIndexed (the default) or Indexed.'),
    suspend: field(bool(), 10, 'True keeps the controller from creating pods.'),
    podReplacementPolicy: field(str(), 14, 'When replacement pods are created: TerminatingOrFailed or Failed.'),
    managedBy: field(str(), 15, 'Controller responsible for the Job; empty means the built-in one.'),
  },
  { validate: validateJobSpec },
);

export const JobCondition: StructType = struct(`${BATCH}.JobCondition`, 'One observed aspect of a Job\'s state.', {
  type: field(str(), 1, 'Complete, Failed, Suspended, FailureTarget or SuccessCriteriaMet.', { required: true }),
  status: field(str(), 2, 'True, False or Unknown.', { required: true }),
  lastProbeTime: field(time(), 3, 'When the condition was last checked.'),
  lastTransitionTime: field(time(), 4, 'When the status last changed.'),
  reason: field(str(), 5, 'Machine-readable reason for the last transition.'),
  message: field(str(), 6, 'Human-readable details about the last transition.'),
});

export const UncountedTerminatedPods: StructType = struct(
  `${BATCH}.UncountedTerminatedPods`,
  'Finished pods whose outcome is not yet in the counters.',
  {
    succeeded: field(list(str(), { listType: 'set' }), 1, 'UIDs of succeeded pods.'),
    failed: field(list(str(), { listType: 'set' }), 2, 'UIDs of failed pods.'),
  },
);

export const JobStatus: StructType = struct(`${BATCH}.JobStatus`, 'Observed state of a Job.', {
  conditions: field(
    list(ref(() => JobCondition), { listType: 'atomic', patchStrategy: 'merge', patchMergeKey: 'type' }),
    1,
    'Latest observations of the Job\'s state.',
  ),
  startTime: field(time(), 2, 'When the controller started the Job.'),
  completionTime: field(time(), 3, 'When the Job completed successfully.'),
  active: field(int32(), 4, 'Pending or running pods that are not terminating.', { validate: nonNegative }),
  succeeded: field(int32(), 5, 'Pods that succeeded.', { validate: nonNegative }),
  failed: field(int32(), 6, 'Pods that failed.', { validate: nonNegative }),
  terminating: field(int32(), 11, 'Pods that are terminating.', { validate: nonNegative }),
  completedIndexes: field(str(), 7, 'Completed indexes of an Indexed Job, e.g. "1,3-5".'),
  failedIndexes: field(str(), 10, 'Failed indexes of an Indexed Job with backoffLimitPerIndex.'),
  uncountedTerminatedPods: field(ref(() => UncountedTerminatedPods), 8, 'Finished pods not yet counted.'),
  ready: field(int32(), 9, 'Active pods that are ready.', { validate: nonNegative }),
});

/** SetDefaults_Job (applies to Jobs only, not to CronJob job templates). */
export function defaultJob(job: Obj): void {
  const spec = (job.spec = asObj(job.spec) ?? {}) as Obj;
  if (spec.completions == null && spec.parallelism == null) {
    spec.completions = 1;
    spec.parallelism = 1;
  }
  spec.parallelism ??= 1;
  spec.backoffLimit ??= spec.backoffLimitPerIndex != null ? 2147483647 : 6;
  spec.completionMode ??= 'NonIndexed';
  spec.suspend ??= false;
  const failurePolicy = asObj(spec.podFailurePolicy);
  for (const rule of Array.isArray(failurePolicy?.rules) ? failurePolicy.rules : []) {
    const patterns = asObj(rule)?.onPodConditions;
    for (const p of Array.isArray(patterns) ? patterns : []) {
      const pattern = asObj(p);
      if (pattern && !pattern.status) pattern.status = 'True';
    }
  }
  spec.podReplacementPolicy ??= failurePolicy ? 'Failed' : 'TerminatingOrFailed';
  const templateLabels = asObj(asObj(asObj(spec.template)?.metadata)?.labels);
  const metadata = asObj(job.metadata);
  if (templateLabels && metadata && Object.keys(asObj(metadata.labels) ?? {}).length === 0) metadata.labels = { ...templateLabels };
}

export const Job: StructType = struct(
  `${BATCH}.Job`,
  'Runs pods until a number of them finish successfully.',
  {
    ...typeMeta,
    metadata: field(ref(() => ObjectMeta), 1, 'Standard object metadata.'),
    spec: field(ref(() => JobSpec), 2, 'Desired behaviour.', { default: {} }),
    status: field(ref(() => JobStatus), 3, 'Observed state, written by the controller.', { default: {} }),
  },
  { gvk: [{ group: 'batch', version: 'v1', kind: 'Job' }], defaults: defaultJob },
);

export const JobTemplateSpec: StructType = struct(
  `${BATCH}.JobTemplateSpec`,
  'The Job a CronJob creates at each run.',
  {
    metadata: field(ref(() => ObjectMeta), 1, 'Metadata given to created Jobs.'),
    spec: field(ref(() => JobSpec), 2, 'Spec given to created Jobs.', { default: {} }),
  },
  {
    validate: (tpl, path) => {
      const spec = asObj(tpl.spec);
      if (!spec) return [];
      const errs: FieldError[] = [];
      if (spec.selector != null) errs.push(invalid(at(path, 'spec.selector'), spec.selector, '`selector` will be auto-generated'));
      if (spec.manualSelector === true) errs.push(notSupported(at(path, 'spec.manualSelector'), true, ['nil', 'false']));
      return errs;
    },
  },
);

// ---- CronJob ---------------------------------------------------------------------------------------

const CONCURRENCY_POLICIES = ['Allow', 'Forbid', 'Replace'];

export const CronJobSpec: StructType = struct(
  `${BATCH}.CronJobSpec`,
  'When a CronJob runs and what it creates.',
  {
    schedule: field(str(), 1, 'Cron schedule: five fields or a descriptor such as @hourly.', { required: true }),
    timeZone: field(str(), 8, 'IANA time zone of the schedule; the controller\'s zone when unset.', { validate: validateTimeZone }),
    startingDeadlineSeconds: field(int64(), 2, 'Seconds after a missed run during which it may still start.', { validate: nonNegative }),
    concurrencyPolicy: field(str(), 3, 'Allow (the default), Forbid or Replace concurrent runs.', { default: 'Allow' }),
    suspend: field(bool(), 4, 'True stops future runs; defaults to false.', { default: false }),
    jobTemplate: field(ref(() => JobTemplateSpec), 5, 'The Job created at each run.', { required: true, default: {} }),
    successfulJobsHistoryLimit: field(int32(), 6, 'Successful Jobs kept; defaults to 3.', { default: 3, validate: nonNegative }),
    failedJobsHistoryLimit: field(int32(), 7, 'Failed Jobs kept; defaults to 1.', { default: 1, validate: nonNegative }),
  },
  {
    // An empty policy is defaulted like an absent one.
    defaults: (spec) => {
      if (!spec.concurrencyPolicy) spec.concurrencyPolicy = 'Allow';
    },
    validate: (spec, path) => {
      const errs = validateSchedule(spec.schedule, at(path, 'schedule'));
      const policy = spec.concurrencyPolicy ?? '';
      if (policy === '') errs.push(required(at(path, 'concurrencyPolicy'), ''));
      else if (!CONCURRENCY_POLICIES.includes(policy as string)) errs.push(notSupported(at(path, 'concurrencyPolicy'), policy, CONCURRENCY_POLICIES));
      return errs;
    },
  },
);

export const CronJobStatus: StructType = struct(`${BATCH}.CronJobStatus`, 'Observed state of a CronJob.', {
  active: field(list(ref(() => ObjectReference), { listType: 'atomic' }), 1, 'Jobs currently running.'),
  lastScheduleTime: field(time(), 4, 'When a Job was last scheduled.'),
  lastSuccessfulTime: field(time(), 5, 'When a Job last completed successfully.'),
});

export const CronJob: StructType = struct(
  `${BATCH}.CronJob`,
  'Creates Jobs on a repeating schedule.',
  {
    ...typeMeta,
    metadata: field(ref(() => ObjectMeta), 1, 'Standard object metadata.'),
    spec: field(ref(() => CronJobSpec), 2, 'Schedule and job template.', { default: {} }),
    status: field(ref(() => CronJobStatus), 3, 'Observed state, written by the controller.', { default: {} }),
  },
  { gvk: [{ group: 'batch', version: 'v1', kind: 'CronJob' }] },
);
