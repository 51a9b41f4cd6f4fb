// Probes and lifecycle hooks on a real node (containerd): readiness gates the READY column and
// the pod's Ready condition both ways, failed liveness and startup probes restart the container
// with kubelet's events, startup gates `started` and the other probes, exec probes time out,
// preStop runs before a graceful deletion stops the containers and postStart failures kill them.
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KubeClient } from '../../shared/client/kube-client.js';
import type { LocalNode } from '../../node-agent/real-node.js';
import { freePort } from '../e2e/harness.js';
import { podManifest, startRealCluster, waitFor, type RealCluster } from './real-cluster.js';

const NS = 'probes-test';
const NODE = 'stratus-probes-test';
const run = promisify(execFile);

let cluster: RealCluster;
let kubeconfig: string;
let client: KubeClient;
let node: LocalNode | undefined;
let hookServer: Server;
let hookPort: number;
const hookRequests: { path: string; headers: IncomingHttpHeaders; at: number }[] = [];

type ContainerStatus = {
  name: string;
  ready: boolean;
  started?: boolean;
  restartCount: number;
  containerID?: string;
  state: { waiting?: { reason: string; message?: string }; running?: unknown; terminated?: { exitCode: number } };
  lastState: { terminated?: { exitCode: number; reason: string } };
};
type PodObj = { metadata: { name: string; uid: string }; spec: Record<string, unknown>; status?: { phase?: string; podIP?: string; hostIP?: string; conditions?: { type: string; status: string; reason?: string }[]; containerStatuses?: ContainerStatus[] } };
type EventObj = { reason: string; message: string; type: string; count: number; involvedObject: { name: string; uid: string; fieldPath?: string }; source: { component: string; host?: string } };

const getPod = (name: string) => client.get<PodObj>(`/api/v1/namespaces/${NS}/pods/${name}`);
const statusOf = (p: PodObj, c = 'c') => p.status?.containerStatuses?.find((s) => s.name === c);
const condition = (p: PodObj, type: string) => p.status?.conditions?.find((c) => c.type === type);

async function events(pod: string): Promise<EventObj[]> {
  return (await client.get<{ items: EventObj[] }>(`/api/v1/namespaces/${NS}/events`)).items.filter((e) => e.involvedObject.name === pod);
}

async function waitEvent(pod: string, reason: string, message: string | RegExp): Promise<EventObj> {
  return waitFor(async () => (await events(pod)).find((e) => e.reason === reason && (typeof message === 'string' ? e.message === message : message.test(e.message))), `${reason} event "${String(message)}" on ${pod}`, 40_000);
}

async function createPod(name: string, containers: Record<string, unknown>[], extra: Record<string, unknown> = {}): Promise<PodObj> {
  await client.create(`/api/v1/namespaces/${NS}/pods`, podManifest(NS, name, { containers, ...extra }));
  return waitFor(async () => {
    const p = await getPod(name);
    return p.status?.phase === 'Running' && p.status.podIP && statusOf(p, (containers[0] as { name: string }).name)?.state.running ? p : undefined;
  }, `${name} to run`);
}

/** Run a command in the pod's container the way `kubectl exec` would. */
async function execIn(p: PodObj, cmd: string[], container = 'c'): Promise<{ exitCode: number; stdout: string }> {
  return node!.runtime.execInContainer(p.metadata.uid, container, cmd, 10);
}

async function kubectlReady(name: string): Promise<string> {
  const { stdout } = await run('kubectl', ['--kubeconfig', kubeconfig, '-n', NS, 'get', 'pod', name, '--no-headers'], { timeout: 20_000 });
  return stdout.trim().split(/\s+/)[1];
}

/** Delete gracefully and wait until the object is gone; returns the milliseconds it took. */
async function deleteAndWait(name: string): Promise<number> {
  const t = Date.now();
  await client.delete(`/api/v1/namespaces/${NS}/pods/${name}`);
  await waitFor(async () => {
    try {
      await getPod(name);
      return false;
    } catch (e) {
      return (e as { code?: number }).code === 404;
    }
  }, `${name} to be gone`, 60_000);
  return Date.now() - t;
}

beforeAll(async () => {
  cluster = await startRealCluster({ namespace: NS, nodeName: NODE, cgroupRoot: '/stratus-probes-test', startNode: false });
  ({ client } = cluster);
  const { cp } = cluster;
  kubeconfig = join(cluster.dir, 'kubeconfig');
  writeFileSync(
    kubeconfig,
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'c', cluster: { server: cp.url, 'certificate-authority-data': Buffer.from(cp.caCert).toString('base64') } }],
      users: [{ name: 'u', user: { token: cp.token } }],
      contexts: [{ name: 'x', context: { cluster: 'c', user: 'u' } }],
      'current-context': 'x',
    }),
  );
  hookServer = createServer((req, res) => {
    hookRequests.push({ path: req.url ?? '', headers: req.headers, at: Date.now() });
    res.end('ok');
  });
  hookPort = await freePort();
  await new Promise<void>((r) => hookServer.listen(hookPort, '0.0.0.0', r));
  node = await cluster.startNode();
}, 180_000);

