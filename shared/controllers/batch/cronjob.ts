// The CronJob controller (batch/v1), after Kubernetes' pkg/controller/cronjob (controller v2):
// creates a Job named <cronjob>-<minutes since epoch> for the latest due scheduled time, honours
// suspend, startingDeadlineSeconds, concurrencyPolicy and the history limits, keeps status.active,
// lastScheduleTime and lastSuccessfulTime, and asks to be woken at the next scheduled time.
import type { KubeObject } from '../../api/kind.js';
import { isAlreadyExists } from '../runtime/client.js';
import {
  CronParseError,
  isKnownTimeZone,
  jobNameFor,
  mostRecentScheduleTime,
  nextScheduleDelay,
  parseSchedule,
  rfc1123z,
  rfc3339InZone,
  type ScheduleState,
  type ZonedSchedule,
} from './cron-schedule.js';
import { isNamespaceTerminating } from './job-pod-control.js';
import { finishedType, statusOf as jobStatusOf } from './job-status.js';
import { controllerOf, controllerRef, toControllerOwner } from '../runtime/mappers.js';
import { StoreReader, type ObjectReader } from '../runtime/reader.js';
import type { ControllerContext, ControllerDef, ObjectRef } from '../runtime/types.js';

const CRONJOBS = 'batch/cronjobs';
const JOBS = 'batch/jobs';
export const SCHEDULED_TIMESTAMP_ANNOTATION = 'batch.kubernetes.io/cronjob-scheduled-timestamp';

export interface CronJobControllerOptions {
  /** Zone of schedules whose CronJob sets no spec.timeZone (kube-controller-manager's local zone; default UTC). */
  defaultTimeZone?: string;
}

interface CronJobSpec {
  schedule?: string;
  timeZone?: string;
  startingDeadlineSeconds?: number;
  concurrencyPolicy?: string;
  suspend?: boolean;
  jobTemplate?: { metadata?: { labels?: Record<string, string>; annotations?: Record<string, string> }; spec?: unknown };
  successfulJobsHistoryLimit?: number;
  failedJobsHistoryLimit?: number;
}

interface ActiveRef {
  kind?: string;
  namespace?: string;
  name?: string;
  uid?: string;
  apiVersion?: string;
  resourceVersion?: string;
}

interface CronJobStatus {
  active?: ActiveRef[];
  lastScheduleTime?: string;
  lastSuccessfulTime?: string;
}

export function cronJobController(opts: CronJobControllerOptions = {}): ControllerDef {
  const defaultZone = opts.defaultTimeZone ?? 'UTC';
  return {
    name: 'cronjob',
    resources: [CRONJOBS],
    watches: [{ resource: JOBS, map: toControllerOwner('CronJob', CRONJOBS) }],
    workers: 2,
    setup: (ctx) => {
      const direct = new StoreReader(ctx.store);
      return (ref) => syncCronJob({ ctx, direct, defaultZone }, ref);
    },
  };
}

interface Env {
  ctx: ControllerContext;
  /** Uncached reads, for Jobs the cache may not show yet (Kubernetes asks the API server here too). */
  direct: ObjectReader;
  defaultZone: string;
}

/** One pass: status changes collected on a copy and written once at the end. */
interface Pass {
  env: Env;
  cj: KubeObject;
  spec: CronJobSpec;
  status: CronJobStatus;
  changed: boolean;
}

async function syncCronJob(env: Env, ref: ObjectRef): Promise<{ requeueAfter?: number } | void> {
  const shared = await env.ctx.reader.get(CRONJOBS, ref.namespace, ref.name);
  if (!shared) return;
  const cj = structuredClone(shared);
  cj.apiVersion = 'batch/v1';
  cj.kind = 'CronJob';
  const p: Pass = { env, cj, spec: (cj.spec ?? {}) as CronJobSpec, status: (cj.status ??= {}) as CronJobStatus, changed: false };
  const jobs = (await env.ctx.reader.list(JOBS, { namespace: ref.namespace })).filter((j) => {
    const owner = controllerOf(j, 'CronJob');
    return owner?.name === ref.name;
  });

  await cleanupFinishedJobs(p, jobs);
  let requeueAfter: number | undefined;
  let failure: unknown;
  try {
    requeueAfter = await schedule(p, jobs);
  } catch (e) {
    failure = e;
  }
  if (p.changed) {
    if (p.status.active && !p.status.active.length) delete p.status.active;
    await env.ctx.client.updateStatus(CRONJOBS, cj);
  }
  if (requeueAfter !== undefined) return { requeueAfter: Math.max(1, requeueAfter) };
  if (failure) throw failure;
}

