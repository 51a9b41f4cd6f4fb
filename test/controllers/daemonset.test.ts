// The DaemonSet controller: one pod per eligible node (node selector, affinity, taints), pinned by
// node affinity for the scheduler; rolling updates within maxUnavailable / maxSurge; OnDelete;
// failed pods replaced; status as `kubectl rollout status ds` reads it. The test plays scheduler
// and kubelet: it binds pods, marks them Running and Ready, and finishes graceful deletions.
import { afterEach, describe, expect, it } from 'vitest';
import type { KubeObject } from '../../shared/api/kind.js';
import { CONTROLLER_REVISION_HASH_LABEL, fnv1, fnv1a, safeEncodeString } from '../../shared/controllers/workloads/controller-history.js';
import { createDaemonSetController } from '../../shared/controllers/workloads/daemonset.js';
import { daemonPodSpec, nodeShouldRunDaemonPod, targetNodeName } from '../../shared/controllers/workloads/daemonset-node-fit.js';
import { controllerOf } from '../../shared/controllers/runtime/mappers.js';
import { startHarness, type Harness } from './harness.js';

const NS = 'default';
let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

type Obj = Record<string, any>;

function daemonSet(name: string, extra: { podSpec?: Obj; spec?: Obj } = {}): KubeObject {
  return {
    metadata: { name, namespace: NS },
    spec: {
      selector: { matchLabels: { app: name } },
      template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'agent', image: 'agent:1' }], ...extra.podSpec } },
      ...extra.spec,
    },
  };
}

/** Waits until the controller has handled every write made so far (its own included). */
async function quiet(harness: Harness): Promise<void> {
  for (let i = 0; i < 200; i++) {
    const rev = await harness.store.currentRev();
    await harness.manager.cache.waitForRev(rev);
    await harness.settle();
    if ((await harness.store.currentRev()) === rev) return;
  }
  throw new Error('controllers never went quiet');
}

const podsOf = async (harness: Harness, ds: string): Promise<KubeObject[]> =>
  (await harness.reader.list('core/pods', { namespace: NS })).filter((p) => controllerOf(p)?.name === ds);

const byTarget = (pods: KubeObject[]): Record<string, string[]> => {
  const out: Record<string, string[]> = {};
  for (const p of pods) (out[targetNodeName(p) ?? '?'] ??= []).push(p.metadata.name!);
  return out;
};

const hashOf = (p: KubeObject): string | undefined => p.metadata.labels?.[CONTROLLER_REVISION_HASH_LABEL];
const isReady = (p: KubeObject): boolean => (p.status as Obj | undefined)?.conditions?.some((c: Obj) => c.type === 'Ready' && c.status === 'True') ?? false;

/** Scheduler and kubelet in one: bind pinned pods, run them ready, finish graceful deletions, until nothing is left to do. */
async function kubelet(harness: Harness, ds: string): Promise<void> {
  for (let round = 0; round < 20; round++) {
    await quiet(harness);
    let acted = false;
    for (const pod of await podsOf(harness, ds)) {
      const name = pod.metadata.name!;
      if (pod.metadata.deletionTimestamp) {
        await harness.client.delete('core/pods', NS, name, { gracePeriodSeconds: 0 });
        acted = true;
        continue;
      }
      if (!(pod.spec as Obj).nodeName) {
        await harness.client.bind(NS, name, targetNodeName(pod)!);
        acted = true;
      }
      if (!isReady(pod)) {
        const since = new Date(Date.now() - 60_000).toISOString().replace(/\.\d+Z$/, 'Z');
        await harness.client.patch('core/pods', NS, name, 'strategic', { status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: since }] } }, { subresource: 'status' });
        acted = true;
      }
    }
    if (!acted) return;
  }
  throw new Error('kubelet never caught up');
}

