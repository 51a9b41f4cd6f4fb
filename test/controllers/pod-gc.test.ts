// Pod garbage collection as a user sees it: pods left on a deleted node disappear after the
// quarantine, terminating pods on an out-of-service node and unscheduled terminating pods are
// force-deleted, and only the newest terminated pods are kept.
import { afterEach, describe, expect, it } from 'vitest';
import type { KubeObject } from '../../shared/api/kind.js';
import { podGCController } from '../../shared/controllers/nodes/pod-gc.js';
import { startHarness, type Harness } from './harness.js';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const phase = (p: KubeObject | undefined) => (p?.status as { phase?: string } | undefined)?.phase;

async function pod(name: string) {
  return h!.reader.get('core/pods', 'default', name);
}

async function createPod(name: string, spec: Record<string, unknown> = {}, meta: Record<string, unknown> = {}) {
  return h!.client.create('core/pods', { metadata: { name, namespace: 'default', ...meta }, spec: { containers: [{ name: 'c', image: 'busybox' }], ...spec } });
}

async function setStatus(name: string, status: Record<string, unknown>) {
  await h!.client.patch('core/pods', 'default', name, 'merge', { status }, { subresource: 'status' });
}

describe('pod garbage collector', () => {
  it('force-deletes pods bound to a node that is gone, after the quarantine', async () => {
    h = await startHarness([podGCController({ quarantineMs: 800 })]);
    await h.createNode('stays');
    await h.createNode('goes');
    await createPod('orphan', { nodeName: 'goes' });
    await setStatus('orphan', { phase: 'Running' });
    await createPod('fine', { nodeName: 'stays' });
    await h.settle();

    const deletedAt = Date.now();
    await h.client.delete('core/nodes', undefined, 'goes');
    await sleep(400);
    expect(await pod('orphan')).toBeDefined();
    await h.waitFor(async () => !(await pod('orphan')), 5000, 'orphaned pod deleted');
    expect(Date.now() - deletedAt).toBeGreaterThanOrEqual(800);
    expect(await pod('fine')).toBeDefined();
  });

  it('force-deletes terminating pods on a NotReady node only once it is marked out of service', async () => {
    h = await startHarness([podGCController()]);
    await h.createNode('down', { ready: false });
    await createPod('stuck', { nodeName: 'down' });
    await setStatus('stuck', { phase: 'Running' });
    await h.client.delete('core/pods', 'default', 'stuck');
    await h.settle();
    const terminating = await pod('stuck');
    expect(terminating?.metadata.deletionTimestamp).toBeDefined();

    await h.client.patch('core/nodes', undefined, 'down', 'merge', { spec: { taints: [{ key: 'node.kubernetes.io/out-of-service', value: 'nodeshutdown', effect: 'NoExecute' }] } });
    await h.waitFor(async () => !(await pod('stuck')), 5000, 'terminating pod force-deleted');
  });

  it('leaves terminating pods on a Ready node to their kubelet, even with the out-of-service taint', async () => {
    h = await startHarness([podGCController()]);
    await h.createNode('up', { taints: [{ key: 'node.kubernetes.io/out-of-service', effect: 'NoExecute' }] });
    await createPod('leaving', { nodeName: 'up' });
    await h.client.delete('core/pods', 'default', 'leaving');
    await h.settle();
    expect((await pod('leaving'))?.metadata.deletionTimestamp).toBeDefined();
  });

  it('marks an unscheduled terminating pod Failed and force-deletes it', async () => {
    h = await startHarness([podGCController()]);
    await createPod('pending', {}, { finalizers: ['example.com/hold'] });
    await h.client.delete('core/pods', 'default', 'pending');
    const failed = await h.waitFor(async () => {
      const p = await pod('pending');
      return phase(p) === 'Failed' ? p : undefined;
    }, 5000, 'pod marked Failed');
    expect(failed.metadata.deletionTimestamp).toBeDefined();
    // Only its own finalizer keeps it now.
    await h.client.patch('core/pods', 'default', 'pending', 'merge', { metadata: { finalizers: null } });
    await h.waitFor(async () => !(await pod('pending')), 5000, 'pod gone');
  });

  it('keeps only the newest terminated pods beyond the threshold, evicted ones going first', async () => {
    h = await startHarness([podGCController({ terminatedPodThreshold: 3 })]);
    await createPod('running');
    await setStatus('running', { phase: 'Running' });
    for (const name of ['done-a', 'done-b', 'done-c', 'done-d']) {
      await createPod(name);
      await setStatus(name, { phase: 'Succeeded' });
    }
    await h.settle();
    // Four terminated pods, threshold three: the oldest goes.
    await h.waitFor(async () => !(await pod('done-a')), 5000, 'oldest terminated pod deleted');

    await createPod('evicted');
    await setStatus('evicted', { phase: 'Failed', reason: 'Evicted', message: 'The node was low on resource: memory.' });
    await h.waitFor(async () => !(await pod('evicted')), 5000, 'evicted pod deleted first');
    await h.settle();
    const left = (await h.reader.list('core/pods', { namespace: 'default' })).map((p) => p.metadata.name).sort();
    expect(left).toEqual(['done-b', 'done-c', 'done-d', 'running']);
  });
});
