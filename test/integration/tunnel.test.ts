// Node streaming through the API server over agents' tunnels, end to end: an in-process control
// plane, a node agent's tunnel client whose streams go to a real node:http Server standing in for
// the kubelet API, and the real kubectl. Covers logs (plain, tail, follow), kube-apiserver's error
// Statuses, who may open a tunnel, exec's upgrade passing through untouched, many concurrent
// streams, a large transfer, `kubectl top`, and the agent re-dialling after the API server restarts.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import { startControlPlane, type ControlPlane } from '../../cli/control-plane.js';
import { createLogger } from '../../shared/apiserver/logger.js';
import { connectTunnel, type TunnelClient } from '../../node-agent/tunnel-client.js';
import { tunnelUrl } from '../../shared/tunnel/endpoint.js';
import { createApiServer } from '../../functions/apiserver/app.js';
import { staticTokenAuthenticator } from '../../functions/apiserver/auth.js';
import { builtinRegistry } from '../../shared/api/registry.js';
import { openStore } from '../../shared/store/index.js';
import { api, freePort, kubectl, kubectlPath } from '../e2e/harness.js';

const NS = 'tunnel-test';
const NODE = 'tunnel-a';
const BIG_BYTES = 16 * 1024 * 1024;
const log = createLogger('silent');

let dir: string;
let port: number;
let cp: ControlPlane;
let kubelet: Server;
let agent: TunnelClient;
let nodeToken: string;
const seen: { url: string; headers: IncomingMessage['headers'] }[] = [];
let followClosed = 0;

/** Deterministic bytes of the "big" container's log. */
function bigLog(): Buffer {
  const line = Buffer.from('0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ-\n');
  return Buffer.concat(Array.from({ length: BIG_BYTES / line.length }, () => line));
}
const sha = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');

const SUMMARY = {
  node: { nodeName: NODE, cpu: { time: '2026-01-01T00:00:00Z', usageNanoCores: 250_000_000 }, memory: { time: '2026-01-01T00:00:00Z', workingSetBytes: 512 * 1024 * 1024 } },
  pods: [
    { podRef: { name: 'web', namespace: NS }, containers: [{ name: 'app', cpu: { time: '2026-01-01T00:00:01Z', usageNanoCores: 10_000_000 }, memory: { time: '2026-01-01T00:00:01Z', workingSetBytes: 20 * 1024 * 1024 } }] },
    {
      podRef: { name: 'duo', namespace: NS },
      containers: [
        { name: 'a', cpu: { usageNanoCores: 1_234_567 }, memory: { workingSetBytes: 4567 * 1024 } },
        { name: 'b', cpu: { usageNanoCores: 2_000_000 }, memory: { workingSetBytes: 1000 } },
      ],
    },
  ],
};

/** The stand-in kubelet API: containerLogs, stats/summary, and an exec that echoes over WebSocket. */
function fakeKubelet(): Server {
  const server = createServer((req, res) => {
    seen.push({ url: req.url ?? '', headers: req.headers });
    const url = new URL(req.url ?? '/', 'http://node');
    if (url.pathname === '/stats/summary') return void res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify(SUMMARY));
    const m = /^\/containerLogs\/([^/]+)\/([^/]+)\/([^/]+)$/.exec(url.pathname);
    if (!m) return void res.writeHead(404).end('404 page not found');
    const [, , pod, container] = m;
    if (pod === 'broken') return void res.writeHead(400, { 'Content-Type': 'text/plain' }).end(`container "${container}" in pod "broken" is waiting to start: ContainerCreating`);
    res.writeHead(200, { 'Content-Type': 'text/plain' });
    if (pod === 'big') return void res.end(bigLog());
    const tail = url.searchParams.get('tailLines');
    const lines = Array.from({ length: 5 }, (_, i) => `${container} line ${i + 1}\n`);
    res.write(lines.slice(tail === null ? 0 : lines.length - Number(tail)).join(''));
    if (url.searchParams.get('follow') !== 'true') return void res.end();
    let n = 5;
    const timer = setInterval(() => res.write(`${container} line ${++n}\n`), 50);
    res.on('close', () => {
      clearInterval(timer);
      followClosed++;
    });
  });
  const wss = new WebSocketServer({ noServer: true });
  server.on('upgrade', (req, socket, head) => {
    seen.push({ url: req.url ?? '', headers: req.headers });
    wss.handleUpgrade(req, socket, head, (ws) => ws.on('message', (data, binary) => ws.send(data, { binary })));
  });
  return server;
}

