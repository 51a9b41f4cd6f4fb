// The CronJob controller as a user sees it, with a clock the test moves: Jobs appear at scheduled
// times with Kubernetes' names and annotations, concurrency policies and history limits apply, and
// status/events follow. Jobs are finished by writing their status as the Job controller would.
import { afterEach, describe, expect, it } from 'vitest';
import { cronJobController } from '../../shared/controllers/batch/cronjob.js';
import { jobController } from '../../shared/controllers/batch/job.js';
import { jobNameFor, mostRecentScheduleTime, nextScheduleDelay, parseSchedule, rfc1123z, rfc3339InZone } from '../../shared/controllers/batch/cron-schedule.js';
import { startHarness, type Harness } from './harness.js';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

const MINUTE = 60_000;
let now = Date.now();
const clock = () => new Date(now);

async function start(withJobController = false): Promise<Harness> {
  now = Date.now();
  h = await startHarness(withJobController ? [cronJobController(), jobController()] : [cronJobController()], { clock });
  return h;
}

const jobTemplate = {
  metadata: { labels: { team: 'batch' }, annotations: { note: 'nightly' } },
  spec: { template: { spec: { restartPolicy: 'Never', containers: [{ name: 'work', image: 'busybox' }] } } },
};

/** Creates the CronJob and returns its creation time (the start of its schedule). */
async function createCronJob(name: string, spec: Record<string, unknown>): Promise<number> {
  const cj = await h!.client.create('batch/cronjobs', { metadata: { name, namespace: 'default' }, spec: { jobTemplate, ...spec } });
  return Date.parse(cj.metadata.creationTimestamp!);
}

/** Moves the clock and wakes the controller, as its requeue timer would at that time. */
async function at(ms: number, name: string): Promise<void> {
  now = ms;
  h!.manager.enqueue('cronjob', { resource: 'batch/cronjobs', namespace: 'default', name });
  await h!.settle();
}

const nextMinute = (ms: number) => Math.floor(ms / MINUTE) * MINUTE + MINUTE;
const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d+Z$/, 'Z');
const cronStatus = async (name: string) => ((await h!.reader.get('batch/cronjobs', 'default', name))!.status ?? {}) as Record<string, any>;
const jobNames = async () => (await h!.reader.list('batch/jobs', { namespace: 'default' })).map((j) => j.metadata.name).sort();

async function eventsOf(name: string) {
  const events = await h!.reader.list('core/events', { namespace: 'default' });
  return events.filter((e) => (e.involvedObject as { name?: string }).name === name).map((e) => ({ reason: e.reason, message: e.message, type: e.type }));
}

/** Finish a Job as the Job controller would report it. */
async function finishJob(name: string, type: 'Complete' | 'Failed', finishedAt: number): Promise<void> {
  const job = (await h!.reader.get('batch/jobs', 'default', name))!;
  const stamp = iso(finishedAt);
  const reason = type === 'Complete' ? 'CompletionsReached' : 'BackoffLimitExceeded';
  const conditions = [
    { type: type === 'Complete' ? 'SuccessCriteriaMet' : 'FailureTarget', status: 'True', reason, message: 'done', lastProbeTime: stamp, lastTransitionTime: stamp },
    { type, status: 'True', reason, message: 'done', lastProbeTime: stamp, lastTransitionTime: stamp },
  ];
  await h!.client.updateStatus('batch/jobs', {
    ...job,
    status: { startTime: iso(finishedAt - 1000), conditions, ...(type === 'Complete' ? { completionTime: stamp, succeeded: 1 } : { failed: 1 }), ready: 0, terminating: 0, uncountedTerminatedPods: {} },
  });
  await h!.settle();
}

