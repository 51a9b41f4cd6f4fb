// The pods/eviction subresource through the Hono app over a real SQLite store: disruption budgets
// allowing or refusing an eviction with kube-apiserver's exact Status, a drain-like sequence as
// kubectl drain runs it, discovery of the subresource, the admission defaults every created pod
// gets (tolerations, priority, service account), and the apps kinds' validation messages.
import protobuf from 'protobufjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startInProcessApi, type InProcessApi } from './in-process-api.js';

const TOKEN = 'test-token';
let api: InProcessApi;

beforeAll(async () => {
  api = await startInProcessApi({ name: 'eviction', adminToken: TOKEN });
  for (const name of ['default', 'drain', 'multi']) await call('POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
});
afterAll(() => api.close());

const call = (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) => api.request(method, path, { body, headers });

const MERGE = { 'Content-Type': 'application/merge-patch+json' };
const pods = (ns: string) => `/api/v1/namespaces/${ns}/pods`;
const pdbs = (ns: string) => `/apis/policy/v1/namespaces/${ns}/poddisruptionbudgets`;

/** A pod bound to `node`, as the kubelet reports it: Running and Ready. */
async function runningPod(ns: string, name: string, labels: Record<string, string>, node = 'n1') {
  const created = await call('POST', pods(ns), { apiVersion: 'v1', kind: 'Pod', metadata: { name, labels }, spec: { nodeName: node, containers: [{ name: 'app', image: 'nginx' }] } });
  expect(created.status).toBe(201);
  const status = { phase: 'Running', conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: '2024-01-01T00:00:00Z' }] };
  const r = await call('PATCH', `${pods(ns)}/${name}/status`, { status }, MERGE);
  expect(r.status).toBe(200);
  return r.json;
}

