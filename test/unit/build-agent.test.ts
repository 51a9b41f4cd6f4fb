// The shipped node agent (scripts/build-agent.ts): a self-contained bundle with its CRI proto and a
// launcher, which answers --help and registers hollow nodes against a control plane.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startControlPlane, type ControlPlane } from '../../cli/control-plane.js';
import { createLogger } from '../../shared/apiserver/logger.js';
import { KubeClient } from '../../shared/client/kube-client.js';
import { buildAgent, type BuiltAgent } from '../../scripts/build-agent.js';
import { freePort } from '../e2e/harness.js';

let dir: string;
let built: BuiltAgent;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'stratus-build-agent-'));
  built = await buildAgent({ outDir: join(dir, 'agent') });
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

async function waitFor<T>(check: () => Promise<T | undefined | false>, what: string, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('scripts/build-agent.ts', () => {
  it('bundles the agent with api.proto next to it and a launcher that passes the memory flags', () => {
    expect(built.bytes).toBeGreaterThan(0);
    expect(dirname(built.proto)).toBe(dirname(built.file));
    expect(readFileSync(built.proto, 'utf8')).toContain('service RuntimeService');
    const launcher = readFileSync(built.launcher, 'utf8');
    expect(launcher).toMatch(/^#!\/bin\/sh\n/);
    expect(launcher).toContain('exec node --max-semi-space-size=1 --lite-mode "$(dirname "$0")/stratus-agent.mjs" "$@"');
  });

  it('the bundle runs on its own and lists the agent options in --help', () => {
    const res = spawnSync(process.execPath, [built.file, '--help'], { cwd: dir, encoding: 'utf8', timeout: 30_000 });
    expect(res.status).toBe(0);
    for (const option of ['--kubeconfig', '--node-dir', '--node-name', '--simulate', '--prefix', '--cpu', '--memory', '--max-pods', '--heartbeat-interval', '--log-level']) {
      expect(res.stdout).toContain(option);
    }
  });

  it('rejects a --simulate that is not a whole number', () => {
    const res = spawnSync(process.execPath, [built.file, '--simulate', 'two'], { cwd: dir, encoding: 'utf8', timeout: 30_000 });
    expect(res.status).not.toBe(0);
    expect(res.stderr).toContain('must be a whole number');
  });
});

describe('the shipped agent with --simulate 2', () => {
  let cp: ControlPlane;
  let client: KubeClient;
  let agent: ChildProcess | undefined;
  let output = '';

  beforeAll(async () => {
    cp = await startControlPlane({ dataDir: join(dir, 'cp'), port: await freePort(), log: createLogger('silent'), controllers: [] });
    client = new KubeClient({ server: cp.url, token: cp.token, caCert: cp.caCert });
  });

  afterAll(async () => {
    if (agent && agent.exitCode === null) {
      const exited = new Promise((r) => agent!.once('exit', r));
      agent.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))]);
      if (agent.exitCode === null) agent.kill('SIGKILL');
    }
    client?.close();
    await cp?.close();
  });

  it('registers 2 Ready hollow nodes with Leases through the launcher', async () => {
    agent = spawn(built.launcher, ['--kubeconfig', cp.kubeconfig, '--simulate', '2', '--prefix', 'shipped-', '--heartbeat-interval', '1', '--log-level', 'warn'], {
      cwd: dir,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    agent.stdout!.on('data', (d) => (output += d));
    agent.stderr!.on('data', (d) => (output += d));
    await waitFor(async () => {
      if (agent!.exitCode !== null) throw new Error(`the agent exited with ${agent!.exitCode}:\n${output}`);
      return output.includes('stratus agent: 2 hollow nodes running');
    }, 'the agent to report its hollow nodes');

    type NodeList = { items: { metadata: { name: string }; status?: { conditions?: { type: string; status: string }[] } }[] };
    const nodes = await client.get<NodeList>('/api/v1/nodes');
    expect(nodes.items.map((n) => n.metadata.name).sort()).toEqual(['shipped-0', 'shipped-1']);
    for (const node of nodes.items) expect(node.status?.conditions?.find((c) => c.type === 'Ready')?.status).toBe('True');

    type Lease = { spec?: { renewTime?: string } };
    const first = await client.get<Lease>('/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/shipped-1');
    await waitFor(async () => {
      const now = await client.get<Lease>('/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/shipped-1');
      return now.spec?.renewTime !== first.spec?.renewTime;
    }, 'a lease renewal', 15_000);

    // The launcher execs node, so its pid is the agent's. Memory targets live in bench/node-agent.ts.
    const status = readFileSync(`/proc/${agent.pid}/status`, 'utf8');
    expect(status).toMatch(/^Name:\s+node$/m);
    const rss = /^VmRSS:\s+(\d+) kB/m.exec(status)![1];
    console.log(`shipped agent (--simulate 2) VmRSS: ${(Number(rss) / 1024).toFixed(1)} MB`);
  });

  it('stops on SIGTERM with exit code 0', async () => {
    expect(agent?.exitCode).toBeNull();
    const exited = new Promise<number | null>((r) => agent!.once('exit', (code) => r(code)));
    agent!.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(existsSync(built.file)).toBe(true);
  });
});
