// Real kubectl (1.27 speaks SPDY; 1.30+ speaks WebSocket v5 for exec/attach/cp and, from 1.31,
// SPDY tunnelled in a WebSocket for port-forward) against the node agent's streaming handlers and
// real containerd. A small proxy stands in for the API server's part: it forwards ordinary API
// requests to an in-process control plane and sends pods/{name}/exec|attach|portforward upgrades,
// rewritten to kubelet paths, over an in-memory stream pair to a non-listening HTTP server (as the
// agent's tunnel does) whose 'upgrade' calls handleExec/handleAttach/handlePortForward.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, request as httpRequest, type IncomingMessage, type Server } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { randomBytes } from 'node:crypto';
import { duplexPair, PassThrough, Readable, type Duplex } from 'node:stream';
import * as k8s from '@kubernetes/client-node';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startControlPlane, type ControlPlane } from '../../cli/control-plane.js';
import { createLogger } from '../../shared/apiserver/logger.js';
import { KubeClient } from '../../shared/client/kube-client.js';
import { CriClient } from '../../node-agent/cri/client.js';
import { removeCgroup } from '../../node-agent/cri/cgroups.js';
import { CriRuntime } from '../../node-agent/cri/cri-runtime.js';
import { startLocalNode, type LocalNode } from '../../node-agent/real-node.js';
import { handleAttach, handleExec, handlePortForward, type StreamingContext } from '../../node-agent/kubelet-api/streaming/index.js';
import { SPDY3_DICTIONARY } from '../../node-agent/kubelet-api/streaming/spdy-dictionary.js';
import { FrameParser, encodeData, encodePing } from '../../node-agent/kubelet-api/streaming/spdy-frames.js';
import { HeaderCompressor, HeaderDecompressor, type SpdyHeaders } from '../../node-agent/kubelet-api/streaming/spdy-headers.js';
import { freePort } from '../e2e/harness.js';

const REPO = join(import.meta.dirname, '../..');
const NODE_DIR = process.env.STRATUS_NODE_DIR ?? join(REPO, '.cluster/node');
const NS = 'streaming-test';
const NODE = 'stratus-streaming-test';
const CGROUP_ROOT = '/stratus-streaming-test';
const NS_LABEL = 'io.kubernetes.pod.namespace';
const KUBECTL_DIR = '/usr/lib/google-cloud-sdk/bin';

let dir: string;
let cp: ControlPlane;
let client: KubeClient;
let node: LocalNode | undefined;
let cri: CriClient;
let proxy: Server;
let kubeconfig: string;
const children = new Set<ChildProcess>();

type Obj = { metadata: { name: string }; spec?: { containers: { name: string }[] }; status?: { phase?: string; podIP?: string } };

async function waitFor<T>(check: () => Promise<T | undefined | false>, what: string, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

// ---- the stand-in for the API server's streaming proxy

const SUBRESOURCE = /^\/api\/v1\/namespaces\/([^/]+)\/pods\/([^/]+)\/(exec|attach|portforward)$/;

function forwardToControlPlane(req: IncomingMessage, res: import('node:http').ServerResponse): void {
  const target = new URL(req.url ?? '/', cp.url);
  const headers = { ...req.headers, host: target.host, authorization: `Bearer ${cp.token}` };
  const up = httpsRequest({ host: target.hostname, port: target.port, path: target.pathname + target.search, method: req.method, headers, ca: cp.caCert }, (upRes) => {
    res.writeHead(upRes.statusCode ?? 502, upRes.headers);
    upRes.pipe(res);
  });
  up.on('error', (err) => {
    res.writeHead(502);
    res.end(String(err));
  });
  req.pipe(up);
}

async function kubeletPath(url: URL): Promise<{ path: string; verb: string } | undefined> {
  const m = SUBRESOURCE.exec(url.pathname);
  if (!m) return undefined;
  const [, ns, pod, sub] = m;
  if (sub === 'portforward') return { path: `/portForward/${ns}/${pod}${url.search}`, verb: sub };
  let container = url.searchParams.get('container');
  if (!container) container = (await client.get<Obj>(`/api/v1/namespaces/${ns}/pods/${pod}`)).spec!.containers[0].name;
  const q = new URLSearchParams(url.search);
  q.delete('container');
  return { path: `/${sub}/${ns}/${pod}/${container}?${q.toString()}`, verb: sub };
}

/** The node side: an HTTP server that never listens, fed streams the way the agent's tunnel feeds it. */
function kubeletStandIn(ctx: StreamingContext): Server {
  const kubelet = createServer((_req, res) => res.writeHead(400).end('Upgrade request required'));
  kubelet.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const verb = new URL(req.url ?? '/', 'http://kubelet').pathname.split('/')[1];
    const handler = verb === 'exec' ? handleExec : verb === 'attach' ? handleAttach : handlePortForward;
    handler(req, socket, head, ctx);
  });
  return kubelet;
}

