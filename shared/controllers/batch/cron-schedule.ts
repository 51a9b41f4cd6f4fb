// Time arithmetic of the CronJob controller (pkg/controller/cronjob/utils.go): which scheduled time
// is due, how many were missed, when to look again, and how scheduled times are written (Job
// names in minutes since the epoch, RFC 3339 in the CronJob's zone, RFC 1123 in events). Cron
// expressions themselves are parsed by the API's robfig/cron-compatible parser.
import { parseCronSchedule, type CronSchedule } from '../../api/types/batch.js';

export { CronParseError, isKnownTimeZone } from '../../api/types/batch.js';

/** A parsed schedule bound to the zone it is read in (a TZ= prefix in the expression wins). */
export interface ZonedSchedule {
  next(after: Date): Date | undefined;
}

export function parseSchedule(expression: string, timeZone: string): ZonedSchedule {
  const schedule: CronSchedule = parseCronSchedule(expression);
  return { next: (after) => schedule.next(after, timeZone) };
}

export type Missed = 'none' | 'few' | 'many';

export interface ScheduleState {
  creationTimestamp: string;
  lastScheduleTime?: string;
  startingDeadlineSeconds?: number;
}

export interface MostRecent {
  /** lastScheduleTime, else the creation time (moved up to the starting deadline when asked). */
  earliest: Date;
  /** The latest scheduled time not after now, if any since `earliest`. */
  mostRecent?: Date;
  missed: Missed;
  error?: string;
}

/**
 * The latest scheduled time in (earliest, now], found without walking every missed time: the gap
 * between the first two times after `earliest` estimates how many were missed, and the walk starts
 * just before the estimate. More than 100 missed counts as "many".
 */
export function mostRecentScheduleTime(state: ScheduleState, now: Date, schedule: ZonedSchedule, withStartingDeadline: boolean): MostRecent {
  let earliest = new Date(state.lastScheduleTime ?? state.creationTimestamp);
  if (withStartingDeadline && state.startingDeadlineSeconds != null) {
    const deadline = now.getTime() - state.startingDeadlineSeconds * 1000;
    if (deadline > earliest.getTime()) earliest = new Date(deadline);
  }
  const t1 = schedule.next(earliest);
  const t2 = t1 && schedule.next(t1);
  if (t1 && now < t1) return { earliest, missed: 'none' };
  if (t1 && t2 && now < t2) return { earliest, mostRecent: t1, missed: 'none' };
  const between = t1 && t2 ? Math.round((t2.getTime() - t1.getTime()) / 1000) : 0;
  if (!t1 || between < 1) return { earliest, missed: 'none', error: 'time difference between two schedules is less than 1 second' };
  const elapsed = Math.trunc((now.getTime() - t1.getTime()) / 1000);
  const missedCount = Math.trunc(elapsed / between) + 1;
  let mostRecent: Date | undefined;
  for (let t = schedule.next(new Date(t1.getTime() + (missedCount - 2) * between * 1000)); t && t <= now; t = schedule.next(t)) mostRecent = t;
  const missed: Missed = missedCount > 100 ? 'many' : missedCount > 0 ? 'few' : 'none';
  return { earliest, mostRecent, missed };
}

/** Milliseconds until the next scheduled time after the last one handled, plus 100 ms for clock skew. */
export function nextScheduleDelay(state: ScheduleState, now: Date, schedule: ZonedSchedule): number {
  const r = mostRecentScheduleTime(state, now, schedule, false);
  let from: Date;
  if (r.error) from = now;
  else from = r.mostRecent ?? (r.missed === 'none' ? r.earliest : now);
  const next = schedule.next(from);
  // A schedule with no next time is looked at again in a day rather than never.
  return next ? next.getTime() + 100 - now.getTime() : 86_400_000;
}

/** "<cronjob>-<scheduled time in minutes since the epoch>": the same run always gets the same name. */
export function jobNameFor(cronJobName: string, scheduled: Date): string {
  return `${cronJobName}-${Math.floor(scheduled.getTime() / 60_000)}`;
}

const pad = (n: number, width = 2) => String(n).padStart(width, '0');

/** Offset of `timeZone` from UTC at `at`, in minutes. */
function offsetMinutes(at: Date, timeZone: string): number {
  if (timeZone === 'UTC' || timeZone === '') return 0;
  const parts: Record<string, number> = {};
  const f = new Intl.DateTimeFormat('en-US', { timeZone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric' });
  for (const p of f.formatToParts(at)) if (p.type !== 'literal') parts[p.type] = Number(p.value);
  const wall = Date.UTC(parts.year, parts.month - 1, parts.day, parts.hour, parts.minute, parts.second);
  return Math.round((wall - Math.floor(at.getTime() / 1000) * 1000) / 60_000);
}

/** RFC 3339 as Go writes it in a zone: "2024-05-01T09:00:00+09:00", or "...Z" at offset zero. */
export function rfc3339InZone(at: Date, timeZone: string): string {
  const offset = offsetMinutes(at, timeZone);
  const w = new Date(Math.floor(at.getTime() / 1000) * 1000 + offset * 60_000);
  const date = `${pad(w.getUTCFullYear(), 4)}-${pad(w.getUTCMonth() + 1)}-${pad(w.getUTCDate())}T${pad(w.getUTCHours())}:${pad(w.getUTCMinutes())}:${pad(w.getUTCSeconds())}`;
  if (offset === 0) return `${date}Z`;
  const abs = Math.abs(offset);
  return `${date}${offset < 0 ? '-' : '+'}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`;
}

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** Go's time.RFC1123Z in UTC: "Wed, 01 May 2024 09:00:00 +0000". */
export function rfc1123z(at: Date): string {
  return `${DAYS[at.getUTCDay()]}, ${pad(at.getUTCDate())} ${MONTHS[at.getUTCMonth()]} ${pad(at.getUTCFullYear(), 4)} ${pad(at.getUTCHours())}:${pad(at.getUTCMinutes())}:${pad(at.getUTCSeconds())} +0000`;
}
