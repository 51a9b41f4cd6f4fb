// The scheduler as a user sees it: pending pods get spec.nodeName, PodScheduled=True and a
// Scheduled event; pods that fit nowhere get FailedScheduling events worded like kube-scheduler's
// and PodScheduled=False, and are placed once the cluster changes; higher priority pods preempt.
import { afterEach, describe, expect, it } from 'vitest';
import type { KubeObject } from '../../shared/api/kind.js';
import { createLogger } from '../../shared/apiserver/logger.js';
import { RestClient } from '../../shared/controllers/runtime/client.js';
import { createEventRecorder } from '../../shared/controllers/runtime/events.js';
import type { ControllerContext } from '../../shared/controllers/runtime/types.js';
import { schedulerController, type SchedulerOptions } from '../../shared/scheduler/controller.js';
import { startHarness, type Harness, type NodeOptions } from './harness.js';

let h: Harness;
afterEach(async () => {
  await h?.close();
  h = undefined as never;
});

const FAST: SchedulerOptions = { initialBackoffMs: 10, maxBackoffMs: 50 };

async function start(nodes: [string, NodeOptions?][] = [], opts: SchedulerOptions = FAST): Promise<Harness> {
  h = await startHarness([schedulerController(opts)]);
  for (const [name, o] of nodes) await h.createNode(name, o);
  return h;
}

interface PodOptions {
  cpu?: string;
  memory?: string;
  labels?: Record<string, string>;
  spec?: Record<string, unknown>;
  container?: Record<string, unknown>;
}

function podSpec(o: PodOptions = {}): Record<string, unknown> {
  const requests: Record<string, string> = {};
  if (o.cpu) requests.cpu = o.cpu;
  if (o.memory) requests.memory = o.memory;
  const container = { name: 'app', image: 'registry.k8s.io/pause:3.9', ...(Object.keys(requests).length ? { resources: { requests } } : {}), ...o.container };
  return { containers: [container], ...o.spec };
}

async function createPod(name: string, o: PodOptions = {}): Promise<KubeObject> {
  return h.client.create('core/pods', { metadata: { name, namespace: 'default', ...(o.labels ? { labels: o.labels } : {}) }, spec: podSpec(o) });
}

const getPod = async (name: string) => (await h.reader.get('core/pods', 'default', name))!;
const nodeNameOf = (pod: KubeObject | undefined) => (pod?.spec as { nodeName?: string } | undefined)?.nodeName;

async function scheduledTo(name: string, timeoutMs = 5000): Promise<string> {
  return h.waitFor(async () => nodeNameOf(await getPod(name)), timeoutMs, `pod ${name} to be bound`);
}

async function events(name: string, reason: string): Promise<KubeObject[]> {
  const all = await h.reader.list('core/events', { namespace: 'default' });
  return all.filter((e) => (e.involvedObject as { name?: string }).name === name && e.reason === reason);
}

/** The newest FailedScheduling message of a pod (waits for one to exist). */
async function failedScheduling(name: string, contains = ''): Promise<string> {
  return h.waitFor(
    async () => {
      const list = await events(name, 'FailedScheduling');
      const last = list.sort((a, b) => String(a.lastTimestamp).localeCompare(String(b.lastTimestamp))).pop();
      const message = last?.message as string | undefined;
      return message?.includes(contains) ? message : undefined;
    },
    5000,
    `FailedScheduling for ${name}`,
  );
}

function condition(pod: KubeObject, type: string): Record<string, unknown> | undefined {
  return ((pod.status as { conditions?: Record<string, unknown>[] }).conditions ?? []).find((c) => c.type === type);
}

async function createPriorityClass(name: string, value: number): Promise<void> {
  await h.client.create('scheduling.k8s.io/priorityclasses', { metadata: { name }, value });
}

