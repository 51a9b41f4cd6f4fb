// End to end on the AWS-shaped path: `stratus start --backend dynamodb` as a child process (the
// Lambda handlers behind a local function URL, DynamoDB Local, the SQS emulator), driven by the
// real kubectl 1.33. Stops on SIGTERM with its JVM, and a restart on the same data directory
// keeps everything.
import { spawn } from 'node:child_process';
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, kubectl, kubectlPath, removeDir, startServer, type RunningServer } from '../e2e/harness.js';

const VERSION = '1.33';
let server: RunningServer;

beforeAll(async () => {
  kubectlPath(VERSION);
  server = await startServer({ backend: 'dynamodb', logLevel: 'info' });
});
afterAll(async () => {
  await server?.stop();
  if (server) removeDir(server.dataDir);
});

const k = (args: string[]) => kubectl(server, VERSION, args);
async function ok(args: string[]): Promise<string> {
  const r = await k(args);
  if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')} failed (${r.code}):\n${r.stderr}\n${r.stdout}`);
  return r.stdout;
}

const portAnswers = (port: number) =>
  new Promise<boolean>((resolve) => {
    const s = connect(port, '127.0.0.1');
    s.once('connect', () => (s.destroy(), resolve(true)));
    s.once('error', () => resolve(false));
  });

describe('stratus start --backend dynamodb', () => {
  it('serves the system namespaces, readiness and the kubernetes Service', async () => {
    expect((await api(server, 'GET', '/readyz', { token: null })).text).toBe('ok');
    expect(await ok(['get', 'namespaces', '-o', 'name'])).toBe('namespace/default\nnamespace/kube-node-lease\nnamespace/kube-public\nnamespace/kube-system\n');
    expect(await ok(['get', 'service', 'kubernetes', '-o', 'jsonpath={.spec.clusterIP}'])).toBe('10.96.0.1');
  });

  it('kubectl creates, gets and deletes a ConfigMap (a protobuf body through the function URL)', async () => {
    expect(await ok(['create', 'configmap', 'smoke', '--from-literal=greeting=hello'])).toContain('configmap/smoke created');
    expect(await ok(['get', 'configmap', 'smoke', '-o', 'jsonpath={.data.greeting}'])).toBe('hello');
    expect(await ok(['delete', 'configmap', 'smoke'])).toContain('configmap "smoke" deleted');
    const gone = await k(['get', 'configmap', 'smoke']);
    expect(gone.code).not.toBe(0);
    expect(gone.stderr).toContain('configmaps "smoke" not found');
  });

  it('kubectl get -w sees a change made after the watch started', async () => {
    const watcher = spawn(kubectlPath(VERSION), ['get', 'configmaps', '-w', '--output-watch-events'], { env: { PATH: process.env.PATH ?? '', HOME: server.dataDir, KUBECONFIG: server.kubeconfig } });
    let out = '';
    watcher.stdout.on('data', (d) => (out += d));
    watcher.stderr.on('data', (d) => (out += d));
    try {
      await new Promise((r) => setTimeout(r, 1500));
      await ok(['create', 'configmap', 'watched', '--from-literal=a=1']);
      await ok(['patch', 'configmap', 'watched', '-p', '{"data":{"a":"2"}}']);
      const deadline = Date.now() + 15_000;
      while (!/MODIFIED\s+watched/.test(out) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      expect(out).toMatch(/ADDED\s+watched/);
      expect(out).toMatch(/MODIFIED\s+watched/);
    } finally {
      watcher.kill('SIGINT');
    }
  });

  it('deleting a namespace removes its content (finalization finished by the worker via Streams and SQS)', async () => {
    await ok(['create', 'namespace', 'doomed']);
    await ok(['create', 'configmap', 'inside', '-n', 'doomed']);
    await ok(['delete', 'namespace', 'doomed', '--timeout=30s']);
    expect(await ok(['get', 'configmaps', '-n', 'doomed', '-o', 'name'])).toBe('');
    expect((await k(['get', 'namespace', 'doomed'])).code).not.toBe(0);
  });

  it('stops on SIGTERM with DynamoDB Local, and a restart keeps the data', async () => {
    await ok(['create', 'configmap', 'kept', '--from-literal=k=v']);
    const dynamoPort = Number(/"dynamodb":"http:\/\/127\.0\.0\.1:(\d+)"/.exec(server.logs())![1]);
    expect(await portAnswers(dynamoPort)).toBe(true);
    expect(await server.stop('SIGTERM')).toBe(0);
    expect(await portAnswers(dynamoPort), 'the JVM is gone').toBe(false);

    server = await startServer({ backend: 'dynamodb', dataDir: server.dataDir, port: server.port, logLevel: 'info' });
    expect(await ok(['get', 'configmap', 'kept', '-o', 'jsonpath={.data.k}'])).toBe('v');
    expect(await ok(['get', 'namespaces', '-o', 'name'])).toContain('namespace/default');
  });
});