const inActive = (p: Pass, uid: string | undefined) => (p.status.active ?? []).some((a) => a.uid === uid);

function dropActive(p: Pass, uid: string | undefined): void {
  p.status.active = (p.status.active ?? []).filter((a) => a.uid !== uid);
  p.changed = true;
}

const record = (p: Pass, type: 'Normal' | 'Warning', reason: string, message: string) => p.env.ctx.events.record(p.cj, type, reason, message);

/** Deletes a Job of the CronJob (its pods follow in the background) and forgets it as active. */
async function deleteJob(p: Pass, job: KubeObject): Promise<boolean> {
  try {
    await p.env.ctx.client.delete(JOBS, job.metadata.namespace, job.metadata.name!, { propagationPolicy: 'Background' });
  } catch (e) {
    await record(p, 'Warning', 'FailedDelete', `Deleted job: ${e instanceof Error ? e.message : String(e)}`);
    return false;
  }
  dropActive(p, job.metadata.uid);
  await record(p, 'Normal', 'SuccessfulDelete', `Deleted job ${job.metadata.name}`);
  return true;
}

/** Oldest first by start time (Jobs never started last), then by name. */
function byStartTime(a: KubeObject, b: KubeObject): number {
  const sa = jobStatusOf(a).startTime;
  const sb = jobStatusOf(b).startTime;
  if (!sa !== !sb) return sa ? -1 : 1;
  if (sa && sb && sa !== sb) return Date.parse(sa) - Date.parse(sb);
  return a.metadata.name! < b.metadata.name! ? -1 : a.metadata.name! > b.metadata.name! ? 1 : 0;
}

/** Keeps at most successfulJobsHistoryLimit complete and failedJobsHistoryLimit failed Jobs. */
async function cleanupFinishedJobs(p: Pass, jobs: KubeObject[]): Promise<void> {
  const limits = { Complete: p.spec.successfulJobsHistoryLimit, Failed: p.spec.failedJobsHistoryLimit };
  for (const type of ['Complete', 'Failed'] as const) {
    const limit = limits[type];
    if (limit == null) continue;
    const finished = jobs.filter((j) => finishedType(j) === type).sort(byStartTime);
    for (const job of finished.slice(0, Math.max(0, finished.length - limit))) await deleteJob(p, job);
  }
}