function startProxy(ctx: StreamingContext): Promise<Server> {
  const kubelet = kubeletStandIn(ctx);
  const server = createServer(forwardToControlPlane);
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    void kubeletPath(new URL(req.url ?? '/', 'http://proxy')).then((target) => {
      if (!target) return socket.end('HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n');
      // Like the API server through the agent's tunnel: the same request on a new path, then raw bytes both ways.
      const [apiSide, nodeSide] = duplexPair();
      kubelet.emit('connection', nodeSide);
      const headers: string[] = [];
      for (let i = 0; i < req.rawHeaders.length; i += 2) headers.push(`${req.rawHeaders[i]}: ${req.rawHeaders[i + 1]}\r\n`);
      apiSide.write(`${req.method} ${target.path} HTTP/1.1\r\n${headers.join('')}\r\n`);
      if (head.length) apiSide.write(head);
      socket.pipe(apiSide).pipe(socket);
      const teardown = () => {
        socket.destroy();
        apiSide.destroy();
      };
      socket.on('close', teardown).on('error', teardown);
      apiSide.on('close', teardown).on('error', teardown);
    });
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

// ---- running kubectl

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function kubectlPath(version: string): string {
  return join(KUBECTL_DIR, `kubectl.${version}`);
}

function kubectl(version: string, args: string[], opts: { input?: string | Buffer; timeoutMs?: number } = {}): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(kubectlPath(version), ['--kubeconfig', kubeconfig, '-n', NS, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    children.add(child);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 30_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      children.delete(child);
      resolve({ code, stdout, stderr });
    });
    if (opts.input !== undefined) child.stdin.end(opts.input);
    else child.stdin.end();
  });
}

/** Start a long-running kubectl and resolve once its stdout matches `pattern`. */
function kubectlUntil(version: string, args: string[], pattern: RegExp, opts: { stdin?: string } = {}): Promise<{ match: RegExpMatchArray; child: ChildProcess; output: () => string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(kubectlPath(version), ['--kubeconfig', kubeconfig, '-n', NS, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    children.add(child);
    child.on('close', () => children.delete(child));
    let out = '';
    let err = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`kubectl ${args.join(' ')} printed no ${pattern}: stdout=${out} stderr=${err}`));
    }, 30_000);
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const match = out.match(pattern);
      if (match) {
        clearTimeout(timer);
        resolve({ match, child, output: () => out });
      }
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      reject(new Error(`kubectl ${args.join(' ')} exited ${code} before printing ${pattern}: stdout=${out} stderr=${err}`));
    });
    if (opts.stdin !== undefined) child.stdin.write(opts.stdin);
  });
}

function stop(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once('close', () => resolve());
    child.kill('SIGTERM');
  });
}

/** An interactive run under a pseudo-terminal (util-linux `script`), so kubectl really allocates a TTY. */
function kubectlInTerminal(version: string, args: string[], input: string): Promise<Run> {
  const command = [kubectlPath(version), '--kubeconfig', kubeconfig, '-n', NS, ...args].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
  return new Promise((resolve) => {
    const child = spawn('script', ['-q', '-e', '-c', command, '/dev/null'], { stdio: ['pipe', 'pipe', 'pipe'] });
    children.add(child);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      children.delete(child);
      resolve({ code, stdout, stderr });
    });
    // Type slowly enough for the remote shell to be reading.
    setTimeout(() => child.stdin.write(input), 1500);
  });
}