/** One round of kubelet work (for stepping through a rollout). */
async function kubeletStep(harness: Harness, ds: string): Promise<void> {
  for (const pod of await podsOf(harness, ds)) {
    const name = pod.metadata.name!;
    if (pod.metadata.deletionTimestamp) {
      await harness.client.delete('core/pods', NS, name, { gracePeriodSeconds: 0 });
      continue;
    }
    if (!(pod.spec as Obj).nodeName) await harness.client.bind(NS, name, targetNodeName(pod)!);
    if (!isReady(pod)) {
      const since = new Date(Date.now() - 60_000).toISOString().replace(/\.\d+Z$/, 'Z');
      await harness.client.patch('core/pods', NS, name, 'strategic', { status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: since }] } }, { subresource: 'status' });
    }
  }
  await quiet(harness);
}

const statusOf = async (harness: Harness, name: string): Promise<Obj> => ((await harness.reader.get('apps/daemonsets', NS, name))!.status ?? {}) as Obj;

/** What `kubectl rollout status ds/<name>` decides from the object. */
async function rolledOut(harness: Harness, name: string): Promise<boolean> {
  const ds = (await harness.reader.get('apps/daemonsets', NS, name))!;
  const s = (ds.status ?? {}) as Obj;
  return (ds.metadata.generation ?? 0) <= (s.observedGeneration ?? 0) && (s.updatedNumberScheduled ?? 0) >= s.desiredNumberScheduled && (s.numberAvailable ?? 0) >= s.desiredNumberScheduled;
}

const eventsFor = async (harness: Harness, name: string): Promise<Obj[]> =>
  (await harness.reader.list('core/events', { namespace: NS })).filter((e) => (e.involvedObject as Obj).name === name) as Obj[];

