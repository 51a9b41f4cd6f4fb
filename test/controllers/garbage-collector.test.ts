// The garbage collector as a user sees it: dependents of a deleted owner go away (background),
// a foreground deletion waits for blocking dependents, an orphaning deletion keeps dependents
// but strips the owner reference, and owners are matched by uid, never by name alone.
import { afterEach, describe, expect, it } from 'vitest';
import type { KubeObject } from '../../shared/api/kind.js';
import { garbageCollectorController } from '../../shared/controllers/gc/garbage-collector.js';
import { startHarness, type Harness } from './harness.js';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function start() {
  h = await startHarness([garbageCollectorController()]);
  return h;
}

function ownerRef(owner: KubeObject, extra: Record<string, unknown> = { controller: true, blockOwnerDeletion: true }) {
  return { apiVersion: owner.apiVersion, kind: owner.kind, name: owner.metadata.name, uid: owner.metadata.uid, ...extra };
}

async function replicaSet(name: string, finalizers?: string[]) {
  return h!.client.create('apps/replicasets', {
    metadata: { name, namespace: 'default', ...(finalizers ? { finalizers } : {}) },
    spec: { replicas: 2, selector: { matchLabels: { app: name } }, template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'c', image: 'busybox' }] } } },
  });
}

/** A pod the test owns through `owners` (no ReplicaSet controller runs here). */
async function ownedPod(name: string, owners: Record<string, unknown>[], meta: Record<string, unknown> = {}) {
  return h!.client.create('core/pods', {
    metadata: { name, namespace: 'default', labels: { app: 'web' }, ownerReferences: owners, ...meta },
    spec: { containers: [{ name: 'c', image: 'busybox' }] },
  });
}

async function pod(name: string) {
  return h!.reader.get('core/pods', 'default', name);
}

async function podNames() {
  return (await h!.reader.list('core/pods', { namespace: 'default' })).map((p) => p.metadata.name).sort();
}

