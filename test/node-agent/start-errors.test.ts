// Containers the runtime refuses, on a real node (containerd): a command that does not exist fails
// StartContainer (RunContainerError, then CrashLoopBackOff with lastState StartError 128), a
// container config containerd rejects fails CreateContainer (CreateContainerError), both with the
// runtime's message, retried with back-off, and neither keeps the pod's other containers from running.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startControlPlane, type ControlPlane } from '../../cli/control-plane.js';
import { Backoff } from '../../node-agent/backoff.js';
import { CriRuntime } from '../../node-agent/cri/cri-runtime.js';
import { startLocalNode, type LocalNode } from '../../node-agent/real-node.js';
import { createLogger } from '../../shared/apiserver/logger.js';
import { KubeClient } from '../../shared/client/kube-client.js';
import { freePort } from '../e2e/harness.js';

const REPO = join(import.meta.dirname, '../..');
const NODE_DIR = process.env.STRATUS_NODE_DIR ?? join(REPO, '.cluster/node');
const NS = 'start-errors-test';
const NODE = 'stratus-start-errors-test';
const CGROUP_ROOT = '/stratus-start-errors-test';
const NS_LABEL = 'io.kubernetes.pod.namespace';

let dir: string;
let cp: ControlPlane;
let client: KubeClient;
let node: LocalNode | undefined;

type Terminated = { exitCode: number; reason?: string; message?: string };
type ContainerStatus = {
  name: string;
  restartCount: number;
  containerID?: string;
  state: { waiting?: { reason: string; message?: string }; running?: unknown; terminated?: Terminated };
  lastState: { terminated?: Terminated };
};
type Obj = { metadata: { name: string; uid: string }; status?: { phase?: string; containerStatuses?: ContainerStatus[] } };

async function waitFor<T>(check: () => Promise<T | undefined | false>, what: string, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    const v = await check().catch((e: unknown) => ((last = e), undefined));
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? ` (${String(last)})` : ''}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const getPod = (name: string) => client.get<Obj>(`/api/v1/namespaces/${NS}/pods/${name}`);
const status = (p: Obj, name: string) => p.status?.containerStatuses?.find((c) => c.name === name);

function pod(name: string, containers: Record<string, unknown>[]) {
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: NS }, spec: { terminationGracePeriodSeconds: 1, containers } };
}

const sleeper = { name: 'healthy', image: 'busybox', command: ['sleep', '3600'] };

beforeAll(async () => {
  try {
    await promisify(execFile)('bash', [join(REPO, 'scripts/setup-node.sh'), '--data-dir', NODE_DIR], { timeout: 170_000 });
  } catch (e) {
    const err = e as { stdout?: string; stderr?: string; message: string };
    throw new Error(`scripts/setup-node.sh could not prepare containerd, so a real node cannot run:\n${err.stderr || err.stdout || err.message}`);
  }
  dir = mkdtempSync(join(tmpdir(), 'stratus-start-errors-'));
  cp = await startControlPlane({ dataDir: dir, port: await freePort(), log: createLogger('silent') });
  client = new KubeClient({ server: cp.url, token: cp.token, caCert: cp.caCert });
  await client.create('/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } });
  node = await startLocalNode({
    client,
    nodeDir: NODE_DIR,
    nodeName: NODE,
    log: createLogger('silent'),
    cgroupRoot: CGROUP_ROOT,
    pollIntervalMs: 200,
    // Short restart back-off so the test sees the retries; the first failure still shows for 2 s.
    agent: { restartBackoff: new Backoff({ initialMs: 2000, maxMs: 4000 }) },
  });
}, 180_000);

afterAll(async () => {
  await node?.stop();
  const cleanup = await CriRuntime.connect({ socket: join(NODE_DIR, 'containerd.sock'), cgroupRoot: CGROUP_ROOT }).catch(() => undefined);
  if (cleanup) {
    const sandboxes = await cleanup.client.listPodSandbox({ label_selector: { [NS_LABEL]: NS } });
    for (const uid of new Set(sandboxes.map((s) => s.labels['io.kubernetes.pod.uid']))) await cleanup.stopPod(uid, 0).catch(() => undefined);
    cleanup.close();
  }
  client?.close();
  await cp?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
}, 60_000);

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
