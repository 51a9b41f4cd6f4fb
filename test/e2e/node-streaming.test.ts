// kubectl logs, exec, cp, port-forward, attach and top against a real node: the control plane in
// this process, the agent on containerd, and every byte between kubectl and the container going
// through the API server and the tunnel the agent opened (the agent listens on no port). kubectl
// 1.27 speaks SPDY, kubectl 1.33 WebSockets (exec, cp) and SPDY-over-WebSocket (port-forward).
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ControlPlane } from '../../cli/control-plane.js';
import { KubeClient } from '../../shared/client/kube-client.js';
import { startRealCluster, waitFor, type RealCluster } from '../node-agent/real-cluster.js';
import { freePort, kubectl, kubectlPath } from './harness.js';

const NS = 'streaming-e2e';
const NODE = 'stratus-streaming-e2e';
const VERSIONS = ['1.27', '1.33'] as const;

let cluster: RealCluster;
let dir: string;
let cp: ControlPlane;
let client: KubeClient;

type PodObj = { status?: { phase?: string; containerStatuses?: { restartCount: number }[] } };

const k = (version: string, args: string[], opts: { input?: string; timeoutMs?: number } = {}) => kubectl(cp, version, ['-n', NS, ...args], { cacheDir: dir, ...opts });

async function runPod(name: string, command: string, extra: Record<string, unknown> = {}): Promise<void> {
  await client.create(`/api/v1/namespaces/${NS}/pods`, {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: NS, labels: { app: name } },
    spec: { nodeName: NODE, terminationGracePeriodSeconds: 1, containers: [{ name: 'main', image: 'busybox', command: ['sh', '-c', command], ...extra }] },
  });
  await waitFor(async () => (await client.get<PodObj>(`/api/v1/namespaces/${NS}/pods/${name}`)).status?.phase === 'Running', `${name} to run`);
}

beforeAll(async () => {
  cluster = await startRealCluster({ namespace: NS, nodeName: NODE, cgroupRoot: '/stratus-streaming-e2e' });
  ({ dir, cp, client } = cluster);
  await waitFor(async () => cp.nodes!.connected(NODE), 'the agent tunnel to connect');
  await Promise.all([
    runPod('ticker', 'echo hello; echo oops >&2; i=0; while true; do echo tick $i; i=$((i+1)); sleep 0.3; done'),
    runPod('web', 'mkdir -p /www && echo served-by-pod > /www/index.html && exec httpd -f -p 8080 -h /www'),
    runPod('crasher', 'echo first life; sleep 1; exit 3'),
    runPod('reader', 'exec cat', { stdin: true }),
  ]);
}, 240_000);

afterAll(() => cluster?.stop(), 60_000);

describe.each(VERSIONS)('kubectl %s through the tunnel', (version) => {
  it('logs: --tail, --timestamps, stdout and stderr, -c, and --previous after a crash', async () => {
    await waitFor(async () => (await k(version, ['logs', 'ticker'])).stdout.includes('tick 2'), 'a few ticks');
    const tail = await k(version, ['logs', 'ticker', '--tail=2']);
    expect(tail.code, tail.stderr).toBe(0);
    expect(tail.stdout.trim().split('\n')).toHaveLength(2);
    expect(tail.stdout).toMatch(/^tick \d+\ntick \d+\n$/);
    const all = await k(version, ['logs', 'ticker', '-c', 'main', '--timestamps']);
    // stdout and stderr come through separate pipes, so their relative order is the runtime's.
    expect(all.stdout).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z hello$/m);
    expect(all.stdout).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z oops$/m);
    await waitFor(async () => ((await client.get<PodObj>(`/api/v1/namespaces/${NS}/pods/crasher`)).status?.containerStatuses?.[0]?.restartCount ?? 0) >= 1, 'crasher to restart');
    const previous = await k(version, ['logs', 'crasher', '--previous']);
    expect(previous.code, previous.stderr).toBe(0);
    expect(previous.stdout).toBe('first life\n');
  });

  it('logs -f streams new lines as they are written', async () => {
    const child = spawn(kubectlPath(version), ['-n', NS, 'logs', '-f', 'ticker', '--tail=1'], { env: { PATH: process.env.PATH!, HOME: dir, KUBECONFIG: cp.kubeconfig } });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    try {
      await waitFor(async () => out.split('\n').filter(Boolean).length >= 4, 'four streamed lines', 15_000);
      const ticks = out.split('\n').filter(Boolean).map((l) => Number(l.split(' ')[1]));
      expect(ticks.slice(1)).toEqual(ticks.slice(1).map((_, i) => ticks[1] + i));
    } finally {
      child.kill();
    }
  });

  it('exec runs a command, passes stderr and propagates the exit code', async () => {
    const ok = await k(version, ['exec', 'ticker', '--', 'sh', '-c', 'echo hi from $(hostname); echo to-stderr >&2']);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toBe('hi from ticker\n');
    expect(ok.stderr).toContain('to-stderr');
    const failed = await k(version, ['exec', 'ticker', '--', 'sh', '-c', 'exit 3']);
    expect(failed.code).toBe(3);
    expect(failed.stderr).toContain('command terminated with exit code 3');
  });

  it('exec -i feeds stdin to the command (300 KB)', async () => {
    const r = await k(version, ['exec', '-i', 'ticker', '--', 'wc', '-c'], { input: 'x'.repeat(300_000) });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trim()).toBe('300000');
  });

  it('exec into a missing container is refused with the container names', async () => {
    const r = await k(version, ['exec', 'ticker', '-c', 'nope', '--', 'true']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('container nope is not valid for pod ticker');
  });

  it('cp copies a file into the container and back out (tar over exec)', async () => {
    const up = join(dir, `up-${version}.txt`);
    const down = join(dir, `down-${version}.txt`);
    writeFileSync(up, `payload for ${version}\n`.repeat(1000));
    const to = await k(version, ['cp', up, `ticker:/tmp/up-${version}.txt`]);
    expect(to.code, to.stderr).toBe(0);
    const from = await k(version, ['cp', `ticker:/tmp/up-${version}.txt`, down]);
    expect(from.code, from.stderr).toBe(0);
    expect(readFileSync(down, 'utf8')).toBe(readFileSync(up, 'utf8'));
  });

  it('attach reads the output of a running container and writes to its stdin', async () => {
    const r = await k(version, ['attach', '-i', 'reader'], { input: 'through attach\n', timeoutMs: 20_000 });
    expect(r.stderr).not.toMatch(/error: /i);
    const logs = await waitFor(async () => {
      const l = await k(version, ['logs', 'reader']);
      return l.stdout.includes('through attach') ? l.stdout : undefined;
    }, 'the attached input to reach the container', 10_000);
    expect(logs).toContain('through attach');
  });

  it('port-forward reaches a server in the pod', async () => {
    const port = await freePort();
    const child = spawn(kubectlPath(version), ['-n', NS, 'port-forward', 'pod/web', `${port}:8080`], { env: { PATH: process.env.PATH!, HOME: dir, KUBECONFIG: cp.kubeconfig } });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    try {
      await waitFor(async () => out.includes('Forwarding from'), `port-forward to listen (${out})`, 15_000);
      const bodies = await Promise.all([1, 2, 3].map(() => fetch(`http://127.0.0.1:${port}/`).then((r) => r.text())));
      expect(bodies).toEqual(['served-by-pod\n', 'served-by-pod\n', 'served-by-pod\n']);
    } finally {
      child.kill();
    }
  });

  it('top node and top pod show usage from the node (metrics.k8s.io)', async () => {
    const pods = await waitFor(async () => {
      const r = await k(version, ['top', 'pod']);
      return r.code === 0 && r.stdout.includes('ticker') ? r : undefined;
    }, 'kubectl top pod to answer', 20_000);
    expect(pods.stdout).toMatch(/^NAME\s+CPU\(cores\)\s+MEMORY\(bytes\)/);
    expect(pods.stdout).toMatch(/ticker\s+\d+m\s+\d+Mi/);
    const nodes = await kubectl(cp, version, ['top', 'node', NODE], { cacheDir: dir });
    expect(nodes.code, nodes.stderr).toBe(0);
    expect(nodes.stdout).toMatch(new RegExp(`${NODE}\\s+\\d+m\\s+\\d+%\\s+\\d+Mi\\s+\\d+%`));
  });
});

