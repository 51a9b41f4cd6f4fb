// Containers the runtime refuses, on a real node (containerd): a command that does not exist fails
// StartContainer (RunContainerError, then CrashLoopBackOff with lastState StartError 128), a
// container config containerd rejects fails CreateContainer (CreateContainerError), both with the
// runtime's message, retried with back-off, and neither keeps the pod's other containers from running.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Backoff } from '../../node-agent/backoff.js';
import type { KubeClient } from '../../shared/client/kube-client.js';
import { podManifest, startRealCluster, waitFor, type RealCluster } from './real-cluster.js';

const NS = 'start-errors-test';
const NODE = 'stratus-start-errors-test';

let cluster: RealCluster;
let client: KubeClient;

type Terminated = { exitCode: number; reason?: string; message?: string };
type ContainerStatus = {
  name: string;
  restartCount: number;
  containerID?: string;
  state: { waiting?: { reason: string; message?: string }; running?: unknown; terminated?: Terminated };
  lastState: { terminated?: Terminated };
};
type Obj = { metadata: { name: string; uid: string }; status?: { phase?: string; containerStatuses?: ContainerStatus[] } };

const getPod = (name: string) => client.get<Obj>(`/api/v1/namespaces/${NS}/pods/${name}`);
const status = (p: Obj, name: string) => p.status?.containerStatuses?.find((c) => c.name === name);

const pod = (name: string, containers: Record<string, unknown>[]) => podManifest(NS, name, { containers });

const sleeper = { name: 'healthy', image: 'busybox', command: ['sleep', '3600'] };

beforeAll(async () => {
  cluster = await startRealCluster({
    namespace: NS,
    nodeName: NODE,
    cgroupRoot: '/stratus-start-errors-test',
    // Short restart back-off so the test sees the retries; the first failure still shows for 2 s.
    node: { agent: { restartBackoff: new Backoff({ initialMs: 2000, maxMs: 4000 }) } },
  });
  ({ client } = cluster);
}, 180_000);

afterAll(() => cluster?.stop(), 60_000);

describe('containers the runtime refuses', () => {
  it('a command that does not exist: RunContainerError, then CrashLoopBackOff with lastState StartError 128; the sibling runs', async () => {
    await client.create(`/api/v1/namespaces/${NS}/pods`, pod('nocmd', [{ name: 'broken', image: 'busybox', command: ['/no/such/binary'] }, sleeper]));

    const first = await waitFor(async () => {
      const p = await getPod('nocmd');
      return status(p, 'broken')?.state.waiting?.reason === 'RunContainerError' ? p : undefined;
    }, 'RunContainerError');
    const broken = status(first, 'broken')!;
    expect(broken.state.waiting!.message).toContain('/no/such/binary');
    expect(broken.lastState.terminated).toMatchObject({ exitCode: 128, reason: 'StartError' });
    expect(broken.restartCount).toBe(0);

    const running = await waitFor(async () => {
      const p = await getPod('nocmd');
      return status(p, 'healthy')?.state.running && p.status?.phase === 'Running' ? p : undefined;
    }, 'the healthy sibling to run');
    expect(status(running, 'healthy')!.restartCount).toBe(0);

    const looping = await waitFor(async () => {
      const c = status(await getPod('nocmd'), 'broken');
      return c && c.restartCount >= 1 && c.state.waiting?.reason === 'CrashLoopBackOff' ? c : undefined;
    }, 'CrashLoopBackOff after a restart');
    expect(looping.state.waiting!.message).toMatch(/^back-off \d+s restarting failed container=broken pod=nocmd_/);
    expect(looping.lastState.terminated).toMatchObject({ exitCode: 128, reason: 'StartError' });
    expect(looping.lastState.terminated!.message).toContain('/no/such/binary');
    // The sibling was never disturbed by the retries.
    const after = status(await getPod('nocmd'), 'healthy')!;
    expect(after.state.running).toBeDefined();
    expect(after.containerID).toBe(status(running, 'healthy')!.containerID);
  }, 60_000);

  it('a config containerd rejects at CreateContainer: CreateContainerError with the runtime message, retried; the sibling runs', async () => {
    // containerd refuses a group without a user when the image names no user (busybox names none).
    await client.create(`/api/v1/namespaces/${NS}/pods`, pod('nocreate', [{ name: 'broken', image: 'busybox', command: ['sleep', '3600'], securityContext: { runAsGroup: 1234 } }, sleeper]));

    const p = await waitFor(async () => {
      const obj = await getPod('nocreate');
      const b = status(obj, 'broken');
      return b?.state.waiting?.reason === 'CreateContainerError' && status(obj, 'healthy')?.state.running ? obj : undefined;
    }, 'CreateContainerError next to a running sibling');
    const broken = status(p, 'broken')!;
    expect(broken.state.waiting!.message).toBeTruthy();
    expect(broken.state.waiting!.message).not.toMatch(/^rpc error/);
    expect(broken.restartCount).toBe(0);
    expect(broken.containerID).toBeUndefined();
    expect(p.status!.phase).toBe('Pending');

    // Retried with back-off: a Warning Failed event per attempt, and it keeps showing the reason.
    const events = await waitFor(async () => {
      const list = await client.get<{ items: { reason: string; type: string; message: string; count?: number; involvedObject: { name: string } }[] }>(`/api/v1/namespaces/${NS}/events`);
      const failed = list.items.filter((e) => e.involvedObject.name === 'nocreate' && e.reason === 'Failed');
      const attempts = failed.reduce((n, e) => n + (e.count ?? 1), 0);
      return attempts >= 2 ? failed : undefined;
    }, 'a second CreateContainer attempt', 20_000);
    expect(events[0].type).toBe('Warning');
    expect(events[0].message).toMatch(/^Error: /);
    expect(status(await getPod('nocreate'), 'broken')!.state.waiting!.reason).toBe('CreateContainerError');
  }, 60_000);
});