describe('daemonset controller', () => {
  it('runs one pod per node, pinned by node affinity, with the daemon tolerations, revision and status', async () => {
    h = await startHarness([createDaemonSetController()]);
    await h.createNode('n1');
    await h.createNode('n2');
    await h.client.create('apps/daemonsets', daemonSet('agent'));
    await quiet(h);

    const revisions = await h.reader.list('apps/controllerrevisions', { namespace: NS });
    expect(revisions).toHaveLength(1);
    const hash = revisions[0].metadata.labels![CONTROLLER_REVISION_HASH_LABEL];
    expect(revisions[0].metadata.name).toBe(`agent-${hash}`);
    expect(revisions[0].revision).toBe(1);
    expect(revisions[0].metadata.labels!.app).toBe('agent');
    expect(controllerOf(revisions[0], 'DaemonSet')?.name).toBe('agent');
    expect((revisions[0].data as Obj).spec.template.$patch).toBe('replace');

    const pods = await podsOf(h, 'agent');
    expect(byTarget(pods)).toEqual({ n1: [expect.any(String)], n2: [expect.any(String)] });
    for (const pod of pods) {
      const spec = pod.spec as Obj;
      expect(pod.metadata.generateName).toBe('agent-');
      expect(pod.metadata.name).toMatch(/^agent-[a-z0-9]{5}$/);
      expect(spec.nodeName).toBeUndefined();
      expect(spec.affinity).toEqual({
        nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchFields: [{ key: 'metadata.name', operator: 'In', values: [targetNodeName(pod)] }] }] } },
      });
      expect(spec.tolerations).toEqual([
        { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute' },
        { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute' },
        { key: 'node.kubernetes.io/disk-pressure', operator: 'Exists', effect: 'NoSchedule' },
        { key: 'node.kubernetes.io/memory-pressure', operator: 'Exists', effect: 'NoSchedule' },
        { key: 'node.kubernetes.io/pid-pressure', operator: 'Exists', effect: 'NoSchedule' },
        { key: 'node.kubernetes.io/unschedulable', operator: 'Exists', effect: 'NoSchedule' },
      ]);
      expect(pod.metadata.labels).toEqual({ app: 'agent', [CONTROLLER_REVISION_HASH_LABEL]: hash, 'pod-template-generation': '1' });
      expect(pod.metadata.ownerReferences).toEqual([{ apiVersion: 'apps/v1', kind: 'DaemonSet', name: 'agent', uid: expect.any(String), controller: true, blockOwnerDeletion: true }]);
    }
    expect(await statusOf(h, 'agent')).toMatchObject({
      desiredNumberScheduled: 2,
      currentNumberScheduled: 2,
      numberMisscheduled: 0,
      numberReady: 0,
      numberAvailable: 0,
      numberUnavailable: 2,
      updatedNumberScheduled: 2,
      observedGeneration: 1,
    });
    expect(await rolledOut(h, 'agent')).toBe(false);

    const created = (await eventsFor(h, 'agent')).filter((e) => e.reason === 'SuccessfulCreate');
    expect(created.map((e) => e.message).sort()).toEqual(pods.map((p) => `Created pod: ${p.metadata.name}`).sort());
    expect(created[0].source).toEqual({ component: 'daemonset-controller' });

    await kubelet(h, 'agent');
    expect(await statusOf(h, 'agent')).toMatchObject({ desiredNumberScheduled: 2, currentNumberScheduled: 2, numberReady: 2, numberAvailable: 2, updatedNumberScheduled: 2 });
    expect((await statusOf(h, 'agent')).numberUnavailable ?? 0).toBe(0);
    expect(await rolledOut(h, 'agent')).toBe(true);
  });

  it('follows nodes as they are added, labelled, tainted and removed', async () => {
    h = await startHarness([createDaemonSetController()]);
    await h.createNode('a', { labels: { disk: 'ssd' } });
    await h.createNode('b');
    await h.client.create('apps/daemonsets', daemonSet('agent', { podSpec: { nodeSelector: { disk: 'ssd' } } }));
    await kubelet(h, 'agent');
    expect(Object.keys(byTarget(await podsOf(h, 'agent')))).toEqual(['a']);

    // Added node that matches.
    await h.createNode('c', { labels: { disk: 'ssd' } });
    await kubelet(h, 'agent');
    // Node labelled to match.
    await h.client.patch('core/nodes', undefined, 'b', 'merge', { metadata: { labels: { disk: 'ssd' } } });
    await kubelet(h, 'agent');
    expect(Object.keys(byTarget(await podsOf(h, 'agent'))).sort()).toEqual(['a', 'b', 'c']);
    expect(await statusOf(h, 'agent')).toMatchObject({ desiredNumberScheduled: 3, currentNumberScheduled: 3, numberAvailable: 3 });

    // A NoSchedule taint the pod does not tolerate: the running pod stays, but is misscheduled.
    await h.client.patch('core/nodes', undefined, 'c', 'merge', { spec: { taints: [{ key: 'dedicated', value: 'db', effect: 'NoSchedule' }] } });
    await kubelet(h, 'agent');
    expect(Object.keys(byTarget(await podsOf(h, 'agent'))).sort()).toEqual(['a', 'b', 'c']);
    expect(await statusOf(h, 'agent')).toMatchObject({ desiredNumberScheduled: 2, currentNumberScheduled: 2, numberMisscheduled: 1 });

    // NoExecute evicts it.
    await h.client.patch('core/nodes', undefined, 'c', 'merge', { spec: { taints: [{ key: 'dedicated', value: 'db', effect: 'NoExecute' }] } });
    await quiet(h);
    const onC = (await podsOf(h, 'agent')).filter((p) => targetNodeName(p) === 'c');
    expect(onC.every((p) => p.metadata.deletionTimestamp)).toBe(true);
    await kubelet(h, 'agent');
    expect(Object.keys(byTarget(await podsOf(h, 'agent'))).sort()).toEqual(['a', 'b']);

    // Label removed: the pod on that node goes.
    await h.client.patch('core/nodes', undefined, 'a', 'merge', { metadata: { labels: { disk: null } } });
    await kubelet(h, 'agent');
    expect(Object.keys(byTarget(await podsOf(h, 'agent')))).toEqual(['b']);
    expect((await eventsFor(h, 'agent')).some((e) => e.reason === 'SuccessfulDelete' && /^Deleted pod: agent-/.test(e.message))).toBe(true);

    // Taints the controller tolerates for daemon pods do not keep them off a node.
    await h.createNode('d', { labels: { disk: 'ssd' }, unschedulable: true, taints: [{ key: 'node.kubernetes.io/unschedulable', effect: 'NoSchedule' }] });
    await kubelet(h, 'agent');
    expect(Object.keys(byTarget(await podsOf(h, 'agent'))).sort()).toEqual(['b', 'd']);

    // A node removed before its pod was scheduled: the pinned pod is removed too.
    await h.createNode('e', { labels: { disk: 'ssd' } });
    await quiet(h);
    expect(Object.keys(byTarget(await podsOf(h, 'agent'))).sort()).toEqual(['b', 'd', 'e']);
    await h.client.delete('core/nodes', undefined, 'e');
    await quiet(h);
    expect(Object.keys(byTarget(await podsOf(h, 'agent'))).sort()).toEqual(['b', 'd']);
    expect(await statusOf(h, 'agent')).toMatchObject({ desiredNumberScheduled: 2, currentNumberScheduled: 2 });
  });

  it('rolls a new template out one node at a time with maxUnavailable 1', async () => {
    h = await startHarness([createDaemonSetController()]);
    for (const n of ['n1', 'n2', 'n3']) await h.createNode(n);
    await h.client.create('apps/daemonsets', daemonSet('agent', { spec: { updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1 } } } }));
    await kubelet(h, 'agent');
    const oldHash = hashOf((await podsOf(h, 'agent'))[0]);

    await h.client.patch('apps/daemonsets', NS, 'agent', 'strategic', { spec: { template: { spec: { containers: [{ name: 'agent', image: 'agent:2' }] } } } });
    await quiet(h);
    const revisions = await h.reader.list('apps/controllerrevisions', { namespace: NS });
    expect(revisions.map((r) => r.revision).sort()).toEqual([1, 2]);
    const newHash = revisions.find((r) => r.revision === 2)!.metadata.labels![CONTROLLER_REVISION_HASH_LABEL];
    expect(newHash).not.toBe(oldHash);

    let pods = await podsOf(h, 'agent');
    expect(pods.filter((p) => p.metadata.deletionTimestamp)).toHaveLength(1);
    expect(pods.every((p) => hashOf(p) === oldHash)).toBe(true);
    expect(await statusOf(h, 'agent')).toMatchObject({ observedGeneration: 2, updatedNumberScheduled: 0 });
    expect(await rolledOut(h, 'agent')).toBe(false);

    for (let step = 0; step < 8 && !(await rolledOut(h, 'agent')); step++) {
      // Never more than one node without an available daemon pod.
      pods = await podsOf(h, 'agent');
      const covered = new Set(pods.filter((p) => !p.metadata.deletionTimestamp && isReady(p)).map((p) => targetNodeName(p)));
      expect(3 - covered.size).toBeLessThanOrEqual(1);
      expect(pods.filter((p) => p.metadata.deletionTimestamp).length).toBeLessThanOrEqual(1);
      await kubeletStep(h, 'agent');
    }
    pods = await podsOf(h, 'agent');
    expect(pods.map(hashOf)).toEqual([newHash, newHash, newHash]);
    expect(pods.map((p) => (p.spec as Obj).containers[0].image)).toEqual(['agent:2', 'agent:2', 'agent:2']);
    expect(pods.map((p) => p.metadata.labels!['pod-template-generation'])).toEqual(['2', '2', '2']);
    expect(await statusOf(h, 'agent')).toMatchObject({ desiredNumberScheduled: 3, updatedNumberScheduled: 3, numberAvailable: 3, observedGeneration: 2 });
    expect((await eventsFor(h, 'agent')).filter((e) => e.reason === 'SuccessfulDelete')).toHaveLength(3);
  });

  it('surges a new pod next to the old one with maxSurge, keeping every node available', async () => {
    h = await startHarness([createDaemonSetController()]);
    for (const n of ['n1', 'n2']) await h.createNode(n);
    await h.client.create('apps/daemonsets', daemonSet('agent', { spec: { updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } } } }));
    await kubelet(h, 'agent');
    await h.client.patch('apps/daemonsets', NS, 'agent', 'strategic', { spec: { template: { spec: { containers: [{ name: 'agent', image: 'agent:2' }] } } } });
    await quiet(h);

    const pods = await podsOf(h, 'agent');
    expect(pods).toHaveLength(3);
    expect(pods.some((p) => p.metadata.deletionTimestamp)).toBe(false);
    const surged = Object.entries(byTarget(pods)).filter(([, names]) => names.length === 2);
    expect(surged).toHaveLength(1);

    for (let step = 0; step < 8 && !(await rolledOut(h, 'agent')); step++) {
      const live = (await podsOf(h, 'agent')).filter((p) => !p.metadata.deletionTimestamp && isReady(p));
      expect(new Set(live.map((p) => targetNodeName(p))).size).toBe(2);
      await kubeletStep(h, 'agent');
    }
    // Rolled out once every node has an available new pod; the last old pod is then on its way out.
    await kubelet(h, 'agent');
    const done = await podsOf(h, 'agent');
    expect(done.map((p) => (p.spec as Obj).containers[0].image)).toEqual(['agent:2', 'agent:2']);
    expect(await statusOf(h, 'agent')).toMatchObject({ updatedNumberScheduled: 2, numberAvailable: 2 });
  });

  it('with OnDelete replaces a pod only when it is deleted, and replaces failed pods', async () => {
    h = await startHarness([createDaemonSetController()]);
    await h.createNode('n1');
    await h.client.create('apps/daemonsets', daemonSet('agent', { spec: { updateStrategy: { type: 'OnDelete' } } }));
    await kubelet(h, 'agent');
    const [first] = await podsOf(h, 'agent');

    await h.client.patch('apps/daemonsets', NS, 'agent', 'strategic', { spec: { template: { spec: { containers: [{ name: 'agent', image: 'agent:2' }] } } } });
    await kubelet(h, 'agent');
    const [still] = await podsOf(h, 'agent');
    expect(still.metadata.uid).toBe(first.metadata.uid);
    expect(await statusOf(h, 'agent')).toMatchObject({ observedGeneration: 2, updatedNumberScheduled: 0, numberAvailable: 1 });

    await h.client.delete('core/pods', NS, first.metadata.name!, { gracePeriodSeconds: 0 });
    await kubelet(h, 'agent');
    const [second] = await podsOf(h, 'agent');
    expect(second.metadata.uid).not.toBe(first.metadata.uid);
    expect((second.spec as Obj).containers[0].image).toBe('agent:2');
    expect(await statusOf(h, 'agent')).toMatchObject({ updatedNumberScheduled: 1, numberAvailable: 1 });

    // A failed daemon pod is deleted (with a warning) and a new one takes its place.
    await h.client.patch('core/pods', NS, second.metadata.name!, 'merge', { status: { phase: 'Failed' } }, { subresource: 'status' });
    await quiet(h);
    const [third] = await podsOf(h, 'agent');
    expect(third.metadata.uid).not.toBe(second.metadata.uid);
    const warning = (await eventsFor(h, 'agent')).find((e) => e.reason === 'FailedDaemonPod');
    expect(warning).toMatchObject({ type: 'Warning', message: `Found failed daemon pod ${NS}/${second.metadata.name} on node n1, will try to kill it` });

    // `kubectl rollout undo` patches revision 1's data back: that revision is reused and becomes number 3.
    const [rev1, rev2] = (await h.reader.list('apps/controllerrevisions', { namespace: NS })).sort((a, b) => Number(a.revision) - Number(b.revision));
    await h.client.patch('apps/daemonsets', NS, 'agent', 'strategic', rev1.data);
    await quiet(h);
    const after = (await h.reader.list('apps/controllerrevisions', { namespace: NS })).sort((a, b) => Number(a.revision) - Number(b.revision));
    expect(after.map((r) => [r.metadata.name, r.revision])).toEqual([
      [rev2.metadata.name, 2],
      [rev1.metadata.name, 3],
    ]);
    expect(await statusOf(h, 'agent')).toMatchObject({ observedGeneration: 3, updatedNumberScheduled: 0 });
  });
});

