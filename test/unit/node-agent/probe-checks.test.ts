// The single checks behind probes and lifecycle hooks, against real local servers and commands:
// HTTP status ranges, headers, named ports, HTTPS without verification, TCP connects, gRPC health,
// command exit codes and timeouts, with the texts kubelet reports.
import * as grpc from '@grpc/grpc-js';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { createServer as createTcpServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensurePki } from '../../../cli/pki.js';
import { runLifecycleHook } from '../../../node-agent/lifecycle-hooks.js';
import { execCheck, grpcCheck, httpGetCheck, tcpCheck, type CheckTarget, type ExecFn } from '../../../node-agent/probes/actions.js';
import { runProbe } from '../../../node-agent/probes/run-probe.js';
import { probeTiming } from '../../../node-agent/probes/spec.js';

/** Runs the command on this machine: a real process standing in for one inside a container. */
const localExec: ExecFn = (cmd) =>
  new Promise((resolve) => {
    execFile(cmd[0], cmd.slice(1), (err, stdout, stderr) => resolve({ exitCode: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr }));
  });

let http: Server;
let httpPort: number;
let seen: IncomingHttpHeaders[] = [];
let httpsPort: number;
let httpsServer: Server;
let pkiDir: string;

const listen = (s: Server) => new Promise<number>((r) => s.listen(0, '127.0.0.1', () => r((s.address() as AddressInfo).port)));
const target = (extra: Partial<CheckTarget> = {}): CheckTarget => ({ podIP: '127.0.0.1', container: { name: 'c', ports: [{ name: 'web', containerPort: httpPort }] }, exec: localExec, ...extra });

beforeAll(async () => {
  http = createServer((req, res) => {
    seen.push(req.headers);
    const code = Number(/^\/status\/(\d+)/.exec(req.url ?? '')?.[1] ?? 200);
    if (req.url === '/slow') return; // never answers
    res.writeHead(code, code >= 300 && code < 400 ? { Location: '/elsewhere' } : {});
    res.end(`answer ${code}`);
  });
  httpPort = await listen(http);
  pkiDir = mkdtempSync(join(tmpdir(), 'stratus-probe-pki-'));
  const pki = await ensurePki(pkiDir, { hosts: ['127.0.0.1'] });
  httpsServer = createHttpsServer({ cert: pki.cert, key: pki.key }, (_req, res) => res.end('secure')) as unknown as Server;
  httpsPort = await listen(httpsServer);
});

afterAll(() => {
  http.close();
  httpsServer.close();
  rmSync(pkiDir, { recursive: true, force: true });
});

describe('httpGet checks', () => {
  it('pass on 200-399 and fail on other codes with kubelet’s message', async () => {
    expect(await httpGetCheck({ path: '/status/200', port: httpPort }, target(), 1)).toEqual({ result: 'success', output: 'answer 200' });
    expect((await httpGetCheck({ path: '/status/302', port: httpPort }, target(), 1)).result).toBe('success');
    expect((await httpGetCheck({ path: '/status/399', port: httpPort }, target(), 1)).result).toBe('success');
    expect(await httpGetCheck({ path: '/status/500', port: httpPort }, target(), 1)).toEqual({ result: 'failure', output: 'HTTP probe failed with statuscode: 500' });
    expect(await httpGetCheck({ path: '/status/404', port: httpPort }, target(), 1)).toEqual({ result: 'failure', output: 'HTTP probe failed with statuscode: 404' });
  });

  it('send kube-probe as User-Agent, Accept */* and the configured headers, to a named port', async () => {
    seen = [];
    await httpGetCheck({ path: '/', port: 'web', httpHeaders: [{ name: 'X-Custom', value: 'yes' }] }, target(), 1);
    expect(seen[0]).toMatchObject({ 'user-agent': 'kube-probe/1.33', accept: '*/*', 'x-custom': 'yes' });
    seen = [];
    await httpGetCheck({ path: '/', port: httpPort, httpHeaders: [{ name: 'User-Agent', value: 'mine' }] }, target(), 1);
    expect(seen[0]['user-agent']).toBe('mine');
  });

  it('fail after timeoutSeconds when the server does not answer', async () => {
    const t = Date.now();
    const r = await httpGetCheck({ path: '/slow', port: httpPort }, target(), 1);
    expect(Date.now() - t).toBeGreaterThanOrEqual(950);
    expect(Date.now() - t).toBeLessThan(3000);
    expect(r).toEqual({ result: 'failure', output: `Get "http://127.0.0.1:${httpPort}/slow": context deadline exceeded (Client.Timeout exceeded while awaiting headers)` });
  });

  it('report a refused connection as Go’s dial error', async () => {
    const srv = createServer();
    const port = await listen(srv);
    srv.close();
    const r = await httpGetCheck({ path: '/x', port }, target(), 1);
    expect(r).toEqual({ result: 'failure', output: `Get "http://127.0.0.1:${port}/x": dial tcp 127.0.0.1:${port}: connect: connection refused` });
  });

  it('use HTTPS without verifying the certificate', async () => {
    expect(await httpGetCheck({ path: '/', port: httpsPort, scheme: 'HTTPS' }, target(), 2)).toEqual({ result: 'success', output: 'secure' });
  });

  it('error (unknown result) on a port name the container does not have', async () => {
    expect(await runProbe({ httpGet: { path: '/', port: 'nope' } }, target(), 1)).toEqual({ result: 'unknown', output: '', error: 'strconv.Atoi: parsing "nope": invalid syntax' });
  });
});