/** What the kubelet does with a pod being deleted: stop it, then remove it for good. */
async function finishDeletion(name: string): Promise<void> {
  await h.client.delete('core/pods', 'default', name, { gracePeriodSeconds: 0 });
}

describe('binding', () => {
  it('binds a pending pod: spec.nodeName, PodScheduled=True and a Scheduled event from default-scheduler', async () => {
    await start([['n1']]);
    const created = await createPod('web', { cpu: '100m' });
    expect(await scheduledTo('web')).toBe('n1');
    const pod = await getPod('web');
    expect(condition(pod, 'PodScheduled')).toMatchObject({ status: 'True' });
    const [event] = await h.waitFor(async () => ((await events('web', 'Scheduled')).length ? events('web', 'Scheduled') : undefined));
    expect(event).toMatchObject({ type: 'Normal', message: 'Successfully assigned default/web to n1', source: { component: 'default-scheduler' } });
    expect((event.involvedObject as { uid: string }).uid).toBe(created.metadata.uid);
  });

  it('leaves pods of other schedulers alone', async () => {
    await start([['n1']]);
    await createPod('mine', { spec: { schedulerName: 'my-scheduler' } });
    await createPod('ours');
    await scheduledTo('ours');
    await h.settle();
    expect(nodeNameOf(await getPod('mine'))).toBeUndefined();
    expect(await events('mine', 'FailedScheduling')).toEqual([]);
  });

  it('never over-commits a node when many pods arrive at once', async () => {
    await start([
      ['n1', { cpu: '1' }],
      ['n2', { cpu: '1' }],
      ['n3', { cpu: '1' }],
      ['n4', { cpu: '1' }],
    ]);
    await Promise.all(Array.from({ length: 30 }, (_, i) => createPod(`p${i}`, { cpu: '300m' })));
    await h.waitFor(async () => (await h.reader.list('core/pods', { namespace: 'default' })).filter((p) => nodeNameOf(p)).length === 12, 10_000, '12 bound pods');
    await h.settle();
    const pods = await h.reader.list('core/pods', { namespace: 'default' });
    const perNode = new Map<string, number>();
    for (const p of pods) if (nodeNameOf(p)) perNode.set(nodeNameOf(p)!, (perNode.get(nodeNameOf(p)!) ?? 0) + 300);
    expect([...perNode.values()]).toEqual([900, 900, 900, 900]);
    const pending = pods.filter((p) => !nodeNameOf(p));
    expect(pending).toHaveLength(18);
    for (const p of pending) expect(condition(p, 'PodScheduled')).toMatchObject({ status: 'False', reason: 'Unschedulable' });
  });
});

