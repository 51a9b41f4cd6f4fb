// A killed containerd on a real node: the agent reports the node NotReady ("container runtime is
// down"), restarts containerd with the CLI's default restarter (scripts/setup-node.sh), and the node
// turns Ready again with its running pods untouched (same containers, no restarts) and new pods running.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startControlPlane, type ControlPlane } from '../../cli/control-plane.js';
import { runtimeRestarter } from '../../cli/local-node.js';
import { CriRuntime } from '../../node-agent/cri/cri-runtime.js';
import { startLocalNode, type LocalNode } from '../../node-agent/real-node.js';
import { createLogger } from '../../shared/apiserver/logger.js';
import { KubeClient } from '../../shared/client/kube-client.js';
import { freePort } from '../e2e/harness.js';

const REPO = join(import.meta.dirname, '../..');
const NODE_DIR = process.env.STRATUS_NODE_DIR ?? join(REPO, '.cluster/node');
const NS = 'runtime-recovery-test';
const NODE = 'stratus-runtime-recovery-test';
const CGROUP_ROOT = '/stratus-runtime-recovery-test';
const NS_LABEL = 'io.kubernetes.pod.namespace';
const setupNode = () => promisify(execFile)('bash', [join(REPO, 'scripts/setup-node.sh'), '--data-dir', NODE_DIR], { timeout: 170_000 });

let dir: string;
let cp: ControlPlane;
let client: KubeClient;
let node: LocalNode | undefined;
let restarts = 0;

type Condition = { type: string; status: string; reason?: string; message?: string };
type ContainerStatus = { name: string; restartCount: number; containerID?: string; state: { running?: unknown } };
type Obj = { metadata: { name: string; uid: string }; status?: { phase?: string; podIP?: string; containerStatuses?: ContainerStatus[]; conditions?: Condition[] } };

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
const readyCondition = async () => (await client.get<Obj>(`/api/v1/nodes/${NODE}`)).status?.conditions?.find((c) => c.type === 'Ready');
const containerdPid = () => Number(readFileSync(join(NODE_DIR, 'containerd.pid'), 'utf8').trim());
/** Whether the process runs (a killed process nobody reaped yet shows as a zombie, state Z). */
const alive = (pid: number) => {
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
};

function sleeper(name: string) {
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: NS }, spec: { terminationGracePeriodSeconds: 1, containers: [{ name: 'main', image: 'busybox', command: ['sleep', '3600'] }] } };
}

async function waitRunning(name: string, timeoutMs?: number): Promise<Obj> {
  return waitFor(async () => {
    const p = await getPod(name);
    return p.status?.phase === 'Running' && p.status.containerStatuses?.[0]?.state.running ? p : undefined;
  }, `${name} to run`, timeoutMs);
}

beforeAll(async () => {
  try {
    await setupNode();
  } catch (e) {
    const err = e as { stdout?: string; stderr?: string; message: string };
    throw new Error(`scripts/setup-node.sh could not prepare containerd, so a real node cannot run:\n${err.stderr || err.stdout || err.message}`);
  }
  dir = mkdtempSync(join(tmpdir(), 'stratus-runtime-recovery-'));
  cp = await startControlPlane({ dataDir: dir, port: await freePort(), log: createLogger('silent') });
  client = new KubeClient({ server: cp.url, token: cp.token, caCert: cp.caCert });
  await client.create('/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } });
  const restart = runtimeRestarter(NODE_DIR, createLogger('silent'));
  node = await startLocalNode({
    client,
    nodeDir: NODE_DIR,
    nodeName: NODE,
    log: createLogger(process.env.RR_LOG ?? 'silent'),
    cgroupRoot: CGROUP_ROOT,
    pollIntervalMs: 200,
    heartbeatMs: 500,
    restartRuntime: async () => {
      restarts++;
      await restart();
    },
  });
}, 180_000);

afterAll(async () => {
  await node?.stop();
  // Whatever happened above, containerd must be running again for everyone else sharing it.
  await setupNode().catch(() => undefined);
  const cleanup = await CriRuntime.connect({ socket: join(NODE_DIR, 'containerd.sock'), cgroupRoot: CGROUP_ROOT }).catch(() => undefined);
  if (cleanup) {
    const sandboxes = await cleanup.client.listPodSandbox({ label_selector: { [NS_LABEL]: NS } });
    for (const uid of new Set(sandboxes.map((s) => s.labels['io.kubernetes.pod.uid']))) await cleanup.stopPod(uid, 0).catch(() => undefined);
    cleanup.close();
  }
  client?.close();
  await cp?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
}, 200_000);

describe('a killed containerd', () => {
  it('is detected (NotReady), restarted, and the node is Ready again with its pods untouched', async () => {
    await client.create(`/api/v1/namespaces/${NS}/pods`, sleeper('before'));
    const before = await waitRunning('before');
    const oldId = before.status!.containerStatuses![0].containerID;
    expect(oldId).toMatch(/^containerd:\/\//);
    await waitFor(async () => (await readyCondition())?.status === 'True', 'the node to be Ready');

    // The agent recovers within a few heartbeats, so the Ready condition is watched from before the kill.
    const seen: Condition[] = [];
    let watching = true;
    const watcher = (async () => {
      while (watching) {
        const c = await readyCondition().catch(() => undefined);
        if (c && seen.at(-1)?.status !== c.status) seen.push(c);
        await new Promise((r) => setTimeout(r, 50));
      }
    })();

    const pid = containerdPid();
    let up: Condition;
    try {
      process.kill(pid, 'SIGKILL');
      const down = await waitFor(async () => seen.find((c) => c.status === 'False'), 'the node to turn NotReady', 10_000);
      expect(down.reason).toBe('KubeletNotReady');
      expect(down.message).toMatch(/^container runtime is down/);
      up = await waitFor(async () => seen.find((c, i) => i > seen.indexOf(down) && c.status === 'True'), 'the node to be Ready again', 40_000);
    } finally {
      watching = false;
      await watcher;
    }
    expect(seen.map((c) => c.status)).toEqual(['True', 'False', 'True']);
    expect(alive(pid)).toBe(false);
    expect(up.reason).toBe('KubeletReady');
    expect(restarts).toBeGreaterThanOrEqual(1);
    const newPid = containerdPid();
    expect(newPid).not.toBe(pid);
    expect(alive(newPid)).toBe(true);

    // The new pod shows the agent syncs again; by then the old pod has been polled through the new containerd too.
    await client.create(`/api/v1/namespaces/${NS}/pods`, sleeper('after'));
    const after = await waitRunning('after');
    expect(after.status!.containerStatuses![0].containerID).toMatch(/^containerd:\/\//);

    const old = await getPod('before');
    expect(old.status!.phase).toBe('Running');
    expect(old.status!.containerStatuses![0]).toMatchObject({ containerID: oldId, restartCount: 0 });
    expect(old.status!.containerStatuses![0].state.running).toBeDefined();
    // containerd itself still knows the old container as running (re-attached to its shim).
    const cri = await CriRuntime.connect({ socket: join(NODE_DIR, 'containerd.sock'), cgroupRoot: CGROUP_ROOT });
    try {
      const status = await cri.podStatus(before.metadata.uid);
      expect(status?.containers.map((c) => ({ id: c.containerID, state: c.state }))).toEqual([{ id: oldId, state: 'running' }]);
    } finally {
      cri.close();
    }
  }, 90_000);
});
