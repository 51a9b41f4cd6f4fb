// Issue #5 end to end, with real processes: `stratus start`, `stratus token create` (its printed
// join command is what we run), `stratus join ... --simulate 1` registering a Ready node that
// kubectl sees with the admin kubeconfig, a wrong CA pin refused, the node's own kubeconfig
// scoped to its node, and deleted tokens no longer joining.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kubectl, kubectlPath, removeDir, repoRoot, startServer, type RunningServer } from './harness.js';
import { discoverCluster } from '../../cli/join.js';

const STRATUS = join(repoRoot, 'cli/stratus.ts');

function stratus(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((res) => {
    execFile(process.execPath, ['--import', 'tsx', STRATUS, ...args], { cwd: repoRoot, timeout: 60_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1) : 0;
      res({ code, stdout, stderr });
    });
  });
}

interface Joined {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

function startJoin(args: string[]): Joined {
  const child = spawn(process.execPath, ['--import', 'tsx', STRATUS, 'join', ...args, '--log-level', 'warn'], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  return { child, output: () => out, exited };
}

async function until<T>(what: string, check: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** The parts of the printed `npx stratus join <endpoint> --token <t> --ca-cert-hash <h>` line. */
function parseJoinLine(stdout: string): { endpoint: string; token: string; hash: string } {
  const m = /^npx stratus join (https:\/\/\S+) --token ([a-z0-9]{6}\.[a-z0-9]{16}) --ca-cert-hash (sha256:[0-9a-f]{64})$/m.exec(stdout);
  if (!m) throw new Error(`no join command in:\n${stdout}`);
  return { endpoint: m[1], token: m[2], hash: m[3] };
}

describe('stratus token + stratus join', () => {
  let server: RunningServer;
  let nodeDir: string;
  let work: string;
  let joined: Joined | undefined;
  let created: { endpoint: string; token: string; hash: string };

  beforeAll(async () => {
    kubectlPath('1.33');
    server = await startServer();
    nodeDir = mkdtempSync(join(tmpdir(), 'stratus-node-'));
    work = mkdtempSync(join(tmpdir(), 'kubectl-join-'));
  }, 120_000);

  afterAll(async () => {
    if (joined && joined.child.exitCode === null) {
      joined.child.kill('SIGTERM');
      await joined.exited;
    }
    await server?.stop();
    if (server) removeDir(server.dataDir);
    if (nodeDir) removeDir(nodeDir);
    if (work) removeDir(work);
  });

  it('token create prints a join command for this server, and token list shows the token', async () => {
    const r = await stratus(['token', 'create', '--data-dir', server.dataDir, '--ttl', '2h']);
    expect(r.code, r.stderr).toBe(0);
    created = parseJoinLine(r.stdout);
    expect(created.endpoint).toBe(server.url);
    const list = await stratus(['token', 'list', '--data-dir', server.dataDir]);
    expect(list.stdout.split('\n')[0]).toMatch(/^TOKEN\s+TTL\s+EXPIRES\s+USAGES\s+DESCRIPTION\s+EXTRA GROUPS$/);
    const row = list.stdout.split('\n').find((l) => l.startsWith(created.token));
    expect(row).toMatch(/\s1h\s.*authentication,signing\s.*system:bootstrappers:stratus:default-node-token$/);
  });

  it('join refuses a CA that does not match --ca-cert-hash', async () => {
    const wrong = `sha256:${'0'.repeat(64)}`;
    const r = await stratus(['join', created.endpoint, '--token', created.token, '--ca-cert-hash', wrong, '--simulate', '1', '--node-name', 'mallory', '--data-dir', nodeDir]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`refusing to join: the cluster CA's public key hash is ${created.hash}, which does not match --ca-cert-hash ${wrong}`);
    expect(existsSync(join(nodeDir, 'nodes', 'mallory'))).toBe(false);
    const nodes = await kubectl(server, '1.33', ['get', 'nodes', '-o', 'name'], { cacheDir: work });
    expect(nodes.stdout).not.toContain('mallory');
  });

  it('discovery needs a CA pin or an explicit opt-out, and checks the token signature', async () => {
    const noPin = await stratus(['join', created.endpoint, '--token', created.token, '--simulate', '1', '--node-name', 'nopin', '--data-dir', nodeDir]);
    expect(noPin.code).toBe(1);
    expect(noPin.stderr).toContain('refusing to join without --ca-cert-hash');
    const trusted = await discoverCluster(created.endpoint, created.token, { caCertHashes: [], unsafeSkipCaVerification: true });
    expect(trusted).toEqual({ server: server.url, caCert: server.ca });
    const [id] = created.token.split('.');
    await expect(discoverCluster(created.endpoint, `${id}.aaaaaaaaaaaaaaaa`, { caCertHashes: [created.hash] })).rejects.toThrow(`the cluster-info signature for token id "${id}" does not match the token`);
    await expect(discoverCluster(created.endpoint, 'zzzzzz.aaaaaaaaaaaaaaaa', { caCertHashes: [], unsafeSkipCaVerification: true })).rejects.toThrow('cluster-info carries no signature for token id "zzzzzz"');
  });

  it('join with the printed command registers a Ready node that kubectl shows', async () => {
    joined = startJoin([created.endpoint, '--token', created.token, '--ca-cert-hash', created.hash, '--simulate', '1', '--node-name', 'e2e-joined', '--data-dir', nodeDir]);
    await until('the agent to run', () => {
      if (joined!.child.exitCode !== null) throw new Error(`stratus join exited with ${joined!.child.exitCode}:\n${joined!.output()}`);
      return joined!.output().includes('node agent(s) running: e2e-joined');
    });
    const row = await until('e2e-joined to be Ready in kubectl get nodes', async () => {
      const r = await kubectl(server, '1.33', ['get', 'nodes', '--no-headers'], { cacheDir: work });
      return r.stdout.split('\n').find((l) => /^e2e-joined\s+Ready\s/.test(l));
    });
    expect(row).toMatch(/^e2e-joined\s+Ready\s+<none>\s+\S+\s+v1\.33\.0-stratus$/);
    const lease = await kubectl(server, '1.33', ['-n', 'kube-node-lease', 'get', 'lease', 'e2e-joined', '-o', 'jsonpath={.spec.holderIdentity}'], { cacheDir: work });
    expect(lease.stdout).toBe('e2e-joined');
  });

  it("the node's kubeconfig acts as system:node:e2e-joined and nothing more", async () => {
    const asNode = { kubeconfig: join(nodeDir, 'nodes', 'e2e-joined', 'kubeconfig') };
    const own = await kubectl(asNode, '1.33', ['get', 'node', 'e2e-joined', '-o', 'name'], { cacheDir: work });
    expect(own.stdout.trim()).toBe('node/e2e-joined');
    const secrets = await kubectl(asNode, '1.33', ['-n', 'kube-system', 'get', 'secrets'], { cacheDir: work });
    expect(secrets.code).not.toBe(0);
    expect(secrets.stderr).toContain('Error from server (Forbidden): secrets is forbidden: User "system:node:e2e-joined" cannot list resource "secrets" in API group "" in the namespace "kube-system"');
    const label = await kubectl(asNode, '1.33', ['label', 'node', 'e2e-joined', 'team=blue'], { cacheDir: work });
    expect(label.code, label.stderr).toBe(0);
  });

  it('pods scheduled to the joined node run there', async () => {
    const run = await kubectl(server, '1.33', ['run', 'on-joined', '--image=busybox', '--overrides={"spec":{"nodeName":"e2e-joined"}}'], { cacheDir: work });
    expect(run.code, run.stderr).toBe(0);
    await until('the pod to be Running', async () => {
      const r = await kubectl(server, '1.33', ['get', 'pod', 'on-joined', '-o', 'jsonpath={.status.phase}'], { cacheDir: work });
      return r.stdout === 'Running';
    });
  });

  it('token delete: the token no longer joins', async () => {
    const del = await stratus(['token', 'delete', created.token.split('.')[0], '--data-dir', server.dataDir]);
    expect(del.stdout).toContain(`bootstrap token "${created.token.split('.')[0]}" deleted`);
    const r = await stratus(['join', created.endpoint, '--token', created.token, '--ca-cert-hash', created.hash, '--simulate', '1', '--node-name', 'late', '--data-dir', nodeDir]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('the control plane rejected the bootstrap token');
  });
});
