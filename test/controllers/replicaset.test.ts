// The ReplicaSet controller as a user sees it through the API: pods created from the template with
// generateName and a controller ownerReference, scale up/down (surplus picked like Kubernetes),
// replacement of deleted pods, adoption and release, status counters and events. The test acts
// as the kubelet by patching pod status.
import { afterEach, describe, expect, it } from 'vitest';
import type { KubeObject } from '../../shared/api/kind.js';
import { rfc3339 } from '../../shared/apiserver/metadata.js';
import { createReplicaSetController } from '../../shared/controllers/workloads/replicaset.js';
import { startHarness, type Harness } from './harness.js';

let h: Harness;
afterEach(async () => {
  await h?.close();
});

const NS = 'default';

function replicaSet(name: string, replicas: number, extra: { minReadySeconds?: number; podSpec?: Record<string, unknown>; templateLabels?: Record<string, string> } = {}): KubeObject {
  return {
    metadata: { name, namespace: NS },
    spec: {
      replicas,
      ...(extra.minReadySeconds ? { minReadySeconds: extra.minReadySeconds } : {}),
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name, ...extra.templateLabels } },
        spec: { containers: [{ name: 'c', image: 'nginx:1.25' }], ...extra.podSpec },
      },
    },
  };
}

async function activePods(owner?: KubeObject): Promise<KubeObject[]> {
  const pods = await h.reader.list('core/pods', { namespace: NS, ...(owner ? { ownerUid: owner.metadata.uid } : {}) });
  return pods.filter((p) => !p.metadata.deletionTimestamp);
}

async function getRS(name: string): Promise<KubeObject> {
  return (await h.reader.get('apps/replicasets', NS, name))!;
}

const status = (o: KubeObject) => (o.status ?? {}) as Record<string, unknown>;

/** Acts as the kubelet: the pod runs and passes its readiness checks (since `at`). */
async function markReady(pod: KubeObject, at = new Date()): Promise<void> {
  await h.client.patch(
    'core/pods',
    NS,
    pod.metadata.name!,
    'merge',
    { status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: rfc3339(at) }] } },
    { subresource: 'status' },
  );
}

async function eventsFor(name: string): Promise<{ reason: string; message: string; type: string; source: { component: string } }[]> {
  const events = await h.reader.list('core/events', { namespace: NS });
  return events.filter((e) => (e.involvedObject as { name: string }).name === name) as never;
}

async function waitForPods(rs: KubeObject, n: number): Promise<KubeObject[]> {
  return h.waitFor(async () => {
    const pods = await activePods(rs);
    return pods.length === n ? pods : undefined;
  }, 5000, `${n} pods of ${rs.metadata.name}`);
}