describe('daemon pod placement rules', () => {
  const node = (name: string, labels: Record<string, string>, taints: Obj[] = []): KubeObject => ({ metadata: { name, labels }, spec: { taints } });
  const ds = (podSpec: Obj): KubeObject => daemonSet('x', { podSpec });

  it('matches node selectors, node affinity expressions and fields, and tolerations', () => {
    const n = node('n1', { zone: 'a', cores: '8' });
    const fit = (podSpec: Obj, target = n) => nodeShouldRunDaemonPod(daemonPodSpec(ds(podSpec)), target);
    const affinity = (terms: Obj[]) => ({ affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: terms } } } });
    expect(fit({}).shouldRun).toBe(true);
    expect(fit({ nodeSelector: { zone: 'b' } }).shouldRun).toBe(false);
    expect(fit({ nodeName: 'other' })).toEqual({ shouldRun: false, shouldContinueRunning: false });
    expect(fit(affinity([{ matchExpressions: [{ key: 'cores', operator: 'Gt', values: ['4'] }] }])).shouldRun).toBe(true);
    expect(fit(affinity([{ matchExpressions: [{ key: 'cores', operator: 'Lt', values: ['4'] }] }])).shouldRun).toBe(false);
    expect(fit(affinity([{ matchExpressions: [{ key: 'zone', operator: 'NotIn', values: ['a'] }] }, { matchFields: [{ key: 'metadata.name', operator: 'In', values: ['n1'] }] }])).shouldRun).toBe(true);
    expect(fit(affinity([{ matchExpressions: [{ key: 'gpu', operator: 'DoesNotExist' }, { key: 'zone', operator: 'Exists' }] }])).shouldRun).toBe(true);
    expect(fit(affinity([{}])).shouldRun).toBe(false);

    const tainted = node('n2', {}, [{ key: 'node.kubernetes.io/not-ready', effect: 'NoExecute' }, { key: 'gpu', value: 'yes', effect: 'PreferNoSchedule' }]);
    expect(fit({}, tainted).shouldRun).toBe(true);
    const noSchedule = node('n3', {}, [{ key: 'team', value: 'db', effect: 'NoSchedule' }]);
    expect(fit({}, noSchedule)).toEqual({ shouldRun: false, shouldContinueRunning: true });
    expect(fit({ tolerations: [{ key: 'team', operator: 'Equal', value: 'db' }] }, noSchedule).shouldRun).toBe(true);
    expect(fit({ tolerations: [{ key: 'team', operator: 'Equal', value: 'web' }] }, noSchedule).shouldRun).toBe(false);
    const noExecute = node('n4', {}, [{ key: 'team', value: 'db', effect: 'NoExecute' }]);
    expect(fit({}, noExecute)).toEqual({ shouldRun: false, shouldContinueRunning: false });
    expect(fit({ tolerations: [{ operator: 'Exists' }] }, noExecute).shouldRun).toBe(true);

    const network = node('n5', {}, [{ key: 'node.kubernetes.io/network-unavailable', effect: 'NoSchedule' }]);
    expect(fit({}, network).shouldRun).toBe(false);
    expect(fit({ hostNetwork: true }, network).shouldRun).toBe(true);
  });

  it('hashes and names revisions as Kubernetes does', () => {
    const bytes = (s: string) => new TextEncoder().encode(s);
    expect(fnv1(bytes(''))).toBe(0x811c9dc5);
    expect(fnv1(bytes('a'))).toBe(0x050c5d7e);
    expect(fnv1a(bytes('a'))).toBe(0xe40c292c);
    expect(safeEncodeString('0123456789')).toBe('456789bcdf');
  });
});
