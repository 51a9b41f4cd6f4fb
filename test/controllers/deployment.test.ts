// The Deployment controller together with the ReplicaSet controller, observed through the API as
// kubectl would: the new ReplicaSet's name, hash label and revision annotations, rolling updates
// within maxSurge/maxUnavailable at every observed step, Recreate, rollback by re-applying an old
// template, pause/resume, proportional scaling, history cleanup, the progress deadline, status
// and events. The test is the kubelet: it marks pods Running and Ready.
import { afterEach, describe, expect, it } from 'vitest';
import type { KubeObject } from '../../shared/api/kind.js';
import { rfc3339 } from '../../shared/apiserver/metadata.js';
import { createDeploymentController } from '../../shared/controllers/workloads/deployment/controller.js';
import { resolveFenceposts } from '../../shared/controllers/workloads/deployment/fenceposts.js';
import { computeTemplateHash } from '../../shared/controllers/workloads/deployment/hash.js';
import { createReplicaSetController } from '../../shared/controllers/workloads/replicaset.js';
import { startHarness, type Harness } from './harness.js';

let h: Harness;
afterEach(async () => {
  await h?.close();
});

const NS = 'default';
const SAFE_HASH = /^[bcdfghjklmnpqrstvwxz2456789]+$/;

interface Opts {
  image?: string;
  strategy?: Record<string, unknown>;
  minReadySeconds?: number;
  progressDeadlineSeconds?: number;
  revisionHistoryLimit?: number;
  annotations?: Record<string, string>;
  paused?: boolean;
}

function deployment(name: string, replicas: number, o: Opts = {}): KubeObject {
  return {
    metadata: { name, namespace: NS, ...(o.annotations ? { annotations: o.annotations } : {}) },
    spec: {
      replicas,
      selector: { matchLabels: { app: name } },
      template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'c', image: o.image ?? 'nginx:1.25' }] } },
      ...(o.strategy ? { strategy: o.strategy } : {}),
      ...(o.minReadySeconds !== undefined ? { minReadySeconds: o.minReadySeconds } : {}),
      ...(o.progressDeadlineSeconds !== undefined ? { progressDeadlineSeconds: o.progressDeadlineSeconds } : {}),
      ...(o.revisionHistoryLimit !== undefined ? { revisionHistoryLimit: o.revisionHistoryLimit } : {}),
      ...(o.paused ? { paused: true } : {}),
    },
  };
}

const start = () => startHarness([createReplicaSetController(), createDeploymentController()]);

interface Counts {
  replicas?: number;
  updatedReplicas?: number;
  readyReplicas?: number;
  availableReplicas?: number;
  unavailableReplicas?: number;
  observedGeneration?: number;
  collisionCount?: number;
  conditions?: { type: string; status: string; reason: string; message: string; lastUpdateTime: string; lastTransitionTime: string }[];
}

const statusOf = (o: KubeObject | undefined): Counts => (o?.status ?? {}) as Counts;
const specReplicas = (o: KubeObject): number => (o.spec as { replicas: number }).replicas;
const getDeployment = async (name: string): Promise<KubeObject> => (await h.reader.get('apps/deployments', NS, name))!;

async function replicaSetsOf(name: string): Promise<KubeObject[]> {
  const d = await getDeployment(name);
  const sets = await h.reader.list('apps/replicasets', { namespace: NS, ownerUid: d.metadata.uid });
  return sets.sort((a, b) => Number(a.metadata.annotations?.['deployment.kubernetes.io/revision']) - Number(b.metadata.annotations?.['deployment.kubernetes.io/revision']));
}

async function activePods(app: string): Promise<KubeObject[]> {
  return (await h.reader.list('core/pods', { namespace: NS, labels: { app } })).filter((p) => !p.metadata.deletionTimestamp);
}

const isReady = (p: KubeObject): boolean => ((p.status as { conditions?: { type: string; status: string }[] } | undefined)?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');

/** The kubelet's part: every active pod of `app` not yet ready starts running and becomes ready. */
async function readyAll(app: string, filter: (p: KubeObject) => boolean = () => true): Promise<number> {
  let n = 0;
  for (const pod of await activePods(app)) {
    if (isReady(pod) || !filter(pod)) continue;
    await h.client.patch('core/pods', NS, pod.metadata.name!, 'merge', { status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: rfc3339(new Date()) }] } }, { subresource: 'status' });
    n++;
  }
  return n;
}

