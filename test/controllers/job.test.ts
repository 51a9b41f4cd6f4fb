// The Job and TTL-after-finished controllers as a user sees them: pods appear from the template,
// the test plays the kubelet by finishing pods, and the Job's status, conditions, events and
// `kubectl get jobs` columns follow.
import { afterEach, describe, expect, it } from 'vitest';
import type { KubeObject } from '../../shared/api/kind.js';
import { jobController, ttlAfterFinishedController } from '../../shared/controllers/batch/job.js';
import { JOB_TRACKING_FINALIZER } from '../../shared/controllers/batch/job-pods.js';
import { startHarness, type Harness } from './harness.js';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

/** A clock the test moves by hand (the controllers read time only through it). */
function manualClock() {
  let now = Date.now();
  return { clock: () => new Date(now), advance: (ms: number) => (now += ms), now: () => now };
}

async function start(clock?: () => Date): Promise<Harness> {
  h = await startHarness([jobController(), ttlAfterFinishedController()], { clock });
  return h;
}

const template = { spec: { restartPolicy: 'Never', containers: [{ name: 'work', image: 'busybox' }] } };

async function createJob(name: string, spec: Record<string, unknown>): Promise<KubeObject> {
  return h!.client.create('batch/jobs', { metadata: { name, namespace: 'default' }, spec: { template, ...spec } });
}

const getJob = async (name: string) => (await h!.reader.get('batch/jobs', 'default', name))!;
const statusOf = (job: KubeObject) => (job.status ?? {}) as Record<string, any>;
const condition = (job: KubeObject, type: string) => (statusOf(job).conditions ?? []).find((c: { type: string }) => c.type === type);

async function podsOf(job: string): Promise<KubeObject[]> {
  const pods = await h!.reader.list('core/pods', { namespace: 'default', labels: { 'batch.kubernetes.io/job-name': job } });
  return pods.sort((a, b) => (a.metadata.creationTimestamp! < b.metadata.creationTimestamp! ? -1 : a.metadata.name!.localeCompare(b.metadata.name!)));
}

const running = (pods: KubeObject[]) => pods.filter((p) => !p.metadata.deletionTimestamp && !['Succeeded', 'Failed'].includes((p.status as any)?.phase));

async function waitForPods(job: string, n: number, what = `${n} running pods of ${job}`): Promise<KubeObject[]> {
  return h!.waitFor(async () => {
    const pods = running(await podsOf(job));
    return pods.length === n ? pods : undefined;
  }, 5000, what);
}

/** What the kubelet reports when the pod's only container exits. */
async function finishPod(pod: KubeObject, phase: 'Succeeded' | 'Failed', at = new Date(), exitCode = phase === 'Succeeded' ? 0 : 1): Promise<void> {
  const stamp = at.toISOString().replace(/\.\d+Z$/, 'Z');
  await h!.client.patch('core/pods', 'default', pod.metadata.name!, 'merge', {
    status: {
      phase,
      containerStatuses: [
        {
          name: 'work',
          image: 'busybox',
          imageID: 'docker.io/library/busybox@sha256:0',
          ready: false,
          restartCount: 0,
          state: { terminated: { exitCode, reason: phase === 'Succeeded' ? 'Completed' : 'Error', startedAt: stamp, finishedAt: stamp } },
        },
      ],
    },
  }, { subresource: 'status' });
}

async function eventsOf(name: string): Promise<{ reason: string; message: string; type: string }[]> {
  const events = await h!.reader.list('core/events', { namespace: 'default' });
  return events.filter((e) => (e.involvedObject as { name?: string }).name === name).map((e) => ({ reason: e.reason as string, message: e.message as string, type: e.type as string }));
}

/**
 * Deleted in the foreground: gone, or (with no garbage collector running here to remove its pods
 * first) marked for deletion with the foregroundDeletion finalizer.
 */
async function beingDeleted(name: string): Promise<boolean> {
  const job = await h!.reader.get('batch/jobs', 'default', name);
  return !job || (!!job.metadata.deletionTimestamp && !!job.metadata.finalizers?.includes('foregroundDeletion'));
}

