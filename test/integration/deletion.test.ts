// Deletion as kube-apiserver does it, through the Hono app over a real SQLite store: propagation
// policies and the garbage collector's finalizers, the deprecated orphanDependents, graceful pod
// deletion, removal once the last finalizer goes, and DeleteOptions validation.
import protobuf from 'protobufjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startInProcessApi, type InProcessApi } from './in-process-api.js';

const TOKEN = 'test-token';
let api: InProcessApi;

beforeAll(async () => {
  api = await startInProcessApi({ name: 'deletion', adminToken: TOKEN });
  await call('POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'default' } });
});
afterAll(() => api.close());

const call = (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) => api.request(method, path, { body, headers });

const DEPLOYMENTS = '/apis/apps/v1/namespaces/default/deployments';
const CONFIGMAPS = '/api/v1/namespaces/default/configmaps';
const PODS = '/api/v1/namespaces/default/pods';

const deployment = (name: string, finalizers?: string[]) => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name, ...(finalizers ? { finalizers } : {}) },
  spec: { replicas: 1, selector: { matchLabels: { app: name } }, template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'app', image: 'nginx' }] } } },
});

const pod = (name: string, extra: { nodeName?: string; finalizers?: string[]; grace?: number } = {}) => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, ...(extra.finalizers ? { finalizers: extra.finalizers } : {}) },
  spec: {
    containers: [{ name: 'app', image: 'nginx' }],
    ...(extra.nodeName ? { nodeName: extra.nodeName } : {}),
    ...(extra.grace !== undefined ? { terminationGracePeriodSeconds: extra.grace } : {}),
  },
});

async function createDeployment(name: string, finalizers?: string[]) {
  const r = await call('POST', DEPLOYMENTS, deployment(name, finalizers));
  expect(r.status).toBe(201);
  return r.json;
}

