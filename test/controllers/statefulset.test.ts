// The StatefulSet controller: stable pod names and identity, ordered (OrderedReady) or parallel
// creation, scale-down from the highest ordinal, per-pod claims, rolling updates from the highest
// ordinal down to the partition, ControllerRevisions, rollback, and the status `kubectl rollout
// status sts` reads. The test plays kubelet: it marks pods Running and Ready and, for pods bound to a
// node, finishes their graceful deletion.
import { afterEach, describe, expect, it } from 'vitest';
import type { KubeObject } from '../../shared/api/kind.js';
import { CONTROLLER_REVISION_HASH_LABEL } from '../../shared/controllers/workloads/controller-history.js';
import { controllerOf } from '../../shared/controllers/runtime/mappers.js';
import { createStatefulSetController } from '../../shared/controllers/workloads/statefulset.js';
import { startHarness, type Harness } from './harness.js';

const NS = 'default';
let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

type Obj = Record<string, any>;

function statefulSet(name: string, spec: Obj = {}): KubeObject {
  return {
    metadata: { name, namespace: NS },
    spec: {
      replicas: 3,
      serviceName: name,
      selector: { matchLabels: { app: name } },
      template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'app', image: 'app:1' }] } },
      ...spec,
    },
  };
}

async function quiet(harness: Harness): Promise<void> {
  for (let i = 0; i < 200; i++) {
    const rev = await harness.store.currentRev();
    await harness.manager.cache.waitForRev(rev);
    await harness.settle();
    if ((await harness.store.currentRev()) === rev) return;
  }
  throw new Error('controllers never went quiet');
}

const podsOf = async (harness: Harness, set: string): Promise<KubeObject[]> =>
  (await harness.reader.list('core/pods', { namespace: NS }))
    .filter((p) => controllerOf(p)?.name === set)
    .sort((a, b) => a.metadata.name!.localeCompare(b.metadata.name!, 'en', { numeric: true }));
const names = (pods: KubeObject[]): string[] => pods.map((p) => p.metadata.name!);
const revisionOf = (p: KubeObject): string | undefined => p.metadata.labels?.[CONTROLLER_REVISION_HASH_LABEL];
const getPod = (harness: Harness, name: string) => harness.reader.get('core/pods', NS, name);
const statusOf = async (harness: Harness, name: string): Promise<Obj> => ((await harness.reader.get('apps/statefulsets', NS, name))!.status ?? {}) as Obj;
const revisions = async (harness: Harness): Promise<KubeObject[]> =>
  (await harness.reader.list('apps/controllerrevisions', { namespace: NS })).sort((a, b) => Number(a.revision) - Number(b.revision));

/** The kubelet: the pod runs and turns Ready (bound to `node` first when given). */
async function runReady(harness: Harness, name: string, node?: string): Promise<void> {
  const pod = (await getPod(harness, name))!;
  if (node && !(pod.spec as Obj).nodeName) await harness.client.bind(NS, name, node);
  const since = new Date(Date.now() - 60_000).toISOString().replace(/\.\d+Z$/, 'Z');
  await harness.client.patch('core/pods', NS, name, 'strategic', { status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: since }] } }, { subresource: 'status' });
  await quiet(harness);
}

/** Runs every pod of the set ready, one after the other, until none is left waiting. */
async function runAll(harness: Harness, set: string, node?: string): Promise<void> {
  for (let round = 0; round < 30; round++) {
    await quiet(harness);
    const waiting = (await podsOf(harness, set)).filter((p) => !p.metadata.deletionTimestamp && (p.status as Obj)?.phase !== 'Running');
    if (!waiting.length) return;
    for (const p of waiting) await runReady(harness, p.metadata.name!, node);
  }
  throw new Error('pods never all ran');
}

/** What `kubectl rollout status sts/<name>` decides from the object (RollingUpdate with rollingUpdate set reads the partition). */
async function rolledOut(harness: Harness, name: string): Promise<boolean> {
  const set = (await harness.reader.get('apps/statefulsets', NS, name))!;
  const s = (set.status ?? {}) as Obj;
  const spec = set.spec as Obj;
  if (!s.observedGeneration || (set.metadata.generation ?? 0) > s.observedGeneration) return false;
  if ((s.readyReplicas ?? 0) < spec.replicas) return false;
  const ru = spec.updateStrategy?.rollingUpdate;
  if (spec.updateStrategy?.type === 'RollingUpdate' && ru) return (s.updatedReplicas ?? 0) >= spec.replicas - (ru.partition ?? 0);
  return s.updateRevision === s.currentRevision;
}

const eventMessages = async (harness: Harness, set: string): Promise<string[]> =>
  (await harness.reader.list('core/events', { namespace: NS }))
    .filter((e) => (e.involvedObject as Obj).name === set)
    .sort((a, b) => String(a.metadata.name).localeCompare(String(b.metadata.name)))
    .map((e) => `${e.reason}: ${e.message}`);