/** The cells `kubectl get jobs` prints. */
function printed(job: KubeObject): Record<string, unknown> {
  const def = h!.registry.kinds.find((k) => k.kind === 'Job')!;
  const cells = def.printer!.cells(job, new Date());
  return Object.fromEntries(def.printer!.columns.map((c, i) => [c.name, cells[i]]));
}

describe('job controller', () => {
  it('runs pods up to parallelism until completions succeed, then completes', async () => {
    await start();
    const job = await createJob('count', { completions: 3, parallelism: 2 });
    const first = await waitForPods('count', 2);
    for (const pod of first) {
      expect(pod.metadata.generateName).toBe('count-');
      expect(pod.metadata.name).toMatch(/^count-[a-z0-9]{5}$/);
      expect(pod.metadata.finalizers).toContain(JOB_TRACKING_FINALIZER);
      expect(pod.metadata.labels).toMatchObject({ 'batch.kubernetes.io/job-name': 'count', 'job-name': 'count', 'controller-uid': job.metadata.uid, 'batch.kubernetes.io/controller-uid': job.metadata.uid });
      expect(pod.metadata.ownerReferences).toEqual([{ apiVersion: 'batch/v1', kind: 'Job', name: 'count', uid: job.metadata.uid, controller: true, blockOwnerDeletion: true }]);
    }
    await h!.waitFor(async () => statusOf(await getJob('count')).active === 2, 5000, 'active 2');
    expect(statusOf(await getJob('count')).startTime).toBeTruthy();

    await finishPod(first[0], 'Succeeded');
    // One success leaves one completion to go: the second pod covers it, nothing new is started.
    const counted = await h!.waitFor(async () => {
      const j = await getJob('count');
      return statusOf(j).succeeded === 1 ? j : undefined;
    }, 5000, 'succeeded 1');
    await h!.settle();
    expect(running(await podsOf('count'))).toHaveLength(2);
    expect(statusOf(await getJob('count'))).toMatchObject({ active: 2, succeeded: 1, ready: 0, terminating: 0 });
    expect(statusOf(await getJob('count')).failed).toBeUndefined();
    expect(statusOf(counted).uncountedTerminatedPods).toEqual({});
    // A counted pod no longer carries the finalizer, so it can be deleted normally.
    expect((await h!.reader.get('core/pods', 'default', first[0].metadata.name!))?.metadata.finalizers ?? []).not.toContain(JOB_TRACKING_FINALIZER);
    expect(printed(await getJob('count'))).toMatchObject({ Status: 'Running', Completions: '1/3' });

    for (const pod of running(await podsOf('count'))) await finishPod(pod, 'Succeeded');
    const done = await h!.waitFor(async () => {
      const j = await getJob('count');
      return condition(j, 'Complete') ? j : undefined;
    }, 5000, 'Complete condition');
    expect(condition(done, 'Complete')).toMatchObject({ status: 'True', reason: 'CompletionsReached', message: 'Reached expected number of succeeded pods' });
    expect(condition(done, 'SuccessCriteriaMet')).toMatchObject({ status: 'True', reason: 'CompletionsReached' });
    expect(statusOf(done)).toMatchObject({ succeeded: 3, ready: 0, terminating: 0, uncountedTerminatedPods: {} });
    // Zero counters are left out, as kube-apiserver serves them.
    expect(statusOf(done).failed).toBeUndefined();
    expect(statusOf(done).active).toBeUndefined();
    expect(statusOf(done).completionTime).toBe(condition(done, 'Complete').lastTransitionTime);
    expect(printed(done)).toMatchObject({ Status: 'Complete', Completions: '3/3' });
    expect(printed(done).Duration).toMatch(/^\d+s$/);
    await h!.settle();
    for (const pod of await podsOf('count')) expect(pod.metadata.finalizers ?? []).not.toContain(JOB_TRACKING_FINALIZER);
    const events = await eventsOf('count');
    expect(events.filter((e) => e.reason === 'SuccessfulCreate')).toHaveLength(3);
    expect(events.find((e) => e.reason === 'SuccessfulCreate')?.message).toMatch(/^Created pod: count-[a-z0-9]{5}$/);
    expect(events).toContainEqual({ reason: 'Completed', message: 'Job completed', type: 'Normal' });
    // Counting happened once per pod even though the Job was reconciled many times.
    expect(statusOf(await getJob('count')).succeeded).toBe(3);
  });

  it('completes a work-queue Job (no completions) once one pod succeeded and the rest finished', async () => {
    await start();
    await createJob('queue', { parallelism: 2 });
    const pods = await waitForPods('queue', 2);
    await finishPod(pods[0], 'Succeeded');
    await h!.waitFor(async () => statusOf(await getJob('queue')).succeeded === 1, 5000, 'one success');
    await h!.settle();
    expect(running(await podsOf('queue'))).toHaveLength(1);
    expect(condition(await getJob('queue'), 'Complete')).toBeUndefined();
    await finishPod(pods[1], 'Succeeded');
    const done = await h!.waitFor(async () => {
      const j = await getJob('queue');
      return condition(j, 'Complete') ? j : undefined;
    }, 5000, 'complete');
    expect(printed(done).Completions).toBe('2/1 of 2');
  });

  it('gives Indexed pods their index and tracks completed indexes', async () => {
    const t = manualClock();
    await start(t.clock);
    await createJob('idx', { completions: 3, parallelism: 3, completionMode: 'Indexed' });
    const pods = await waitForPods('idx', 3);
    const byIndex = new Map(pods.map((p) => [p.metadata.annotations!['batch.kubernetes.io/job-completion-index'], p]));
    expect([...byIndex.keys()].sort()).toEqual(['0', '1', '2']);
    for (const [ix, pod] of byIndex) {
      expect(pod.metadata.labels!['batch.kubernetes.io/job-completion-index']).toBe(ix);
      expect(pod.metadata.generateName).toBe(`idx-${ix}-`);
      expect((pod.spec as any).hostname).toBe(`idx-${ix}`);
      expect((pod.spec as any).containers[0].env).toContainEqual({
        name: 'JOB_COMPLETION_INDEX',
        valueFrom: { fieldRef: { apiVersion: 'v1', fieldPath: "metadata.labels['batch.kubernetes.io/job-completion-index']" } },
      });
    }
    await finishPod(byIndex.get('1')!, 'Succeeded', t.clock());
    await finishPod(byIndex.get('0')!, 'Failed', t.clock());
    await h!.waitFor(async () => {
      const s = statusOf(await getJob('idx'));
      return s.completedIndexes === '1' && s.failed === 1;
    }, 5000, 'index 1 completed, one failure');
    // The failed index is retried after the back-off delay, with the same index.
    t.advance(11_000);
    h!.manager.enqueue('job', { resource: 'batch/jobs', namespace: 'default', name: 'idx' });
    const retry = await h!.waitFor(async () => running(await podsOf('idx')).find((p) => p.metadata.annotations!['batch.kubernetes.io/job-completion-index'] === '0'), 5000, 'index 0 recreated');
    expect(retry.metadata.name).not.toBe(byIndex.get('0')!.metadata.name);
    await finishPod(retry, 'Succeeded', t.clock());
    await finishPod(byIndex.get('2')!, 'Succeeded', t.clock());
    const done = await h!.waitFor(async () => {
      const j = await getJob('idx');
      return condition(j, 'Complete') ? j : undefined;
    }, 5000, 'complete');
    expect(statusOf(done)).toMatchObject({ completedIndexes: '0-2', succeeded: 3, failed: 1 });
  });

  it('replaces failed pods after an exponential back-off and fails the Job past backoffLimit', async () => {
    const t = manualClock();
    await start(t.clock);
    await createJob('flaky', { backoffLimit: 1 });
    const [first] = await waitForPods('flaky', 1);
    await finishPod(first, 'Failed', t.clock());
    await h!.waitFor(async () => statusOf(await getJob('flaky')).failed === 1, 5000, 'one failure');
    await h!.settle();
    // 10 s back-off: nothing replaces the pod yet.
    t.advance(5_000);
    h!.manager.enqueue('job', { resource: 'batch/jobs', namespace: 'default', name: 'flaky' });
    await h!.settle();
    expect(running(await podsOf('flaky'))).toHaveLength(0);
    t.advance(6_000);
    h!.manager.enqueue('job', { resource: 'batch/jobs', namespace: 'default', name: 'flaky' });
    const [second] = await waitForPods('flaky', 1, 'replacement pod');
    await finishPod(second, 'Failed', t.clock());
    const failed = await h!.waitFor(async () => {
      const j = await getJob('flaky');
      return condition(j, 'Failed') ? j : undefined;
    }, 5000, 'Failed condition');
    expect(condition(failed, 'Failed')).toMatchObject({ status: 'True', reason: 'BackoffLimitExceeded', message: 'Job has reached the specified backoff limit' });
    expect(condition(failed, 'FailureTarget')).toMatchObject({ status: 'True', reason: 'BackoffLimitExceeded' });
    expect(statusOf(failed)).toMatchObject({ failed: 2, ready: 0 });
    expect(statusOf(failed).active).toBeUndefined();
    expect(statusOf(failed).completionTime).toBeUndefined();
    expect(printed(failed)).toMatchObject({ Status: 'Failed', Completions: '0/1' });
    expect(await eventsOf('flaky')).toContainEqual({ reason: 'BackoffLimitExceeded', message: 'Job has reached the specified backoff limit', type: 'Warning' });
    await h!.settle();
    expect(running(await podsOf('flaky'))).toHaveLength(0);
  });

  it('ignores or fails fast on pod failures as the podFailurePolicy says', async () => {
    const t = manualClock();
    await start(t.clock);
    const rules = [
      { action: 'Ignore', onExitCodes: { operator: 'In', values: [1] } },
      { action: 'FailJob', onExitCodes: { containerName: 'work', operator: 'In', values: [42] } },
    ];
    await createJob('policy', { backoffLimit: 0, podFailurePolicy: { rules } });
    const [first] = await waitForPods('policy', 1);
    await finishPod(first, 'Failed', t.clock(), 1);
    await h!.waitFor(async () => !(await h!.reader.get('core/pods', 'default', first.metadata.name!))?.metadata.finalizers?.length, 5000, 'ignored failure released');
    await h!.settle();
    expect(statusOf(await getJob('policy')).failed).toBeUndefined();
    expect(condition(await getJob('policy'), 'Failed')).toBeUndefined();
    t.advance(11_000);
    h!.manager.enqueue('job', { resource: 'batch/jobs', namespace: 'default', name: 'policy' });
    const [second] = await waitForPods('policy', 1, 'replacement pod');
    await finishPod(second, 'Failed', t.clock(), 42);
    const failed = await h!.waitFor(async () => {
      const j = await getJob('policy');
      return condition(j, 'Failed') ? j : undefined;
    }, 5000, 'Failed condition');
    expect(condition(failed, 'Failed')).toMatchObject({
      reason: 'PodFailurePolicy',
      message: `Container work for pod default/${second.metadata.name} failed with exit code 42 matching FailJob rule at index 1`,
    });
    expect(statusOf(failed).failed).toBe(1);
  });

  it('fails the Job and deletes its running pods past activeDeadlineSeconds', async () => {
    const t = manualClock();
    await start(t.clock);
    await createJob('slow', { activeDeadlineSeconds: 30, parallelism: 2, completions: 4 });
    await waitForPods('slow', 2);
    t.advance(31_000);
    h!.manager.enqueue('job', { resource: 'batch/jobs', namespace: 'default', name: 'slow' });
    const failed = await h!.waitFor(async () => {
      const j = await getJob('slow');
      return condition(j, 'Failed') ? j : undefined;
    }, 5000, 'Failed condition');
    expect(condition(failed, 'Failed')).toMatchObject({ reason: 'DeadlineExceeded', message: 'Job was active longer than specified deadline' });
    expect(statusOf(failed)).toMatchObject({ failed: 2, terminating: 0 });
    expect(statusOf(failed).active).toBeUndefined();
    expect(await podsOf('slow')).toHaveLength(0);
    const events = await eventsOf('slow');
    expect(events).toContainEqual({ reason: 'DeadlineExceeded', message: 'Job was active longer than specified deadline', type: 'Warning' });
    expect(events.filter((e) => e.reason === 'SuccessfulDelete')).toHaveLength(2);
  });

  it('creates no pods while suspended, starts on resume and stops them when suspended again', async () => {
    await start();
    await createJob('paused', { suspend: true, parallelism: 2, completions: 2 });
    const suspended = await h!.waitFor(async () => {
      const j = await getJob('paused');
      return condition(j, 'Suspended') ? j : undefined;
    }, 5000, 'Suspended condition');
    expect(condition(suspended, 'Suspended')).toMatchObject({ status: 'True', reason: 'JobSuspended', message: 'Job suspended' });
    expect(statusOf(suspended).startTime).toBeUndefined();
    expect(printed(suspended).Status).toBe('Suspended');
    await h!.settle();
    expect(await podsOf('paused')).toHaveLength(0);

    await h!.client.patch('batch/jobs', 'default', 'paused', 'merge', { spec: { suspend: false } });
    await waitForPods('paused', 2);
    const resumed = await h!.waitFor(async () => {
      const j = await getJob('paused');
      return condition(j, 'Suspended')?.status === 'False' ? j : undefined;
    }, 5000, 'resumed');
    expect(condition(resumed, 'Suspended')).toMatchObject({ reason: 'JobResumed', message: 'Job resumed' });
    expect(statusOf(resumed).startTime).toBeTruthy();

    await h!.client.patch('batch/jobs', 'default', 'paused', 'merge', { spec: { suspend: true } });
    await h!.waitFor(async () => (await podsOf('paused')).length === 0, 5000, 'pods deleted');
    const again = await h!.waitFor(async () => {
      const j = await getJob('paused');
      return condition(j, 'Suspended')?.status === 'True' && !statusOf(j).active ? j : undefined;
    }, 5000, 'suspended again');
    // Pods stopped by a suspension are not failures.
    expect(statusOf(again).failed ?? 0).toBe(0);
    const reasons = (await eventsOf('paused')).map((e) => e.reason);
    expect(reasons).toEqual(expect.arrayContaining(['Suspended', 'Resumed', 'SuccessfulDelete']));
  });

  it('lets go of the pods of a deleted Job', async () => {
    await start();
    await createJob('dropped', { parallelism: 2, completions: 2 });
    const pods = await waitForPods('dropped', 2);
    await h!.client.delete('batch/jobs', 'default', 'dropped', { propagationPolicy: 'Background' });
    for (const pod of pods) {
      await h!.waitFor(async () => !(await h!.reader.get('core/pods', 'default', pod.metadata.name!))?.metadata.finalizers?.includes(JOB_TRACKING_FINALIZER), 5000, 'finalizer removed');
    }
  });

  it('deletes a finished Job once ttlSecondsAfterFinished has passed', async () => {
    const t = manualClock();
    await start(t.clock);
    await createJob('brief', { ttlSecondsAfterFinished: 60 });
    const [pod] = await waitForPods('brief', 1);
    await finishPod(pod, 'Succeeded', t.clock());
    await h!.waitFor(async () => condition(await getJob('brief'), 'Complete'), 5000, 'complete');
    await h!.settle();
    t.advance(30_000);
    h!.manager.enqueue('ttl-after-finished', { resource: 'batch/jobs', namespace: 'default', name: 'brief' });
    await h!.settle();
    expect(await h!.reader.get('batch/jobs', 'default', 'brief')).toBeTruthy();
    t.advance(31_000);
    h!.manager.enqueue('ttl-after-finished', { resource: 'batch/jobs', namespace: 'default', name: 'brief' });
    await h!.waitFor(async () => beingDeleted('brief'), 5000, 'job deleted');
  });

  it('deletes a Job with ttlSecondsAfterFinished 0 as soon as it fails', async () => {
    await start();
    await createJob('gone', { ttlSecondsAfterFinished: 0, backoffLimit: 0 });
    const [pod] = await waitForPods('gone', 1);
    await finishPod(pod, 'Failed');
    await h!.waitFor(async () => beingDeleted('gone'), 5000, 'job deleted');
  });
});
