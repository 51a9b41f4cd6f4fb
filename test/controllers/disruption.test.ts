// The disruption controller in the in-process harness: PodDisruptionBudget status from the pods it
// selects and their owners' scale, the DisruptionAllowed condition, its interplay with the
// eviction subresource, expiry of recorded evictions, and stale DisruptionTarget conditions.
import { afterEach, describe, expect, it } from 'vitest';
import type { KubeObject } from '../../shared/api/kind.js';
import { disruptionController } from '../../shared/controllers/policy/disruption.js';
import { EvictionREST } from '../../shared/apiserver/eviction.js';
import { ApiError } from '../../shared/apiserver/errors.js';
import { startHarness, type Harness } from './harness.js';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

const NS = 'default';

async function start(opts: Parameters<typeof disruptionController>[0] = {}) {
  h = await startHarness([disruptionController(opts)]);
  return h;
}

const readyCondition = (ready: boolean) => ({ type: 'Ready', status: ready ? 'True' : 'False', lastTransitionTime: '2024-01-01T00:00:00Z' });

/** A pod as the kubelet would report it: Running, Ready unless told otherwise. */
async function pod(name: string, labels: Record<string, string>, opts: { owner?: KubeObject; ready?: boolean } = {}): Promise<KubeObject> {
  const ownerReferences = opts.owner
    ? [{ apiVersion: opts.owner.apiVersion, kind: opts.owner.kind, name: opts.owner.metadata.name, uid: opts.owner.metadata.uid, controller: true, blockOwnerDeletion: true }]
    : undefined;
  await h!.client.create('core/pods', {
    metadata: { name, namespace: NS, labels, ...(ownerReferences ? { ownerReferences } : {}) },
    spec: { nodeName: 'n1', containers: [{ name: 'app', image: 'nginx' }] },
  });
  return h!.client.patch('core/pods', NS, name, 'merge', { status: { phase: 'Running', conditions: [readyCondition(opts.ready ?? true)] } }, { subresource: 'status' });
}

async function setReady(name: string, ready: boolean) {
  await h!.client.patch('core/pods', NS, name, 'merge', { status: { conditions: [readyCondition(ready)] } }, { subresource: 'status' });
}

async function pdb(name: string, spec: Record<string, unknown>) {
  return h!.client.create('policy/poddisruptionbudgets', { metadata: { name, namespace: NS }, spec });
}

const template = (labels: Record<string, string>) => ({ metadata: { labels }, spec: { containers: [{ name: 'app', image: 'nginx' }] } });

async function replicaSet(name: string, replicas: number, labels: Record<string, string>, owner?: KubeObject) {
  const ownerReferences = owner ? [{ apiVersion: 'apps/v1', kind: owner.kind, name: owner.metadata.name, uid: owner.metadata.uid, controller: true }] : undefined;
  return h!.client.create('apps/replicasets', {
    metadata: { name, namespace: NS, ...(ownerReferences ? { ownerReferences } : {}) },
    spec: { replicas, selector: { matchLabels: labels }, template: template(labels) },
  });
}

async function statusOf(name: string) {
  return (await h!.reader.get('policy/poddisruptionbudgets', NS, name))?.status as Record<string, any> | undefined;
}

/** Wait until the controller has written a status matching `expected`. */
async function waitForStatus(name: string, expected: Record<string, unknown>, what = `status of ${name}`) {
  return h!.waitFor(
    async () => {
      const s = await statusOf(name);
      return s && Object.entries(expected).every(([k, v]) => JSON.stringify(s[k]) === JSON.stringify(v)) ? s : undefined;
    },
    10_000,
    what,
  );
}

async function eventsFor(name: string) {
  return (await h!.reader.list('core/events', { namespace: NS })).filter((e) => (e.involvedObject as { name?: string }).name === name);
}

