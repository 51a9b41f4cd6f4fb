// A real node agent on this machine against an in-process control plane (scheduler and workload
// controllers running): pods of Deployments and Jobs run in containerd, answer on their pod IPs,
// get env from ConfigMaps and the downward API, report pull failures and crash loops the way
// kubelet does, are removed on deletion, and survive an agent restart without duplicates.
import { cpus } from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KubeClient } from '../../shared/client/kube-client.js';
import type { LocalNode } from '../../node-agent/real-node.js';
import { podManifest, startRealCluster, waitFor as waitUntil, type RealCluster } from './real-cluster.js';

const NS = 'realnode-test';
const NODE = 'stratus-real-test';
const NS_LABEL = 'io.kubernetes.pod.namespace';

let cluster: RealCluster;
let client: KubeClient;
let node: LocalNode | undefined;

type Obj = { metadata: Record<string, unknown> & { name: string; uid: string }; spec?: Record<string, unknown>; status?: Record<string, unknown> };
type ContainerStatus = { name: string; restartCount: number; containerID?: string; state: { waiting?: { reason: string; message?: string }; running?: unknown; terminated?: { exitCode: number } } };

const waitFor = <T>(check: () => Promise<T | undefined | false>, what: string, timeoutMs = 20_000) => waitUntil(check, what, timeoutMs, 100);

const getPod = (name: string) => client.get<Obj>(`/api/v1/namespaces/${NS}/pods/${name}`);
const listPods = async (selector = '') => (await client.get<{ items: Obj[] }>(`/api/v1/namespaces/${NS}/pods${selector ? `?labelSelector=${encodeURIComponent(selector)}` : ''}`)).items;
const statuses = (p: Obj) => (p.status?.containerStatuses as ContainerStatus[] | undefined) ?? [];

const pod = (name: string, containers: Record<string, unknown>[], extra: Record<string, unknown> = {}) => podManifest(NS, name, { containers, ...extra });

async function waitRunning(name: string, timeoutMs?: number): Promise<Obj> {
  return waitFor(async () => {
    const p = await getPod(name);
    return p.status?.phase === 'Running' && p.status.podIP ? p : undefined;
  }, `${name} to run`, timeoutMs);
}

beforeAll(async () => {
  cluster = await startRealCluster({ namespace: NS, nodeName: NODE, cgroupRoot: '/stratus-realnode-test' });
  ({ client, node } = cluster);
}, 180_000);

afterAll(() => cluster?.stop(), 60_000);