/** Reconciles active Jobs with the status, then starts the Job of the latest due time. Returns when to look again. */
async function schedule(p: Pass, jobs: KubeObject[]): Promise<number | undefined> {
  const { ctx } = p.env;
  const now = ctx.clock();
  const { cj, spec, status } = p;
  const children = new Set<string>();
  for (const job of jobs) {
    const uid = job.metadata.uid!;
    children.add(uid);
    const finished = finishedType(job);
    const found = inActive(p, uid);
    if (!found && !finished) {
      await record(p, 'Warning', 'UnexpectedJob', `Saw a job that the controller did not create or forgot: ${job.metadata.name}`);
    } else if (finished) {
      if (found) {
        dropActive(p, uid);
        await record(p, 'Normal', 'SawCompletedJob', `Saw completed job: ${job.metadata.name}, condition: ${finished}`);
      }
      const completed = jobStatusOf(job).completionTime;
      if (finished === 'Complete' && completed && (!status.lastSuccessfulTime || Date.parse(completed) > Date.parse(status.lastSuccessfulTime))) {
        status.lastSuccessfulTime = completed;
        p.changed = true;
      }
    }
  }
  for (const ref of [...(status.active ?? [])]) {
    if (children.has(ref.uid ?? '')) continue;
    if (await p.env.direct.get(JOBS, ref.namespace ?? cj.metadata.namespace, ref.name ?? '')) continue;
    await record(p, 'Normal', 'MissingJob', `Active job went missing: ${ref.name}`);
    dropActive(p, ref.uid);
  }

  if (cj.metadata.deletionTimestamp) return undefined;
  if (spec.timeZone != null && !isKnownTimeZone(spec.timeZone)) {
    await record(p, 'Warning', 'UnknownTimeZone', `invalid timeZone: ${JSON.stringify(spec.timeZone)}: unknown time zone ${spec.timeZone}`);
    return undefined;
  }
  if (spec.suspend) return undefined;

  const expression = spec.schedule ?? '';
  if (expression.includes('TZ')) {
    await record(
      p,
      'Warning',
      'UnsupportedSchedule',
      `CRON_TZ or TZ used in schedule ${JSON.stringify(expression)} is not officially supported, see https://kubernetes.io/docs/concepts/workloads/controllers/cron-jobs/ for more details`,
    );
  }
  let sched: ZonedSchedule;
  try {
    sched = parseSchedule(expression, spec.timeZone ?? p.env.defaultZone);
  } catch (e) {
    if (!(e instanceof CronParseError)) throw e;
    await record(p, 'Warning', 'UnparseableSchedule', `unparseable schedule: ${JSON.stringify(expression)} : ${e.message}`);
    return undefined;
  }
  const state = (): ScheduleState => ({ creationTimestamp: cj.metadata.creationTimestamp!, lastScheduleTime: status.lastScheduleTime, startingDeadlineSeconds: spec.startingDeadlineSeconds });
  const next = () => nextScheduleDelay(state(), now, sched);

  const due = mostRecentScheduleTime(state(), now, sched, true);
  if (due.error) {
    await record(p, 'Warning', 'InvalidSchedule', `invalid schedule: ${expression} : ${due.error}`);
    return undefined;
  }
  const scheduled = due.mostRecent;
  if (!scheduled || scheduled > now) return next();
  if (due.missed === 'many') {
    await record(p, 'Warning', 'TooManyMissedTimes', 'too many missed start times. Set or decrease .spec.startingDeadlineSeconds or check clock skew');
  }

  if (spec.startingDeadlineSeconds != null && scheduled.getTime() + spec.startingDeadlineSeconds * 1000 < now.getTime()) {
    await record(p, 'Warning', 'MissSchedule', `Missed scheduled time to start a job: ${rfc1123z(scheduled)}`);
    return next();
  }
  const name = jobNameFor(cj.metadata.name!, scheduled);
  const alreadyHandled = (status.active ?? []).some((a) => a.name === name) || (status.lastScheduleTime !== undefined && Date.parse(status.lastScheduleTime) === scheduled.getTime());
  if (alreadyHandled) return next();
  if (spec.concurrencyPolicy === 'Forbid' && (status.active ?? []).length > 0) {
    await record(p, 'Normal', 'JobAlreadyActive', 'Not starting job because prior execution is running and concurrency policy is Forbid');
    return next();
  }
  if (spec.concurrencyPolicy === 'Replace') {
    for (const ref of [...(status.active ?? [])]) {
      const job = await p.env.direct.get(JOBS, ref.namespace ?? cj.metadata.namespace, ref.name ?? '');
      if (!job) {
        await record(p, 'Warning', 'FailedGet', `Get job: jobs.batch "${ref.name}" not found`);
        throw new Error(`job ${ref.namespace}/${ref.name} not found`);
      }
      if (!(await deleteJob(p, job))) throw new Error(`could not replace job ${job.metadata.namespace}/${job.metadata.name}`);
    }
  }

  let job: KubeObject;
  let existed = false;
  try {
    job = await ctx.client.create(JOBS, jobFromTemplate(cj, spec, scheduled, name));
  } catch (e) {
    if (isNamespaceTerminating(e)) throw e;
    if (!isAlreadyExists(e)) {
      await record(p, 'Warning', 'FailedCreate', `Error creating job: ${e instanceof Error ? e.message : String(e)}`);
      throw e;
    }
    // Created on an earlier pass whose status write was lost: adopt it into the status if it is ours.
    const existing = await p.env.direct.get(JOBS, cj.metadata.namespace, name);
    if (!existing || controllerOf(existing, 'CronJob')?.uid !== cj.metadata.uid || inActive(p, existing.metadata.uid)) return undefined;
    job = existing;
    existed = true;
  }
  if (!existed) await record(p, 'Normal', 'SuccessfulCreate', `Created job ${job.metadata.name}`);
  (status.active ??= []).push({ kind: 'Job', namespace: job.metadata.namespace, name: job.metadata.name, uid: job.metadata.uid, apiVersion: 'batch/v1', resourceVersion: job.metadata.resourceVersion });
  status.lastScheduleTime = rfc3339InZone(scheduled, 'UTC');
  p.changed = true;
  return next();
}

/**
 * The Job of one scheduled run: the template's labels, annotations and spec, owned by the CronJob,
 * annotated with the scheduled time in spec.timeZone (UTC when unset, as Kubernetes writes it).
 */
function jobFromTemplate(cj: KubeObject, spec: CronJobSpec, scheduled: Date, name: string): KubeObject {
  const meta = spec.jobTemplate?.metadata ?? {};
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: {
      name,
      namespace: cj.metadata.namespace,
      labels: { ...meta.labels },
      annotations: { ...meta.annotations, [SCHEDULED_TIMESTAMP_ANNOTATION]: rfc3339InZone(scheduled, spec.timeZone ?? 'UTC') },
      ownerReferences: [controllerRef(cj)],
    },
    spec: structuredClone(spec.jobTemplate?.spec ?? {}),
  };
}