afterAll(async () => {
  await cluster?.stop();
  hookServer?.close();
}, 60_000);

const EXITS_ON_TERM = ['sh', '-c', 'trap "exit 0" TERM; touch /tmp/healthy; sleep 3600 & wait'];

describe('probes on a real node', () => {
  it('an httpGet readiness probe on a named port gates READY 0/1 → 1/1 → 0/1 and the Ready condition', async () => {
    let p = await createPod('web', [
      {
        name: 'c',
        image: 'busybox',
        command: ['sh', '-c', 'mkdir -p /www && echo hi > /www/index.html && exec httpd -f -p 8080 -h /www'],
        ports: [{ name: 'http', containerPort: 8080 }],
        readinessProbe: { httpGet: { path: '/ready.txt', port: 'http' }, periodSeconds: 1, failureThreshold: 2 },
      },
    ]);
    await waitEvent('web', 'Unhealthy', 'Readiness probe failed: HTTP probe failed with statuscode: 404');
    p = await getPod('web');
    expect(statusOf(p)).toMatchObject({ ready: false, started: true, restartCount: 0 });
    expect(condition(p, 'Ready')).toMatchObject({ status: 'False', reason: 'ContainersNotReady' });
    expect(condition(p, 'ContainersReady')).toMatchObject({ status: 'False' });
    expect(await kubectlReady('web')).toBe('0/1');

    await execIn(p, ['sh', '-c', 'echo ok > /www/ready.txt']);
    p = await waitFor(async () => {
      const x = await getPod('web');
      return condition(x, 'Ready')?.status === 'True' ? x : undefined;
    }, 'web to become Ready');
    expect(statusOf(p)?.ready).toBe(true);
    expect(condition(p, 'ContainersReady')?.status).toBe('True');
    expect(await kubectlReady('web')).toBe('1/1');

    await execIn(p, ['rm', '/www/ready.txt']);
    p = await waitFor(async () => {
      const x = await getPod('web');
      return condition(x, 'Ready')?.status === 'False' ? x : undefined;
    }, 'web to become unready again');
    expect(statusOf(p)).toMatchObject({ ready: false, restartCount: 0 });
    expect(await kubectlReady('web')).toBe('0/1');
    const unhealthy = await waitEvent('web', 'Unhealthy', 'Readiness probe failed: HTTP probe failed with statuscode: 404');
    expect(unhealthy).toMatchObject({ type: 'Warning', source: { component: 'kubelet', host: NODE }, involvedObject: { fieldPath: 'spec.containers{c}', uid: p.metadata.uid } });
  }, 90_000);

  it('an exec readiness probe follows a file in the container', async () => {
    let p = await createPod('execready', [{ name: 'c', image: 'busybox', command: ['sleep', '3600'], readinessProbe: { exec: { command: ['test', '-f', '/tmp/ready'] }, periodSeconds: 1 } }]);
    expect(statusOf(p)?.ready).toBe(false);
    await execIn(p, ['touch', '/tmp/ready']);
    p = await waitFor(async () => {
      const x = await getPod('execready');
      return statusOf(x)?.ready ? x : undefined;
    }, 'execready to become ready');
    expect(condition(p, 'Ready')?.status).toBe('True');
    await waitEvent('execready', 'Unhealthy', 'Readiness probe failed: ');
  }, 60_000);

  it('a tcpSocket readiness probe passes once something listens', async () => {
    // The server starts only when the test says so, after the probe has seen the port closed.
    const p = await createPod('tcp', [{ name: 'c', image: 'busybox', command: ['sh', '-c', 'until [ -f /tmp/go ]; do sleep 0.2; done; exec httpd -f -p 9000 -h /'], readinessProbe: { tcpSocket: { port: 9000 }, periodSeconds: 1 } }]);
    await waitEvent('tcp', 'Unhealthy', `Readiness probe failed: dial tcp ${p.status!.podIP}:9000: connect: connection refused`);
    expect(statusOf(await getPod('tcp'))?.ready).toBe(false);
    await execIn(p, ['touch', '/tmp/go']);
    const ready = await waitFor(async () => {
      const x = await getPod('tcp');
      return statusOf(x)?.ready ? x : undefined;
    }, 'tcp to become ready');
    expect(condition(ready, 'Ready')?.status).toBe('True');
  }, 60_000);

  it('a failing liveness probe kills the container, which restarts with restartCount 1', async () => {
    let p = await createPod('live', [
      { name: 'c', image: 'busybox', command: EXITS_ON_TERM, livenessProbe: { exec: { command: ['cat', '/tmp/healthy'] }, periodSeconds: 1, failureThreshold: 2 } },
    ]);
    const firstID = statusOf(p)!.containerID;
    await new Promise((r) => setTimeout(r, 2500));
    expect(statusOf(await getPod('live'))?.restartCount).toBe(0);

    await execIn(p, ['rm', '/tmp/healthy']);
    const unhealthy = await waitEvent('live', 'Unhealthy', /^Liveness probe failed: cat: (can't open )?'?\/tmp\/healthy'?: No such file or directory\n?$/);
    expect(unhealthy.type).toBe('Warning');
    const killing = await waitEvent('live', 'Killing', 'Container c failed liveness probe, will be restarted');
    expect(killing).toMatchObject({ type: 'Normal', involvedObject: { fieldPath: 'spec.containers{c}' } });
    p = await waitFor(async () => {
      const x = await getPod('live');
      const s = statusOf(x);
      return s?.restartCount === 1 && s.state.running ? x : undefined;
    }, 'live to restart');
    const s = statusOf(p)!;
    expect(s.containerID).not.toBe(firstID);
    expect(s.lastState.terminated).toBeDefined();
    // The new instance created /tmp/healthy again: it stays up.
    await new Promise((r) => setTimeout(r, 3000));
    expect(statusOf(await getPod('live'))).toMatchObject({ restartCount: 1, ready: true });
  }, 90_000);

  it('a startup probe holds `started`, readiness and liveness until it passes', async () => {
    let p = await createPod('slow', [
      {
        name: 'c',
        image: 'busybox',
        command: ['sleep', '3600'],
        startupProbe: { exec: { command: ['test', '-f', '/tmp/started'] }, periodSeconds: 1, failureThreshold: 60 },
        // Would kill the container at once if it ran before the startup probe passed.
        livenessProbe: { exec: { command: ['test', '-f', '/tmp/started'] }, periodSeconds: 1, failureThreshold: 1 },
        readinessProbe: { exec: { command: ['true'] }, periodSeconds: 1 },
      },
    ]);
    await new Promise((r) => setTimeout(r, 3500));
    p = await getPod('slow');
    expect(statusOf(p)).toMatchObject({ started: false, ready: false, restartCount: 0 });
    expect(condition(p, 'Ready')?.status).toBe('False');
    await waitEvent('slow', 'Unhealthy', 'Startup probe failed: ');
    expect((await events('slow')).filter((e) => /^Liveness|^Readiness/.test(e.message))).toEqual([]);

    await execIn(p, ['touch', '/tmp/started']);
    p = await waitFor(async () => {
      const x = await getPod('slow');
      return statusOf(x)?.ready ? x : undefined;
    }, 'slow to start and become ready');
    expect(statusOf(p)).toMatchObject({ started: true, ready: true, restartCount: 0 });
    expect(condition(p, 'Ready')?.status).toBe('True');
  }, 60_000);

  it('an exec probe past its timeout fails as timed out, and a failed startup probe restarts the container', async () => {
    await createPod('timeout', [{ name: 'c', image: 'busybox', command: EXITS_ON_TERM, startupProbe: { exec: { command: ['sleep', '5'] }, timeoutSeconds: 1, periodSeconds: 1, failureThreshold: 2 } }]);
    const t = Date.now();
    await waitEvent('timeout', 'Unhealthy', 'Startup probe failed: command "sleep 5" timed out');
    expect(Date.now() - t).toBeLessThan(15_000);
    await waitEvent('timeout', 'Killing', 'Container c failed startup probe, will be restarted');
    const p = await waitFor(async () => {
      const x = await getPod('timeout');
      return (statusOf(x)?.restartCount ?? 0) >= 1 ? x : undefined;
    }, 'timeout to restart');
    expect(statusOf(p)?.started).toBe(false);
  }, 60_000);

  it('a failed probe of a restartPolicy Never pod kills the container without a restart', async () => {
    await createPod('never', [{ name: 'c', image: 'busybox', command: EXITS_ON_TERM, livenessProbe: { exec: { command: ['false'] }, initialDelaySeconds: 2, periodSeconds: 1, failureThreshold: 1 } }], { restartPolicy: 'Never' });
    await waitEvent('never', 'Killing', 'Container c failed liveness probe');
    const p = await waitFor(async () => {
      const x = await getPod('never');
      return x.status?.phase === 'Succeeded' || x.status?.phase === 'Failed' ? x : undefined;
    }, 'never to finish');
    expect(statusOf(p)).toMatchObject({ restartCount: 0, ready: false });
    expect(statusOf(p)?.state.terminated).toBeDefined();
  }, 60_000);
});

describe('lifecycle hooks on a real node', () => {
  it('runs postStart right after the container starts', async () => {
    const p = await createPod('poststart', [
      {
        name: 'c',
        image: 'busybox',
        command: ['sleep', '3600'],
        lifecycle: { postStart: { exec: { command: ['sh', '-c', 'echo hooked > /tmp/poststart'] } } },
      },
    ]);
    const out = await waitFor(async () => {
      const r = await execIn(p, ['cat', '/tmp/poststart']);
      return r.exitCode === 0 ? r.stdout : undefined;
    }, 'the postStart marker');
    expect(out).toBe('hooked\n');
    expect((await events('poststart')).filter((e) => e.reason === 'FailedPostStartHook')).toEqual([]);
  }, 60_000);

  it('a failed postStart kills the container (FailedPostStartHook) and it is restarted', async () => {
    await client.create(`/api/v1/namespaces/${NS}/pods`, {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'badhook', namespace: NS },
      spec: { terminationGracePeriodSeconds: 1, containers: [{ name: 'c', image: 'busybox', command: EXITS_ON_TERM, lifecycle: { postStart: { exec: { command: ['sh', '-c', 'echo nope; exit 3'] } } } }] },
    });
    const failed = await waitEvent('badhook', 'FailedPostStartHook', 'PostStartHook failed');
    expect(failed).toMatchObject({ type: 'Warning', involvedObject: { fieldPath: 'spec.containers{c}' } });
    await waitEvent('badhook', 'Killing', 'FailedPostStartHook');
    const p = await waitFor(async () => {
      const x = await getPod('badhook');
      return (statusOf(x)?.restartCount ?? 0) >= 1 ? x : undefined;
    }, 'badhook to be restarted');
    expect(statusOf(p)?.lastState.terminated).toBeDefined();
  }, 60_000);

  it('runs an exec preStop before stopping the containers, within the grace period', async () => {
    await createPod('prestop', [{ name: 'c', image: 'busybox', command: EXITS_ON_TERM, lifecycle: { preStop: { exec: { command: ['sleep', '3'] } } } }], { terminationGracePeriodSeconds: 20 });
    const took = await deleteAndWait('prestop');
    // The container exits on SIGTERM at once: the time is the hook's.
    expect(took).toBeGreaterThanOrEqual(3000);
    expect(took).toBeLessThan(15_000);
  }, 60_000);

  it('a preStop hook that outlives the grace period is cut short', async () => {
    await createPod('longstop', [{ name: 'c', image: 'busybox', command: EXITS_ON_TERM, lifecycle: { preStop: { exec: { command: ['sleep', '60'] } } } }], { terminationGracePeriodSeconds: 3 });
    const took = await deleteAndWait('longstop');
    expect(took).toBeGreaterThanOrEqual(3000);
    expect(took).toBeLessThan(20_000);
  }, 60_000);

  it('runs httpGet hooks against the given host with kubelet’s User-Agent', async () => {
    hookRequests.length = 0;
    const p = await createPod('httphooks', [
      {
        name: 'c',
        image: 'busybox',
        command: EXITS_ON_TERM,
        lifecycle: {
          postStart: { httpGet: { host: '10.88.0.1', port: hookPort, path: '/started', httpHeaders: [{ name: 'X-Hook', value: 'post' }] } },
          preStop: { httpGet: { host: '10.88.0.1', port: hookPort, path: '/stopping' } },
        },
      },
    ]);
    await waitFor(async () => hookRequests.some((r) => r.path === '/started'), 'the postStart request');
    const post = hookRequests.find((r) => r.path === '/started')!;
    expect(post.headers['user-agent']).toMatch(/^kube-lifecycle\//);
    expect(post.headers['x-hook']).toBe('post');
    expect(hookRequests.some((r) => r.path === '/stopping')).toBe(false);
    expect(statusOf(await getPod('httphooks'))?.restartCount).toBe(0);

    const t = Date.now();
    await deleteAndWait('httphooks');
    const pre = hookRequests.find((r) => r.path === '/stopping');
    expect(pre).toBeDefined();
    expect(pre!.at).toBeGreaterThanOrEqual(t);
    expect(p.metadata.uid).toBeTruthy();
  }, 60_000);
});