/** What `kubectl rollout status` waits for. */
function rolledOut(d: KubeObject): boolean {
  const s = statusOf(d);
  const want = specReplicas(d);
  return (d.metadata.generation ?? 0) <= (s.observedGeneration ?? 0) && (s.updatedReplicas ?? 0) === want && (s.replicas ?? 0) === want && (s.availableReplicas ?? 0) === want;
}

/** Plays the kubelet until the Deployment is rolled out. */
async function completeRollout(name: string): Promise<KubeObject> {
  for (let i = 0; i < 100; i++) {
    await h.settle();
    const d = await getDeployment(name);
    if (rolledOut(d) && statusOf(d).conditions?.some((c) => c.type === 'Progressing' && c.reason === 'NewReplicaSetAvailable')) return d;
    if (!(await readyAll(name))) await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`deployment ${name} did not roll out: ${JSON.stringify((await getDeployment(name)).status)}`);
}

/** Plays the kubelet until nothing is left to make ready and the controllers are idle. */
async function settleWithKubelet(name: string): Promise<KubeObject> {
  for (let i = 0; i < 100; i++) {
    await h.settle();
    if (!(await readyAll(name))) return getDeployment(name);
  }
  throw new Error(`pods of ${name} kept appearing`);
}

async function events(name: string, reason?: string): Promise<{ reason: string; message: string; type: string; source: { component: string } }[]> {
  const all = await h.reader.list('core/events', { namespace: NS });
  return all
    .filter((e) => (e.involvedObject as { name: string }).name === name && (!reason || e.reason === reason))
    .sort((a, b) => String(a.metadata.creationTimestamp).localeCompare(String(b.metadata.creationTimestamp))) as never;
}

const setImage = (name: string, image: string, changeCause?: string) =>
  h.client.patch('apps/deployments', NS, name, 'merge', {
    ...(changeCause ? { metadata: { annotations: { 'kubernetes.io/change-cause': changeCause } } } : {}),
    spec: { template: { spec: { containers: [{ name: 'c', image }] } } },
  });

/** Samples the store continuously and records every breach of `check`. */
function sampler(check: () => Promise<string | undefined>) {
  const breaches: string[] = [];
  let running = true;
  const done = (async () => {
    while (running) {
      const b = await check();
      if (b) breaches.push(b);
      await new Promise((r) => setTimeout(r, 3));
    }
  })();
  return {
    breaches,
    async stop() {
      running = false;
      await done;
    },
  };
}

describe('rollout arithmetic', () => {
  it('rounds maxSurge up and maxUnavailable down, and never lets both be zero', () => {
    expect(resolveFenceposts('25%', '25%', 10)).toEqual([3, 2]);
    expect(resolveFenceposts('25%', '25%', 1)).toEqual([1, 0]);
    expect(resolveFenceposts(0, '10%', 2)).toEqual([0, 1]);
    expect(resolveFenceposts(2, 1, 5)).toEqual([2, 1]);
  });

  it('hashes templates stably into the safe alphabet, salted by collisionCount', () => {
    const t = { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'c', image: 'nginx' }] } };
    const hash = computeTemplateHash(t);
    expect(hash).toMatch(SAFE_HASH);
    expect(hash.length).toBeGreaterThanOrEqual(6);
    expect(computeTemplateHash(structuredClone(t))).toBe(hash);
    expect(computeTemplateHash({ ...t, metadata: { labels: { app: 'web', 'pod-template-hash': 'x' } } })).toBe(hash);
    expect(computeTemplateHash(t, 1)).not.toBe(hash);
    expect(computeTemplateHash({ ...t, spec: { containers: [{ name: 'c', image: 'nginx:2' }] } })).not.toBe(hash);
  });
});