function pod(name: string, container: Record<string, unknown>) {
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: NS }, spec: { terminationGracePeriodSeconds: 0, containers: [{ name: 'main', image: 'busybox', ...container }] } };
}

async function waitRunning(name: string): Promise<Obj> {
  return waitFor(async () => {
    const p = await client.get<Obj>(`/api/v1/namespaces/${NS}/pods/${name}`);
    return p.status?.phase === 'Running' && p.status.podIP ? p : undefined;
  }, `${name} to run`);
}

beforeAll(async () => {
  try {
    await promisify(execFile)('bash', [join(REPO, 'scripts/setup-node.sh'), '--data-dir', NODE_DIR], { timeout: 170_000 });
  } catch (e) {
    const err = e as { stdout?: string; stderr?: string; message: string };
    throw new Error(`scripts/setup-node.sh could not prepare containerd, so a real node cannot run:\n${err.stderr || err.stdout || err.message}`);
  }
  for (const v of ['1.27', '1.33']) if (!existsSync(kubectlPath(v))) throw new Error(`kubectl ${v} is not installed at ${kubectlPath(v)}`);
  dir = mkdtempSync(join(tmpdir(), 'stratus-streaming-'));
  cp = await startControlPlane({ dataDir: join(dir, 'cp'), port: await freePort(), log: createLogger('silent') });
  client = new KubeClient({ server: cp.url, token: cp.token, caCert: cp.caCert });
  await client.create('/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } });
  node = await startLocalNode({ client, nodeDir: NODE_DIR, nodeName: NODE, log: createLogger('silent'), cgroupRoot: CGROUP_ROOT, pollIntervalMs: 200 });
  cri = new CriClient(join(NODE_DIR, 'containerd.sock'));
  proxy = await startProxy({ cri, log: createLogger('silent') });
  kubeconfig = join(dir, 'kubeconfig');
  const server = `http://127.0.0.1:${(proxy.address() as { port: number }).port}`;
  writeFileSync(
    kubeconfig,
    `apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n    server: ${server}\ncontexts:\n- name: c\n  context:\n    cluster: c\n    user: u\ncurrent-context: c\nusers:\n- name: u\n  user: {}\n`,
  );
  await client.create(`/api/v1/namespaces/${NS}/pods`, pod('shell', { command: ['sleep', '3600'] }));
  await client.create(`/api/v1/namespaces/${NS}/pods`, pod('web', { command: ['sh', '-c', 'mkdir -p /www && echo "hello from web" > /www/index.html && exec httpd -f -p 8080 -h /www'] }));
  await client.create(`/api/v1/namespaces/${NS}/pods`, pod('echo', { command: ['cat'], stdin: true }));
  await client.create(`/api/v1/namespaces/${NS}/pods`, pod('ticker', { command: ['sh', '-c', 'i=0; while true; do i=$((i+1)); echo "tick $i"; sleep 0.3; done'] }));
  for (const name of ['shell', 'web', 'echo', 'ticker']) await waitRunning(name);
}, 240_000);

afterAll(async () => {
  await Promise.all([...children].map(stop));
  proxy?.close();
  await node?.stop();
  const cleanup = await CriRuntime.connect({ socket: join(NODE_DIR, 'containerd.sock'), cgroupRoot: CGROUP_ROOT }).catch(() => undefined);
  if (cleanup) {
    const sandboxes = await cleanup.client.listPodSandbox({ label_selector: { [NS_LABEL]: NS } });
    for (const uid of new Set(sandboxes.map((s) => s.labels['io.kubernetes.pod.uid']))) await cleanup.stopPod(uid, 0).catch(() => undefined);
    cleanup.close();
  }
  await removeCgroup(CGROUP_ROOT).catch(() => undefined);
  cri?.close();
  client?.close();
  await cp?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
}, 60_000);

// startLocalNode in a concurrently running test file may remove pods it does not know; wait for the agent to restore them.
beforeEach(async () => {
  for (const name of ['shell', 'web', 'echo', 'ticker']) await waitRunning(name);
}, 60_000);

// kubectl 1.27 only speaks SPDY; 1.33 speaks WebSocket (v5 for exec/attach/cp, the SPDY tunnel for port-forward).
describe.each([
  ['1.27', 'SPDY'],
  ['1.33', 'WebSocket'],
])('kubectl %s (%s)', (version) => {
  it('exec prints the command output, stdout and stderr apart', async () => {
    const r = await kubectl(version, ['exec', 'shell', '--', 'sh', '-c', 'echo hi; echo oops >&2']);
    expect(r).toMatchObject({ code: 0, stdout: 'hi\n', stderr: 'oops\n' });
  });

  it('exec carries megabytes of output intact', async () => {
    const r = await kubectl(version, ['exec', 'shell', '--', 'sh', '-c', 'head -c 3000000 /dev/zero | tr "\\0" x']);
    expect(r.code).toBe(0);
    expect(r.stdout.length).toBe(3_000_000);
    expect(/^x+$/.test(r.stdout)).toBe(true);
  });

  it('exec exits with the command exit code', async () => {
    const r = await kubectl(version, ['exec', 'shell', '--', 'sh', '-c', 'exit 3']);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain('command terminated with exit code 3');
  });

  it('exec -i streams stdin to the command until end of input', async () => {
    const input = 'hello\nworld\n';
    const r = await kubectl(version, ['exec', '-i', 'shell', '--', 'sh', '-c', 'cat; echo done'], { input });
    expect(r).toMatchObject({ code: 0, stdout: 'hello\nworld\ndone\n' });
  });

  it('exec -it runs the command on a terminal', async () => {
    const r = await kubectlInTerminal(version, ['exec', '-it', 'shell', '--', 'sh', '-c', 'tty; read line; echo "got $line"'], 'typed\r');
    expect(r.stdout).toMatch(/\/dev\/pts\/\d+/);
    expect(r.stdout).toContain('got typed');
    expect(r.code).toBe(0);
  });

  it('exec of a missing binary fails the way kubelet reports it', async () => {
    const r = await kubectl(version, ['exec', 'shell', '--', 'no-such-binary']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^error: Internal error occurred: error executing command in container: .*"no-such-binary": executable file not found in \$PATH/);
  });

  it('exec into a container the pod does not run is refused with the node\'s message', async () => {
    const r = await kubectl(version, ['exec', 'shell', '-c', 'nope', '--', 'true']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('container not found ("nope")');
  });

  it('cp copies a file into the pod and back unchanged', async () => {
    const local = join(dir, `upload-${version}.bin`);
    const back = join(dir, `download-${version}.bin`);
    const data = randomBytes(300 * 1024);
    writeFileSync(local, data);
    const up = await kubectl(version, ['cp', local, `shell:/tmp/upload-${version}.bin`]);
    expect(up.stderr).toBe('');
    expect(up.code).toBe(0);
    const size = await kubectl(version, ['exec', 'shell', '--', 'wc', '-c', `/tmp/upload-${version}.bin`]);
    expect(size.stdout.trim()).toBe(`${data.length} /tmp/upload-${version}.bin`);
    const down = await kubectl(version, ['cp', `shell:/tmp/upload-${version}.bin`, back]);
    expect(down.code).toBe(0);
    expect(readFileSync(back).equals(data)).toBe(true);
  });

  it('attach shows the running process output', async () => {
    const { child } = await kubectlUntil(version, ['attach', 'ticker'], /tick \d+\n.*tick \d+\n/s);
    await stop(child);
  });

  it('attach -i feeds the main process stdin', async () => {
    const word = `ping-${version}`;
    const { child } = await kubectlUntil(version, ['attach', '-i', 'echo'], new RegExp(word), { stdin: `${word}\n` });
    await stop(child);
  });

  it('port-forward reaches a port inside the pod', async () => {
    const { match, child } = await kubectlUntil(version, ['port-forward', 'pod/web', ':8080'], /Forwarding from 127\.0\.0\.1:(\d+) -> 8080/);
    try {
      const url = `http://127.0.0.1:${match[1]}/`;
      for (let i = 0; i < 3; i++) {
        const res = await fetch(url);
        expect(res.status).toBe(200);
        expect(await res.text()).toBe('hello from web\n');
      }
    } finally {
      await stop(child);
    }
  });
});

describe.each(['1.28', '1.29', '1.30', '1.31', '1.32'])('kubectl %s', (version) => {
  beforeAll(() => {
    if (!existsSync(kubectlPath(version))) throw new Error(`kubectl ${version} is not installed`);
  });

  it('exec, exit codes and stdin work', async () => {
    expect(await kubectl(version, ['exec', 'shell', '--', 'echo', 'hi'])).toMatchObject({ code: 0, stdout: 'hi\n' });
    expect((await kubectl(version, ['exec', 'shell', '--', 'sh', '-c', 'exit 7'])).code).toBe(7);
    expect(await kubectl(version, ['exec', '-i', 'shell', '--', 'cat'], { input: 'abc' })).toMatchObject({ code: 0, stdout: 'abc' });
  });

  it('port-forward works', async () => {
    const { match, child } = await kubectlUntil(version, ['port-forward', 'pod/web', ':8080'], /Forwarding from 127\.0\.0\.1:(\d+) -> 8080/);
    try {
      expect(await (await fetch(`http://127.0.0.1:${match[1]}/`)).text()).toBe('hello from web\n');
    } finally {
      await stop(child);
    }
  });
});

describe('@kubernetes/client-node over WebSocket', () => {
  function kubeConfig(): k8s.KubeConfig {
    const kc = new k8s.KubeConfig();
    // client-node refuses plain HTTP unless TLS verification is off (there is no TLS to verify).
    const server = `http://127.0.0.1:${(proxy.address() as { port: number }).port}`;
    kc.loadFromOptions({ clusters: [{ name: 'c', server, skipTLSVerify: true }], users: [{ name: 'u' }], contexts: [{ name: 'c', cluster: 'c', user: 'u' }], currentContext: 'c' });
    return kc;
  }

  function collect(): { stream: PassThrough; text: () => string } {
    const stream = new PassThrough();
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c));
    return { stream, text: () => Buffer.concat(chunks).toString() };
  }

  async function exec(command: string[], input?: string): Promise<{ stdout: string; stderr: string; status: k8s.V1Status }> {
    const out = collect();
    const err = collect();
    const status = await new Promise<k8s.V1Status>((resolve, reject) => {
      new k8s.Exec(kubeConfig()).exec(NS, 'shell', 'main', command, out.stream, err.stream, input === undefined ? null : Readable.from([input]), false, resolve).catch(reject);
    });
    return { stdout: out.text(), stderr: err.text(), status };
  }

  it('exec (v5.channel.k8s.io) returns output and a Success status', async () => {
    const r = await exec(['sh', '-c', 'echo out; echo err >&2']);
    expect(r).toMatchObject({ stdout: 'out\n', stderr: 'err\n', status: { status: 'Success' } });
  });

  it('exec reports a nonzero exit as NonZeroExitCode with the ExitCode cause', async () => {
    const r = await exec(['sh', '-c', 'exit 42']);
    expect(r.status).toMatchObject({ status: 'Failure', reason: 'NonZeroExitCode', details: { causes: [{ reason: 'ExitCode', message: '42' }] } });
  });

  it('exec delivers stdin and its end', async () => {
    const r = await exec(['sh', '-c', 'wc -c'], 'twelve bytes');
    expect(r.stdout.trim()).toBe('12');
    expect(r.status).toMatchObject({ status: 'Success' });
  });

  it('port-forward (WebSocket, relayed to the runtime) fetches a page from the pod', async () => {
    const out = collect();
    // client-node closes the WebSocket when input ends, so keep it open until the answer is in.
    const request = new PassThrough();
    request.write('GET / HTTP/1.0\r\nHost: web\r\n\r\n');
    const ws = await new k8s.PortForward(kubeConfig()).portForward(NS, 'web', [8080], out.stream, null, request);
    await waitFor(async () => out.text().includes('hello from web'), 'the page through port-forward', 10_000);
    expect(out.text()).toMatch(/^HTTP\/1\.[01] 200 OK/);
    (ws as { close(): void }).close();
  });
});