describe('propagation policies', () => {
  it('Background (the default) deletes at once and answers with a Success Status', async () => {
    const created = await createDeployment('bg');
    const del = await call('DELETE', `${DEPLOYMENTS}/bg`, { propagationPolicy: 'Background' });
    expect(del.status).toBe(200);
    expect(del.json).toMatchObject({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', details: { name: 'bg', group: 'apps', kind: 'deployments', uid: created.metadata.uid } });
    expect((await call('GET', `${DEPLOYMENTS}/bg`)).status).toBe(404);
    await createDeployment('plain');
    expect((await call('DELETE', `${DEPLOYMENTS}/plain`)).json.status).toBe('Success');
    expect((await call('GET', `${DEPLOYMENTS}/plain`)).status).toBe(404);
  });

  it('Foreground marks the object with deletionTimestamp and the foregroundDeletion finalizer', async () => {
    const created = await createDeployment('fg');
    const del = await call('DELETE', `${DEPLOYMENTS}/fg`, { propagationPolicy: 'Foreground' });
    expect(del.status).toBe(200);
    expect(del.json.kind).toBe('Deployment');
    expect(del.json.metadata.finalizers).toEqual(['foregroundDeletion']);
    expect(del.json.metadata.deletionTimestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect(del.json.metadata.deletionGracePeriodSeconds).toBe(0);
    expect(del.json.metadata.generation).toBe(created.metadata.generation + 1);
    const live = await call('GET', `${DEPLOYMENTS}/fg`);
    expect(live.json.metadata.finalizers).toEqual(['foregroundDeletion']);
  });

  it('Orphan marks the object with the orphan finalizer', async () => {
    await createDeployment('orph');
    const del = await call('DELETE', `${DEPLOYMENTS}/orph`, { propagationPolicy: 'Orphan' });
    expect(del.status).toBe(200);
    expect(del.json.metadata.finalizers).toEqual(['orphan']);
    expect(del.json.metadata.deletionTimestamp).toBeTruthy();
  });

  it('takes the policy from the query when there is no body, as kubectl --cascade and client libraries send it', async () => {
    await createDeployment('q-fg');
    const del = await call('DELETE', `${DEPLOYMENTS}/q-fg?propagationPolicy=Foreground`);
    expect(del.json.metadata.finalizers).toEqual(['foregroundDeletion']);
    await createDeployment('q-orphan');
    const legacy = await call('DELETE', `${DEPLOYMENTS}/q-orphan?orphanDependents=true`);
    expect(legacy.json.metadata.finalizers).toEqual(['orphan']);
  });

  it('keeps other finalizers next to the garbage collector ones', async () => {
    await createDeployment('mixed', ['example.com/hold']);
    const del = await call('DELETE', `${DEPLOYMENTS}/mixed`, { propagationPolicy: 'Foreground' });
    expect(del.json.metadata.finalizers).toEqual(['example.com/hold', 'foregroundDeletion']);
  });

  it('honours the deprecated orphanDependents: true orphans, false does not (and answers 202 while the object stays)', async () => {
    await createDeployment('legacy-true');
    const orphan = await call('DELETE', `${DEPLOYMENTS}/legacy-true`, { orphanDependents: true });
    expect(orphan.status).toBe(200);
    expect(orphan.json.metadata.finalizers).toEqual(['orphan']);
    // false drops the orphan finalizer again, and nothing else holds the object.
    const undo = await call('DELETE', `${DEPLOYMENTS}/legacy-true`, { orphanDependents: false });
    expect(undo.json.status).toBe('Success');
    expect((await call('GET', `${DEPLOYMENTS}/legacy-true`)).status).toBe(404);
    await createDeployment('legacy-false', ['example.com/hold']);
    const held = await call('DELETE', `${DEPLOYMENTS}/legacy-false`, { orphanDependents: false });
    expect(held.status).toBe(202);
    expect(held.json.metadata.finalizers).toEqual(['example.com/hold']);
    expect(held.json.metadata.deletionTimestamp).toBeTruthy();
  });

  it('lets a later delete change the policy of an object already being deleted', async () => {
    await createDeployment('switch');
    await call('DELETE', `${DEPLOYMENTS}/switch`, { propagationPolicy: 'Foreground' });
    const toOrphan = await call('DELETE', `${DEPLOYMENTS}/switch`, { propagationPolicy: 'Orphan' });
    expect(toOrphan.json.metadata.finalizers).toEqual(['orphan']);
    const same = await call('DELETE', `${DEPLOYMENTS}/switch`, { propagationPolicy: 'Orphan' });
    expect(same.json.metadata.resourceVersion).toBe(toOrphan.json.metadata.resourceVersion);
    // Background leaves no finalizer to wait for: the object goes now.
    const background = await call('DELETE', `${DEPLOYMENTS}/switch`, { propagationPolicy: 'Background' });
    expect(background.json).toMatchObject({ kind: 'Status', status: 'Success', details: { name: 'switch', kind: 'deployments' } });
    expect((await call('GET', `${DEPLOYMENTS}/switch`)).status).toBe(404);
  });

  it('removes the object when the garbage collector takes away the last finalizer', async () => {
    await createDeployment('gc-done');
    const marked = await call('DELETE', `${DEPLOYMENTS}/gc-done`, { propagationPolicy: 'Foreground' });
    const released = await call('PUT', `${DEPLOYMENTS}/gc-done`, { ...marked.json, metadata: { ...marked.json.metadata, finalizers: [] } });
    expect(released.status).toBe(200);
    expect((await call('GET', `${DEPLOYMENTS}/gc-done`)).status).toBe(404);
  });

  it('batch/v1 Jobs orphan their pods by default and say so in a warning', async () => {
    const job = { apiVersion: 'batch/v1', kind: 'Job', metadata: { name: 'j' }, spec: { template: { spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'busybox' }] } } } };
    expect((await call('POST', '/apis/batch/v1/namespaces/default/jobs', job)).status).toBe(201);
    const del = await call('DELETE', '/apis/batch/v1/namespaces/default/jobs/j');
    expect(del.status).toBe(200);
    expect(del.json.metadata.finalizers).toEqual(['orphan']);
    expect(del.headers.get('warning')).toBe(
      '299 - "child pods are preserved by default when jobs are deleted; set propagationPolicy=Background to remove them or set propagationPolicy=Orphan to suppress this warning"',
    );
    expect((await call('POST', '/apis/batch/v1/namespaces/default/jobs', { ...job, metadata: { name: 'j2' } })).status).toBe(201);
    const bg = await call('DELETE', '/apis/batch/v1/namespaces/default/jobs/j2', { propagationPolicy: 'Background' });
    expect(bg.json.status).toBe('Success');
    expect(bg.headers.get('warning')).toBeNull();
  });

  it('dryRun in the body deletes nothing', async () => {
    await createDeployment('dry');
    const del = await call('DELETE', `${DEPLOYMENTS}/dry`, { propagationPolicy: 'Background', dryRun: ['All'] });
    expect(del.status).toBe(200);
    expect((await call('GET', `${DEPLOYMENTS}/dry`)).status).toBe(200);
    const fg = await call('DELETE', `${DEPLOYMENTS}/dry`, { propagationPolicy: 'Foreground', dryRun: ['All'] });
    expect(fg.json.metadata.finalizers).toEqual(['foregroundDeletion']);
    expect((await call('GET', `${DEPLOYMENTS}/dry`)).json.metadata.finalizers).toBeUndefined();
  });

  it('a Foreground namespace deletion keeps the namespace until its finalizer goes', async () => {
    expect((await call('POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'fg-ns' } })).status).toBe(201);
    const del = await call('DELETE', '/api/v1/namespaces/fg-ns', { propagationPolicy: 'Foreground' });
    expect(del.status).toBe(200);
    expect(del.json.status.phase).toBe('Terminating');
    expect(del.json.metadata.finalizers).toEqual(['foregroundDeletion']);
    await new Promise((r) => setTimeout(r, 100));
    expect((await call('GET', '/api/v1/namespaces/fg-ns')).status).toBe(200);
    await call('PATCH', '/api/v1/namespaces/fg-ns', { metadata: { finalizers: null } }, { 'Content-Type': 'application/merge-patch+json' });
    for (let i = 0; i < 50 && (await call('GET', '/api/v1/namespaces/fg-ns')).status !== 404; i++) await new Promise((r) => setTimeout(r, 50));
    expect((await call('GET', '/api/v1/namespaces/fg-ns')).status).toBe(404);
  });
});

describe('DeleteOptions validation', () => {
  it('refuses an unknown propagation policy with 422, even for a missing object', async () => {
    await call('POST', CONFIGMAPS, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'kept' } });
    for (const path of [`${CONFIGMAPS}/kept`, `${CONFIGMAPS}/missing`]) {
      const r = await call('DELETE', path, { propagationPolicy: 'Sideways' });
      expect(r.status).toBe(422);
      expect(r.json).toEqual({
        kind: 'Status',
        apiVersion: 'v1',
        metadata: {},
        status: 'Failure',
        message: 'DeleteOptions.meta.k8s.io "" is invalid: propagationPolicy: Unsupported value: "Sideways": supported values: "Foreground", "Background", "Orphan", "nil"',
        reason: 'Invalid',
        details: {
          group: 'meta.k8s.io',
          kind: 'DeleteOptions',
          causes: [{ reason: 'FieldValueNotSupported', message: 'Unsupported value: "Sideways": supported values: "Foreground", "Background", "Orphan", "nil"', field: 'propagationPolicy' }],
        },
        code: 422,
      });
    }
    expect((await call('GET', `${CONFIGMAPS}/kept`)).status).toBe(200);
    expect((await call('DELETE', `${CONFIGMAPS}/kept?propagationPolicy=Sideways`)).status).toBe(422);
  });

  it('refuses orphanDependents together with a propagation policy, and unknown dryRun values', async () => {
    const both = await call('DELETE', `${CONFIGMAPS}/kept`, { orphanDependents: true, propagationPolicy: 'Background' });
    expect(both.status).toBe(422);
    expect(both.json.message).toBe('DeleteOptions.meta.k8s.io "" is invalid: propagationPolicy: Invalid value: "Background": orphanDependents and deletionPropagation cannot be both set');
    const dry = await call('DELETE', `${CONFIGMAPS}/kept`, { dryRun: ['Some'] });
    expect(dry.status).toBe(422);
    expect(dry.json.message).toBe('DeleteOptions.meta.k8s.io "" is invalid: dryRun: Unsupported value: []string{"Some"}: supported values: "All"');
  });
});

describe('graceful pod deletion', () => {
  it('a pod on a node gets its grace period; only a shorter one changes it; 0 removes it', async () => {
    expect((await call('POST', PODS, pod('graceful', { nodeName: 'n1', grace: 30 }))).status).toBe(201);
    const first = await call('DELETE', `${PODS}/graceful`);
    expect(first.status).toBe(200);
    expect(first.json.metadata.deletionGracePeriodSeconds).toBe(30);
    const ts = Date.parse(first.json.metadata.deletionTimestamp);
    expect(ts - Date.now()).toBeGreaterThan(25_000);
    // Repeating the delete, or asking for a longer period, changes nothing.
    const again = await call('DELETE', `${PODS}/graceful`, { gracePeriodSeconds: 60 });
    expect(again.json.metadata.resourceVersion).toBe(first.json.metadata.resourceVersion);
    const shorter = await call('DELETE', `${PODS}/graceful`, { gracePeriodSeconds: 10 });
    expect(shorter.json.metadata.deletionGracePeriodSeconds).toBe(10);
    expect(Date.parse(shorter.json.metadata.deletionTimestamp)).toBe(ts - 20_000);
    const now = await call('DELETE', `${PODS}/graceful`, { gracePeriodSeconds: 0 });
    expect(now.json.status).toBe('Success');
    expect((await call('GET', `${PODS}/graceful`)).status).toBe(404);
  });

  it('reads a protobuf DeleteOptions body (kubectl >= 1.32 typed clients) with its grace period of 0', async () => {
    await call('POST', PODS, pod('pb', { nodeName: 'n1', grace: 30 }));
    const options = protobuf.Writer.create().uint32(8).int64(0).uint32(34).string('Background').finish();
    const typeMeta = protobuf.Writer.create().uint32(10).string('v1').uint32(18).string('DeleteOptions').finish();
    const envelope = protobuf.Writer.create().uint32(10).bytes(typeMeta).uint32(18).bytes(options).uint32(26).string('').uint32(34).string('').finish();
    const res = await api.server.app.request(`${PODS}/pb`, {
      method: 'DELETE',
      headers: { Authorization: `Bearer ${TOKEN}`, 'Content-Type': 'application/vnd.kubernetes.protobuf' },
      body: new Uint8Array([0x6b, 0x38, 0x73, 0x00, ...envelope]) as BodyInit,
    });
    expect(res.status).toBe(200);
    expect((await res.json()).status).toBe('Success');
    expect((await call('GET', `${PODS}/pb`)).status).toBe(404);
  });

  it('an unscheduled pod goes at once', async () => {
    await call('POST', PODS, pod('unbound', { grace: 30 }));
    expect((await call('DELETE', `${PODS}/unbound`)).json.status).toBe('Success');
    expect((await call('GET', `${PODS}/unbound`)).status).toBe(404);
  });

  it('removing the last finalizer during the grace period does not delete; after a delete with 0 it does', async () => {
    await call('POST', PODS, pod('held', { nodeName: 'n1', grace: 30, finalizers: ['example.com/hold'] }));
    await call('DELETE', `${PODS}/held`);
    const released = await call('PATCH', `${PODS}/held`, { metadata: { finalizers: null } }, { 'Content-Type': 'application/merge-patch+json' });
    expect(released.status).toBe(200);
    expect((await call('GET', `${PODS}/held`)).status).toBe(200);
    expect((await call('DELETE', `${PODS}/held`, { gracePeriodSeconds: 0 })).json.status).toBe('Success');
    expect((await call('GET', `${PODS}/held`)).status).toBe(404);

    // With a finalizer, a grace period of 0 leaves the pod until the finalizer goes.
    await call('POST', PODS, pod('held0', { nodeName: 'n1', grace: 30, finalizers: ['example.com/hold'] }));
    const marked = await call('DELETE', `${PODS}/held0`, { gracePeriodSeconds: 0 });
    expect(marked.json.metadata.deletionGracePeriodSeconds).toBe(0);
    expect((await call('GET', `${PODS}/held0`)).status).toBe(200);
    await call('PATCH', `${PODS}/held0`, { metadata: { finalizers: null } }, { 'Content-Type': 'application/merge-patch+json' });
    expect((await call('GET', `${PODS}/held0`)).status).toBe(404);
  });
});
