// Node lifecycle and taint eviction as a cluster user sees them: a node whose kubelet goes silent
// turns Unknown and gets tainted, its pods stop being Ready, pods that do not tolerate the
// NoExecute taint are evicted (after their tolerationSeconds), and a recovered node is untainted.
import { afterEach, describe, expect, it } from 'vitest';
import type { KubeObject } from '../../shared/api/kind.js';
import { nodeLifecycleController, type Condition, type Taint } from '../../shared/controllers/nodes/node-lifecycle.js';
import { taintEvictionController } from '../../shared/controllers/nodes/taint-eviction.js';
import { startHarness, type Harness } from './harness.js';

let h: Harness | undefined;
const timers: NodeJS.Timeout[] = [];
afterEach(async () => {
  for (const t of timers.splice(0)) clearInterval(t);
  await h?.close();
  h = undefined;
});

const stamp = (d = new Date()) => d.toISOString().replace(/\.\d+Z$/, 'Z');
const conditions = (obj: KubeObject | undefined): Condition[] => ((obj?.status as { conditions?: Condition[] } | undefined)?.conditions ?? []);
const condition = (obj: KubeObject | undefined, type: string) => conditions(obj).find((c) => c.type === type);
const taints = (node: KubeObject | undefined): Taint[] => ((node?.spec as { taints?: Taint[] } | undefined)?.taints ?? []);
const taintIds = (node: KubeObject | undefined) => taints(node).map((t) => `${t.key}:${t.effect}`).sort();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function node(name: string) {
  return h!.reader.get('core/nodes', undefined, name);
}

async function pod(name: string, namespace = 'default') {
  return h!.reader.get('core/pods', namespace, name);
}

/** Keep a node's Lease fresh, as its kubelet would. */
function keepAlive(name: string) {
  timers.push(setInterval(() => void h?.renewLease(name).catch(() => {}), 200));
}

/** What a kubelet does when it comes back: renew the Lease and post Ready=True with a fresh heartbeat. */
async function kubeletPostsReady(name: string) {
  await h!.renewLease(name);
  const n = (await node(name))!;
  const now = stamp();
  const next = structuredClone(n);
  (next.status as { conditions: Condition[] }).conditions = conditions(n).map((c) =>
    c.type === 'Ready'
      ? { type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'kubelet is posting ready status', lastHeartbeatTime: now, lastTransitionTime: now }
      : { ...c, status: 'False', lastHeartbeatTime: now, lastTransitionTime: now },
  );
  await h!.client.updateStatus('core/nodes', next);
}

/** A pod bound to `nodeName` that its kubelet reports Running and Ready. */
async function runningPod(name: string, nodeName: string, tolerations?: Record<string, unknown>[]) {
  await h!.client.create('core/pods', {
    metadata: { name, namespace: 'default' },
    spec: { nodeName, containers: [{ name: 'c', image: 'busybox' }], ...(tolerations ? { tolerations } : {}) },
  });
  const now = stamp();
  await h!.client.patch(
    'core/pods',
    'default',
    name,
    'merge',
    {
      status: {
        phase: 'Running',
        conditions: [
          { type: 'PodScheduled', status: 'True', lastTransitionTime: now },
          { type: 'Ready', status: 'True', lastTransitionTime: now },
        ],
      },
    },
    { subresource: 'status' },
  );
}

async function eventsFor(name: string, reason: string) {
  const all = await h!.reader.list('core/events', { namespace: 'default' });
  return all.filter((e) => (e.involvedObject as { name?: string }).name === name && e.reason === reason);
}

async function taintNode(name: string, taint: Taint) {
  const n = (await node(name))!;
  await h!.client.patch('core/nodes', undefined, name, 'merge', { spec: { taints: [...taints(n), taint] } });
}