describe('SPDY framing', () => {
  it('builds the SPDY/3 header dictionary (1423 bytes, zlib dictionary id 0xe3c6a7c2)', () => {
    let a = 1;
    let b = 0;
    for (const byte of SPDY3_DICTIONARY) {
      a = (a + byte) % 65521;
      b = (b + a) % 65521;
    }
    expect(SPDY3_DICTIONARY.length).toBe(1423);
    expect(((b << 16) | a) >>> 0).toBe(0xe3c6a7c2);
  });

  it('round-trips header blocks through one compression context per direction', async () => {
    const out = new HeaderCompressor();
    const inn = new HeaderDecompressor();
    const blocks: SpdyHeaders[] = [{ streamtype: ['error'] }, { streamtype: ['stdout'], port: ['8080', '9090'] }, { streamtype: ['stdout'] }];
    for (const headers of blocks) expect(await inn.decompress(await out.compress(headers))).toEqual(headers);
    out.close();
    inn.close();
  });

  it('parses frames split at any byte', () => {
    const bytes = Buffer.concat([encodeData(1, Buffer.from('hello')), encodePing(2), encodeData(3, Buffer.alloc(0), true)]);
    const parser = new FrameParser();
    const frames = [...bytes].flatMap((byte) => parser.push(Buffer.of(byte)));
    expect(frames).toEqual([
      { kind: 'data', streamId: 1, flags: 0, data: Buffer.from('hello') },
      { kind: 'control', type: 6, flags: 0, payload: Buffer.from([0, 0, 0, 2]) },
      { kind: 'data', streamId: 3, flags: 1, data: Buffer.alloc(0) },
    ]);
  });
});