describe('Deployment controller', () => {
  it('creates a hashed ReplicaSet with revision annotations, then reports a complete rollout', async () => {
    h = await start();
    const created = await h.client.create('apps/deployments', deployment('web', 3, { annotations: { 'kubernetes.io/change-cause': 'first' } }));
    const d = await completeRollout('web');

    const [rs] = await replicaSetsOf('web');
    const hash = computeTemplateHash((created.spec as { template: never }).template);
    expect(rs.metadata.name).toBe(`web-${hash}`);
    expect(rs.metadata.labels).toEqual({ app: 'web', 'pod-template-hash': hash });
    expect((rs.spec as { selector: unknown }).selector).toEqual({ matchLabels: { app: 'web', 'pod-template-hash': hash } });
    expect((rs.spec as { template: { metadata: { labels: unknown } } }).template.metadata.labels).toEqual({ app: 'web', 'pod-template-hash': hash });
    expect(rs.metadata.ownerReferences).toEqual([{ apiVersion: 'apps/v1', kind: 'Deployment', name: 'web', uid: created.metadata.uid, controller: true, blockOwnerDeletion: true }]);
    expect(rs.metadata.annotations).toEqual({
      'deployment.kubernetes.io/revision': '1',
      'deployment.kubernetes.io/desired-replicas': '3',
      'deployment.kubernetes.io/max-replicas': '4',
      'kubernetes.io/change-cause': 'first',
    });
    expect(d.metadata.annotations?.['deployment.kubernetes.io/revision']).toBe('1');
    for (const pod of await activePods('web')) expect(pod.metadata.labels?.['pod-template-hash']).toBe(hash);

    const s = statusOf(d);
    expect(s).toMatchObject({ observedGeneration: 1, replicas: 3, updatedReplicas: 3, readyReplicas: 3, availableReplicas: 3 });
    expect(s.unavailableReplicas).toBeUndefined();
    expect(s.conditions!.map((c) => [c.type, c.status, c.reason, c.message])).toEqual([
      ['Available', 'True', 'MinimumReplicasAvailable', 'Deployment has minimum availability.'],
      ['Progressing', 'True', 'NewReplicaSetAvailable', `ReplicaSet "web-${hash}" has successfully progressed.`],
    ]);
    const scaling = await events('web', 'ScalingReplicaSet');
    expect(scaling.map((e) => e.message)).toEqual([`Scaled up replica set web-${hash} to 3`]);
    expect(scaling[0]).toMatchObject({ type: 'Normal', source: { component: 'deployment-controller' } });
  });

  it('reports a rollout in progress with Kubernetes conditions before pods are ready', async () => {
    h = await start();
    await h.client.create('apps/deployments', deployment('web', 2));
    await h.settle();
    const d = await getDeployment('web');
    const [rs] = await replicaSetsOf('web');
    expect(statusOf(d)).toMatchObject({ observedGeneration: 1, replicas: 2, updatedReplicas: 2, unavailableReplicas: 2 });
    const byType = Object.fromEntries(statusOf(d).conditions!.map((c) => [c.type, c]));
    expect(byType.Available).toMatchObject({ status: 'False', reason: 'MinimumReplicasUnavailable', message: 'Deployment does not have minimum availability.' });
    expect(byType.Progressing).toMatchObject({ status: 'True', reason: 'ReplicaSetUpdated', message: `ReplicaSet "${rs.metadata.name}" is progressing.` });
  });

  it('scales the ReplicaSet up and down with ScalingReplicaSet events', async () => {
    h = await start();
    await h.client.create('apps/deployments', deployment('web', 3));
    await completeRollout('web');
    const [rs] = await replicaSetsOf('web');
    await h.client.patch('apps/deployments', NS, 'web', 'merge', { spec: { replicas: 5 } });
    await completeRollout('web');
    expect(await activePods('web')).toHaveLength(5);
    await h.client.patch('apps/deployments', NS, 'web', 'merge', { spec: { replicas: 2 } });
    await completeRollout('web');
    expect(await activePods('web')).toHaveLength(2);
    const [after] = await replicaSetsOf('web');
    expect(after.metadata.annotations).toMatchObject({ 'deployment.kubernetes.io/desired-replicas': '2', 'deployment.kubernetes.io/max-replicas': '3', 'deployment.kubernetes.io/revision': '1' });
    expect((await events('web', 'ScalingReplicaSet')).map((e) => e.message)).toEqual([
      `Scaled up replica set ${rs.metadata.name} to 3`,
      `Scaled up replica set ${rs.metadata.name} to 5 from 3`,
      `Scaled down replica set ${rs.metadata.name} to 2 from 5`,
    ]);
  });

  it('replaces a deleted pod through its ReplicaSet', async () => {
    h = await start();
    await h.client.create('apps/deployments', deployment('web', 2));
    await completeRollout('web');
    const [victim] = await activePods('web');
    await h.client.delete('core/pods', NS, victim.metadata.name!);
    const d = await completeRollout('web');
    const pods = await activePods('web');
    expect(pods).toHaveLength(2);
    expect(pods.map((p) => p.metadata.name)).not.toContain(victim.metadata.name);
    expect(statusOf(d).availableReplicas).toBe(2);
  });

  const rollingCases: { replicas: number; maxSurge: number | string; maxUnavailable: number | string; surge: number; unavailable: number }[] = [
    { replicas: 4, maxSurge: 1, maxUnavailable: 1, surge: 1, unavailable: 1 },
    { replicas: 10, maxSurge: '25%', maxUnavailable: '25%', surge: 3, unavailable: 2 },
    { replicas: 3, maxSurge: 0, maxUnavailable: 1, surge: 0, unavailable: 1 },
    { replicas: 2, maxSurge: 0, maxUnavailable: '10%', surge: 0, unavailable: 1 },
  ];

  for (const c of rollingCases) {
    it(`rolls out within maxSurge ${c.maxSurge} / maxUnavailable ${c.maxUnavailable} of ${c.replicas} at every observed step`, async () => {
      h = await start();
      await h.client.create('apps/deployments', deployment('web', c.replicas, { strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: c.maxSurge, maxUnavailable: c.maxUnavailable } } }));
      await completeRollout('web');
      const [oldRS] = await replicaSetsOf('web');

      const watch = sampler(async () => {
        const sets = await h.reader.list('apps/replicasets', { namespace: NS });
        const desired = sets.reduce((n, rs) => n + specReplicas(rs), 0);
        const ready = (await activePods('web')).filter(isReady).length;
        if (desired > c.replicas + c.surge) return `ReplicaSets want ${desired} pods`;
        if (ready < c.replicas - c.unavailable) return `only ${ready} ready pods`;
        return undefined;
      });
      await setImage('web', 'nginx:1.26');
      let steps = 0;
      for (; steps < 100; steps++) {
        await h.settle();
        const pods = await activePods('web');
        expect(pods.length, 'pods at a settled step').toBeLessThanOrEqual(c.replicas + c.surge);
        expect(pods.filter(isReady).length, 'ready pods at a settled step').toBeGreaterThanOrEqual(c.replicas - c.unavailable);
        const d = await getDeployment('web');
        if (rolledOut(d) && statusOf(d).conditions?.some((x) => x.reason === 'NewReplicaSetAvailable')) break;
        // One new pod at a time becomes ready, so every intermediate state is visited.
        const next = pods.find((p) => !isReady(p));
        if (next) await readyAll('web', (p) => p.metadata.name === next.metadata.name);
        else await new Promise((r) => setTimeout(r, 10));
      }
      await watch.stop();
      expect(watch.breaches).toEqual([]);
      expect(steps).toBeGreaterThan(1);

      const [old, current] = await replicaSetsOf('web');
      expect(old.metadata.uid).toBe(oldRS.metadata.uid);
      expect(specReplicas(old)).toBe(0);
      expect(specReplicas(current)).toBe(c.replicas);
      expect(current.metadata.annotations?.['deployment.kubernetes.io/revision']).toBe('2');
      expect((await getDeployment('web')).metadata.annotations?.['deployment.kubernetes.io/revision']).toBe('2');
      const pods = await activePods('web');
      expect(pods.every((p) => p.metadata.labels?.['pod-template-hash'] === current.metadata.labels?.['pod-template-hash'])).toBe(true);
      const messages = (await events('web', 'ScalingReplicaSet')).map((e) => e.message);
      expect(messages.some((m) => /^Scaled down replica set \S+ to 0 from \d+$/.test(m) && m.includes(` ${old.metadata.name} `))).toBe(true);
      expect(messages.some((m) => m.startsWith(`Scaled up replica set ${current.metadata.name} to `))).toBe(true);
    });
  }

  it('Recreate scales the old ReplicaSet to zero before any new pod exists', async () => {
    h = await start();
    await h.client.create('apps/deployments', deployment('web', 2, { strategy: { type: 'Recreate' } }));
    await completeRollout('web');
    const [oldRS] = await replicaSetsOf('web');
    const oldHash = oldRS.metadata.labels!['pod-template-hash'];
    const watch = sampler(async () => {
      const hashes = new Set((await activePods('web')).map((p) => p.metadata.labels!['pod-template-hash']));
      return hashes.size > 1 ? 'old and new pods at once' : undefined;
    });
    await setImage('web', 'nginx:1.26');
    await completeRollout('web');
    await watch.stop();
    expect(watch.breaches).toEqual([]);
    const [old, current] = await replicaSetsOf('web');
    expect(old.metadata.labels!['pod-template-hash']).toBe(oldHash);
    expect(specReplicas(old)).toBe(0);
    expect(specReplicas(current)).toBe(2);
    expect((await events('web', 'ScalingReplicaSet')).map((e) => e.message)).toEqual([
      `Scaled up replica set ${old.metadata.name} to 2`,
      `Scaled down replica set ${old.metadata.name} to 0 from 2`,
      `Scaled up replica set ${current.metadata.name} to 2`,
    ]);
  });

  it('rolls back by re-applying an old template: the old ReplicaSet is reused with the next revision', async () => {
    h = await start();
    await h.client.create('apps/deployments', deployment('web', 2, { annotations: { 'kubernetes.io/change-cause': 'v1' } }));
    await completeRollout('web');
    await setImage('web', 'nginx:1.26', 'v2');
    await completeRollout('web');
    const [v1, v2] = await replicaSetsOf('web');
    expect(v2.metadata.annotations?.['kubernetes.io/change-cause']).toBe('v2');
    expect(v1.metadata.annotations?.['kubernetes.io/change-cause']).toBe('v1');

    // What `kubectl rollout undo` sends: the old template, without its hash label.
    await setImage('web', 'nginx:1.25', 'v1 again');
    const d = await completeRollout('web');
    const sets = await replicaSetsOf('web');
    expect(sets.map((s) => s.metadata.uid)).toEqual([v2.metadata.uid, v1.metadata.uid]);
    const reused = sets[1];
    expect(reused.metadata.name).toBe(v1.metadata.name);
    expect(reused.metadata.annotations).toMatchObject({
      'deployment.kubernetes.io/revision': '3',
      'deployment.kubernetes.io/revision-history': '1',
      'kubernetes.io/change-cause': 'v1 again',
    });
    expect(specReplicas(reused)).toBe(2);
    expect(specReplicas(sets[0])).toBe(0);
    expect(d.metadata.annotations?.['deployment.kubernetes.io/revision']).toBe('3');
  });

  it('does not roll out while paused, still scales, and resumes the rollout', async () => {
    h = await start();
    await h.client.create('apps/deployments', deployment('web', 2));
    await completeRollout('web');
    await h.client.patch('apps/deployments', NS, 'web', 'merge', { spec: { paused: true } });
    await setImage('web', 'nginx:1.26');
    await h.client.patch('apps/deployments', NS, 'web', 'merge', { spec: { replicas: 3 } });
    let d = await settleWithKubelet('web');
    expect(await replicaSetsOf('web')).toHaveLength(1);
    expect(statusOf(d).conditions!.find((c) => c.type === 'Progressing')).toMatchObject({ status: 'Unknown', reason: 'DeploymentPaused', message: 'Deployment is paused' });
    expect(statusOf(d)).toMatchObject({ observedGeneration: d.metadata.generation, replicas: 3, readyReplicas: 3, availableReplicas: 3 });
    expect(statusOf(d).updatedReplicas).toBeUndefined();

    await h.client.patch('apps/deployments', NS, 'web', 'merge', { spec: { paused: false } });
    d = await completeRollout('web');
    const [old, current] = await replicaSetsOf('web');
    expect(specReplicas(old)).toBe(0);
    expect(specReplicas(current)).toBe(3);
    expect(statusOf(d)).toMatchObject({ replicas: 3, updatedReplicas: 3, availableReplicas: 3 });
  });

  it('scales a stuck rollout proportionally across its ReplicaSets, also while paused', async () => {
    h = await start();
    const strategy = { type: 'RollingUpdate', rollingUpdate: { maxSurge: 3, maxUnavailable: 2 } };
    await h.client.create('apps/deployments', deployment('web', 10, { strategy }));
    await completeRollout('web');
    // The new template never becomes ready: the rollout stops at old 8 / new 5.
    await setImage('web', 'broken:1');
    await h.settle();
    let [old, fresh] = await replicaSetsOf('web');
    expect([specReplicas(old), specReplicas(fresh)]).toEqual([8, 5]);

    await h.client.patch('apps/deployments', NS, 'web', 'merge', { spec: { replicas: 20 } });
    await h.settle();
    [old, fresh] = await replicaSetsOf('web');
    // 13 pods grow to 23 in proportion: 8*23/13 ~ 14, 5*23/13 ~ 9.
    expect([specReplicas(old), specReplicas(fresh)]).toEqual([14, 9]);
    expect(old.metadata.annotations).toMatchObject({ 'deployment.kubernetes.io/desired-replicas': '20', 'deployment.kubernetes.io/max-replicas': '23' });
    const messages = (await events('web', 'ScalingReplicaSet')).map((e) => e.message);
    expect(messages).toContain(`Scaled up replica set ${old.metadata.name} to 14 from 8`);
    expect(messages).toContain(`Scaled up replica set ${fresh.metadata.name} to 9 from 5`);

    await h.client.patch('apps/deployments', NS, 'web', 'merge', { spec: { paused: true, replicas: 10 } });
    await h.settle();
    [old, fresh] = await replicaSetsOf('web');
    // 23 shrink to 13: 14*13/23 ~ 8, and the largest set absorbs the rest.
    expect([specReplicas(old), specReplicas(fresh)]).toEqual([8, 5]);
  });

  it('keeps only revisionHistoryLimit old ReplicaSets (kubectl rollout restart changes the template)', async () => {
    h = await start();
    await h.client.create('apps/deployments', deployment('web', 1, { revisionHistoryLimit: 1 }));
    await completeRollout('web');
    const [first] = await replicaSetsOf('web');
    for (const at of ['2024-01-01T00:00:00Z', '2024-01-02T00:00:00Z']) {
      await h.client.patch('apps/deployments', NS, 'web', 'merge', { spec: { template: { metadata: { annotations: { 'kubectl.kubernetes.io/restartedAt': at } } } } });
      await completeRollout('web');
    }
    await h.waitFor(async () => (await replicaSetsOf('web')).length === 2, 5000, 'history cleaned');
    const sets = await replicaSetsOf('web');
    expect(sets.map((s) => s.metadata.annotations?.['deployment.kubernetes.io/revision'])).toEqual(['2', '3']);
    expect(sets.map((s) => s.metadata.uid)).not.toContain(first.metadata.uid);
    expect((sets[1].spec as { template: { metadata: { annotations: Record<string, string> } } }).template.metadata.annotations['kubectl.kubernetes.io/restartedAt']).toBe('2024-01-02T00:00:00Z');
  });

  it('reports ProgressDeadlineExceeded when a rollout makes no progress in time, and recovers', async () => {
    h = await start();
    await h.client.create('apps/deployments', deployment('web', 1, { progressDeadlineSeconds: 1 }));
    const [rs] = await h.waitFor(async () => {
      const sets = await replicaSetsOf('web');
      return sets.length ? sets : undefined;
    }, 5000, 'replica set');
    const progressing = await h.waitFor(async () => {
      const c = statusOf(await getDeployment('web')).conditions?.find((x) => x.type === 'Progressing');
      return c?.reason === 'ProgressDeadlineExceeded' ? c : undefined;
    }, 5000, 'deadline exceeded');
    expect(progressing).toMatchObject({ status: 'False', message: `ReplicaSet "${rs.metadata.name}" has timed out progressing.` });
    expect(statusOf(await getDeployment('web')).conditions!.find((x) => x.type === 'Available')).toMatchObject({ status: 'False', reason: 'MinimumReplicasUnavailable' });

    const d = await completeRollout('web');
    expect(statusOf(d).conditions!.find((x) => x.type === 'Progressing')).toMatchObject({ status: 'True', reason: 'NewReplicaSetAvailable' });
  });

  it('adopts a matching orphan ReplicaSet and scales it down as an old revision', async () => {
    h = await start();
    await h.client.create('apps/replicasets', {
      metadata: { name: 'legacy', namespace: NS, labels: { app: 'web' } },
      spec: { replicas: 2, selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'c', image: 'old:1' }] } } },
    });
    await h.client.create('apps/deployments', deployment('web', 2));
    const d = await completeRollout('web');
    const sets = await replicaSetsOf('web');
    const legacy = sets.find((s) => s.metadata.name === 'legacy')!;
    expect(legacy.metadata.ownerReferences).toEqual([{ apiVersion: 'apps/v1', kind: 'Deployment', name: 'web', uid: d.metadata.uid, controller: true, blockOwnerDeletion: true }]);
    expect(specReplicas(legacy)).toBe(0);
    expect(sets.find((s) => s.metadata.name !== 'legacy')!.metadata.annotations?.['deployment.kubernetes.io/revision']).toBe('1');
  });
});