const adminServer = () => ({ url: cp.url, token: cp.token, ca: cp.caCert });
const create = async (path: string, body: unknown) => {
  const r = await api(adminServer(), 'POST', path, { body: JSON.stringify(body) });
  if (r.status !== 201) throw new Error(`POST ${path}: ${r.status} ${r.text}`);
  return r.json;
};
const pod = (name: string, containers: string[], nodeName?: string) => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, namespace: NS, labels: { app: name } },
  spec: { ...(nodeName ? { nodeName } : {}), containers: containers.map((c) => ({ name: c, image: 'busybox' })) },
});

async function waitFor(check: () => boolean | Promise<boolean>, what: string, ms = 15_000) {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const startAgent = (token: string, nodeName = NODE) =>
  connectTunnel({ server: cp.url, token, caCert: cp.caCert, nodeName, onStream: (s) => kubelet.emit('connection', s), log, initialBackoffMs: 100, maxBackoffMs: 500 });

/** The HTTP status the tunnel endpoint answers a WebSocket handshake with. */
function tunnelHandshake(nodeName: string, token?: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(tunnelUrl(cp.url, nodeName), { ca: cp.caCert, headers: token ? { Authorization: `Bearer ${token}` } : {} });
    ws.on('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    ws.on('open', () => {
      ws.close();
      resolve({ status: 101, body: '' });
    });
    ws.on('error', (e) => (e.message.includes('Unexpected server response') ? undefined : reject(e)));
  });
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'stratus-tunnel-'));
  port = await freePort();
  cp = await startControlPlane({ dataDir: dir, port, log, controllers: [] });
  await create('/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } });
  await create('/api/v1/nodes', { apiVersion: 'v1', kind: 'Node', metadata: { name: NODE, labels: { tier: 'test' } } });
  for (const p of [pod('web', ['app'], NODE), pod('duo', ['a', 'b'], NODE), pod('big', ['app'], NODE), pod('broken', ['app'], NODE), pod('pending', ['app']), pod('orphan', ['app'], 'tunnel-gone')]) {
    await create(`/api/v1/namespaces/${NS}/pods`, p);
  }
  const issued = await create('/stratus/v1/nodecredentialrequests', { apiVersion: 'stratus.dev/v1', kind: 'NodeCredentialRequest', spec: { nodeName: NODE } });
  nodeToken = issued.status.token;
  kubelet = fakeKubelet();
  agent = startAgent(nodeToken);
  await waitFor(() => agent.connected && cp.nodes!.connected(NODE), 'the agent tunnel');
}, 60_000);