describe('refused upgrades', () => {
  function upgrade(path: string, headers: Record<string, string>): Promise<{ status: number; body: string }> {
    const port = (proxy.address() as { port: number }).port;
    return new Promise((resolve, reject) => {
      const req = httpRequest({ host: '127.0.0.1', port, path, method: 'POST', headers: { Connection: 'Upgrade', ...headers } });
      req.on('response', (res) => {
        let body = '';
        res.on('data', (d: Buffer) => (body += d.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      });
      req.on('upgrade', () => reject(new Error('the upgrade was accepted')));
      req.on('error', reject);
      req.end();
    });
  }

  it('answers 404 with a Status for a container that does not exist', async () => {
    const r = await upgrade(`/api/v1/namespaces/${NS}/pods/shell/exec?container=nope&command=true&stdout=true`, { Upgrade: 'SPDY/3.1', 'X-Stream-Protocol-Version': 'v4.channel.k8s.io' });
    expect(r.status).toBe(404);
    expect(JSON.parse(r.body)).toMatchObject({ kind: 'Status', status: 'Failure', reason: 'NotFound', code: 404, message: 'container not found ("nope")' });
  });

  it('answers 404 for a pod that is not on this node', async () => {
    const r = await upgrade(`/api/v1/namespaces/${NS}/pods/ghost/portforward`, { Upgrade: 'SPDY/3.1', 'X-Stream-Protocol-Version': 'portforward.k8s.io' });
    expect(r.status).toBe(404);
    expect(JSON.parse(r.body)).toMatchObject({ kind: 'Status', code: 404, message: 'pod does not exist' });
  });

  it('answers 400 for an exec without a command', async () => {
    const r = await upgrade(`/api/v1/namespaces/${NS}/pods/shell/exec?container=main&stdout=true`, { Upgrade: 'SPDY/3.1', 'X-Stream-Protocol-Version': 'v4.channel.k8s.io' });
    expect(r.status).toBe(400);
    expect(JSON.parse(r.body)).toMatchObject({ kind: 'Status', code: 400 });
  });
});
