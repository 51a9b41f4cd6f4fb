// Test harness: start the real `stratus start` command as a child process on a free port with a
// fresh data directory, talk to it over HTTPS, and run the real kubectl binaries against it.
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { request as httpsRequest, Agent } from 'node:https';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export const repoRoot = resolve(import.meta.dirname, '../..');
export const KUBECTL_DIR = '/usr/lib/google-cloud-sdk/bin';

export function kubectlPath(version: string): string {
  const p = join(KUBECTL_DIR, `kubectl.${version}`);
  if (!existsSync(p)) throw new Error(`kubectl ${version} not found at ${p}: install the Debian package "kubectl" (apt-get install kubectl)`);
  return p;
}

export async function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.once('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => res(port));
    });
  });
}

export interface RunningServer {
  backend: Backend;
  url: string;
  port: number;
  dataDir: string;
  kubeconfig: string;
  token: string;
  ca: string;
  child: ChildProcess;
  logs: () => string;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** The store backends `stratus start --backend` offers; suites can run once per entry. */
export const BACKENDS = ['sqlite', 'dynamodb'] as const;
export type Backend = (typeof BACKENDS)[number];

export async function startServer(opts: { dataDir?: string; port?: number; logLevel?: string; backend?: Backend; extraArgs?: string[] } = {}): Promise<RunningServer> {
  const dataDir = opts.dataDir ?? mkdtempSync(join(tmpdir(), 'stratus-e2e-'));
  const port = opts.port ?? (await freePort());
  const backend = opts.backend ?? 'sqlite';
  const child = spawn(process.execPath, ['--import', 'tsx', join(repoRoot, 'cli/stratus.ts'), 'start', '--backend', backend, '--data-dir', dataDir, '--port', String(port), '--log-level', opts.logLevel ?? 'warn', '--node', 'none', ...(opts.extraArgs ?? [])], {
    cwd: repoRoot,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (d) => (output += d));
  child.stderr!.on('data', (d) => (output += d));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  // The DynamoDB path starts a JVM (DynamoDB Local) first.
  const readyWithinMs = backend === 'dynamodb' ? 120_000 : 60_000;
  const deadline = Date.now() + readyWithinMs;
  const kubeconfig = join(dataDir, 'kubeconfig');
  for (;;) {
    if (child.exitCode !== null) throw new Error(`stratus exited with ${child.exitCode} before it was ready:\n${output}`);
    if (existsSync(kubeconfig) && output.includes('stratus is running')) break;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`stratus was not ready within ${readyWithinMs / 1000} s:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  const token = readFileSync(join(dataDir, 'admin.token'), 'utf8').trim();
  const ca = readFileSync(join(dataDir, 'pki', 'ca.crt'), 'utf8');
  return {
    backend,
    url: `https://127.0.0.1:${port}`,
    port,
    dataDir,
    kubeconfig,
    token,
    ca,
    child,
    logs: () => output,
    async stop(signal: NodeJS.Signals = 'SIGTERM') {
      if (child.exitCode === null) child.kill(signal);
      return exited;
    },
  };
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

export interface HttpResult {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  json: any;
}

/** One HTTPS request to the server with the admin token (or `token: null` for none). */
export async function api(
  server: Pick<RunningServer, 'url' | 'token' | 'ca'>,
  method: string,
  path: string,
  opts: { body?: string | Buffer; contentType?: string; accept?: string; token?: string | null; headers?: Record<string, string> } = {},
): Promise<HttpResult> {
  const url = new URL(path, server.url);
  const headers: Record<string, string> = { ...(opts.headers ?? {}) };
  const token = opts.token === undefined ? server.token : opts.token;
  if (token) headers.Authorization = `Bearer ${token}`;
  if (opts.accept) headers.Accept = opts.accept;
  if (opts.body !== undefined) {
    headers['Content-Type'] = opts.contentType ?? 'application/json';
    headers['Content-Length'] = String(Buffer.byteLength(opts.body));
  }
  return new Promise((res, rej) => {
    const req = httpsRequest(url, { method, headers, ca: server.ca, agent: sharedAgent(server.ca) }, (resp) => {
      const chunks: Buffer[] = [];
      resp.on('data', (c: Buffer) => chunks.push(c));
      resp.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json: unknown;
        try {
          json = JSON.parse(text);
        } catch {
          json = undefined;
        }
        res({ status: resp.statusCode ?? 0, headers: resp.headers, text, json });
      });
      resp.on('error', rej);
    });
    req.on('error', rej);
    if (opts.body !== undefined) req.write(opts.body);
    req.end();
  });
}

const agents = new Map<string, Agent>();
function sharedAgent(ca: string): Agent {
  let a = agents.get(ca);
  if (!a) agents.set(ca, (a = new Agent({ ca, keepAlive: true })));
  return a;
}

export interface KubectlResult {
  code: number;
  stdout: string;
  stderr: string;
}

export function kubectl(server: Pick<RunningServer, 'kubeconfig'>, version: string, args: string[], opts: { input?: string; cacheDir?: string; timeoutMs?: number; env?: Record<string, string> } = {}): Promise<KubectlResult> {
  return new Promise((res) => {
    const child = execFile(
      kubectlPath(version),
      args,
      {
        env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: opts.cacheDir ?? tmpdir(), KUBECONFIG: server.kubeconfig, KUBECACHEDIR: opts.cacheDir ? join(opts.cacheDir, 'cache') : join(tmpdir(), `kcache-${process.pid}-${version}`), ...(opts.env ?? {}) },
        timeout: opts.timeoutMs ?? 60_000,
        maxBuffer: 32 * 1024 * 1024,
      },
      (err, stdout, stderr) => {
        const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? ((err as { code: number }).code) : 1) : 0;
        res({ code, stdout, stderr });
      },
    );
    if (opts.input !== undefined) {
      child.stdin!.write(opts.input);
      child.stdin!.end();
    }
  });
}

export interface RunningAgent {
  child: ChildProcess;
  logs: () => string;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** Start `stratus agent --simulate <count>` against a started server and wait until its nodes are registered. */
export async function startHollowAgent(server: Pick<RunningServer, 'kubeconfig'>, count: number, opts: { prefix?: string; cpu?: string; memory?: string; heartbeatSeconds?: number } = {}): Promise<RunningAgent> {
  const args = ['--import', 'tsx', join(repoRoot, 'cli/stratus.ts'), 'agent', '--kubeconfig', server.kubeconfig, '--simulate', String(count), '--log-level', 'warn'];
  if (opts.prefix) args.push('--prefix', opts.prefix);
  if (opts.cpu) args.push('--cpu', opts.cpu);
  if (opts.memory) args.push('--memory', opts.memory);
  if (opts.heartbeatSeconds) args.push('--heartbeat-interval', String(opts.heartbeatSeconds));
  const child = spawn(process.execPath, args, { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (d) => (output += d));
  child.stderr!.on('data', (d) => (output += d));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  const deadline = Date.now() + 60_000;
  while (!output.includes('hollow nodes running')) {
    if (child.exitCode !== null) throw new Error(`stratus agent exited with ${child.exitCode}:\n${output}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`stratus agent did not register its nodes within 60 s:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    child,
    logs: () => output,
    async stop(signal: NodeJS.Signals = 'SIGTERM') {
      if (child.exitCode === null) child.kill(signal);
      return exited;
    },
  };
}