afterAll(async () => {
  await agent?.close();
  await cp?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('kubectl logs through the tunnel', () => {
  for (const version of ['1.33', '1.27']) {
    it(`prints a container's log (kubectl ${version})`, async () => {
      const r = await kubectl(cp, version, ['-n', NS, 'logs', 'web']);
      expect(r.stderr).toBe('');
      expect(r.stdout).toBe(Array.from({ length: 5 }, (_, i) => `app line ${i + 1}\n`).join(''));
      const req = seen.filter((s) => s.url.startsWith('/containerLogs/tunnel-test/web/app')).pop()!;
      expect(req.headers.authorization).toBeUndefined();
    });
  }

  it('passes log options to the node and picks the named container', async () => {
    const r = await kubectl(cp, '1.33', ['-n', NS, 'logs', 'duo', '-c', 'b', '--tail=2', '--timestamps']);
    expect(r.stdout).toBe('b line 4\nb line 5\n');
    const req = seen.filter((s) => s.url.startsWith('/containerLogs/tunnel-test/duo/b')).pop()!;
    const q = new URL(req.url, 'http://n').searchParams;
    expect(q.get('tailLines')).toBe('2');
    expect(q.get('timestamps')).toBe('true');
  });

  it('follows a log until kubectl goes away, then closes the stream to the node', async () => {
    const before = followClosed;
    const child = spawn(kubectlPath('1.33'), ['-n', NS, 'logs', '-f', 'web'], { env: { PATH: process.env.PATH ?? '', HOME: dir, KUBECONFIG: cp.kubeconfig } });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    await waitFor(() => out.includes('app line 8\n'), 'followed lines');
    child.kill('SIGTERM');
    await waitFor(() => followClosed > before, 'the node-side log stream to close', 5_000);
    await waitFor(() => cp.nodes!.connected(NODE), 'the tunnel to stay up');
  });

  it('streams a 16 MiB log intact', async () => {
    const r = await kubectl(cp, '1.33', ['-n', NS, 'logs', 'big'], { timeoutMs: 60_000 });
    expect(r.stdout.length).toBe(BIG_BYTES);
    expect(sha(r.stdout)).toBe(sha(bigLog()));
  });

  it('serves 60 concurrent log requests', async () => {
    const results = await Promise.all(Array.from({ length: 60 }, (_, i) => api(adminServer(), 'GET', `/api/v1/namespaces/${NS}/pods/${i % 2 ? 'web' : 'duo'}/log?container=${i % 2 ? 'app' : 'a'}&tailLines=1`)));
    results.forEach((r, i) => {
      expect(r.status).toBe(200);
      expect(r.text).toBe(i % 2 ? 'app line 5\n' : 'a line 5\n');
    });
  });

  it("relays the node's refusal as kube-apiserver does", async () => {
    const r = await kubectl(cp, '1.33', ['-n', NS, 'logs', 'broken']);
    expect(r.code).not.toBe(0);
    expect(r.stderr.trim()).toBe('Error from server (BadRequest): container "app" in pod "broken" is waiting to start: ContainerCreating');
  });
});

describe('error Statuses', () => {
  const get = (path: string, token?: string | null) => api(adminServer(), 'GET', `/api/v1/namespaces/${NS}/pods/${path}`, { token });

  it('404 for a missing pod', async () => {
    const r = await get('nope/log');
    expect(r.status).toBe(404);
    expect(r.json).toMatchObject({ kind: 'Status', reason: 'NotFound', message: 'pods "nope" not found' });
  });

  it('400 when a multi-container pod needs a container name, or the name is wrong', async () => {
    const r = await get('duo/log');
    expect(r.status).toBe(400);
    expect(r.json).toMatchObject({ reason: 'BadRequest', message: 'a container name must be specified for pod duo, choose one of: [a b]' });
    const wrong = await get('web/log?container=zzz');
    expect(wrong.json).toMatchObject({ code: 400, message: 'container zzz is not valid for pod web' });
  });

  it('400 for exec into a pod no node runs, and for exec without an upgrade', async () => {
    const pending = await api(adminServer(), 'POST', `/api/v1/namespaces/${NS}/pods/pending/exec?command=sh`);
    expect(pending.json).toMatchObject({ code: 400, message: 'pod pending does not have a host assigned' });
    const plain = await api(adminServer(), 'POST', `/api/v1/namespaces/${NS}/pods/web/exec?command=sh`);
    expect(plain.json).toMatchObject({ code: 400, message: 'Upgrade request required' });
  });

  it('an empty log for a pod no node runs yet', async () => {
    const r = await get('pending/log');
    expect(r.status).toBe(200);
    expect(r.text).toBe('');
  });

  it('503 when the pod\'s node has no tunnel', async () => {
    const r = await get('orphan/log');
    expect(r.status).toBe(503);
    expect(r.json).toMatchObject({ kind: 'Status', reason: 'ServiceUnavailable', message: 'no tunnel to node "tunnel-gone": its agent is not connected' });
  });

  it('422 for invalid log options', async () => {
    const r = await get('web/log?tailLines=-1');
    expect(r.status).toBe(422);
    expect(r.json.message).toBe('PodLogOptions "web" is invalid: tailLines: Invalid value: -1: must be greater than or equal to 0');
  });

  it('401 without credentials; a node credential may not read logs', async () => {
    expect((await get('web/log', null)).status).toBe(401);
    const r = await get('web/log', nodeToken);
    expect(r.status).toBe(403);
    expect(r.json.message).toContain('User "system:node:tunnel-a" cannot get resource "pods/log"');
  });
});

describe('exec upgrade through the tunnel', () => {
  const execUrl = (pod: string, query: string) => `${cp.url.replace('https', 'wss')}/api/v1/namespaces/${NS}/pods/${pod}/exec?${query}`;

  it('re-sends the upgrade to the kubelet path and passes the bytes both ways', async () => {
    const ws = new WebSocket(execUrl('web', 'command=sh&command=-c&stdin=true&tty=true'), 'v5.channel.k8s.io', { ca: cp.caCert, headers: { Authorization: `Bearer ${cp.token}` } });
    await new Promise((r, j) => ws.once('open', r).once('error', j));
    expect(ws.protocol).toBe('v5.channel.k8s.io');
    const echoed = new Promise<Buffer>((r) => ws.once('message', (d) => r(d as Buffer)));
    ws.send(Buffer.from([0, 104, 105]));
    expect([...(await echoed)]).toEqual([0, 104, 105]);
    ws.close();
    const req = seen.filter((s) => s.url.startsWith('/exec/')).pop()!;
    expect(req.url).toBe('/exec/tunnel-test/web/app?command=sh&command=-c&stdin=true&tty=true');
    expect(req.headers.authorization).toBeUndefined();
    expect(req.headers['sec-websocket-protocol']).toBe('v5.channel.k8s.io');
  });

  it('refuses exec to a node credential (403) and to no credential (401)', async () => {
    const status = (token?: string) =>
      new Promise<number>((resolve) => {
        const ws = new WebSocket(execUrl('web', 'command=sh'), 'v5.channel.k8s.io', { ca: cp.caCert, headers: token ? { Authorization: `Bearer ${token}` } : {} });
        ws.on('unexpected-response', (_q, res) => resolve(res.statusCode ?? 0));
        ws.on('error', () => {});
      });
    expect(await status(nodeToken)).toBe(403);
    expect(await status()).toBe(401);
  });
});

describe('who may open a tunnel', () => {
  it('401 without a token, 403 for another node\'s credential, 101 for the node itself', async () => {
    expect((await tunnelHandshake(NODE)).status).toBe(401);
    const other = await tunnelHandshake('tunnel-b', nodeToken);
    expect(other.status).toBe(403);
    expect(JSON.parse(other.body)).toMatchObject({ kind: 'Status', reason: 'Forbidden' });
    expect((await tunnelHandshake(NODE, nodeToken)).status).toBe(101);
    // The short-lived second tunnel came and went; the agent's tunnel still serves.
    await waitFor(() => cp.nodes!.connected(NODE), 'the agent tunnel');
    expect((await api(adminServer(), 'GET', `/api/v1/namespaces/${NS}/pods/web/log?tailLines=1`)).text).toBe('app line 5\n');
  });
});

describe('kubectl top (metrics.k8s.io from the node summary)', () => {
  it('is listed in discovery', async () => {
    const groups = await api(adminServer(), 'GET', '/apis');
    expect(groups.json.groups.map((g: { name: string }) => g.name)).toContain('metrics.k8s.io');
    const resources = await api(adminServer(), 'GET', '/apis/metrics.k8s.io/v1beta1');
    expect(resources.json.resources.map((r: { name: string; kind: string }) => `${r.name}:${r.kind}`)).toEqual(['nodes:NodeMetrics', 'pods:PodMetrics']);
  });

  it('serves NodeMetrics and PodMetrics with metrics-server quantities', async () => {
    const node = await api(adminServer(), 'GET', `/apis/metrics.k8s.io/v1beta1/nodes/${NODE}`);
    expect(node.json).toMatchObject({ kind: 'NodeMetrics', apiVersion: 'metrics.k8s.io/v1beta1', metadata: { name: NODE, labels: { tier: 'test' } }, timestamp: '2026-01-01T00:00:00Z', window: '10s', usage: { cpu: '250m', memory: '512Mi' } });
    const pods = await api(adminServer(), 'GET', `/apis/metrics.k8s.io/v1beta1/namespaces/${NS}/pods?labelSelector=app%3Dduo`);
    expect(pods.json.items).toHaveLength(1);
    expect(pods.json.items[0].containers).toEqual([
      { name: 'a', usage: { cpu: '1234567n', memory: '4567Ki' } },
      { name: 'b', usage: { cpu: '2m', memory: '1000' } },
    ]);
    const missing = await api(adminServer(), 'GET', `/apis/metrics.k8s.io/v1beta1/namespaces/${NS}/pods/orphan`);
    expect(missing.json).toMatchObject({ code: 404, message: 'pods.metrics.k8s.io "orphan" not found' });
  });

  for (const version of ['1.33', '1.27']) {
    it(`kubectl ${version} top node and top pod`, async () => {
      const nodes = await kubectl(cp, version, ['top', 'node', NODE]);
      expect(nodes.stderr).toBe('');
      expect(nodes.stdout).toMatch(new RegExp(`^NAME\\s+CPU\\(cores\\).*\\n${NODE}\\s+250m\\s`));
      expect(nodes.stdout).toContain('512Mi');
      const pods = await kubectl(cp, version, ['top', 'pod', '-n', NS]);
      expect(pods.stderr).toBe('');
      expect(pods.stdout).toMatch(/\nweb\s+10m\s+20Mi/);
      expect(pods.stdout).toMatch(/\nduo\s+4m\s+4Mi/); // 3.23m, rounded up as kubectl does
    });
  }
});

describe('agent reconnects', () => {
  it('re-dials after the API server restarts, and streams work again', async () => {
    await cp.close();
    await waitFor(() => !agent.connected, 'the agent to notice');
    cp = await startControlPlane({ dataDir: dir, port, log, controllers: [] });
    await waitFor(() => agent.connected && cp.nodes!.connected(NODE), 'the agent to re-dial', 20_000);
    const r = await kubectl(cp, '1.33', ['-n', NS, 'logs', 'web', '--tail=1']);
    expect(r.stdout).toBe('app line 5\n');
  }, 60_000);
});

describe('an API server without a tunnel endpoint (the Lambda handler)', () => {
  it('answers node streaming with 503 and does not advertise metrics.k8s.io', async () => {
    const lambdaDir = mkdtempSync(join(tmpdir(), 'stratus-no-tunnel-'));
    const store = await openStore({ backend: 'sqlite', dataDir: lambdaDir });
    try {
      const { app } = createApiServer({ store, registry: builtinRegistry(), log, serverAddress: '127.0.0.1:443', authenticator: staticTokenAuthenticator({ t: { username: 'admin', uid: 'admin', groups: ['system:masters'] } }) });
      const fetch = (method: string, path: string) => app.fetch(new Request(`https://api${path}`, { method, headers: { Authorization: 'Bearer t' } }));
      for (const [method, path] of [
        ['GET', '/api/v1/namespaces/default/pods/p/log'],
        ['POST', '/api/v1/namespaces/default/pods/p/exec?command=sh'],
        ['GET', '/api/v1/namespaces/default/pods/p/portforward'],
      ]) {
        const res = await fetch(method, path);
        expect(res.status).toBe(503);
        expect(await res.json()).toMatchObject({ kind: 'Status', reason: 'ServiceUnavailable', message: expect.stringContaining('needs the node tunnel endpoint of `stratus start`') });
      }
      const groups = (await (await fetch('GET', '/apis')).json()) as { groups: { name: string }[] };
      expect(groups.groups.map((g) => g.name)).not.toContain('metrics.k8s.io');
      expect((await fetch('GET', '/apis/metrics.k8s.io/v1beta1/nodes')).status).toBe(404);
    } finally {
      await store.close();
      rmSync(lambdaDir, { recursive: true, force: true });
    }
  });
});