describe('cron schedule helpers', () => {
  it('finds the latest due time, counts missed ones and the delay to the next', () => {
    const hourly = parseSchedule('@hourly', 'UTC');
    const created = Date.UTC(2024, 4, 1, 10, 20);
    const state = { creationTimestamp: iso(created) };
    const early = mostRecentScheduleTime(state, new Date(Date.UTC(2024, 4, 1, 10, 59)), hourly, true);
    expect(early.missed).toBe('none');
    expect(early.mostRecent).toBeUndefined();
    expect(mostRecentScheduleTime(state, new Date(Date.UTC(2024, 4, 1, 11, 30)), hourly, true).mostRecent).toEqual(new Date(Date.UTC(2024, 4, 1, 11)));
    const late = mostRecentScheduleTime(state, new Date(Date.UTC(2024, 4, 1, 15, 5)), hourly, true);
    expect(late).toMatchObject({ missed: 'few', mostRecent: new Date(Date.UTC(2024, 4, 1, 15)) });
    expect(mostRecentScheduleTime(state, new Date(Date.UTC(2024, 4, 9, 15, 5)), hourly, true).missed).toBe('many');
    // Handled 11:00 at 11:00:05: look again at 12:00 plus 100 ms.
    expect(nextScheduleDelay({ ...state, lastScheduleTime: iso(Date.UTC(2024, 4, 1, 11)) }, new Date(Date.UTC(2024, 4, 1, 11, 0, 5)), hourly)).toBe(60 * MINUTE - 5000 + 100);
    expect(mostRecentScheduleTime(state, new Date(Date.UTC(2024, 4, 1, 12)), parseSchedule('59 23 31 2 *', 'UTC'), true).error).toBe('time difference between two schedules is less than 1 second');
  });

  it('writes scheduled times as Kubernetes does', () => {
    const t = new Date(Date.UTC(2024, 6, 1, 13, 0));
    expect(jobNameFor('backup', t)).toBe(`backup-${t.getTime() / MINUTE}`);
    expect(rfc3339InZone(t, 'UTC')).toBe('2024-07-01T13:00:00Z');
    expect(rfc3339InZone(t, 'America/New_York')).toBe('2024-07-01T09:00:00-04:00');
    expect(rfc3339InZone(new Date(Date.UTC(2024, 0, 1, 14)), 'America/New_York')).toBe('2024-01-01T09:00:00-05:00');
    expect(rfc3339InZone(t, 'Asia/Kolkata')).toBe('2024-07-01T18:30:00+05:30');
    expect(rfc1123z(t)).toBe('Mon, 01 Jul 2024 13:00:00 +0000');
    // Wall-clock schedules follow the zone's daylight saving time.
    const nine = parseSchedule('0 9 * * *', 'America/New_York');
    expect(nine.next(new Date(Date.UTC(2024, 6, 1)))).toEqual(new Date(Date.UTC(2024, 6, 1, 13)));
    expect(nine.next(new Date(Date.UTC(2024, 0, 1)))).toEqual(new Date(Date.UTC(2024, 0, 1, 14)));
  });
});