describe('the service account token volume', () => {
  it('mounts a pod-bound token, the CA and the namespace; the token authenticates as the service account', async () => {
    const dirPath = '/var/run/secrets/kubernetes.io/serviceaccount';
    const ls = await k('1.33', ['exec', 'ticker', '--', 'ls', dirPath]);
    expect(ls.code, ls.stderr).toBe(0);
    expect(ls.stdout.split('\n').filter(Boolean).sort()).toEqual(['ca.crt', 'namespace', 'token']);
    expect((await k('1.33', ['exec', 'ticker', '--', 'cat', `${dirPath}/namespace`])).stdout).toBe(NS);
    expect((await k('1.33', ['exec', 'ticker', '--', 'cat', `${dirPath}/ca.crt`])).stdout).toBe(cp.caCert);
    const token = (await k('1.33', ['exec', 'ticker', '--', 'cat', `${dirPath}/token`])).stdout;
    const claims = JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString()) as { sub: string; 'kubernetes.io': { pod: { name: string } } };
    expect(claims.sub).toBe(`system:serviceaccount:${NS}:default`);
    expect(claims['kubernetes.io'].pod.name).toBe('ticker');
    const asPod = new KubeClient({ server: cp.url, token, caCert: cp.caCert });
    const forged = new KubeClient({ server: cp.url, token: `${token.slice(0, -4)}AAAA`, caCert: cp.caCert });
    try {
      const pods = await asPod.get<{ items: unknown[] }>(`/api/v1/namespaces/${NS}/pods`);
      expect(pods.items.length).toBeGreaterThan(0);
      await expect(forged.get(`/api/v1/namespaces/${NS}/pods`)).rejects.toMatchObject({ code: 401 });
    } finally {
      asPod.close();
      forged.close();
    }
  });
});

describe('the API server going away', () => {
  it('leaves running pods alone while the agent retries, then the node syncs and streams again', async () => {
    type Full = { status: { podIP: string; containerStatuses: { containerID: string; restartCount: number }[] } };
    const before = await client.get<Full>(`/api/v1/namespaces/${NS}/pods/web`);
    cp = await cluster.restartControlPlane(async () => {
      await new Promise((r) => setTimeout(r, 3000));
      // Nothing answers the agent now; the pod keeps serving.
      expect(await (await fetch(`http://${before.status.podIP}:8080/`)).text()).toBe('served-by-pod\n');
    });
    await waitFor(async () => cp.nodes!.connected(NODE), 'the agent tunnel to reconnect', 60_000);
    const after = await client.get<Full>(`/api/v1/namespaces/${NS}/pods/web`);
    expect(after.status.containerStatuses[0].containerID).toBe(before.status.containerStatuses[0].containerID);
    expect(after.status.containerStatuses[0].restartCount).toBe(0);
    await runPod('after-restart', 'echo back again; sleep 3600');
    const logs = await waitFor(async () => {
      const r = await k('1.33', ['logs', 'after-restart']);
      return r.code === 0 && r.stdout ? r.stdout : undefined;
    }, 'logs of a pod started after the restart');
    expect(logs).toBe('back again\n');
  }, 120_000);
});