describe('scoring', () => {
  it('spreads pods evenly over equal nodes', async () => {
    await start([['n1'], ['n2'], ['n3']]);
    for (let i = 0; i < 6; i++) {
      await createPod(`p${i}`, { cpu: '500m', memory: '256Mi' });
      await scheduledTo(`p${i}`);
    }
    const counts = new Map<string, number>();
    for (const p of await h.reader.list('core/pods', { namespace: 'default' })) counts.set(nodeNameOf(p)!, (counts.get(nodeNameOf(p)!) ?? 0) + 1);
    expect([...counts.entries()].sort()).toEqual([
      ['n1', 2],
      ['n2', 2],
      ['n3', 2],
    ]);
  });

  it('prefers the least allocated node', async () => {
    await start([['busy'], ['idle']]);
    await createPod('big', { cpu: '3', memory: '6Gi', spec: { nodeSelector: { 'kubernetes.io/hostname': 'busy' } } });
    expect(await scheduledTo('big')).toBe('busy');
    for (let i = 0; i < 3; i++) {
      await createPod(`small${i}`, { cpu: '100m', memory: '100Mi' });
      expect(await scheduledTo(`small${i}`)).toBe('idle');
    }
  });

  it('spreads pods of one owner over nodes even when another node is less allocated', async () => {
    await start([['n1'], ['n2']]);
    const owner = { apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'web-abc', uid: '6f1c3c52-0000-4000-8000-000000000001', controller: true };
    const owned = async (name: string, spec: Record<string, unknown> = {}) =>
      h.client.create('core/pods', { metadata: { name, namespace: 'default', ownerReferences: [owner] }, spec: podSpec({ cpu: '100m', memory: '100Mi', spec }) });
    await owned('web-1', { nodeSelector: { 'kubernetes.io/hostname': 'n1' } });
    await createPod('other', { cpu: '1', memory: '1Gi', spec: { nodeSelector: { 'kubernetes.io/hostname': 'n2' } } });
    await scheduledTo('web-1');
    await scheduledTo('other');
    // n1 has more room, but already runs a pod of the same ReplicaSet.
    await owned('web-2');
    expect(await scheduledTo('web-2')).toBe('n2');
    await createPod('unowned', { cpu: '100m', memory: '100Mi' });
    expect(await scheduledTo('unowned')).toBe('n1');
  });

  it('prefers nodes matching preferred node affinity and avoids PreferNoSchedule taints', async () => {
    await start([['plain'], ['ssd', { labels: { disk: 'ssd' } }], ['soft', { labels: { disk: 'ssd' }, taints: [{ key: 'spot', value: 'true', effect: 'PreferNoSchedule' }] }]]);
    const preferred = { nodeAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 50, preference: { matchExpressions: [{ key: 'disk', operator: 'In', values: ['ssd'] }] } }] } };
    await createPod('fast', { cpu: '100m', spec: { affinity: preferred } });
    expect(await scheduledTo('fast')).toBe('ssd');
  });
});