describe('cronjob controller', () => {
  it('creates a Job at each scheduled time and tracks it in status', async () => {
    await start();
    const created = await createCronJob('tick', { schedule: '* * * * *' });
    const t1 = nextMinute(created);
    await at(t1 - 1000, 'tick');
    expect(await jobNames()).toEqual([]);

    await at(t1 + 5000, 'tick');
    const name = `tick-${t1 / MINUTE}`;
    const job = await h!.waitFor(() => h!.reader.get('batch/jobs', 'default', name), 5000, 'first job');
    const cj = (await h!.reader.get('batch/cronjobs', 'default', 'tick'))!;
    expect(job.metadata.annotations).toEqual({ note: 'nightly', 'batch.kubernetes.io/cronjob-scheduled-timestamp': iso(t1) });
    expect(job.metadata.labels).toEqual({ team: 'batch' });
    expect(job.metadata.ownerReferences).toEqual([{ apiVersion: 'batch/v1', kind: 'CronJob', name: 'tick', uid: cj.metadata.uid, controller: true, blockOwnerDeletion: true }]);
    const status = await cronStatus('tick');
    expect(status.lastScheduleTime).toBe(iso(t1));
    expect(status.active).toEqual([{ kind: 'Job', namespace: 'default', name, uid: job.metadata.uid, apiVersion: 'batch/v1', resourceVersion: job.metadata.resourceVersion }]);
    expect(await eventsOf('tick')).toContainEqual({ reason: 'SuccessfulCreate', message: `Created job ${name}`, type: 'Normal' });
    // The same scheduled time is never run twice.
    await at(t1 + 30_000, 'tick');
    expect(await jobNames()).toEqual([name]);

    await finishJob(name, 'Complete', t1 + 20_000);
    await h!.waitFor(async () => !(await cronStatus('tick')).active, 5000, 'active cleared');
    expect((await cronStatus('tick')).lastSuccessfulTime).toBe(iso(t1 + 20_000));
    expect(await eventsOf('tick')).toContainEqual({ reason: 'SawCompletedJob', message: `Saw completed job: ${name}, condition: Complete`, type: 'Normal' });

    const t2 = t1 + MINUTE;
    await at(t2 + 1000, 'tick');
    expect(await jobNames()).toEqual([name, `tick-${t2 / MINUTE}`].sort());
    expect((await cronStatus('tick')).lastScheduleTime).toBe(iso(t2));
  });

  it('skips a run while one is active with Forbid, and replaces it with Replace', async () => {
    await start();
    const created = await createCronJob('forbid', { schedule: '* * * * *', concurrencyPolicy: 'Forbid' });
    const t1 = nextMinute(Math.max(created, await createCronJob('replace', { schedule: '* * * * *', concurrencyPolicy: 'Replace' })));
    await at(t1 + 1000, 'forbid');
    await at(t1 + 1000, 'replace');
    expect(await jobNames()).toEqual([`forbid-${t1 / MINUTE}`, `replace-${t1 / MINUTE}`]);

    const t2 = t1 + MINUTE;
    await at(t2 + 1000, 'forbid');
    await at(t2 + 1000, 'replace');
    expect(await jobNames()).toEqual([`forbid-${t1 / MINUTE}`, `replace-${t2 / MINUTE}`]);
    expect(await eventsOf('forbid')).toContainEqual({ reason: 'JobAlreadyActive', message: 'Not starting job because prior execution is running and concurrency policy is Forbid', type: 'Normal' });
    expect(await eventsOf('replace')).toContainEqual({ reason: 'SuccessfulDelete', message: `Deleted job replace-${t1 / MINUTE}`, type: 'Normal' });
    expect((await cronStatus('replace')).active.map((a: { name: string }) => a.name)).toEqual([`replace-${t2 / MINUTE}`]);
    expect((await cronStatus('forbid')).lastScheduleTime).toBe(iso(t1));
  });

  it('keeps only the configured number of finished Jobs', async () => {
    await start();
    const created = await createCronJob('hist', { schedule: '* * * * *', successfulJobsHistoryLimit: 1, failedJobsHistoryLimit: 1 });
    const t = nextMinute(created);
    const names = [0, 1, 2, 3].map((i) => `hist-${(t + i * MINUTE) / MINUTE}`);
    for (const [i, outcome] of (['Complete', 'Complete', 'Failed', 'Failed'] as const).entries()) {
      await at(t + i * MINUTE + 1000, 'hist');
      await finishJob(names[i], outcome, t + i * MINUTE + 30_000);
    }
    await h!.waitFor(async () => (await jobNames()).length === 2, 5000, 'history trimmed');
    expect(await jobNames()).toEqual([names[1], names[3]]);
    const reasons = (await eventsOf('hist')).filter((e) => e.reason === 'SuccessfulDelete').map((e) => e.message);
    expect(reasons.sort()).toEqual([`Deleted job ${names[0]}`, `Deleted job ${names[2]}`]);
  });

  it('reads the schedule in spec.timeZone', async () => {
    await start();
    const created = await createCronJob('tokyo', { schedule: '0 9 * * *', timeZone: 'Asia/Tokyo' });
    // 09:00 in Tokyo is midnight UTC.
    const midnight = Math.floor(created / 86_400_000) * 86_400_000 + 86_400_000;
    await at(midnight - MINUTE, 'tokyo');
    expect(await jobNames()).toEqual([]);
    await at(midnight + 2000, 'tokyo');
    const job = await h!.waitFor(() => h!.reader.get('batch/jobs', 'default', `tokyo-${midnight / MINUTE}`), 5000, 'tokyo job');
    const day = new Date(midnight).toISOString().slice(0, 10);
    expect(job.metadata.annotations!['batch.kubernetes.io/cronjob-scheduled-timestamp']).toBe(`${day}T09:00:00+09:00`);
    expect((await cronStatus('tokyo')).lastScheduleTime).toBe(iso(midnight));
  });

  it('leaves runs missed by more than startingDeadlineSeconds and warns after too many misses', async () => {
    await start();
    const created = await createCronJob('late', { schedule: '* * * * *', startingDeadlineSeconds: 30 });
    const t1 = nextMinute(created);
    await at(t1 + 45_000, 'late');
    expect(await jobNames()).toEqual([]);
    await at(t1 + MINUTE + 10_000, 'late');
    expect(await jobNames()).toEqual([`late-${(t1 + MINUTE) / MINUTE}`]);

    const created2 = await createCronJob('wedged', { schedule: '* * * * *' });
    const hoursLater = nextMinute(created2) + 150 * MINUTE + 5000;
    await at(hoursLater, 'wedged');
    expect(await jobNames()).toContain(`wedged-${Math.floor(hoursLater / MINUTE)}`);
    expect(await eventsOf('wedged')).toContainEqual({
      reason: 'TooManyMissedTimes',
      message: 'too many missed start times. Set or decrease .spec.startingDeadlineSeconds or check clock skew',
      type: 'Warning',
    });
  });

  it('hands its Job to the Job controller and sees it complete', async () => {
    await start(true);
    const created = await createCronJob('report', { schedule: '* * * * *' });
    const t1 = nextMinute(created);
    await at(t1 + 1000, 'report');
    const name = `report-${t1 / MINUTE}`;
    const [pod] = await h!.waitFor(async () => {
      const pods = await h!.reader.list('core/pods', { namespace: 'default', labels: { 'batch.kubernetes.io/job-name': name } });
      return pods.length ? pods : undefined;
    }, 5000, 'pod of the scheduled job');
    expect(pod.metadata.ownerReferences?.[0]).toMatchObject({ kind: 'Job', name });
    await h!.client.patch('core/pods', 'default', pod.metadata.name!, 'merge', { status: { phase: 'Succeeded' } }, { subresource: 'status' });
    await h!.waitFor(async () => (await cronStatus('report')).lastSuccessfulTime, 5000, 'lastSuccessfulTime');
    const status = await cronStatus('report');
    expect(status.active).toBeUndefined();
    expect(await eventsOf('report')).toContainEqual({ reason: 'SawCompletedJob', message: `Saw completed job: ${name}, condition: Complete`, type: 'Normal' });
  });

  it('starts nothing while suspended and catches up on resume', async () => {
    await start();
    const created = await createCronJob('held', { schedule: '*/5 * * * *', suspend: true });
    const t = Math.floor(created / (5 * MINUTE)) * 5 * MINUTE + 5 * MINUTE;
    await at(t + 1000, 'held');
    expect(await jobNames()).toEqual([]);
    await h!.client.patch('batch/cronjobs', 'default', 'held', 'merge', { spec: { suspend: false } });
    await h!.waitFor(async () => (await jobNames()).includes(`held-${t / MINUTE}`), 5000, 'job after resume');
  });
});