describe('tcpSocket checks', () => {
  it('pass when the port accepts a connection and fail when refused', async () => {
    const srv = createTcpServer((s) => s.end());
    const port = await listen(srv as unknown as Server);
    expect(await tcpCheck({ port }, target(), 1)).toEqual({ result: 'success', output: '' });
    srv.close();
    await new Promise((r) => setTimeout(r, 20));
    expect(await tcpCheck({ port }, target(), 1)).toEqual({ result: 'failure', output: `dial tcp 127.0.0.1:${port}: connect: connection refused` });
  });
});

describe('exec checks', () => {
  it('pass on exit 0, fail with the output otherwise', async () => {
    expect(await execCheck(['true'], target(), 1)).toEqual({ result: 'success', output: '' });
    expect(await execCheck(['sh', '-c', 'echo out; echo err >&2; exit 2'], target(), 1)).toEqual({ result: 'failure', output: 'out\nerr\n' });
  });

  it('fail with kubelet’s "timed out" text past the timeout', async () => {
    const t = Date.now();
    expect(await execCheck(['sleep', '5'], target(), 1)).toEqual({ result: 'failure', output: 'command "sleep 5" timed out' });
    expect(Date.now() - t).toBeLessThan(3000);
  });
});

describe('grpc checks', () => {
  it('pass on SERVING and fail on NOT_SERVING', async () => {
    const server = new grpc.Server();
    let status = 1;
    const service = {
      Check: {
        path: '/grpc.health.v1.Health/Check',
        requestStream: false,
        responseStream: false,
        requestSerialize: (b: Buffer) => b,
        requestDeserialize: (b: Buffer) => b,
        responseSerialize: (s: number) => Buffer.from([0x08, s]),
        responseDeserialize: (b: Buffer) => b[1],
      },
    };
    server.addService(service as unknown as grpc.ServiceDefinition, { Check: (_call: unknown, cb: (e: null, s: number) => void) => cb(null, status) });
    const port = await new Promise<number>((r, j) => server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) => (e ? j(e) : r(p))));
    try {
      expect(await grpcCheck({ port }, target(), 2)).toEqual({ result: 'success', output: '' });
      status = 2;
      expect(await grpcCheck({ port, service: 'db' }, target(), 2)).toEqual({ result: 'failure', output: 'service unhealthy (responded with "NOT_SERVING")' });
    } finally {
      server.forceShutdown();
    }
  });
});

describe('probe timing defaults', () => {
  it('are kubelet’s: period 10, timeout 1, success 1, failure 3', () => {
    expect(probeTiming({})).toEqual({ initialDelaySeconds: 0, periodSeconds: 10, timeoutSeconds: 1, successThreshold: 1, failureThreshold: 3 });
    expect(probeTiming({ periodSeconds: 2, timeoutSeconds: 5, successThreshold: 2, failureThreshold: 1, initialDelaySeconds: 4 })).toEqual({ initialDelaySeconds: 4, periodSeconds: 2, timeoutSeconds: 5, successThreshold: 2, failureThreshold: 1 });
  });
});

describe('lifecycle hooks', () => {
  const ctx = () => ({ pod: { name: 'p', namespace: 'ns', uid: 'u1' }, container: { name: 'c' }, podIP: '127.0.0.1', exec: localExec });

  it('an httpGet hook succeeds on any HTTP answer and sends kube-lifecycle as User-Agent', async () => {
    seen = [];
    expect(await runLifecycleHook({ httpGet: { path: '/status/500', port: httpPort } }, ctx())).toEqual({ status: 'ok' });
    expect(seen[0]['user-agent']).toBe('kube-lifecycle/1.33');
  });

  it('a failed hook carries kubelet’s message', async () => {
    expect(await runLifecycleHook({ exec: { command: ['sh', '-c', 'echo bad; exit 3'] } }, ctx())).toEqual({
      status: 'failed',
      message: `Exec lifecycle hook ([sh -c echo bad; exit 3]) for Container "c" in Pod "p_ns(u1)" failed - error: command 'sh -c echo bad; exit 3' exited with 3: , message: "bad\\n"`,
    });
    const srv = createServer();
    const port = await listen(srv);
    srv.close();
    const r = await runLifecycleHook({ httpGet: { path: '/hook', port } }, ctx());
    expect(r).toEqual({ status: 'failed', message: `HTTP lifecycle hook (/hook) for Container "c" in Pod "p_ns(u1)" failed - error: Get "http://127.0.0.1:${port}/hook": dial tcp 127.0.0.1:${port}: connect: connection refused` });
  });

  it('a hook that outlives its limit ends as a timeout; sleep waits its seconds', async () => {
    let t = Date.now();
    expect(await runLifecycleHook({ exec: { command: ['sleep', '5'] } }, ctx(), 1)).toEqual({ status: 'timeout' });
    expect(Date.now() - t).toBeLessThan(2500);
    t = Date.now();
    expect(await runLifecycleHook({ sleep: { seconds: 1 } }, ctx())).toEqual({ status: 'ok' });
    expect(Date.now() - t).toBeGreaterThanOrEqual(950);
  });
});