describe('filters and FailedScheduling messages', () => {
  it('NodeResourcesFit: Insufficient cpu, with the preemption verdict', async () => {
    await start([['n1', { cpu: '1' }], ['n2', { cpu: '1' }], ['n3', { cpu: '1' }]]);
    await createPod('huge', { cpu: '2' });
    const message = await failedScheduling('huge');
    expect(message).toBe('0/3 nodes are available: 3 Insufficient cpu. preemption: 0/3 nodes are available: 3 No preemption victims found for incoming pod.');
    const [event] = await events('huge', 'FailedScheduling');
    expect(event).toMatchObject({ type: 'Warning', source: { component: 'default-scheduler' } });
    const pod = await h.waitFor(async () => {
      const p = await getPod('huge');
      return condition(p, 'PodScheduled') ? p : undefined;
    });
    expect(condition(pod, 'PodScheduled')).toMatchObject({ status: 'False', reason: 'Unschedulable', message });
    expect(nodeNameOf(pod)).toBeUndefined();
  });

  it('NodeResourcesFit: requests are max(sum of containers, largest init container) plus overhead; memory and pod count too', async () => {
    await start([['n1', { cpu: '2', memory: '1Gi', pods: '1' }]]);
    await createPod('init-heavy', { cpu: '1', spec: { initContainers: [{ name: 'init', image: 'busybox', resources: { requests: { cpu: '3' } } }] } });
    expect(await failedScheduling('init-heavy')).toBe('0/1 nodes are available: 1 Insufficient cpu. preemption: 0/1 nodes are available: 1 No preemption victims found for incoming pod.');
    await createPod('mem', { memory: '2Gi' });
    expect(await failedScheduling('mem')).toContain('1 Insufficient memory.');
    await createPod('fits', { cpu: '1', memory: '512Mi' });
    expect(await scheduledTo('fits')).toBe('n1');
    await createPod('one-too-many', { cpu: '100m' });
    expect(await failedScheduling('one-too-many')).toBe('0/1 nodes are available: 1 Too many pods. preemption: 0/1 nodes are available: 1 No preemption victims found for incoming pod.');
  });

  it('NodeResourcesFit: extended resources', async () => {
    await start([['gpu'], ['plain']]);
    await h.client.patch('core/nodes', undefined, 'gpu', 'merge', { status: { capacity: { 'example.com/gpu': '1' }, allocatable: { 'example.com/gpu': '1' } } }, { subresource: 'status' });
    await createPod('two-gpus', { container: { resources: { requests: { 'example.com/gpu': '2' }, limits: { 'example.com/gpu': '2' } } } });
    expect(await failedScheduling('two-gpus')).toBe(
      '0/2 nodes are available: 2 Insufficient example.com/gpu. preemption: 0/2 nodes are available: 2 No preemption victims found for incoming pod.',
    );
    await createPod('one-gpu', { container: { resources: { requests: { 'example.com/gpu': '1' }, limits: { 'example.com/gpu': '1' } } } });
    expect(await scheduledTo('one-gpu')).toBe('gpu');
  });

  it('NodeUnschedulable: cordoned nodes take only pods tolerating node.kubernetes.io/unschedulable', async () => {
    await start([['cordoned', { unschedulable: true }]]);
    await createPod('plain');
    expect(await failedScheduling('plain')).toBe(
      '0/1 nodes are available: 1 node(s) were unschedulable. preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling.',
    );
    await createPod('tolerant', { spec: { tolerations: [{ key: 'node.kubernetes.io/unschedulable', operator: 'Exists', effect: 'NoSchedule' }] } });
    expect(await scheduledTo('tolerant')).toBe('cordoned');
  });

  it('TaintToleration: untolerated NoSchedule/NoExecute taints, counted and sorted with other reasons', async () => {
    await start([
      ['gpu', { taints: [{ key: 'dedicated', value: 'gpu', effect: 'NoSchedule' }] }],
      ['small1', { cpu: '1' }],
      ['small2', { cpu: '1' }],
      // What the node lifecycle controller puts on a node that is not Ready.
      ['down', { taints: [{ key: 'node.kubernetes.io/not-ready', effect: 'NoSchedule' }] }],
    ]);
    await createPod('needs-3', { cpu: '3' });
    expect(await failedScheduling('needs-3')).toBe(
      '0/4 nodes are available: 1 node(s) had untolerated taint {dedicated: gpu}, 1 node(s) had untolerated taint {node.kubernetes.io/not-ready: }, 2 Insufficient cpu. ' +
        'preemption: 0/4 nodes are available: 2 No preemption victims found for incoming pod, 2 Preemption is not helpful for scheduling.',
    );
    await createPod('tolerates-gpu', { cpu: '3', spec: { tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'gpu', effect: 'NoSchedule' }] } });
    expect(await scheduledTo('tolerates-gpu')).toBe('gpu');
  });

  it('NodeAffinity: nodeSelector and required terms (In, NotIn, Exists, DoesNotExist, Gt, Lt, matchFields)', async () => {
    await start([['a', { labels: { zone: 'a', cores: '8' } }], ['b', { labels: { zone: 'b', cores: '16', spot: 'yes' } }], ['c', { labels: { zone: 'c', cores: '32' } }]]);
    const required = (...terms: Record<string, unknown>[]) => ({ affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: terms } } } });
    await createPod('sel', { spec: { nodeSelector: { zone: 'b' } } });
    expect(await scheduledTo('sel')).toBe('b');
    await createPod('gt-lt', { spec: required({ matchExpressions: [{ key: 'cores', operator: 'Gt', values: ['8'] }, { key: 'cores', operator: 'Lt', values: ['32'] }] }) });
    expect(await scheduledTo('gt-lt')).toBe('b');
    await createPod('notin-dne', { spec: required({ matchExpressions: [{ key: 'zone', operator: 'NotIn', values: ['a'] }, { key: 'spot', operator: 'DoesNotExist' }] }) });
    expect(await scheduledTo('notin-dne')).toBe('c');
    await createPod('exists', { spec: required({ matchExpressions: [{ key: 'spot', operator: 'Exists' }] }) });
    expect(await scheduledTo('exists')).toBe('b');
    await createPod('fields', { spec: required({ matchFields: [{ key: 'metadata.name', operator: 'In', values: ['a'] }] }) });
    expect(await scheduledTo('fields')).toBe('a');
    await createPod('ored', { spec: required({ matchExpressions: [{ key: 'zone', operator: 'In', values: ['x'] }] }, { matchExpressions: [{ key: 'zone', operator: 'In', values: ['c'] }] }) });
    expect(await scheduledTo('ored')).toBe('c');
    await createPod('nowhere', { spec: { nodeSelector: { zone: 'mars' } } });
    expect(await failedScheduling('nowhere')).toBe(
      "0/3 nodes are available: 3 node(s) didn't match Pod's node affinity/selector. preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling.",
    );
  });

  it('NodePorts: a host port is taken once per node', async () => {
    await start([['n1'], ['n2']]);
    const port = (ip?: string) => ({ container: { ports: [{ containerPort: 80, hostPort: 8080, ...(ip ? { hostIP: ip } : {}) }] } });
    await createPod('a', port());
    await createPod('b', port());
    const first = await scheduledTo('a');
    const second = await scheduledTo('b');
    expect(new Set([first, second])).toEqual(new Set(['n1', 'n2']));
    await createPod('c', port('10.0.0.9'));
    expect(await failedScheduling('c')).toBe(
      "0/2 nodes are available: 2 node(s) didn't have free ports for the requested pod ports. preemption: 0/2 nodes are available: 2 No preemption victims found for incoming pod.",
    );
  });

  it('InterPodAffinity: required anti-affinity keeps replicas apart; existing anti-affinity is respected too', async () => {
    await start([['n1'], ['n2']]);
    const apart = { affinity: { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ labelSelector: { matchLabels: { app: 'web' } }, topologyKey: 'kubernetes.io/hostname' }] } } };
    await createPod('web-1', { labels: { app: 'web' }, spec: apart });
    await createPod('web-2', { labels: { app: 'web' }, spec: apart });
    expect(new Set([await scheduledTo('web-1'), await scheduledTo('web-2')])).toEqual(new Set(['n1', 'n2']));
    await createPod('web-3', { labels: { app: 'web' }, spec: apart });
    expect(await failedScheduling('web-3')).toBe(
      "0/2 nodes are available: 2 node(s) didn't match pod anti-affinity rules. preemption: 0/2 nodes are available: 2 No preemption victims found for incoming pod.",
    );
    // A plain pod labelled app=web is kept away by the existing pods' rules.
    await createPod('intruder', { labels: { app: 'web' } });
    expect(await failedScheduling('intruder')).toContain("2 node(s) didn't satisfy existing pods anti-affinity rules.");
  });

  it('InterPodAffinity: required affinity follows the selected pods', async () => {
    await start([['n1'], ['n2'], ['n3']]);
    await createPod('cache', { labels: { app: 'cache' }, spec: { nodeSelector: { 'kubernetes.io/hostname': 'n2' } } });
    expect(await scheduledTo('cache')).toBe('n2');
    const near = { affinity: { podAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ labelSelector: { matchLabels: { app: 'cache' } }, topologyKey: 'kubernetes.io/hostname' }] } } };
    for (const name of ['app-1', 'app-2']) {
      await createPod(name, { spec: near });
      expect(await scheduledTo(name)).toBe('n2');
    }
    const nearDb = { affinity: { podAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ labelSelector: { matchLabels: { app: 'db' } }, topologyKey: 'kubernetes.io/hostname' }] } } };
    await createPod('lonely', { spec: nearDb });
    expect(await failedScheduling('lonely')).toBe(
      "0/3 nodes are available: 3 node(s) didn't match pod affinity rules. preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling.",
    );
  });

  it('PodTopologySpread: DoNotSchedule keeps the skew within maxSkew', async () => {
    await start([
      ['a1', { labels: { zone: 'a' } }],
      ['b1', { labels: { zone: 'b' } }],
      ['nolabel'],
    ]);
    const spread = {
      topologySpreadConstraints: [{ maxSkew: 1, topologyKey: 'zone', whenUnsatisfiable: 'DoNotSchedule', labelSelector: { matchLabels: { app: 'api' } } }],
    };
    for (let i = 0; i < 4; i++) {
      await createPod(`api-${i}`, { labels: { app: 'api' }, spec: spread });
      await scheduledTo(`api-${i}`);
    }
    const zones = (await h.reader.list('core/pods', { namespace: 'default' })).map((p) => nodeNameOf(p)).sort();
    expect(zones).toEqual(['a1', 'a1', 'b1', 'b1']);
    // Zone b is cordoned: one more pod may go to zone a (skew 1), the next may not (skew 2).
    await h.client.patch('core/nodes', undefined, 'b1', 'merge', { spec: { unschedulable: true } });
    await createPod('api-4', { labels: { app: 'api' }, spec: spread });
    expect(await scheduledTo('api-4')).toBe('a1');
    await createPod('api-5', { labels: { app: 'api' }, spec: spread });
    expect(await failedScheduling('api-5')).toBe(
      "0/3 nodes are available: 1 node(s) didn't match pod topology spread constraints, 1 node(s) didn't match pod topology spread constraints (missing required label), 1 node(s) were unschedulable. " +
        'preemption: 0/3 nodes are available: 1 No preemption victims found for incoming pod, 2 Preemption is not helpful for scheduling.',
    );
  });

  it('reports a cluster without nodes', async () => {
    await start();
    await createPod('alone');
    expect(await failedScheduling('alone')).toBe('no nodes available to schedule pods');
    const pod = await h.waitFor(async () => {
      const p = await getPod('alone');
      return condition(p, 'PodScheduled') ? p : undefined;
    });
    expect(condition(pod, 'PodScheduled')).toMatchObject({ status: 'False', reason: 'Unschedulable', message: 'no nodes available to schedule pods' });
    await h.createNode('late');
    expect(await scheduledTo('alone')).toBe('late');
  });

  it('holds pods with scheduling gates until the gates are removed', async () => {
    await start([['n1']]);
    await createPod('gated', { spec: { schedulingGates: [{ name: 'example.com/wait' }] } });
    const pod = await h.waitFor(async () => {
      const p = await getPod('gated');
      return condition(p, 'PodScheduled') ? p : undefined;
    });
    expect(condition(pod, 'PodScheduled')).toMatchObject({ status: 'False', reason: 'SchedulingGated', message: 'Scheduling is blocked due to non-empty scheduling gates' });
    await h.client.patch('core/pods', 'default', 'gated', 'merge', { spec: { schedulingGates: null } });
    expect(await scheduledTo('gated')).toBe('n1');
  });
});