describe('garbage collector', () => {
  it('deletes the pods of a deleted ReplicaSet (background) and leaves other pods alone', async () => {
    await start();
    const rs = await replicaSet('web');
    await ownedPod('web-a', [ownerRef(rs)]);
    await ownedPod('web-b', [ownerRef(rs)]);
    await h!.client.create('core/pods', { metadata: { name: 'loner', namespace: 'default' }, spec: { containers: [{ name: 'c', image: 'busybox' }] } });
    await h!.settle();
    expect(await podNames()).toEqual(['loner', 'web-a', 'web-b']);

    await h!.client.delete('apps/replicasets', 'default', 'web');
    await h!.waitFor(async () => (await podNames()).length === 1, 5000, 'dependents deleted');
    expect(await podNames()).toEqual(['loner']);
  });

  it('deletes dependents first in a foreground deletion and removes the owner when no blocking dependent is left', async () => {
    await start();
    const rs = await replicaSet('web', ['foregroundDeletion']);
    await ownedPod('web-a', [ownerRef(rs)]);
    // Held by its own finalizer: it stays (terminating) and blocks its owner meanwhile.
    await ownedPod('web-held', [ownerRef(rs)], { finalizers: ['example.com/hold'] });
    await ownedPod('web-nonblocking', [ownerRef(rs, { controller: true, blockOwnerDeletion: false })], { finalizers: ['example.com/hold'] });
    await h!.settle();

    await h!.client.delete('apps/replicasets', 'default', 'web');
    await h!.waitFor(async () => !(await pod('web-a')), 5000, 'dependent deleted');
    await h!.waitFor(async () => (await pod('web-nonblocking'))?.metadata.deletionTimestamp, 5000, 'non-blocking dependent deleted too');
    await h!.settle();
    const owner = await h!.reader.get('apps/replicasets', 'default', 'web');
    expect(owner?.metadata.deletionTimestamp).toBeDefined();
    expect(owner?.metadata.finalizers).toEqual(['foregroundDeletion']);
    expect((await pod('web-held'))?.metadata.deletionTimestamp).toBeDefined();

    await h!.client.patch('core/pods', 'default', 'web-held', 'merge', { metadata: { finalizers: null } });
    await h!.waitFor(async () => !(await h!.reader.get('apps/replicasets', 'default', 'web')), 5000, 'owner deleted after its blocking dependents');
    // A dependent that does not block its owner does not hold the owner back.
    expect(await pod('web-nonblocking')).toBeDefined();
  });

  it('orphans dependents: they stay, without the owner reference, and the owner goes', async () => {
    await start();
    const rs = await replicaSet('web', ['orphan']);
    const other = await h!.client.create('core/configmaps', { metadata: { name: 'other-owner', namespace: 'default' } });
    await ownedPod('web-a', [ownerRef(rs)]);
    await ownedPod('web-b', [ownerRef(rs), ownerRef(other, {})]);
    await h!.settle();

    await h!.client.delete('apps/replicasets', 'default', 'web');
    await h!.waitFor(async () => !(await h!.reader.get('apps/replicasets', 'default', 'web')), 5000, 'owner deleted');
    await h!.settle();
    expect((await pod('web-a'))?.metadata.ownerReferences).toBeUndefined();
    expect((await pod('web-b'))?.metadata.ownerReferences).toEqual([ownerRef(other, {})]);
  });

  it('matches owners by uid: a re-created owner of the same name does not keep the old dependents', async () => {
    await start();
    const first = await replicaSet('web');
    await h!.client.delete('apps/replicasets', 'default', 'web');
    const second = await replicaSet('web');
    expect(second.metadata.uid).not.toBe(first.metadata.uid);

    await ownedPod('old', [ownerRef(first)]);
    await ownedPod('new', [ownerRef(second)]);
    await h!.waitFor(async () => !(await pod('old')), 5000, 'pod of the old owner deleted');
    await h!.settle();
    expect(await podNames()).toEqual(['new']);
  });

  it('keeps a dependent that still has an owner and drops the reference to the one that is gone', async () => {
    await start();
    const a = await h!.client.create('core/configmaps', { metadata: { name: 'a', namespace: 'default' } });
    const b = await h!.client.create('core/configmaps', { metadata: { name: 'b', namespace: 'default' } });
    await h!.client.create('core/secrets', { metadata: { name: 'shared', namespace: 'default', ownerReferences: [ownerRef(a, {}), ownerRef(b, {})] } });
    await h!.settle();

    await h!.client.delete('core/configmaps', 'default', 'a');
    await h!.waitFor(async () => (await h!.reader.get('core/secrets', 'default', 'shared'))?.metadata.ownerReferences?.length === 1, 5000, 'dangling reference dropped');
    expect((await h!.reader.get('core/secrets', 'default', 'shared'))?.metadata.ownerReferences).toEqual([ownerRef(b, {})]);
  });

  it('collects namespaced dependents of a cluster-scoped owner', async () => {
    await start();
    await h!.client.create('core/namespaces', { metadata: { name: 'team' } });
    const role = await h!.client.create('rbac.authorization.k8s.io/clusterroles', { metadata: { name: 'owner-role' }, rules: [] });
    await h!.client.create('core/configmaps', { metadata: { name: 'one', namespace: 'default', ownerReferences: [ownerRef(role)] } });
    await h!.client.create('core/configmaps', { metadata: { name: 'two', namespace: 'team', ownerReferences: [ownerRef(role)] } });
    await h!.settle();
    await sleep(100);
    expect(await h!.reader.get('core/configmaps', 'team', 'two')).toBeDefined();

    await h!.client.delete('rbac.authorization.k8s.io/clusterroles', undefined, 'owner-role');
    await h!.waitFor(async () => !(await h!.reader.get('core/configmaps', 'default', 'one')) && !(await h!.reader.get('core/configmaps', 'team', 'two')), 5000, 'dependents in both namespaces deleted');
  });

  it('reports owner references that cross namespaces or point from cluster scope to a namespaced kind', async () => {
    await start();
    await h!.client.create('core/namespaces', { metadata: { name: 'elsewhere' } });
    const foreign = await h!.client.create('core/configmaps', { metadata: { name: 'foreign', namespace: 'elsewhere' } });
    await h!.client.create('core/configmaps', { metadata: { name: 'crossing', namespace: 'default', ownerReferences: [ownerRef(foreign, {})] } });
    await h!.client.create('rbac.authorization.k8s.io/clusterroles', { metadata: { name: 'misowned', ownerReferences: [ownerRef(foreign, {})] }, rules: [] });

    // The cross-namespace reference names no owner in the dependent's namespace: it is collected.
    await h!.waitFor(async () => !(await h!.reader.get('core/configmaps', 'default', 'crossing')), 5000, 'cross-namespace dependent collected');
    await h!.settle();
    // A cluster-scoped object cannot be owned by a namespaced one: it is left alone.
    expect(await h!.reader.get('rbac.authorization.k8s.io/clusterroles', undefined, 'misowned')).toBeDefined();

    const events = (await h!.reader.list('core/events', { namespace: 'default' })).filter((e) => e.reason === 'OwnerRefInvalidNamespace');
    const byObject = new Map(events.map((e) => [(e.involvedObject as { name: string }).name, e]));
    expect(byObject.get('crossing')).toMatchObject({
      type: 'Warning',
      message: `ownerRef [v1/ConfigMap, namespace: default, name: foreign, uid: ${foreign.metadata.uid}] does not exist in namespace "default"`,
      source: { component: 'garbage-collector-controller' },
    });
    expect(byObject.get('misowned')?.message).toBe(`ownerRef [v1/ConfigMap, namespace: , name: foreign, uid: ${foreign.metadata.uid}] does not exist in namespace ""`);
  });
});
