// The CRI runtime against a real containerd set up by scripts/setup-node.sh (offline images, CNI
// bridge): pods run, answer HTTP on their pod IP, run init containers first, report image pull
// failures and exit codes as kubelet does, are adopted rather than duplicated, and leave nothing
// behind when stopped.
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { networkInterfaces } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CriRuntime, InitContainerError, PodStoppedError, type CriPodState } from '../../node-agent/cri/cri-runtime.js';
import { ImagePullError } from '../../node-agent/cri/images.js';
import { podLogDirectory } from '../../node-agent/cri/pod-config.js';
import { k8sContainerStatus, PodStatusPoller, type CriPodStatus } from '../../node-agent/cri/pod-status-poller.js';

const REPO = join(import.meta.dirname, '../..');
const NODE_DIR = process.env.STRATUS_NODE_DIR ?? join(REPO, '.cluster/node');
const SOCKET = join(NODE_DIR, 'containerd.sock');
const LOG_ROOT = join(NODE_DIR, 'pods');
const CGROUP_ROOT = '/stratus-test';

let runtime: CriRuntime;
const podsToClean = new Set<string>();

type Container = Record<string, unknown> & { name: string };

function makePod(name: string, containers: Container[], extra: Record<string, unknown> = {}) {
  const uid = randomUUID();
  podsToClean.add(uid);
  return { metadata: { name, namespace: 'cri-test', uid, labels: { app: name } }, spec: { restartPolicy: 'Always', containers, ...extra } };
}