describe('retrying', () => {
  it('schedules an unschedulable pod once a node that fits is added', async () => {
    await start([['small', { cpu: '1' }]]);
    await createPod('big', { cpu: '2' });
    await failedScheduling('big');
    await h.createNode('large', { cpu: '4' });
    expect(await scheduledTo('big')).toBe('large');
  });

  it('schedules a waiting pod once a pod holding the room is deleted', async () => {
    await start([['n1', { cpu: '1' }]]);
    await createPod('holder', { cpu: '800m' });
    await scheduledTo('holder');
    await createPod('waiter', { cpu: '800m' });
    await failedScheduling('waiter');
    await h.client.delete('core/pods', 'default', 'holder');
    // Still terminating: the room is not free yet.
    await h.settle();
    expect(nodeNameOf(await getPod('waiter'))).toBeUndefined();
    await finishDeletion('holder');
    expect(await scheduledTo('waiter')).toBe('n1');
  });

  it('schedules a waiting pod once a pod on the node finishes (Succeeded)', async () => {
    await start([['n1', { cpu: '1' }]]);
    await createPod('job', { cpu: '800m' });
    await scheduledTo('job');
    await createPod('next', { cpu: '800m' });
    await failedScheduling('next');
    await h.client.patch('core/pods', 'default', 'job', 'merge', { status: { phase: 'Succeeded' } }, { subresource: 'status' });
    expect(await scheduledTo('next')).toBe('n1');
  });

  it('retries on its own after the fallback period even without a cluster event', async () => {
    await start([['n1', { cpu: '1' }]], { ...FAST, unschedulableRetryMs: 300 });
    await createPod('big', { cpu: '2' });
    await failedScheduling('big');
    const retried = await h.waitFor(async () => {
      const [e] = await events('big', 'FailedScheduling');
      return (e?.count as number) >= 2 ? e : undefined;
    }, 5000, 'a second attempt');
    expect(retried.count).toBeGreaterThanOrEqual(2);
  });
});

