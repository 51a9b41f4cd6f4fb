// Hollow nodes against a real control plane over HTTPS: they register Ready nodes with Leases,
// run only pods bound to them (status as kubelet reports it), and finish graceful deletions.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startControlPlane, type ControlPlane } from '../../cli/control-plane.js';
import { createLogger } from '../../shared/apiserver/logger.js';
import { KubeClient } from '../../shared/client/kube-client.js';
import { startHollowNodes, type HollowNodes } from '../../node-agent/simulate.js';
import { freePort } from '../e2e/harness.js';

let dir: string;
let cp: ControlPlane;
let client: KubeClient;
let nodes: HollowNodes;

async function waitFor<T>(check: () => Promise<T | undefined | false>, what: string, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

type Obj = { metadata: Record<string, unknown>; spec?: Record<string, unknown>; status?: Record<string, unknown> };

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'stratus-hollow-'));
  const port = await freePort();
  cp = await startControlPlane({ dataDir: dir, port, log: createLogger('silent'), controllers: [] });
  client = new KubeClient({ server: cp.url, token: cp.token, caCert: cp.caCert });
  nodes = await startHollowNodes({ client, count: 3, log: createLogger('silent'), renewIntervalMs: 300 });
});

afterAll(async () => {
  await nodes?.stop();
  client?.close();
  await cp?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('hollow nodes', () => {
  it('register Ready nodes with capacity, addresses and nodeInfo, and renew their Leases', async () => {
    const list = await client.get<{ items: Obj[] }>('/api/v1/nodes');
    expect(list.items.map((n) => n.metadata.name).sort()).toEqual(['hollow-0', 'hollow-1', 'hollow-2']);
    const node = list.items.find((n) => n.metadata.name === 'hollow-1')!;
    const ready = (node.status!.conditions as { type: string; status: string; reason: string }[]).find((c) => c.type === 'Ready');
    expect(ready).toMatchObject({ status: 'True', reason: 'KubeletReady' });
    expect(node.status!.capacity).toMatchObject({ cpu: '4', memory: '16Gi', pods: '110' });
    expect((node.status!.nodeInfo as { containerRuntimeVersion: string }).containerRuntimeVersion).toBe('fake://1.0.0');
    const lease1 = await client.get<Obj>('/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/hollow-1');
    await waitFor(async () => {
      const lease2 = await client.get<Obj>('/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/hollow-1');
      return lease2.spec!.renewTime !== lease1.spec!.renewTime;
    }, 'a lease renewal');
    expect(nodes.failedHeartbeats).toBe(0);
  });

  it('run a pod bound to them and report kubelet-style status; leave unbound pods alone', async () => {
    await client.create('/api/v1/namespaces/default/pods', { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'bound' }, spec: { nodeName: 'hollow-2', containers: [{ name: 'c', image: 'busybox' }] } });
    await client.create('/api/v1/namespaces/default/pods', { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'unbound' }, spec: { containers: [{ name: 'c', image: 'busybox' }] } });
    const pod = await waitFor(async () => {
      const p = await client.get<Obj>('/api/v1/namespaces/default/pods/bound');
      return p.status?.phase === 'Running' ? p : undefined;
    }, 'the pod to run');
    expect(pod.status!.podIP).toMatch(/^10\.64\.2\.\d+$/);
    expect(pod.status!.hostIP).toBe('10.64.2.1');
    const conditions = Object.fromEntries((pod.status!.conditions as { type: string; status: string }[]).map((c) => [c.type, c.status]));
    expect(conditions).toMatchObject({ Ready: 'True', ContainersReady: 'True', Initialized: 'True' });
    const cs = (pod.status!.containerStatuses as Record<string, unknown>[])[0];
    expect(cs).toMatchObject({ name: 'c', ready: true, restartCount: 0, started: true });
    expect(cs.state).toHaveProperty('running');
    const unbound = await client.get<Obj>('/api/v1/namespaces/default/pods/unbound');
    expect(unbound.status?.phase).toBe('Pending');
  });

  it('finish run-to-completion pods: Succeeded, or Failed with the exit code the pod asks for', async () => {
    const spec = { nodeName: 'hollow-0', restartPolicy: 'Never', containers: [{ name: 'c', image: 'busybox' }] };
    await client.create('/api/v1/namespaces/default/pods', { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'ok', annotations: { 'stratus.dev/hollow-run-ms': '50' } }, spec });
    await client.create('/api/v1/namespaces/default/pods', { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'bad', annotations: { 'stratus.dev/hollow-run-ms': '50', 'stratus.dev/hollow-exit-code': '3' } }, spec });
    const phase = async (name: string) => (await client.get<Obj>(`/api/v1/namespaces/default/pods/${name}`)).status?.phase;
    await waitFor(async () => (await phase('ok')) === 'Succeeded', 'ok to succeed');
    await waitFor(async () => (await phase('bad')) === 'Failed', 'bad to fail');
    const bad = await client.get<Obj>('/api/v1/namespaces/default/pods/bad');
    expect((bad.status!.containerStatuses as { state: { terminated: { exitCode: number; reason: string } } }[])[0].state.terminated).toMatchObject({ exitCode: 3, reason: 'Error' });
  });

  it('complete the graceful deletion of their pods', async () => {
    const marked = await client.delete<Obj>('/api/v1/namespaces/default/pods/bound');
    expect(marked.metadata.deletionTimestamp).toBeTruthy();
    await waitFor(async () => {
      try {
        await client.get('/api/v1/namespaces/default/pods/bound');
        return false;
      } catch (e) {
        return (e as { code?: number }).code === 404;
      }
    }, 'the pod to be gone');
  });
});