async function waitFor<T>(check: () => Promise<T | undefined | false>, what: string, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The container's cgroup file on the host, for cgroup v1 (per controller) or v2 (unified). */
function cgroupFile(uid: string, containerId: string, v1: [string, string], v2: string): string {
  const unified = existsSync('/sys/fs/cgroup/cgroup.controllers');
  return unified ? `/sys/fs/cgroup${CGROUP_ROOT}/pod${uid}/${containerId}/${v2}` : `/sys/fs/cgroup/${v1[0]}${CGROUP_ROOT}/pod${uid}/${containerId}/${v1[1]}`;
}

function podCgroupExists(uid: string): boolean {
  if (existsSync('/sys/fs/cgroup/cgroup.controllers')) return existsSync(`/sys/fs/cgroup${CGROUP_ROOT}/pod${uid}`);
  return readdirSync('/sys/fs/cgroup').some((c) => existsSync(`/sys/fs/cgroup/${c}${CGROUP_ROOT}/pod${uid}`));
}

beforeAll(async () => {
  try {
    const { stdout } = await promisify(execFile)('bash', [join(REPO, 'scripts/setup-node.sh'), '--data-dir', NODE_DIR], { timeout: 170_000 });
    process.stdout.write(stdout);
  } catch (e) {
    const err = e as { stdout?: string; stderr?: string; message: string };
    throw new Error(`scripts/setup-node.sh could not prepare containerd, so these tests cannot run:\n${err.stderr || err.stdout || err.message}`);
  }
  runtime = await CriRuntime.connect({ socket: SOCKET, logRoot: LOG_ROOT, cgroupRoot: CGROUP_ROOT, pollIntervalMs: 50 });
});

afterAll(async () => {
  if (!runtime) return;
  for (const uid of podsToClean) await runtime.stopPod(uid, 0).catch(() => undefined);
  runtime.close();
});

describe('CRI runtime on containerd', () => {
  it('reports the runtime version for nodeInfo', () => {
    expect(runtime.version).toMatch(/^containerd:\/\/\d+\.\d+/);
  });

  it('runs a busybox pod that answers HTTP on its pod IP, with env, args, hostname, logs, labels and limits applied', async () => {
    const pod = makePod('web', [
      {
        name: 'httpd',
        image: 'busybox',
        command: ['sh', '-c'],
        args: ['mkdir -p /www && echo "hello from $(GREETING)" > /www/index.html && echo serving && exec httpd -f -p 8080 -h /www'],
        env: [
          { name: 'WHO', value: 'web' },
          { name: 'GREETING', value: 'pod-$(WHO)' },
        ],
        resources: { limits: { cpu: '250m', memory: '64Mi' }, requests: { cpu: '100m', memory: '32Mi' } },
      },
    ]);
    const t0 = performance.now();
    const state = await runtime.startPod(pod);
    const elapsed = performance.now() - t0;
    console.log(`RunPodSandbox -> container running: ${elapsed.toFixed(0)} ms (RunPodSandbox ${state.timings.runPodSandboxMs.toFixed(0)} ms)`);

    expect(state.podIP).toMatch(/^10\.88\.\d+\.\d+$/);
    expect(state.containers).toHaveLength(1);
    const c = state.containers[0];
    expect(c).toMatchObject({ name: 'httpd', state: 'running', ready: true, restartCount: 0 });
    expect(c.containerID).toBe(`containerd://${c.id}`);

    const res = await waitFor(() => fetch(`http://${state.podIP}:8080/`).catch(() => undefined), 'httpd to listen');
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('hello from pod-web\n');

    const hostname = await runtime.client.execSync(c.id, ['hostname'], 5);
    expect(hostname.exit_code).toBe(0);
    expect(hostname.stdout.toString().trim()).toBe('web');

    const log = readFileSync(join(podLogDirectory(LOG_ROOT, 'cri-test', 'web', pod.metadata.uid), 'httpd', '0.log'), 'utf8');
    expect(log).toMatch(/^\d{4}-\d\d-\d\dT\S+ stdout F serving$/m);

    const [sandbox] = await runtime.client.listPodSandbox({ label_selector: { 'io.kubernetes.pod.uid': pod.metadata.uid } });
    expect(sandbox.labels).toMatchObject({ app: 'web', 'io.kubernetes.pod.name': 'web', 'io.kubernetes.pod.namespace': 'cri-test' });

    expect(readFileSync(cgroupFile(pod.metadata.uid, c.id, ['memory', 'memory.limit_in_bytes'], 'memory.max'), 'utf8').trim()).toBe(String(64 * 1024 * 1024));
    const quota = readFileSync(cgroupFile(pod.metadata.uid, c.id, ['cpu', 'cpu.cfs_quota_us'], 'cpu.max'), 'utf8').trim();
    expect(quota.split(' ')[0]).toBe('25000');

    const stats = await runtime.client.containerStats(c.id);
    expect(stats.attributes.metadata.name).toBe('httpd');
    expect(Number(stats.memory?.working_set_bytes?.value)).toBeGreaterThan(0);
    expect((await runtime.client.listContainerStats({ pod_sandbox_id: state.sandboxId })).map((s) => s.attributes.id)).toEqual([c.id]);
  });

  it('maps hostPort to the node and applies pod DNS settings', async () => {
    const nodeIP = Object.values(networkInterfaces())
      .flat()
      .find((a) => a && a.family === 'IPv4' && !a.internal && !a.address.startsWith('10.88.'))?.address;
    expect(nodeIP, 'a non-loopback IPv4 address on this machine').toBeDefined();
    const pod = makePod(
      'host-port',
      [{ name: 'httpd', image: 'busybox', command: ['sh', '-c', 'mkdir /www && echo via-host-port > /www/index.html && exec httpd -f -p 80 -h /www'], ports: [{ containerPort: 80, hostPort: 18080 }] }],
      { dnsPolicy: 'None', dnsConfig: { nameservers: ['10.96.0.10'], searches: ['cri-test.svc.cluster.local'], options: [{ name: 'ndots', value: '2' }] } },
    );
    const state = await runtime.startPod(pod);
    const res = await waitFor(() => fetch(`http://${nodeIP}:18080/`).catch(() => undefined), 'the host port to answer');
    expect(await res.text()).toBe('via-host-port\n');
    const resolv = await runtime.client.execSync(state.containers[0].id, ['cat', '/etc/resolv.conf'], 5);
    expect(resolv.stdout.toString()).toMatch(/nameserver 10\.96\.0\.10/);
    expect(resolv.stdout.toString()).toMatch(/search cri-test\.svc\.cluster\.local/);
    expect(resolv.stdout.toString()).toMatch(/options ndots:2/);
  });

  it('runs init containers in order, to completion, before the app container', async () => {
    const pod = makePod('with-init', [{ name: 'app', image: 'busybox:1.36', command: ['sleep', '3600'] }], {
      initContainers: [
        { name: 'first', image: 'busybox', command: ['sh', '-c', 'sleep 0.5'] },
        { name: 'second', image: 'busybox', command: ['true'] },
      ],
    });
    const state = await runtime.startPod(pod);
    expect(state.initContainers.map((c) => [c.name, c.state, c.exitCode, c.reason])).toEqual([
      ['first', 'exited', 0, 'Completed'],
      ['second', 'exited', 0, 'Completed'],
    ]);
    const ns = async (id: string) => (await runtime.client.containerStatus(id)).status;
    const [first, second, app] = await Promise.all([ns(state.initContainers[0].id), ns(state.initContainers[1].id), ns(state.containers[0].id)]);
    expect(BigInt(second.started_at)).toBeGreaterThanOrEqual(BigInt(first.finished_at));
    expect(BigInt(app.started_at)).toBeGreaterThanOrEqual(BigInt(second.finished_at));
    expect(BigInt(first.finished_at) - BigInt(first.started_at)).toBeGreaterThanOrEqual(400_000_000n);
    expect(state.containers[0].state).toBe('running');
  });

  it('fails a pod whose init container fails under restartPolicy Never, without starting its containers', async () => {
    const pod = makePod('init-fails', [{ name: 'app', image: 'busybox', command: ['sleep', '3600'] }], {
      restartPolicy: 'Never',
      initContainers: [{ name: 'setup', image: 'busybox', command: ['sh', '-c', 'exit 7'] }],
    });
    const err = await runtime.startPod(pod).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(InitContainerError);
    const e = err as InitContainerError;
    expect([e.container, e.exitCode, e.reason, e.podFailed]).toEqual(['setup', 7, 'Error', true]);
    expect(e.state.containers[0]).toMatchObject({ name: 'app', state: 'waiting' });
    expect(await runtime.client.listContainers({ label_selector: { 'io.kubernetes.pod.uid': pod.metadata.uid, 'io.kubernetes.container.name': 'app' } })).toEqual([]);
  });

  it('reports a missing image with kubelet reasons and messages (ErrImagePull, ErrImageNeverPull) and still runs the other containers', async () => {
    const pod = makePod('missing-image', [
      { name: 'ok', image: 'busybox', command: ['sleep', '3600'] },
      { name: 'unpullable', image: '127.0.0.1:1/stratus/missing:1.0', imagePullPolicy: 'IfNotPresent' },
    ]);
    const err = (await runtime.startPod(pod).then(
      () => undefined,
      (e: unknown) => e,
    )) as ImagePullError & { state?: CriPodState };
    expect(err).toBeInstanceOf(ImagePullError);
    expect(err.reason).toBe('ErrImagePull');
    expect(err.container).toBe('unpullable');
    expect(err.message).toMatch(/^rpc error: code = \w+ desc = failed to pull and unpack image "127\.0\.0\.1:1\/stratus\/missing:1\.0"/);
    expect(err.state?.containers.map((c) => [c.name, c.state, c.reason])).toEqual([
      ['ok', 'running', undefined],
      ['unpullable', 'waiting', 'ErrImagePull'],
    ]);
    expect(k8sContainerStatus(err.state!.containers[1], false)).toMatchObject({ state: { waiting: { reason: 'ErrImagePull' } }, ready: false, restartCount: 0 });

    const never = makePod('never-pull', [{ name: 'c', image: 'stratus.invalid/absent:2', imagePullPolicy: 'Never' }]);
    const err2 = (await runtime.startPod(never).then(
      () => undefined,
      (e: unknown) => e,
    )) as ImagePullError;
    expect([err2.reason, err2.message]).toEqual(['ErrImageNeverPull', 'Container image "stratus.invalid/absent:2" is not present with pull policy of Never']);
  });

  it('reports a container that exits with its exit code, and restarts it with lastState and restartCount', async () => {
    const pod = makePod('exits', [{ name: 'job', image: 'busybox', command: ['sh', '-c', 'echo working; sleep 0.2; exit 3'] }], { restartPolicy: 'OnFailure' });
    const changes: CriPodStatus[] = [];
    const poller = new PodStatusPoller(runtime.statusReader, { intervalMs: 100, onChange: (s) => s.uid === pod.metadata.uid && changes.push(s) });
    poller.start();
    try {
      await runtime.startPod(pod);
      const exited = await waitFor(async () => changes.map((s) => s.containers[0]).find((c) => c?.state === 'exited'), 'the poller to see the container exit');
      expect(exited).toMatchObject({ name: 'job', exitCode: 3, reason: 'Error', restartCount: 0 });
      expect(exited.startedAt).toMatch(/Z$/);
      expect(exited.finishedAt).toMatch(/Z$/);
      expect(k8sContainerStatus(exited, false)).toMatchObject({ state: { terminated: { exitCode: 3, reason: 'Error', containerID: exited.containerID } }, ready: false, started: false });

      const restarted = await runtime.restartContainer(pod, 'job');
      expect(restarted).toMatchObject({ restartCount: 1, last: { exitCode: 3, id: exited.id } });
      expect(existsSync(join(podLogDirectory(LOG_ROOT, 'cri-test', 'exits', pod.metadata.uid), 'job', '1.log'))).toBe(true);
      const again = await waitFor(async () => {
        const s = await runtime.podStatus(pod.metadata.uid);
        return s?.containers[0].state === 'exited' && s.containers[0].restartCount === 1 && s.containers[0];
      }, 'the restarted container to exit');
      expect(k8sContainerStatus(again, false)).toMatchObject({ restartCount: 1, state: { terminated: { exitCode: 3 } }, lastState: { terminated: { exitCode: 3, containerID: exited.containerID } } });
    } finally {
      await poller.stop();
    }
  });

  it('adopts the running sandbox and containers of a pod instead of duplicating them', async () => {
    const pod = makePod('adopted', [{ name: 'app', image: 'busybox', command: ['sleep', '3600'] }]);
    const first = await runtime.startPod(pod);
    const other = await CriRuntime.connect({ socket: SOCKET, logRoot: LOG_ROOT, cgroupRoot: CGROUP_ROOT });
    try {
      const second = await other.startPod(pod);
      expect(second.sandboxId).toBe(first.sandboxId);
      expect(second.podIP).toBe(first.podIP);
      expect(second.containers.map((c) => c.containerID)).toEqual(first.containers.map((c) => c.containerID));
      expect(second.timings.runPodSandboxMs).toBe(0);
    } finally {
      other.close();
    }
    const byUid = { label_selector: { 'io.kubernetes.pod.uid': pod.metadata.uid } };
    expect(await runtime.client.listPodSandbox(byUid)).toHaveLength(1);
    expect(await runtime.client.listContainers(byUid)).toHaveLength(1);
  });

  it('replaces a sandbox that is no longer ready with a new attempt', async () => {
    const pod = makePod('replaced', [{ name: 'app', image: 'busybox', command: ['sleep', '3600'] }]);
    const first = await runtime.startPod(pod);
    await runtime.client.stopPodSandbox(first.sandboxId);
    const second = await runtime.startPod(pod);
    expect(second.sandboxId).not.toBe(first.sandboxId);
    expect(second.containers[0].state).toBe('running');
    const sandboxes = await runtime.client.listPodSandbox({ label_selector: { 'io.kubernetes.pod.uid': pod.metadata.uid } });
    expect(sandboxes.map((s) => [s.id, s.state, s.metadata.attempt])).toEqual([[second.sandboxId, 'SANDBOX_READY', 1]]);
  });

  it('stopPod aborts a startPod that waits for a long init container', async () => {
    const pod = makePod('stuck-init', [{ name: 'app', image: 'busybox', command: ['sleep', '3600'] }], {
      initContainers: [{ name: 'forever', image: 'busybox', command: ['sleep', '3600'] }],
    });
    const starting = runtime.startPod(pod).then(
      () => undefined,
      (e: unknown) => e,
    );
    await waitFor(async () => (await runtime.podStatus(pod.metadata.uid))?.initContainers[0]?.state === 'running', 'the init container to run');
    await runtime.stopPod(pod.metadata.uid, 0);
    expect(await starting).toBeInstanceOf(PodStoppedError);
    expect(await runtime.podStatus(pod.metadata.uid)).toBeUndefined();
  });

  it('stopPod stops within the grace period and removes containers, sandbox, logs and the pod cgroup', async () => {
    const pod = makePod('stopped', [{ name: 'app', image: 'busybox', command: ['sh', '-c', 'trap "exit 0" TERM; while true; do sleep 0.1; done'] }]);
    const state = await runtime.startPod(pod);
    const uid = pod.metadata.uid;
    const logDir = podLogDirectory(LOG_ROOT, 'cri-test', 'stopped', uid);
    expect(existsSync(logDir)).toBe(true);
    expect(podCgroupExists(uid)).toBe(true);

    const t0 = performance.now();
    await runtime.stopPod(uid, 10);
    const teardownMs = performance.now() - t0;
    console.log(`stopPod teardown: ${teardownMs.toFixed(0)} ms`);
    expect(teardownMs).toBeLessThan(5000); // the container handled TERM; it did not wait out the 10 s grace

    const byUid = { label_selector: { 'io.kubernetes.pod.uid': uid } };
    expect(await runtime.client.listPodSandbox(byUid)).toEqual([]);
    expect(await runtime.client.listContainers(byUid)).toEqual([]);
    expect(existsSync(logDir)).toBe(false);
    expect(podCgroupExists(uid)).toBe(false);
    await expect(fetch(`http://${state.podIP}:8080/`, { signal: AbortSignal.timeout(1000) })).rejects.toThrow();
    expect(await runtime.podStatus(uid)).toBeUndefined();
    // Stopping again is harmless.
    await runtime.stopPod(uid, 0);
  });
});