describe('priority and preemption', () => {
  it('preempts a lower-priority pod, nominates the node, and binds once the victim is gone', async () => {
    await start([['n1', { cpu: '2' }]]);
    await createPriorityClass('low', 10);
    await createPriorityClass('high', 1000);
    await createPod('victim', { cpu: '1500m', spec: { priorityClassName: 'low' } });
    await scheduledTo('victim');
    const preemptor = await createPod('vip', { cpu: '1', spec: { priorityClassName: 'high' } });

    const victim = await h.waitFor(async () => {
      const p = await getPod('victim');
      return p.metadata.deletionTimestamp ? p : undefined;
    }, 5000, 'victim deletion');
    expect(condition(victim, 'DisruptionTarget')).toMatchObject({
      status: 'True',
      reason: 'PreemptionByScheduler',
      message: 'default-scheduler: preempting to accommodate a higher priority pod',
    });
    const [preempted] = await h.waitFor(async () => ((await events('victim', 'Preempted')).length ? events('victim', 'Preempted') : undefined));
    expect(preempted).toMatchObject({ type: 'Normal', message: `Preempted by pod ${preemptor.metadata.uid} on node n1` });
    const vip = await h.waitFor(async () => {
      const p = await getPod('vip');
      return (p.status as { nominatedNodeName?: string }).nominatedNodeName ? p : undefined;
    });
    expect((vip.status as { nominatedNodeName?: string }).nominatedNodeName).toBe('n1');
    expect(await failedScheduling('vip')).toBe('0/1 nodes are available: 1 Insufficient cpu.');

    // A pod of lower priority arriving meanwhile does not take the room the preemptor waits for.
    await createPod('latecomer', { cpu: '1500m', spec: { priorityClassName: 'low' } });
    await failedScheduling('latecomer');

    await finishDeletion('victim');
    expect(await scheduledTo('vip')).toBe('n1');
    expect(nodeNameOf(await getPod('latecomer'))).toBeUndefined();
  });

  it('picks the node whose victims have the lowest priority and keeps pods that still fit', async () => {
    await start([['n1', { cpu: '2' }], ['n2', { cpu: '2' }]]);
    await createPriorityClass('lowest', 1);
    await createPriorityClass('low', 10);
    await createPriorityClass('high', 1000);
    await createPod('a', { cpu: '1', spec: { priorityClassName: 'low', nodeSelector: { 'kubernetes.io/hostname': 'n1' } } });
    await createPod('b', { cpu: '1', spec: { priorityClassName: 'low', nodeSelector: { 'kubernetes.io/hostname': 'n1' } } });
    await createPod('c', { cpu: '1', spec: { priorityClassName: 'lowest', nodeSelector: { 'kubernetes.io/hostname': 'n2' } } });
    await createPod('d', { cpu: '500m', spec: { priorityClassName: 'low', nodeSelector: { 'kubernetes.io/hostname': 'n2' } } });
    for (const p of ['a', 'b', 'c', 'd']) await scheduledTo(p);
    await createPod('vip', { cpu: '1', spec: { priorityClassName: 'high' } });
    await h.waitFor(async () => (await getPod('c')).metadata.deletionTimestamp, 5000, 'c to be preempted');
    await h.settle();
    for (const p of ['a', 'b', 'd']) expect((await getPod(p)).metadata.deletionTimestamp).toBeUndefined();
    await finishDeletion('c');
    expect(await scheduledTo('vip')).toBe('n2');
  });

  it('does not preempt for pods with preemptionPolicy Never, nor pods of equal priority', async () => {
    await start([['n1', { cpu: '1' }]]);
    await h.client.create('scheduling.k8s.io/priorityclasses', { metadata: { name: 'polite' }, value: 1000, preemptionPolicy: 'Never' });
    await createPod('resident', { cpu: '1' });
    await scheduledTo('resident');
    await createPod('polite', { cpu: '1', spec: { priorityClassName: 'polite' } });
    expect(await failedScheduling('polite')).toBe('0/1 nodes are available: 1 Insufficient cpu. preemption: not eligible due to preemptionPolicy=Never.');
    await createPod('peer', { cpu: '1' });
    expect(await failedScheduling('peer')).toBe('0/1 nodes are available: 1 Insufficient cpu. preemption: 0/1 nodes are available: 1 No preemption victims found for incoming pod.');
    expect((await getPod('resident')).metadata.deletionTimestamp).toBeUndefined();
  });

  it('schedules higher-priority pods first when room frees for only one', async () => {
    await start([['n1', { cpu: '1', unschedulable: true }]]);
    await createPriorityClass('high', 1000);
    await createPod('low', { cpu: '1' });
    await failedScheduling('low');
    await createPod('high', { cpu: '1', spec: { priorityClassName: 'high' } });
    await failedScheduling('high');
    await new Promise((r) => setTimeout(r, 100)); // both past their backoff
    await h.client.patch('core/nodes', undefined, 'n1', 'merge', { spec: { unschedulable: false } });
    expect(await scheduledTo('high')).toBe('n1');
    await h.settle();
    expect(nodeNameOf(await getPod('low'))).toBeUndefined();
  });
});