describe('statefulset controller', () => {
  it('creates pods in order, each Running and Ready before the next, with stable identity', async () => {
    h = await startHarness([createStatefulSetController()]);
    await h.client.create('apps/statefulsets', statefulSet('web'));
    await quiet(h);
    expect(names(await podsOf(h, 'web'))).toEqual(['web-0']);
    await runReady(h, 'web-0');
    expect(names(await podsOf(h, 'web'))).toEqual(['web-0', 'web-1']);
    // Not ready yet: web-2 waits.
    await quiet(h);
    expect(names(await podsOf(h, 'web'))).toEqual(['web-0', 'web-1']);
    await runReady(h, 'web-1');
    await runReady(h, 'web-2');

    const [rev] = await revisions(h);
    expect(rev.metadata.name).toMatch(/^web-[a-z0-9]+$/);
    expect(rev.revision).toBe(1);
    expect(rev.metadata.labels).toMatchObject({ app: 'web', 'controller.kubernetes.io/hash': rev.metadata.name!.slice('web-'.length) });
    expect(controllerOf(rev, 'StatefulSet')?.name).toBe('web');

    const pod = (await getPod(h, 'web-1'))!;
    expect(pod.metadata.labels).toEqual({
      app: 'web',
      'statefulset.kubernetes.io/pod-name': 'web-1',
      'apps.kubernetes.io/pod-index': '1',
      [CONTROLLER_REVISION_HASH_LABEL]: rev.metadata.name,
    });
    expect(pod.metadata.generateName).toBe('web-');
    expect(pod.spec).toMatchObject({ hostname: 'web-1', subdomain: 'web' });
    expect(pod.metadata.ownerReferences).toEqual([{ apiVersion: 'apps/v1', kind: 'StatefulSet', name: 'web', uid: expect.any(String), controller: true, blockOwnerDeletion: true }]);

    const set = (await h.reader.get('apps/statefulsets', NS, 'web'))!;
    expect(set.status).toMatchObject({
      observedGeneration: 1,
      replicas: 3,
      readyReplicas: 3,
      availableReplicas: 3,
      currentReplicas: 3,
      updatedReplicas: 3,
      currentRevision: rev.metadata.name,
      updateRevision: rev.metadata.name,
      collisionCount: 0,
    });
    expect(await rolledOut(h, 'web')).toBe(true);
    const events = await eventMessages(h, 'web');
    expect(events.filter((e) => e.startsWith('SuccessfulCreate'))).toEqual([
      'SuccessfulCreate: create Pod web-0 in StatefulSet web successful',
      'SuccessfulCreate: create Pod web-1 in StatefulSet web successful',
      'SuccessfulCreate: create Pod web-2 in StatefulSet web successful',
    ]);
  });

  it('creates every pod at once with the Parallel policy', async () => {
    h = await startHarness([createStatefulSetController()]);
    await h.client.create('apps/statefulsets', statefulSet('db', { replicas: 4, podManagementPolicy: 'Parallel' }));
    await quiet(h);
    expect(names(await podsOf(h, 'db'))).toEqual(['db-0', 'db-1', 'db-2', 'db-3']);
    expect(await statusOf(h, 'db')).toMatchObject({ replicas: 4, readyReplicas: 0 });
    expect(await rolledOut(h, 'db')).toBe(false);
    await runAll(h, 'db');
    expect(await statusOf(h, 'db')).toMatchObject({ replicas: 4, readyReplicas: 4, availableReplicas: 4 });
  });

  it('scales down from the highest ordinal, one pod at a time', async () => {
    h = await startHarness([createStatefulSetController()]);
    await h.createNode('n1');
    await h.client.create('apps/statefulsets', statefulSet('web', { replicas: 4 }));
    await runAll(h, 'web', 'n1');
    expect(names(await podsOf(h, 'web'))).toEqual(['web-0', 'web-1', 'web-2', 'web-3']);

    await h.client.patch('apps/statefulsets', NS, 'web', 'merge', { spec: { replicas: 1 } });
    const order: string[] = [];
    for (let step = 0; step < 5; step++) {
      await quiet(h);
      const terminating = (await podsOf(h, 'web')).filter((p) => p.metadata.deletionTimestamp);
      if (!terminating.length) break;
      // The bound pod waits for its kubelet; nothing else goes meanwhile.
      expect(terminating).toHaveLength(1);
      order.push(terminating[0].metadata.name!);
      await h.client.delete('core/pods', NS, terminating[0].metadata.name!, { gracePeriodSeconds: 0 });
    }
    expect(order).toEqual(['web-3', 'web-2', 'web-1']);
    expect(names(await podsOf(h, 'web'))).toEqual(['web-0']);
    expect(await statusOf(h, 'web')).toMatchObject({ replicas: 1, readyReplicas: 1, currentReplicas: 1 });
    expect((await eventMessages(h, 'web')).filter((e) => e.startsWith('SuccessfulDelete'))).toEqual([
      'SuccessfulDelete: delete Pod web-3 in StatefulSet web successful',
      'SuccessfulDelete: delete Pod web-2 in StatefulSet web successful',
      'SuccessfulDelete: delete Pod web-1 in StatefulSet web successful',
    ]);
  });

  it('creates each pod\'s claims from volumeClaimTemplates first, owned as the retention policy says', async () => {
    h = await startHarness([createStatefulSetController()]);
    const claimTemplate = { metadata: { name: 'data', labels: { tier: 'storage' } }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } };
    await h.client.create(
      'apps/statefulsets',
      statefulSet('web', {
        replicas: 2,
        volumeClaimTemplates: [claimTemplate],
        persistentVolumeClaimRetentionPolicy: { whenDeleted: 'Delete', whenScaled: 'Retain' },
        template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'app', image: 'app:1' }], volumes: [{ name: 'cache', emptyDir: {} }] } },
      }),
    );
    await runAll(h, 'web');
    const set = (await h.reader.get('apps/statefulsets', NS, 'web'))!;
    for (const ordinal of [0, 1]) {
      const claim = (await h.reader.get('core/persistentvolumeclaims', NS, `data-web-${ordinal}`))!;
      expect(claim.metadata.labels).toEqual({ tier: 'storage', app: 'web' });
      expect((claim.spec as Obj).resources.requests.storage).toBe('1Gi');
      expect(claim.metadata.ownerReferences).toEqual([{ apiVersion: 'apps/v1', kind: 'StatefulSet', name: 'web', uid: set.metadata.uid, controller: true, blockOwnerDeletion: true }]);
      const pod = (await getPod(h, `web-${ordinal}`))!;
      const volumes = (pod.spec as Obj).volumes as Obj[];
      expect(volumes.slice(0, 2)).toEqual([
        { name: 'data', persistentVolumeClaim: { claimName: `data-web-${ordinal}` } },
        { name: 'cache', emptyDir: {} },
      ]);
      // The ServiceAccount admission plugin appends the API access volume.
      expect(volumes.slice(2).map((v) => v.name)).toEqual([expect.stringMatching(/^kube-api-access-[a-z0-9]{5}$/)]);
    }
    const events = await eventMessages(h, 'web');
    expect(events).toContain('SuccessfulCreate: create Claim data-web-0 Pod web-0 in StatefulSet web success');
    expect(events).toContain('SuccessfulCreate: create Claim data-web-1 Pod web-1 in StatefulSet web success');

    // Deleting on scale-down: before its pod goes, the claim is handed to the pod (the garbage collector follows).
    const web1 = (await getPod(h, 'web-1'))!;
    await h.client.patch('apps/statefulsets', NS, 'web', 'merge', { spec: { replicas: 1, persistentVolumeClaimRetentionPolicy: { whenScaled: 'Delete' } } });
    await quiet(h);
    expect(names(await podsOf(h, 'web'))).toEqual(['web-0']);
    const released = (await h.reader.get('core/persistentvolumeclaims', NS, 'data-web-1'))!;
    expect(released.metadata.ownerReferences).toEqual([{ apiVersion: 'v1', kind: 'Pod', name: 'web-1', uid: web1.metadata.uid, controller: true, blockOwnerDeletion: true }]);
    const kept = (await h.reader.get('core/persistentvolumeclaims', NS, 'data-web-0'))!;
    expect(kept.metadata.ownerReferences?.map((r) => r.kind)).toEqual(['StatefulSet']);
  });

  it('recreates a deleted or failed pod under the same name', async () => {
    h = await startHarness([createStatefulSetController()]);
    await h.client.create('apps/statefulsets', statefulSet('web', { replicas: 2 }));
    await runAll(h, 'web');
    const before = (await getPod(h, 'web-1'))!;
    await h.client.delete('core/pods', NS, 'web-1');
    await quiet(h);
    const after = (await getPod(h, 'web-1'))!;
    expect(after.metadata.uid).not.toBe(before.metadata.uid);
    expect(await statusOf(h, 'web')).toMatchObject({ replicas: 2, readyReplicas: 1 });
    await runReady(h, 'web-1');

    const web0 = (await getPod(h, 'web-0'))!;
    await h.client.patch('core/pods', NS, 'web-0', 'merge', { status: { phase: 'Failed' } }, { subresource: 'status' });
    await quiet(h);
    const replaced = (await getPod(h, 'web-0'))!;
    expect(replaced.metadata.uid).not.toBe(web0.metadata.uid);
    expect((replaced.status as Obj).phase).toBe('Pending');
    expect(await eventMessages(h, 'web')).toContain(`RecreatingFailedPod: StatefulSet ${NS}/web is recreating failed Pod web-0`);
  });

  it('rolls an update from the highest ordinal down to the partition, then finishes and rolls back', async () => {
    h = await startHarness([createStatefulSetController()]);
    await h.client.create('apps/statefulsets', statefulSet('web', { updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 1 } } }));
    await runAll(h, 'web');
    const [first] = await revisions(h);

    await h.client.patch('apps/statefulsets', NS, 'web', 'strategic', { spec: { template: { spec: { containers: [{ name: 'app', image: 'app:2' }] } } } });
    await quiet(h);
    const second = (await revisions(h))[1];
    expect(second.revision).toBe(2);
    // web-2 is replaced first (pods without a node go at once); the others wait for it to be ready.
    let pods = await podsOf(h, 'web');
    expect(pods.map(revisionOf)).toEqual([first.metadata.name, first.metadata.name, second.metadata.name]);
    expect((pods[2].spec as Obj).containers[0].image).toBe('app:2');
    expect(await statusOf(h, 'web')).toMatchObject({ currentRevision: first.metadata.name, updateRevision: second.metadata.name, updatedReplicas: 1, currentReplicas: 2 });
    expect(await rolledOut(h, 'web')).toBe(false);

    await runReady(h, 'web-2');
    pods = await podsOf(h, 'web');
    expect(pods.map(revisionOf)).toEqual([first.metadata.name, second.metadata.name, second.metadata.name]);
    await runAll(h, 'web');
    // The partition keeps web-0 at the old revision.
    pods = await podsOf(h, 'web');
    expect(pods.map((p) => (p.spec as Obj).containers[0].image)).toEqual(['app:1', 'app:2', 'app:2']);
    expect(await statusOf(h, 'web')).toMatchObject({ currentRevision: first.metadata.name, updateRevision: second.metadata.name, updatedReplicas: 2, currentReplicas: 1, readyReplicas: 3 });
    expect(await rolledOut(h, 'web')).toBe(true);

    await h.client.patch('apps/statefulsets', NS, 'web', 'merge', { spec: { updateStrategy: { rollingUpdate: { partition: 0 } } } });
    await runAll(h, 'web');
    pods = await podsOf(h, 'web');
    expect(pods.map(revisionOf)).toEqual([second.metadata.name, second.metadata.name, second.metadata.name]);
    expect(await statusOf(h, 'web')).toMatchObject({ currentRevision: second.metadata.name, updateRevision: second.metadata.name, currentReplicas: 3, updatedReplicas: 3, observedGeneration: 3 });
    expect(await rolledOut(h, 'web')).toBe(true);

    // `kubectl rollout undo` patches the template back from the revision's data; that revision is reused as number 3.
    await h.client.patch('apps/statefulsets', NS, 'web', 'strategic', first.data);
    await runAll(h, 'web');
    const after = await revisions(h);
    expect(after.map((r) => [r.metadata.name, r.revision])).toEqual([
      [second.metadata.name, 2],
      [first.metadata.name, 3],
    ]);
    pods = await podsOf(h, 'web');
    expect(pods.map((p) => (p.spec as Obj).containers[0].image)).toEqual(['app:1', 'app:1', 'app:1']);
    expect(await statusOf(h, 'web')).toMatchObject({ currentRevision: first.metadata.name, updateRevision: first.metadata.name });
  });

  it('with OnDelete leaves running pods alone until they are deleted', async () => {
    h = await startHarness([createStatefulSetController()]);
    await h.client.create('apps/statefulsets', statefulSet('web', { replicas: 2, updateStrategy: { type: 'OnDelete' } }));
    await runAll(h, 'web');
    await h.client.patch('apps/statefulsets', NS, 'web', 'strategic', { spec: { template: { spec: { containers: [{ name: 'app', image: 'app:2' }] } } } });
    await quiet(h);
    let pods = await podsOf(h, 'web');
    expect(pods.map((p) => (p.spec as Obj).containers[0].image)).toEqual(['app:1', 'app:1']);
    expect(await statusOf(h, 'web')).toMatchObject({ updatedReplicas: 0, currentReplicas: 2 });
    await h.client.delete('core/pods', NS, 'web-1');
    await runAll(h, 'web');
    pods = await podsOf(h, 'web');
    expect(pods.map((p) => (p.spec as Obj).containers[0].image)).toEqual(['app:1', 'app:2']);
    expect(await statusOf(h, 'web')).toMatchObject({ updatedReplicas: 1, currentReplicas: 1 });
  });
});