describe('disruption controller', () => {
  it('computes the status of an integer minAvailable from the selected pods', async () => {
    await start();
    for (const n of ['a-1', 'a-2', 'a-3']) await pod(n, { app: 'a' });
    await pod('other', { app: 'b' });
    await pdb('a', { minAvailable: 2, selector: { matchLabels: { app: 'a' } } });
    const s = await waitForStatus('a', { disruptionsAllowed: 1, currentHealthy: 3, desiredHealthy: 2, expectedPods: 3, observedGeneration: 1 });
    expect(s.conditions).toEqual([{ type: 'DisruptionAllowed', status: 'True', observedGeneration: 1, lastTransitionTime: expect.any(String), reason: 'SufficientPods', message: '' }]);

    // A pod turning unready uses the one allowed disruption up.
    await setReady('a-2', false);
    const after = await waitForStatus('a', { disruptionsAllowed: 0, currentHealthy: 2 });
    expect(after.conditions[0]).toMatchObject({ type: 'DisruptionAllowed', status: 'False', reason: 'InsufficientPods' });
  });

  it('counts maxUnavailable and percentages against the replicas of the pods\' controllers', async () => {
    await start();
    const rs = await replicaSet('web-rs', 4, { app: 'web' });
    for (const n of ['web-1', 'web-2', 'web-3']) await pod(n, { app: 'web' }, { owner: rs });
    await pdb('web', { maxUnavailable: 1, selector: { matchLabels: { app: 'web' } } });
    // 4 expected (the ReplicaSet's replicas), 3 required, 3 healthy: nothing may go.
    await waitForStatus('web', { expectedPods: 4, desiredHealthy: 3, currentHealthy: 3, disruptionsAllowed: 0 });

    const deployment = await h!.client.create('apps/deployments', {
      metadata: { name: 'api', namespace: NS },
      spec: { replicas: 5, selector: { matchLabels: { app: 'api' } }, template: template({ app: 'api' }) },
    });
    const owned = await replicaSet('api-rs', 2, { app: 'api' }, deployment);
    for (const n of ['api-1', 'api-2']) await pod(n, { app: 'api' }, { owner: owned });
    await pdb('api', { minAvailable: '30%', selector: { matchLabels: { app: 'api' } } });
    // The Deployment's 5 replicas count, not its ReplicaSet's 2: 30% of 5 rounds up to 2.
    await waitForStatus('api', { expectedPods: 5, desiredHealthy: 2, currentHealthy: 2, disruptionsAllowed: 0 });
  });

  it('reports pods without a controller, and fails safe when an owner cannot be scaled', async () => {
    await start();
    await pod('lonely', { app: 'lonely' });
    await pdb('lonely', { maxUnavailable: '50%', selector: { matchLabels: { app: 'lonely' } } });
    await waitForStatus('lonely', { expectedPods: 0, currentHealthy: 1, disruptionsAllowed: 0 });
    const unmanaged = await h!.waitFor(async () => (await eventsFor('lonely')).find((e) => e.reason === 'UnmanagedPods'), 5000, 'UnmanagedPods event');
    expect(unmanaged.type).toBe('Warning');
    expect(unmanaged.message).toBe(
      'Pods selected by this PodDisruptionBudget (selector: &LabelSelector{MatchLabels:map[string]string{app: lonely,},MatchExpressions:[]LabelSelectorRequirement{},}) were found to be unmanaged. As a result, the status of the PDB cannot be calculated correctly, which may result in undefined behavior. To account for these pods please set ".spec.minAvailable" field of the PDB to an integer value.',
    );

    const ds = await h!.client.create('apps/daemonsets', { metadata: { name: 'agent', namespace: NS }, spec: { selector: { matchLabels: { app: 'agent' } }, template: template({ app: 'agent' }) } });
    await pod('agent-1', { app: 'agent' }, { owner: ds });
    await pdb('agent', { maxUnavailable: 1, selector: { matchLabels: { app: 'agent' } } });
    const failed = await h!.waitFor(async () => (await statusOf('agent'))?.conditions?.[0], 10_000, 'SyncFailed condition');
    expect(failed).toMatchObject({ type: 'DisruptionAllowed', status: 'False', reason: 'SyncFailed', message: 'daemonsets.apps does not implement the scale subresource' });
    expect((await statusOf('agent'))!.disruptionsAllowed).toBe(0);
    const event = await h!.waitFor(async () => (await eventsFor('agent')).find((e) => e.reason === 'CalculateExpectedPodCountFailed'), 5000, 'event');
    expect(event.message).toBe('Failed to calculate the number of expected pods: daemonsets.apps does not implement the scale subresource');
  });

  it('says when a budget selects no pods', async () => {
    await start();
    await pdb('empty', { minAvailable: 1, selector: { matchLabels: { app: 'none' } } });
    await waitForStatus('empty', { expectedPods: 0, disruptionsAllowed: 0, currentHealthy: 0, desiredHealthy: 1 });
    const e = await h!.waitFor(async () => (await eventsFor('empty')).find((ev) => ev.reason === 'NoPods'), 5000, 'NoPods event');
    expect(e).toMatchObject({ type: 'Normal', message: 'No matching pods found', source: { component: 'controllermanager' } });
  });

  it('works with evictions: the evicted pod stops counting, the next eviction waits until it is gone', async () => {
    await start();
    for (const n of ['db-1', 'db-2', 'db-3']) await pod(n, { app: 'db' });
    await pdb('db', { minAvailable: 2, selector: { matchLabels: { app: 'db' } } });
    await waitForStatus('db', { disruptionsAllowed: 1 });
    const eviction = new EvictionREST(h!.rest, h!.registry);
    const evictPod = (name: string) => eviction.evict(NS, name, { metadata: { name, namespace: NS } });

    expect(await evictPod('db-1')).toMatchObject({ status: 'Success', code: 201 });
    // The pod is terminating: the controller keeps the budget spent.
    await h!.settle();
    await waitForStatus('db', { disruptionsAllowed: 0, currentHealthy: 2, expectedPods: 3 });
    const refused = await evictPod('db-2').catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(ApiError);
    expect((refused as ApiError).status).toMatchObject({ code: 429, details: { causes: [{ reason: 'DisruptionBudget', message: 'The disruption budget db needs 2 healthy pods and has 2 currently' }] } });

    // The kubelet finishes db-1 and a replacement becomes ready: one disruption is allowed again.
    await h!.client.delete('core/pods', NS, 'db-1', { gracePeriodSeconds: 0 });
    await pod('db-4', { app: 'db' });
    const s = await waitForStatus('db', { disruptionsAllowed: 1, currentHealthy: 3 });
    expect(s.disruptedPods).toBeUndefined();
    expect(await evictPod('db-2')).toMatchObject({ status: 'Success' });
  });

  it('forgets a recorded eviction whose pod was not deleted in time, with a NotDeleted event', async () => {
    await start({ deletionTimeoutMs: 2500 });
    for (const n of ['q-1', 'q-2']) await pod(n, { app: 'q' });
    await pdb('q', { minAvailable: 1, selector: { matchLabels: { app: 'q' } } });
    const synced = await h!.waitFor(async () => {
      const live = await h!.reader.get('policy/poddisruptionbudgets', NS, 'q');
      return (live?.status as { disruptionsAllowed?: number } | undefined)?.disruptionsAllowed === 1 ? live : undefined;
    });
    // An eviction was approved for q-1 but the pod never went away.
    const stamp = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
    await h!.client.updateStatus('policy/poddisruptionbudgets', { ...synced, status: { ...(synced.status as object), disruptedPods: { 'q-1': stamp } } });
    await waitForStatus('q', { currentHealthy: 1, disruptionsAllowed: 0, disruptedPods: { 'q-1': stamp } });
    await waitForStatus('q', { currentHealthy: 2, disruptionsAllowed: 1 }, 'the eviction to expire');
    expect((await statusOf('q'))!.disruptedPods).toBeUndefined();
    const e = await h!.waitFor(async () => (await eventsFor('q-1')).find((ev) => ev.reason === 'NotDeleted'), 5000, 'NotDeleted event');
    expect(e).toMatchObject({ type: 'Warning', message: "Pod was expected by PDB default/default to be deleted but it wasn't" });
  });

  it('sets a stale DisruptionTarget condition on a pod that was not deleted back to False', async () => {
    await start({ stalePodDisruptionTimeoutMs: 1500 });
    await pod('target', { app: 't' });
    const marked = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
    await h!.client.patch(
      'core/pods',
      NS,
      'target',
      'strategic',
      { status: { conditions: [{ type: 'DisruptionTarget', status: 'True', reason: 'EvictionByEvictionAPI', message: 'Eviction API: evicting', lastTransitionTime: marked }] } },
      { subresource: 'status' },
    );
    await h!.settle();
    const early = (await h!.reader.get('core/pods', NS, 'target'))!.status as { conditions: Record<string, unknown>[] };
    expect(early.conditions.find((x) => x.type === 'DisruptionTarget')?.status).toBe('True');
    const cond = await h!.waitFor(async () => {
      const live = await h!.reader.get('core/pods', NS, 'target');
      const c = (live?.status as { conditions?: Record<string, unknown>[] }).conditions?.find((x) => x.type === 'DisruptionTarget');
      return c?.status === 'False' ? c : undefined;
    }, 10_000, 'the DisruptionTarget condition to be reset');
    expect(cond.reason).toBeUndefined();
    expect(cond.message).toBeUndefined();
  });
});