/** A budget whose status says what the disruption controller would have computed. */
async function budget(ns: string, name: string, selector: unknown, status: { disruptionsAllowed: number; currentHealthy: number; desiredHealthy: number; expectedPods: number }, minAvailable: number | string = 1) {
  const created = await call('POST', pdbs(ns), { apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', metadata: { name }, spec: { minAvailable, selector } });
  expect(created.status).toBe(201);
  const r = await call('PUT', `${pdbs(ns)}/${name}/status`, { ...created.json, status: { observedGeneration: created.json.metadata.generation, ...status } });
  expect(r.status).toBe(200);
  return r.json;
}

const evict = (ns: string, name: string, extra: Record<string, unknown> = {}, apiVersion = 'policy/v1', query = '') =>
  call('POST', `${pods(ns)}/${name}/eviction${query}`, { apiVersion, kind: 'Eviction', metadata: { name, namespace: ns }, ...extra });

const SUCCESS = { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', code: 201 };

describe('discovery', () => {
  it('lists pods/eviction as a policy/v1 Eviction and pods/binding, where kubectl drain looks for them', async () => {
    const legacy = await call('GET', '/api/v1');
    const names = legacy.json.resources.map((r: any) => r.name);
    expect(legacy.json.resources.find((r: any) => r.name === 'pods/eviction')).toEqual({ name: 'pods/eviction', singularName: '', namespaced: true, group: 'policy', version: 'v1', kind: 'Eviction', verbs: ['create'] });
    expect(legacy.json.resources.find((r: any) => r.name === 'pods/binding')).toEqual({ name: 'pods/binding', singularName: '', namespaced: true, kind: 'Binding', verbs: ['create'] });
    expect(names.indexOf('pods/binding')).toBeLessThan(names.indexOf('pods/eviction'));
    expect(names.indexOf('pods/eviction')).toBeLessThan(names.indexOf('pods/status'));
    const aggregated = await call('GET', '/api', undefined, { Accept: 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList' });
    const podsEntry = aggregated.json.items[0].versions[0].resources.find((r: any) => r.resource === 'pods');
    expect(podsEntry.subresources.find((s: any) => s.subresource === 'eviction')).toEqual({ subresource: 'eviction', responseKind: { group: 'policy', version: 'v1', kind: 'Eviction' }, verbs: ['create'] });
  });
});

describe('pods/eviction', () => {
  it('evicts a pod no budget covers: 201 Success, the pod marked as a disruption target and terminating', async () => {
    await runningPod('default', 'free', { app: 'free' });
    const r = await evict('default', 'free');
    expect(r.status).toBe(201);
    expect(r.json).toEqual(SUCCESS);
    const live = await call('GET', `${pods('default')}/free`);
    expect(live.json.metadata.deletionTimestamp).toBeTruthy();
    expect(live.json.metadata.deletionGracePeriodSeconds).toBe(30);
    expect(live.json.status.conditions.find((c: any) => c.type === 'DisruptionTarget')).toMatchObject({
      type: 'DisruptionTarget',
      status: 'True',
      lastProbeTime: null,
      reason: 'EvictionByEvictionAPI',
      message: 'Eviction API: evicting',
    });
  });

  it('refuses with 429 when the budget allows no disruption, in kube-apiserver words', async () => {
    await runningPod('default', 'guarded', { app: 'guarded' });
    await budget('default', 'guard', { matchLabels: { app: 'guarded' } }, { disruptionsAllowed: 0, currentHealthy: 1, desiredHealthy: 1, expectedPods: 1 });
    const r = await evict('default', 'guarded');
    expect(r.status).toBe(429);
    expect(r.json).toEqual({
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: "Cannot evict pod as it would violate the pod's disruption budget.",
      reason: 'TooManyRequests',
      details: { causes: [{ reason: 'DisruptionBudget', message: 'The disruption budget guard needs 1 healthy pods and has 1 currently' }] },
      code: 429,
    });
    expect(r.headers.get('retry-after')).toBeNull();
    expect((await call('GET', `${pods('default')}/guarded`)).json.metadata.deletionTimestamp).toBeUndefined();
  });

  it('refuses with 429 and Retry-After while the budget status lags its generation', async () => {
    await runningPod('default', 'fresh', { app: 'fresh' });
    await call('POST', pdbs('default'), { apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', metadata: { name: 'unsynced' }, spec: { maxUnavailable: 1, selector: { matchLabels: { app: 'fresh' } } } });
    const r = await evict('default', 'fresh');
    expect(r.status).toBe(429);
    expect(r.headers.get('retry-after')).toBe('10');
    expect(r.json.details).toEqual({ causes: [{ reason: 'DisruptionBudget', message: 'The disruption budget unsynced is still being processed by the server.' }], retryAfterSeconds: 10 });
  });

  it('allows an eviction the budget has room for: decrements it and records the pod', async () => {
    await runningPod('default', 'web-1', { app: 'web' });
    await runningPod('default', 'web-2', { app: 'web' });
    await budget('default', 'web', { matchLabels: { app: 'web' } }, { disruptionsAllowed: 1, currentHealthy: 2, desiredHealthy: 1, expectedPods: 2 });
    const ok = await evict('default', 'web-1', { deleteOptions: { gracePeriodSeconds: 5 } });
    expect(ok.status).toBe(201);
    expect(ok.json).toEqual(SUCCESS);
    const pdb = (await call('GET', `${pdbs('default')}/web`)).json;
    expect(pdb.status.disruptionsAllowed).toBe(0);
    expect(Object.keys(pdb.status.disruptedPods)).toEqual(['web-1']);
    expect(pdb.status.conditions).toEqual([
      { type: 'DisruptionAllowed', status: 'False', observedGeneration: 1, lastTransitionTime: expect.any(String), reason: 'InsufficientPods', message: '' },
    ]);
    expect((await call('GET', `${pods('default')}/web-1`)).json.metadata.deletionGracePeriodSeconds).toBe(5);
    const refused = await evict('default', 'web-2');
    expect(refused.status).toBe(429);
    expect(refused.json.details.causes[0].message).toBe('The disruption budget web needs 1 healthy pods and has 2 currently');
  });

  it('evicts Pending pods without asking the budget', async () => {
    await call('POST', pods('default'), { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'waiting', labels: { app: 'pending' } }, spec: { containers: [{ name: 'app', image: 'nginx' }] } });
    await budget('default', 'pending', { matchLabels: { app: 'pending' } }, { disruptionsAllowed: 0, currentHealthy: 0, desiredHealthy: 1, expectedPods: 1 });
    expect((await evict('default', 'waiting')).status).toBe(201);
    expect((await call('GET', `${pods('default')}/waiting`)).status).toBe(404);
  });

  it('an unready pod goes without using the budget when the budget is met anyway', async () => {
    await runningPod('default', 'sick-1', { app: 'sick' });
    await call('PATCH', `${pods('default')}/sick-1/status`, { status: { conditions: [{ type: 'Ready', status: 'False', lastTransitionTime: '2024-01-01T00:00:00Z' }] } }, MERGE);
    await budget('default', 'sick', { matchLabels: { app: 'sick' } }, { disruptionsAllowed: 0, currentHealthy: 2, desiredHealthy: 2, expectedPods: 3 });
    expect((await evict('default', 'sick-1')).status).toBe(201);
    expect((await call('GET', `${pdbs('default')}/sick`)).json.status.disruptionsAllowed).toBe(0);
    expect((await call('GET', `${pods('default')}/sick-1`)).json.metadata.deletionTimestamp).toBeTruthy();
  });

  it('answers a pod covered by two budgets with the failure Status kube-apiserver returns', async () => {
    await runningPod('multi', 'both', { app: 'both', tier: 'x' });
    await budget('multi', 'by-app', { matchLabels: { app: 'both' } }, { disruptionsAllowed: 1, currentHealthy: 1, desiredHealthy: 0, expectedPods: 1 });
    await budget('multi', 'by-tier', { matchLabels: { tier: 'x' } }, { disruptionsAllowed: 1, currentHealthy: 1, desiredHealthy: 0, expectedPods: 1 });
    const r = await evict('multi', 'both');
    // kube-apiserver sends this Status with the create's 201; clients read the code in the body.
    expect(r.json).toEqual({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'This pod has more than one PodDisruptionBudget, which the eviction subresource does not support.', code: 500 });
    expect((await call('GET', `${pods('multi')}/both`)).json.metadata.deletionTimestamp).toBeUndefined();
  });

  it('dryRun evicts nothing and spends nothing; v1beta1 bodies are accepted; a wrong name is 400', async () => {
    await runningPod('default', 'dry-1', { app: 'dry' });
    await budget('default', 'dry', { matchLabels: { app: 'dry' } }, { disruptionsAllowed: 1, currentHealthy: 1, desiredHealthy: 0, expectedPods: 1 });
    expect((await evict('default', 'dry-1', {}, 'policy/v1', '?dryRun=All')).status).toBe(201);
    expect((await evict('default', 'dry-1', { deleteOptions: { dryRun: ['All'] } }, 'policy/v1beta1')).status).toBe(201);
    expect((await call('GET', `${pods('default')}/dry-1`)).json.metadata.deletionTimestamp).toBeUndefined();
    expect((await call('GET', `${pdbs('default')}/dry`)).json.status.disruptionsAllowed).toBe(1);
    const wrong = await call('POST', `${pods('default')}/dry-1/eviction`, { apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name: 'other' } });
    expect(wrong.status).toBe(400);
    expect(wrong.json.message).toBe('name in URL does not match name in Eviction object');
    expect((await evict('default', 'nobody')).json).toMatchObject({ code: 404, message: 'pods "nobody" not found' });
    expect((await call('GET', `${pods('default')}/dry-1/eviction`)).status).toBe(405);
  });
});

/** An Eviction as kubectl >= 1.32 sends it: "k8s\0" + runtime.Unknown around the policy/v1 message. */
function protobufEviction(ns: string, name: string, gracePeriodSeconds: number): Uint8Array {
  const meta = protobuf.Writer.create().uint32(10).string(name).uint32(26).string(ns).finish();
  const options = protobuf.Writer.create().uint32(8).int64(gracePeriodSeconds).finish();
  const raw = protobuf.Writer.create().uint32(10).bytes(meta).uint32(18).bytes(options).finish();
  const typeMeta = protobuf.Writer.create().uint32(10).string('policy/v1').uint32(18).string('Eviction').finish();
  const envelope = protobuf.Writer.create().uint32(10).bytes(typeMeta).uint32(18).bytes(raw).uint32(26).string('').uint32(34).string('').finish();
  return new Uint8Array([0x6b, 0x38, 0x73, 0x00, ...envelope]);
}

describe('protobuf bodies', () => {
  it('takes a protobuf Eviction and keeps its grace period of 0', async () => {
    await runningPod('default', 'pb', { app: 'pb' });
    const res = await api.server.app.request(`${pods('default')}/pb/eviction`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${TOKEN}`, 'Content-Type': 'application/vnd.kubernetes.protobuf', Accept: 'application/vnd.kubernetes.protobuf,application/json' },
      body: protobufEviction('default', 'pb', 0) as BodyInit,
    });
    expect(res.status).toBe(201);
    expect(await res.json()).toEqual(SUCCESS);
    expect((await call('GET', `${pods('default')}/pb`)).status).toBe(404);
  });
});

describe('a drain, step by step as kubectl drain does it', () => {
  it('cordons, lists the node\'s pods, evicts each within the budget, and waits for them to go', async () => {
    await call('POST', '/api/v1/nodes', { apiVersion: 'v1', kind: 'Node', metadata: { name: 'n2' } });
    await runningPod('drain', 'app-1', { app: 'app' }, 'n2');
    await runningPod('drain', 'app-2', { app: 'app' }, 'n2');
    await runningPod('drain', 'elsewhere', { app: 'app' }, 'n3');
    await budget('drain', 'app', { matchLabels: { app: 'app' } }, { disruptionsAllowed: 1, currentHealthy: 3, desiredHealthy: 2, expectedPods: 3 });

    const cordon = await call('PATCH', '/api/v1/nodes/n2', { spec: { unschedulable: true } }, { 'Content-Type': 'application/strategic-merge-patch+json' });
    expect(cordon.json.spec.unschedulable).toBe(true);
    const onNode = await call('GET', '/api/v1/pods?fieldSelector=spec.nodeName%3Dn2&limit=500');
    expect(onNode.json.items.map((p: any) => p.metadata.name).sort()).toEqual(['app-1', 'app-2']);

    expect((await evict('drain', 'app-1')).status).toBe(201);
    // The budget is spent: kubectl retries this one every 5 seconds.
    expect((await evict('drain', 'app-2')).status).toBe(429);

    // The kubelet stops app-1 and removes it; the disruption controller then frees the budget again.
    expect((await call('DELETE', `${pods('drain')}/app-1`, { gracePeriodSeconds: 0 })).json.status).toBe('Success');
    const pdb = (await call('GET', `${pdbs('drain')}/app`)).json;
    await call('PUT', `${pdbs('drain')}/app/status`, { ...pdb, status: { ...pdb.status, disruptionsAllowed: 1, currentHealthy: 3, disruptedPods: undefined } });
    expect((await evict('drain', 'app-2')).status).toBe(201);
    await call('DELETE', `${pods('drain')}/app-2`, { gracePeriodSeconds: 0 });

    for (const name of ['app-1', 'app-2']) expect((await call('GET', `${pods('drain')}/${name}`)).status).toBe(404);
    expect((await call('GET', '/api/v1/pods?fieldSelector=spec.nodeName%3Dn2')).json.items).toEqual([]);
    expect((await call('GET', `${pods('drain')}/elsewhere`)).json.metadata.deletionTimestamp).toBeUndefined();
  });
});

describe('pod admission', () => {
  const podBody = (name: string, spec: Record<string, unknown> = {}) => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name }, spec: { containers: [{ name: 'app', image: 'nginx' }], ...spec } });

  it('adds the default not-ready and unreachable tolerations, priority 0 and the default service account', async () => {
    const r = await call('POST', pods('default'), podBody('plain'));
    expect(r.status).toBe(201);
    expect(r.json.spec.tolerations).toEqual([
      { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 },
      { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 },
    ]);
    expect(r.json.spec.priority).toBe(0);
    expect(r.json.spec.preemptionPolicy).toBe('PreemptLowerPriority');
    expect(r.json.spec.serviceAccountName).toBe('default');
    expect(r.json.spec.serviceAccount).toBe('default');
  });

  it('keeps tolerations the pod already has for those taints', async () => {
    const own = { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 10 };
    const r = await call('POST', pods('default'), podBody('own', { tolerations: [own], serviceAccountName: 'robot' }));
    expect(r.json.spec.tolerations).toEqual([own, { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 }]);
    expect(r.json.spec.serviceAccountName).toBe('robot');
    const all = await call('POST', pods('default'), podBody('all', { tolerations: [{ operator: 'Exists' }] }));
    expect(all.json.spec.tolerations).toEqual([{ operator: 'Exists' }]);
  });

  it('resolves priorityClassName, including the built-in system classes', async () => {
    const system = await call('POST', pods('default'), podBody('critical', { priorityClassName: 'system-node-critical' }));
    expect(system.json.spec.priority).toBe(2000001000);
    await call('POST', '/apis/scheduling.k8s.io/v1/priorityclasses', { apiVersion: 'scheduling.k8s.io/v1', kind: 'PriorityClass', metadata: { name: 'high' }, value: 1000, preemptionPolicy: 'Never' });
    const high = await call('POST', pods('default'), podBody('high', { priorityClassName: 'high' }));
    expect(high.json.spec.priority).toBe(1000);
    expect(high.json.spec.preemptionPolicy).toBe('Never');
  });

  it('refuses an unknown class and a priority that disagrees with the class, with 403', async () => {
    const unknown = await call('POST', pods('default'), podBody('nope', { priorityClassName: 'nope' }));
    expect(unknown.status).toBe(403);
    expect(unknown.json).toEqual({
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: 'pods "nope" is forbidden: no PriorityClass with name nope was found',
      reason: 'Forbidden',
      details: { name: 'nope', kind: 'pods' },
      code: 403,
    });
    const generated = await call('POST', pods('default'), { ...podBody('x', { priorityClassName: 'nope' }), metadata: { generateName: 'web-' } });
    expect(generated.json.message).toBe('pods "web-" is forbidden: no PriorityClass with name nope was found');
    const mismatch = await call('POST', pods('default'), podBody('mismatch', { priority: 7 }));
    expect(mismatch.status).toBe(403);
    expect(mismatch.json.message).toBe('pods "mismatch" is forbidden: the integer value of priority (7) must not be provided in pod spec; priority admission controller computed 0 from the given PriorityClass name');
  });

  it('gives pods without a class the global default class, and allows only one default', async () => {
    const pc = (name: string, value: number) => ({ apiVersion: 'scheduling.k8s.io/v1', kind: 'PriorityClass', metadata: { name }, value, globalDefault: true });
    expect((await call('POST', '/apis/scheduling.k8s.io/v1/priorityclasses', pc('everyone', 50))).status).toBe(201);
    const second = await call('POST', '/apis/scheduling.k8s.io/v1/priorityclasses', pc('another', 60));
    expect(second.status).toBe(403);
    expect(second.json.message).toBe('priorityclasses.scheduling.k8s.io "another" is forbidden: PriorityClass everyone is already marked as default. Only one default can exist');
    const r = await call('POST', pods('default'), podBody('defaulted'));
    expect(r.json.spec.priorityClassName).toBe('everyone');
    expect(r.json.spec.priority).toBe(50);
    await call('DELETE', '/apis/scheduling.k8s.io/v1/priorityclasses/everyone');
  });

  it('keeps priority and tolerations through an update that leaves them out', async () => {
    const created = await call('POST', pods('default'), podBody('kept', { priorityClassName: 'system-cluster-critical' }));
    const { priority: _p, tolerations: _t, ...spec } = created.json.spec;
    const updated = await call('PUT', `${pods('default')}/kept`, { ...created.json, metadata: { ...created.json.metadata, labels: { a: 'b' } }, spec });
    expect(updated.status).toBe(200);
    expect(updated.json.spec.priority).toBe(2000000000);
    expect(updated.json.spec.tolerations).toHaveLength(2);
  });
});

describe('apps validation', () => {
  const apps = (kind: string, name: string, spec: Record<string, unknown>) => ({
    apiVersion: 'apps/v1',
    kind,
    metadata: { name },
    spec: { template: { metadata: { labels: { app: 'a' } }, spec: { containers: [{ name: 'c', image: 'nginx' }] } }, ...spec },
  });
  const post = (plural: string, body: unknown) => call('POST', `/apis/apps/v1/namespaces/default/${plural}`, body);

  it('words selector, replica and immutability errors as Kubernetes does', async () => {
    const mismatch = await post('deployments', apps('Deployment', 'm', { selector: { matchLabels: { app: 'b' } } }));
    expect(mismatch.status).toBe(422);
    expect(mismatch.json.message).toBe('Deployment.apps "m" is invalid: spec.template.metadata.labels: Invalid value: map[string]string{"app":"a"}: `selector` does not match template `labels`');
    const negative = await post('replicasets', apps('ReplicaSet', 'n', { replicas: -1, selector: { matchLabels: { app: 'a' } } }));
    expect(negative.json.message).toBe('ReplicaSet.apps "n" is invalid: spec.replicas: Invalid value: -1: must be greater than or equal to 0');
    const empty = await post('statefulsets', apps('StatefulSet', 'e', { selector: {} }));
    expect(empty.json.message).toBe(
      'StatefulSet.apps "e" is invalid: spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string(nil), MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: empty selector is invalid for statefulset',
    );
    expect((await post('deployments', apps('Deployment', 'ok', { selector: { matchLabels: { app: 'a' } } }))).status).toBe(201);
    const changed = await call(
      'PATCH',
      '/apis/apps/v1/namespaces/default/deployments/ok',
      { spec: { selector: { matchLabels: { app: 'a', x: 'y' } }, template: { metadata: { labels: { app: 'a', x: 'y' } } } } },
      MERGE,
    );
    expect(changed.status).toBe(422);
    expect(changed.json.message).toBe(
      'Deployment.apps "ok" is invalid: spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string{"app":"a", "x":"y"}, MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: field is immutable',
    );
  });
});