describe('a real node agent on containerd', () => {
  it('registers a Ready node with the host capacity and the containerd version', async () => {
    const n = await waitFor(async () => {
      const obj = await client.get<Obj>(`/api/v1/nodes/${NODE}`);
      const ready = (obj.status?.conditions as { type: string; status: string }[] | undefined)?.find((c) => c.type === 'Ready');
      return ready?.status === 'True' ? obj : undefined;
    }, 'the node to be Ready');
    expect(n.status!.capacity).toMatchObject({ cpu: String(cpus().length), pods: '110' });
    expect((n.status!.capacity as Record<string, string>).memory).toMatch(/^\d+Ki$/);
    expect((n.status!.capacity as Record<string, string>)['ephemeral-storage']).toMatch(/^[1-9]\d*Ki$/);
    expect((n.status!.nodeInfo as Record<string, string>).containerRuntimeVersion).toMatch(/^containerd:\/\/\d+\.\d+/);
    expect((n.status!.addresses as { type: string; address: string }[]).find((a) => a.type === 'InternalIP')?.address).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
  });

  it('runs a Deployment of busybox httpd: 2 Running pods that answer HTTP on their pod IPs', async () => {
    await client.create(`/apis/apps/v1/namespaces/${NS}/deployments`, {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'web', namespace: NS },
      spec: {
        replicas: 2,
        selector: { matchLabels: { app: 'web' } },
        template: {
          metadata: { labels: { app: 'web' } },
          spec: { terminationGracePeriodSeconds: 1, containers: [{ name: 'httpd', image: 'busybox', command: ['sh', '-c', 'mkdir -p /www && echo "pod $HOSTNAME" > /www/index.html && exec httpd -f -p 8080 -h /www'] }] },
        },
      },
    });
    const pods = await waitFor(async () => {
      const running = (await listPods('app=web')).filter((p) => p.status?.phase === 'Running' && p.status.podIP);
      return running.length === 2 ? running : undefined;
    }, '2 web pods to run', 30_000);
    for (const p of pods) {
      expect(p.spec!.nodeName).toBe(NODE);
      const conditions = Object.fromEntries((p.status!.conditions as { type: string; status: string }[]).map((c) => [c.type, c.status]));
      expect(conditions).toMatchObject({ PodScheduled: 'True', Initialized: 'True', Ready: 'True', ContainersReady: 'True', PodReadyToStartContainers: 'True' });
      const [cs] = statuses(p);
      expect(cs).toMatchObject({ name: 'httpd', ready: true, started: true, restartCount: 0 });
      expect(cs.containerID).toMatch(/^containerd:\/\//);
      expect(p.status!.hostIP).toBeTruthy();
      const res = await waitFor(() => fetch(`http://${p.status!.podIP as string}:8080/`).catch(() => undefined), 'httpd to answer');
      expect(res.status).toBe(200);
      expect(await res.text()).toBe(`pod ${p.metadata.name}\n`);
    }
  });

  it('resolves env from a ConfigMap (env and envFrom) and the downward API', async () => {
    await client.create(`/api/v1/namespaces/${NS}/configmaps`, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'settings', namespace: NS }, data: { greeting: 'hello' } });
    await client.create(
      `/api/v1/namespaces/${NS}/pods`,
      pod('envpod', [
        {
          name: 'main',
          image: 'busybox',
          command: ['sleep', '3600'],
          envFrom: [{ prefix: 'CM_', configMapRef: { name: 'settings' } }],
          env: [
            { name: 'GREETING', valueFrom: { configMapKeyRef: { name: 'settings', key: 'greeting' } } },
            { name: 'MY_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
            { name: 'MY_NODE', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } },
            { name: 'MY_IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } },
            { name: 'MEM_LIMIT', valueFrom: { resourceFieldRef: { resource: 'limits.memory', divisor: '1Mi' } } },
            { name: 'COMBINED', value: '$(GREETING)-$(MY_NAME)' },
          ],
          resources: { limits: { memory: '64Mi' } },
        },
      ]),
    );
    const p = await waitRunning('envpod');
    const id = statuses(p)[0].containerID!.replace('containerd://', '');
    const out = (await node!.runtime.client.execSync(id, ['env'], 10)).stdout.toString();
    const env = Object.fromEntries(out.trim().split('\n').map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
    expect(env).toMatchObject({ GREETING: 'hello', CM_greeting: 'hello', MY_NAME: 'envpod', MY_NODE: NODE, MY_IP: p.status!.podIP, MEM_LIMIT: '64', COMBINED: 'hello-envpod' });
  });

  it('shows CreateContainerConfigError for a missing ConfigMap key', async () => {
    await client.create(`/api/v1/namespaces/${NS}/pods`, pod('badenv', [{ name: 'main', image: 'busybox', command: ['sleep', '3600'], env: [{ name: 'X', valueFrom: { configMapKeyRef: { name: 'settings', key: 'nope' } } }] }]));
    const waiting = await waitFor(async () => statuses(await getPod('badenv'))[0]?.state.waiting, 'a waiting status');
    expect(waiting).toEqual({ reason: 'CreateContainerConfigError', message: `couldn't find key nope in ConfigMap ${NS}/settings` });
    expect((await getPod('badenv')).status!.phase).toBe('Pending');
  });

  it('reports ErrImagePull, then ImagePullBackOff, for an image that cannot be pulled', async () => {
    await client.create(`/api/v1/namespaces/${NS}/pods`, pod('noimage', [{ name: 'main', image: '127.0.0.1:1/missing/image:1.0' }]));
    const seen: string[] = [];
    await waitFor(async () => {
      const reason = statuses(await getPod('noimage'))[0]?.state.waiting?.reason;
      if (reason && seen.at(-1) !== reason) seen.push(reason);
      return reason === 'ImagePullBackOff';
    }, 'ImagePullBackOff', 20_000);
    expect(seen).toContain('ErrImagePull');
    expect(seen.indexOf('ErrImagePull')).toBeLessThan(seen.indexOf('ImagePullBackOff'));
    const p = await getPod('noimage');
    expect(p.status!.phase).toBe('Pending');
    expect(statuses(p)[0].state.waiting!.message).toMatch(/^Back-off pulling image "127\.0\.0\.1:1\/missing\/image:1\.0"/);
  });

  it('restarts a crashing container and then backs off with CrashLoopBackOff', async () => {
    await client.create(`/api/v1/namespaces/${NS}/pods`, pod('crash', [{ name: 'main', image: 'busybox', command: ['sh', '-c', 'exit 1'] }]));
    const p = await waitFor(async () => {
      const obj = await getPod('crash');
      const [cs] = statuses(obj);
      return cs && cs.restartCount >= 1 && cs.state.waiting?.reason === 'CrashLoopBackOff' ? obj : undefined;
    }, 'CrashLoopBackOff', 20_000);
    const [cs] = statuses(p) as (ContainerStatus & { lastState: { terminated?: { exitCode: number; reason: string } } })[];
    expect(cs.state.waiting!.message).toBe(`back-off 10s restarting failed container=main pod=crash_${NS}(${p.metadata.uid})`);
    expect(cs.lastState.terminated).toMatchObject({ exitCode: 1, reason: 'Error' });
    expect(p.status!.phase).toBe('Running');
    // Once the back-off is over the container runs again, and the next back-off doubles.
    const again = await waitFor(async () => {
      const [c] = statuses(await getPod('crash'));
      return c && c.restartCount >= 2 && c.state.waiting?.reason === 'CrashLoopBackOff' ? c : undefined;
    }, 'the restart after the back-off', 20_000);
    expect(again.state.waiting!.message).toMatch(/^back-off 20s restarting failed container=main /);
  }, 30_000);

  it('runs a Job pod to completion: Succeeded', async () => {
    await client.create(`/apis/batch/v1/namespaces/${NS}/jobs`, {
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: { name: 'once', namespace: NS },
      spec: { backoffLimit: 0, template: { spec: { restartPolicy: 'Never', containers: [{ name: 'main', image: 'busybox', command: ['sh', '-c', 'echo done'] }] } } },
    });
    const p = await waitFor(async () => (await listPods('job-name=once')).find((x) => x.status?.phase === 'Succeeded'), 'the job pod to succeed', 20_000);
    expect(statuses(p)[0].state.terminated).toMatchObject({ exitCode: 0, reason: 'Completed' });
    const ready = (p.status!.conditions as { type: string; status: string; reason?: string }[]).find((c) => c.type === 'Ready');
    expect(ready).toMatchObject({ status: 'False', reason: 'PodCompleted' });
  });

  it('removes the containers and the pod object when a pod is deleted', async () => {
    const p = await getPod('envpod');
    await client.delete(`/api/v1/namespaces/${NS}/pods/envpod`);
    await waitFor(async () => {
      try {
        await getPod('envpod');
        return false;
      } catch (e) {
        return (e as { code?: number }).code === 404;
      }
    }, 'the pod object to be gone');
    const left = await node!.runtime.client.listPodSandbox({ label_selector: { 'io.kubernetes.pod.uid': p.metadata.uid } });
    expect(left).toEqual([]);
    expect(await node!.runtime.client.listContainers({ label_selector: { 'io.kubernetes.pod.uid': p.metadata.uid } })).toEqual([]);
  });

  it('adopts running pods after an agent restart without duplicating them, and removes pods deleted meanwhile', async () => {
    const runningIds = async () =>
      (await node!.runtime.client.listContainers({ label_selector: { [NS_LABEL]: NS, 'io.kubernetes.container.name': 'httpd' } }))
        .filter((c) => c.state === 'CONTAINER_RUNNING')
        .map((c) => c.id)
        .sort();
    const before = await runningIds();
    expect(before).toHaveLength(2);
    const web = await listPods('app=web');
    await cluster.stopNode();
    node = undefined;
    // Deleted while no agent runs: the object goes at once (grace 0), its containers stay behind.
    const victim = web[0];
    await client.delete(`/api/v1/namespaces/${NS}/pods/${victim.metadata.name}`, { apiVersion: 'v1', kind: 'DeleteOptions', gracePeriodSeconds: 0 });
    node = await cluster.startNode();
    expect(await node.runtime.client.listPodSandbox({ label_selector: { 'io.kubernetes.pod.uid': victim.metadata.uid } })).toEqual([]);
    const survivor = web[1];
    const replacement = await waitFor(async () => {
      const running = (await listPods('app=web')).filter((p) => p.status?.phase === 'Running' && p.metadata.uid !== survivor.metadata.uid);
      return running.length === 1 ? running[0] : undefined;
    }, 'a replacement pod to run', 30_000);
    await new Promise((r) => setTimeout(r, 1000)); // a few poll cycles of the restarted agent
    const after = await runningIds();
    expect(after).toHaveLength(2);
    expect(after).toContain(before.find((id) => statuses(survivor)[0].containerID === `containerd://${id}`));
    const survivorNow = await getPod(survivor.metadata.name);
    expect(statuses(survivorNow)[0]).toMatchObject({ restartCount: 0, containerID: statuses(survivor)[0].containerID });
    expect(replacement.metadata.uid).not.toBe(victim.metadata.uid);
  });

  it('measures pod startup latency (create -> Running seen through the API) for 10 pods', async () => {
    const created = new Map<string, number>();
    const running = new Map<string, number>();
    await Promise.all(
      Array.from({ length: 10 }, async (_, i) => {
        const name = `lat-${i}`;
        created.set(name, performance.now());
        await client.create(`/api/v1/namespaces/${NS}/pods`, { ...pod(name, [{ name: 'main', image: 'busybox', command: ['sleep', '3600'] }]), metadata: { name, namespace: NS, labels: { lat: 'yes' } } });
      }),
    );
    await waitFor(async () => {
      for (const p of await listPods('lat=yes')) if (p.status?.phase === 'Running' && !running.has(p.metadata.name)) running.set(p.metadata.name, performance.now());
      return running.size === 10;
    }, '10 pods to run', 30_000);
    const ms = [...running].map(([n, t]) => t - created.get(n)!).sort((a, b) => a - b);
    const pct = (q: number) => ms[Math.min(ms.length - 1, Math.ceil(q * ms.length) - 1)];
    console.log(`pod startup latency over ${ms.length} pods: p50 ${pct(0.5).toFixed(0)} ms, p99 ${pct(0.99).toFixed(0)} ms`);
    expect(pct(0.99)).toBeLessThan(30_000);
  });
});