describe('ReplicaSet controller', () => {
  it('creates the desired pods from the template, owned by the ReplicaSet, and reports status and events', async () => {
    h = await startHarness([createReplicaSetController()]);
    const rs = await h.client.create('apps/replicasets', replicaSet('web', 3));
    const pods = await waitForPods(rs, 3);
    for (const pod of pods) {
      expect(pod.metadata.name).toMatch(/^web-[bcdfghjklmnpqrstvwxz2456789]{5}$/);
      expect(pod.metadata.generateName).toBe('web-');
      expect(pod.metadata.labels).toEqual({ app: 'web' });
      expect(pod.metadata.ownerReferences).toEqual([{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'web', uid: rs.metadata.uid, controller: true, blockOwnerDeletion: true }]);
      expect((pod.spec as { containers: { image: string }[] }).containers[0].image).toBe('nginx:1.25');
    }
    await h.settle();
    const current = await getRS('web');
    expect(status(current)).toMatchObject({ replicas: 3, fullyLabeledReplicas: 3, observedGeneration: 1 });
    expect(status(current).readyReplicas).toBeUndefined();
    const created = (await eventsFor('web')).filter((e) => e.reason === 'SuccessfulCreate');
    expect(created.map((e) => e.message).sort()).toEqual(pods.map((p) => `Created pod: ${p.metadata.name}`).sort());
    expect(created.every((e) => e.type === 'Normal' && e.source.component === 'replicaset-controller')).toBe(true);
  });

  it('counts ready pods, and available ones only after minReadySeconds', async () => {
    h = await startHarness([createReplicaSetController()]);
    const rs = await h.client.create('apps/replicasets', replicaSet('slow', 2, { minReadySeconds: 1 }));
    const pods = await waitForPods(rs, 2);
    await markReady(pods[0]);
    await h.waitFor(async () => status(await getRS('slow')).readyReplicas === 1, 5000, 'one ready');
    expect(status(await getRS('slow')).availableReplicas).toBeUndefined();
    // No further change happens: the controller must come back by itself once minReadySeconds passed.
    await h.waitFor(async () => status(await getRS('slow')).availableReplicas === 1, 5000, 'one available');
    expect(status(await getRS('slow'))).toMatchObject({ replicas: 2, readyReplicas: 1, availableReplicas: 1 });
  });

  it('scales up and down, deleting not-ready and unscheduled pods before ready ones', async () => {
    h = await startHarness([createReplicaSetController()]);
    await h.createNode('n1');
    const rs = await h.client.create('apps/replicasets', replicaSet('web', 2));
    await waitForPods(rs, 2);
    await h.client.patch('apps/replicasets', NS, 'web', 'merge', { spec: { replicas: 5 } });
    const five = await waitForPods(rs, 5);
    // Two pods are scheduled and ready, one is scheduled but not ready, two stay unscheduled.
    const [a, b, c] = five;
    for (const p of [a, b, c]) await h.client.bind(NS, p.metadata.name!, 'n1');
    await markReady(a);
    await markReady(b);
    await h.waitFor(async () => status(await getRS('web')).readyReplicas === 2, 5000, 'two ready');

    await h.client.patch('apps/replicasets', NS, 'web', 'merge', { spec: { replicas: 3 } });
    const three = await waitForPods(rs, 3);
    expect(three.map((p) => p.metadata.name).sort()).toEqual([a, b, c].map((p) => p.metadata.name).sort());

    await h.client.patch('apps/replicasets', NS, 'web', 'merge', { spec: { replicas: 2 } });
    const two = await waitForPods(rs, 2);
    expect(two.map((p) => p.metadata.name).sort()).toEqual([a, b].map((p) => p.metadata.name).sort());
    await h.settle();

    const deleted = (await eventsFor('web')).filter((e) => e.reason === 'SuccessfulDelete').map((e) => e.message);
    expect(deleted.sort()).toEqual([...five.slice(3), c].map((p) => `Deleted pod: ${p.metadata.name}`).sort());
    expect(status(await getRS('web'))).toMatchObject({ replicas: 2, readyReplicas: 2, availableReplicas: 2, observedGeneration: 4 });
  });

  it('prefers deleting pods with more restarts, then the newest', async () => {
    h = await startHarness([createReplicaSetController()]);
    const rs = await h.client.create('apps/replicasets', replicaSet('web', 3));
    const pods = await waitForPods(rs, 3);
    const [restarting] = pods;
    await h.client.patch('core/pods', NS, restarting.metadata.name!, 'merge', { status: { containerStatuses: [{ name: 'c', image: 'nginx:1.25', imageID: '', ready: false, restartCount: 4 }] } }, { subresource: 'status' });
    await h.settle();
    await h.client.patch('apps/replicasets', NS, 'web', 'merge', { spec: { replicas: 2 } });
    const left = await waitForPods(rs, 2);
    expect(left.map((p) => p.metadata.name)).not.toContain(restarting.metadata.name);
  });

  it('replaces a deleted pod and ignores terminating pods when counting', async () => {
    h = await startHarness([createReplicaSetController()]);
    await h.createNode('n1');
    const rs = await h.client.create('apps/replicasets', replicaSet('web', 2));
    const [first, second] = await waitForPods(rs, 2);
    await h.client.delete('core/pods', NS, first.metadata.name!);
    const replaced = await h.waitFor(async () => {
      const pods = await activePods(rs);
      return pods.length === 2 && !pods.some((p) => p.metadata.name === first.metadata.name) ? pods : undefined;
    }, 5000, 'replacement pod');
    expect(replaced.map((p) => p.metadata.name)).toContain(second.metadata.name);

    // A pod bound to a node terminates gracefully: it stays, marked for deletion, and is not counted.
    await h.client.bind(NS, second.metadata.name!, 'n1');
    await h.client.delete('core/pods', NS, second.metadata.name!);
    const terminating = await h.reader.get('core/pods', NS, second.metadata.name!);
    expect(terminating?.metadata.deletionTimestamp).toBeTruthy();
    await h.waitFor(async () => (await activePods(rs)).length === 2 && (await h.reader.list('core/pods', { namespace: NS, ownerUid: rs.metadata.uid })).length === 3, 5000, 'replacement beside the terminating pod');
    await h.settle();
    expect(status(await getRS('web')).replicas).toBe(2);
  });

  it('adopts matching orphan pods and releases pods whose labels stop matching', async () => {
    h = await startHarness([createReplicaSetController()]);
    const orphan = await h.client.create('core/pods', {
      metadata: { name: 'stray', namespace: NS, labels: { app: 'web' } },
      spec: { containers: [{ name: 'c', image: 'nginx:1.25' }] },
    });
    const rs = await h.client.create('apps/replicasets', replicaSet('web', 2));
    const pods = await waitForPods(rs, 2);
    expect(pods.map((p) => p.metadata.name)).toContain('stray');
    const adopted = await h.reader.get('core/pods', NS, 'stray');
    expect(adopted?.metadata.ownerReferences).toEqual([{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'web', uid: rs.metadata.uid, controller: true, blockOwnerDeletion: true }]);
    expect(adopted?.metadata.uid).toBe(orphan.metadata.uid);

    // Relabel the adopted pod: it is released (ownerReference removed) and a replacement is created.
    await h.client.patch('core/pods', NS, 'stray', 'merge', { metadata: { labels: { app: 'debug' } } });
    await h.waitFor(async () => !(await h.reader.get('core/pods', NS, 'stray'))?.metadata.ownerReferences?.length, 5000, 'released pod');
    const after = await waitForPods(rs, 2);
    expect(after.map((p) => p.metadata.name)).not.toContain('stray');
    expect(await h.reader.get('core/pods', NS, 'stray')).toBeDefined();
  });

  it('counts pods lacking some template labels as not fully labeled', async () => {
    h = await startHarness([createReplicaSetController()]);
    const rs = await h.client.create('apps/replicasets', replicaSet('web', 1, { templateLabels: { tier: 'front' } }));
    const [pod] = await waitForPods(rs, 1);
    await h.waitFor(async () => status(await getRS('web')).fullyLabeledReplicas === 1, 5000, 'fully labeled');
    await h.client.patch('core/pods', NS, pod.metadata.name!, 'merge', { metadata: { labels: { tier: null } } });
    await h.waitFor(async () => status(await getRS('web')).fullyLabeledReplicas === undefined, 5000, 'not fully labeled');
    expect(status(await getRS('web')).replicas).toBe(1);
  });

  it('creates pods in slow-start batches and reports a failure as FailedCreate and ReplicaFailure', async () => {
    h = await startHarness([createReplicaSetController()]);
    const rs = await h.client.create('apps/replicasets', replicaSet('web', 4, { podSpec: { priorityClassName: 'gold' } }));
    const failed = await h.waitFor(async () => (status(await getRS('web')).conditions as Record<string, string>[] | undefined)?.[0], 5000, 'ReplicaFailure');
    expect(failed).toMatchObject({ type: 'ReplicaFailure', status: 'True', reason: 'FailedCreate' });
    expect(failed.message).toContain('no PriorityClass with name gold was found');
    const warnings = (await eventsFor('web')).filter((e) => e.reason === 'FailedCreate');
    // Slow start: the first batch is a single pod, so one failure stops the sync.
    expect(warnings.length).toBe(1);
    expect(warnings[0]).toMatchObject({ type: 'Warning' });
    expect(warnings[0].message).toMatch(/^Error creating: .*no PriorityClass with name gold was found/);

    await h.client.create('scheduling.k8s.io/priorityclasses', { metadata: { name: 'gold' }, value: 1000 });
    await waitForPods(rs, 4);
    await h.waitFor(async () => status(await getRS('web')).conditions === undefined, 5000, 'condition cleared');
    expect(status(await getRS('web')).replicas).toBe(4);
  });
});