describe('node lifecycle controller', () => {
  it("removes a deleted Node's heartbeat Lease (the garbage collector leaves Leases alone)", async () => {
    h = await startHarness([nodeLifecycleController({ monitorGracePeriodMs: 5000 })]);
    await h.createNode('gone');
    await h.createNode('stays');
    const lease = (name: string) => h!.reader.get('coordination.k8s.io/leases', 'kube-node-lease', name);
    expect(await lease('gone')).toBeDefined();
    await h.client.delete('core/nodes', undefined, 'gone');
    await h.waitFor(async () => !(await lease('gone')), 5000, 'the Lease of the deleted node to go');
    expect(await lease('stays')).toBeDefined();
  });

  it('marks a silent node Unknown, taints it, marks its pods not Ready, and untaints it when the kubelet is back', async () => {
    h = await startHarness([nodeLifecycleController({ monitorGracePeriodMs: 1500, evictionRateQPS: Infinity })]);
    await h.createNode('n1');
    await h.createNode('n2');
    keepAlive('n2');
    await runningPod('web', 'n1');

    // n1's lease is no longer renewed.
    const unknown = await h.waitFor(async () => {
      const n = await node('n1');
      return condition(n, 'Ready')?.status === 'Unknown' && taintIds(n).length === 2 && n;
    }, 10_000, 'n1 Unknown and tainted');
    for (const type of ['Ready', 'MemoryPressure', 'DiskPressure', 'PIDPressure']) {
      expect(condition(unknown, type)).toMatchObject({ status: 'Unknown', reason: 'NodeStatusUnknown', message: 'Kubelet stopped posting node status.' });
    }
    expect(taintIds(unknown)).toEqual(['node.kubernetes.io/unreachable:NoExecute', 'node.kubernetes.io/unreachable:NoSchedule']);
    expect(taints(unknown).find((t) => t.effect === 'NoExecute')?.timeAdded).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);

    const nodeEvents = await h.waitFor(() => eventsFor('n1', 'NodeNotReady').then((e) => e.length > 0 && e), 5000, 'NodeNotReady event');
    expect(nodeEvents[0]).toMatchObject({ type: 'Normal', message: 'Node n1 status is now: NodeNotReady', source: { component: 'node-controller' } });

    const notReadyPod = await h.waitFor(async () => {
      const p = await pod('web');
      return condition(p, 'Ready')?.status === 'False' && p;
    }, 5000, 'pod Ready=False');
    expect(condition(notReadyPod, 'PodScheduled')?.status).toBe('True');
    const podEvents = await h.waitFor(() => eventsFor('web', 'NodeNotReady').then((e) => e.length > 0 && e), 5000, 'pod NodeNotReady event');
    expect(podEvents[0]).toMatchObject({ type: 'Warning', message: 'Node is not ready' });

    // The healthy node is untouched.
    const healthy = await node('n2');
    expect(condition(healthy, 'Ready')?.status).toBe('True');
    expect(taintIds(healthy)).toEqual([]);

    await kubeletPostsReady('n1');
    keepAlive('n1');
    const recovered = await h.waitFor(async () => {
      const n = await node('n1');
      return taintIds(n).length === 0 && n;
    }, 5000, 'n1 untainted');
    expect(condition(recovered, 'Ready')?.status).toBe('True');
  });

  it('does not add NoExecute taints when every node is down (full disruption)', async () => {
    h = await startHarness([nodeLifecycleController({ monitorGracePeriodMs: 800, monitorPeriodMs: 200, evictionRateQPS: Infinity })]);
    await h.createNode('only');
    const n = await h.waitFor(async () => {
      const x = await node('only');
      return taintIds(x).includes('node.kubernetes.io/unreachable:NoSchedule') && x;
    }, 10_000, 'unreachable NoSchedule taint');
    expect(condition(n, 'Ready')?.status).toBe('Unknown');
    await sleep(600);
    expect(taintIds(await node('only'))).toEqual(['node.kubernetes.io/unreachable:NoSchedule']);
  });

  it('keeps condition taints in step with the conditions the kubelet reports and with spec.unschedulable', async () => {
    h = await startHarness([nodeLifecycleController({ evictionRateQPS: Infinity })]);
    await h.createNode('ok');
    await h.createNode('sick');
    const sick = (await node('sick'))!;
    const now = stamp();
    const next = structuredClone(sick);
    (next.status as { conditions: Condition[] }).conditions = conditions(sick).map((c) => {
      if (c.type === 'MemoryPressure') return { ...c, status: 'True', reason: 'KubeletHasInsufficientMemory', lastTransitionTime: now, lastHeartbeatTime: now };
      if (c.type === 'Ready') return { ...c, status: 'False', reason: 'KubeletNotReady', message: 'container runtime is down', lastTransitionTime: now, lastHeartbeatTime: now };
      return c;
    });
    await h.client.updateStatus('core/nodes', next);
    await h.client.patch('core/nodes', undefined, 'sick', 'merge', { spec: { unschedulable: true } });

    const tainted = await h.waitFor(async () => {
      const n = await node('sick');
      return taintIds(n).length === 4 && n;
    }, 5000, 'condition taints');
    expect(taintIds(tainted)).toEqual([
      'node.kubernetes.io/memory-pressure:NoSchedule',
      'node.kubernetes.io/not-ready:NoExecute',
      'node.kubernetes.io/not-ready:NoSchedule',
      'node.kubernetes.io/unschedulable:NoSchedule',
    ]);
    // The kubelet's own NotReady is kept as reported (the controller only overrides silence).
    expect(condition(tainted, 'Ready')).toMatchObject({ status: 'False', reason: 'KubeletNotReady' });

    await h.client.patch('core/nodes', undefined, 'sick', 'merge', { spec: { unschedulable: null } });
    await kubeletPostsReady('sick');
    await h.waitFor(async () => taintIds(await node('sick')).length === 0, 5000, 'taints removed');
    expect(taintIds(await node('ok'))).toEqual([]);
  });

  it('reports a node that never posted status once the startup grace period is over', async () => {
    h = await startHarness([nodeLifecycleController({ startupGracePeriodMs: 500, evictionRateQPS: Infinity })]);
    await h.client.create('core/nodes', { metadata: { name: 'bare' } });
    const n = await h.waitFor(async () => {
      const x = await node('bare');
      return condition(x, 'Ready') && x;
    }, 5000, 'conditions added');
    expect(condition(n, 'Ready')).toMatchObject({ status: 'Unknown', reason: 'NodeStatusNeverUpdated', message: 'Kubelet never posted node status.' });
    expect(conditions(n).map((c) => c.type).sort()).toEqual(['DiskPressure', 'MemoryPressure', 'PIDPressure', 'Ready']);
  });
});