describe('without an informer (the Lambda reader)', () => {
  it('builds its view from lists on each reconcile and still never over-commits', async () => {
    h = await startHarness([]);
    await h.createNode('n1', { cpu: '1' });
    await h.createNode('n2', { cpu: '1' });
    for (const name of ['a', 'b', 'c']) await createPod(name, { cpu: '600m' });
    const log = createLogger('silent');
    const client = new RestClient(h.rest, h.registry, h.store, 'kube-scheduler');
    const ctx: ControllerContext = {
      reader: h.reader,
      client,
      events: createEventRecorder(client, log),
      log,
      clock: () => new Date(),
      registry: h.registry,
      store: h.store,
      rest: h.rest,
      namespaces: undefined as never,
    };
    expect((ctx.reader as { subscribe?: unknown }).subscribe).toBeUndefined();
    const reconcile = schedulerController().setup(ctx);
    const results = [];
    for (const name of ['a', 'b', 'c']) results.push(await reconcile({ resource: 'core/pods', namespace: 'default', name }));
    expect(new Set([nodeNameOf(await getPod('a')), nodeNameOf(await getPod('b'))])).toEqual(new Set(['n1', 'n2']));
    expect(nodeNameOf(await getPod('c'))).toBeUndefined();
    expect(results[2]?.requeueAfter).toBeGreaterThan(0);
    expect(await failedScheduling('c')).toBe('0/2 nodes are available: 2 Insufficient cpu. preemption: 0/2 nodes are available: 2 No preemption victims found for incoming pod.');
  });
});