describe('taint eviction controller', () => {
  it('evicts a pod that does not tolerate a NoExecute taint at once', async () => {
    h = await startHarness([taintEvictionController()]);
    await h.createNode('n1');
    await runningPod('intolerant', 'n1');
    await runningPod('tolerant', 'n1', [{ key: 'dedicated', operator: 'Exists', effect: 'NoExecute' }]);
    await taintNode('n1', { key: 'dedicated', value: 'db', effect: 'NoExecute', timeAdded: stamp() });

    const evicted = await h.waitFor(async () => {
      const p = await pod('intolerant');
      return p?.metadata.deletionTimestamp ? p : undefined;
    }, 5000, 'eviction');
    expect(condition(evicted, 'DisruptionTarget')).toMatchObject({ status: 'True', reason: 'DeletionByTaintManager', message: 'Taint manager: deleting due to NoExecute taint' });
    const ev = await eventsFor('intolerant', 'TaintManagerEviction');
    expect(ev[0]).toMatchObject({ type: 'Normal', message: 'Marking for deletion Pod default/intolerant', source: { component: 'taint-eviction-controller' } });

    await h.settle();
    expect((await pod('tolerant'))?.metadata.deletionTimestamp).toBeUndefined();
  });

  it('evicts a pod after its tolerationSeconds, not before', async () => {
    h = await startHarness([taintEvictionController()]);
    await h.createNode('n1');
    await runningPod('p', 'n1', [{ key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 2 }]);
    const taintedAt = Date.now();
    await taintNode('n1', { key: 'node.kubernetes.io/unreachable', effect: 'NoExecute', timeAdded: new Date(taintedAt).toISOString() });

    await sleep(1200);
    expect((await pod('p'))?.metadata.deletionTimestamp).toBeUndefined();
    await h.waitFor(async () => (await pod('p'))?.metadata.deletionTimestamp, 5000, 'eviction after tolerationSeconds');
    expect(Date.now() - taintedAt).toBeGreaterThanOrEqual(1900);
  });

  it('cancels a scheduled eviction when the taint goes away', async () => {
    h = await startHarness([taintEvictionController()]);
    await h.createNode('n1');
    await runningPod('p', 'n1', [{ key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 2 }]);
    await taintNode('n1', { key: 'node.kubernetes.io/not-ready', effect: 'NoExecute', timeAdded: stamp() });
    await h.settle();
    await h.client.patch('core/nodes', undefined, 'n1', 'merge', { spec: { taints: null } });

    const ev = await h.waitFor(() => eventsFor('p', 'TaintManagerEviction').then((e) => e.length > 0 && e), 5000, 'cancel event');
    expect(ev[0].message).toBe('Cancelling deletion of Pod default/p');
    await sleep(2500);
    expect((await pod('p'))?.metadata.deletionTimestamp).toBeUndefined();
  });

  it('evicts pods from a node that went silent, once their toleration of unreachable runs out', async () => {
    h = await startHarness([nodeLifecycleController({ monitorGracePeriodMs: 1000, evictionRateQPS: Infinity }), taintEvictionController()]);
    await h.createNode('n1');
    await h.createNode('n2');
    keepAlive('n2');
    const tolerate = (seconds: number) => [
      { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: seconds },
      { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: seconds },
    ];
    await runningPod('short', 'n1', tolerate(1));
    await runningPod('long', 'n1', tolerate(300));
    await runningPod('elsewhere', 'n2', tolerate(1));

    await h.waitFor(async () => (await pod('short'))?.metadata.deletionTimestamp, 10_000, 'short-toleration pod evicted');
    expect((await pod('long'))?.metadata.deletionTimestamp).toBeUndefined();
    expect((await pod('elsewhere'))?.metadata.deletionTimestamp).toBeUndefined();
  });
});
