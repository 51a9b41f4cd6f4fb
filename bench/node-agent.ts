// Node agent benchmark (issue #5), three parts:
// - startup: pod startup latency with real containerd through the scheduler (create -> Running as
//   a watch sees it, image present), sequential and in waves, with where the time goes (the
//   scheduler, the agent's watch, each CRI call, the status patch, the watch back).
// - rss: the real agent as its own process (tsx, and bundled with esbuild) with 0, 10 and 30 pods.
// - hollow: `stratus agent --simulate N` against `stratus start` (separate processes, SQLite):
//   lease renew age, NotReady nodes, API probe latency, agent RSS/CPU and control plane CPU.
// Run through `npm run bench -- --only node`, or directly: `npx tsx bench/node-agent.ts --help`.
//
// The containerd of scripts/setup-node.sh is shared with test runs. A real node removes every pod
// its control plane does not know, so the benchmark's node sees only the sandboxes of its own
// namespace (scopeCriToNamespace); a node owning its containerd needs no such thing.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, platform, release, tmpdir, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { startControlPlane, type ControlPlane } from '../cli/control-plane.js';
import { issueLocalNodeCredential } from '../cli/local-node.js';
import { createLogger } from '../shared/apiserver/logger.js';
import { KubeClient, type ClusterAccess } from '../shared/client/kube-client.js';
import { CriClient } from '../node-agent/cri/client.js';
import { CriRuntime } from '../node-agent/cri/cri-runtime.js';
import { startLocalNode } from '../node-agent/real-node.js';
import { LEASE_DURATION_SECONDS } from '../node-agent/agent.js';
import { freePort, repoRoot, startServer, removeDir } from '../test/e2e/harness.js';
import { pct } from './api.js';
import { AGENT_NODE_FLAGS, buildAgent } from '../scripts/build-agent.js';

const NODE_DIR = process.env.STRATUS_NODE_DIR ?? join(repoRoot, '.cluster/node');
const NS_LABEL = 'io.kubernetes.pod.namespace';
export const NODE_TARGETS = { startupP99Ms: 1500, kubernetesSloP99Ms: 5000, agentRssMb: 60, hollowNodes: 5000 };

const say = (part: string, msg: string) => process.stderr.write(`bench(node ${part}): ${msg}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const round = (x: number, d = 1) => +x.toFixed(d);

// ---- process measurements from /proc

/** Resident set size of a process in MB (VmRSS). */
export function rssMb(pid: number): number {
  const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? round(Number(m[1]) / 1024) : NaN;
}

/** User + system CPU seconds a process used so far. */
function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in clock ticks (USER_HZ 100)
}

/** CPU use of a process between two calls, in % of one core. */
function cpuMeter(pid: number): () => number {
  let t = performance.now();
  let c = cpuSeconds(pid);
  return () => {
    const now = performance.now();
    const used = cpuSeconds(pid);
    const pctCore = ((used - c) / ((now - t) / 1000)) * 100;
    t = now;
    c = used;
    return round(pctCore);
  };
}

// ---- shared containerd isolation

/** Limit every list this process makes through CriClient to sandboxes/containers of namespace `ns`. */
export function scopeCriToNamespace(ns: string): () => void {
  const proto = CriClient.prototype;
  const { listPodSandbox, listContainers } = proto;
  proto.listPodSandbox = function (filter = {}) {
    return listPodSandbox.call(this, { ...filter, label_selector: { [NS_LABEL]: ns, ...filter.label_selector } });
  };
  proto.listContainers = function (filter = {}) {
    return listContainers.call(this, { ...filter, label_selector: { [NS_LABEL]: ns, ...filter.label_selector } });
  };
  return () => {
    proto.listPodSandbox = listPodSandbox;
    proto.listContainers = listContainers;
  };
}

/** Remove every sandbox of namespace `ns` from the shared containerd, and its cgroup root. */
async function removeNamespaceSandboxes(ns: string, cgroupRoot: string): Promise<void> {
  const runtime = await CriRuntime.connect({ socket: join(NODE_DIR, 'containerd.sock'), cgroupRoot }).catch(() => undefined);
  if (!runtime) return;
  try {
    const sandboxes = await runtime.client.listPodSandbox({ label_selector: { [NS_LABEL]: ns } });
    const uids = new Set(sandboxes.map((s) => s.labels['io.kubernetes.pod.uid']).filter(Boolean));
    await Promise.all([...uids].map((uid) => runtime.stopPod(uid, 0).catch(() => undefined)));
  } finally {
    runtime.close();
  }
}

const busybox = (ns: string, name: string, nodeName?: string) => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, namespace: ns, labels: { bench: 'node' } },
  spec: {
    ...(nodeName ? { nodeName } : {}),
    terminationGracePeriodSeconds: 0,
    containers: [{ name: 'c', image: 'busybox', imagePullPolicy: 'IfNotPresent', command: ['sleep', '3600'] }],
  },
});

type PodView = { metadata: { name: string; uid: string }; spec?: { nodeName?: string }; status?: { phase?: string } };

async function waitFor<T>(check: () => Promise<T | undefined | false> | T | undefined | false, what: string, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

async function deleteAllPods(client: KubeClient, ns: string): Promise<void> {
  const pods = (await client.get<{ items: PodView[] }>(`/api/v1/namespaces/${ns}/pods`)).items;
  await Promise.all(pods.map((p) => client.delete(`/api/v1/namespaces/${ns}/pods/${p.metadata.name}`).catch(() => undefined)));
  await waitFor(async () => (await client.get<{ items: unknown[] }>(`/api/v1/namespaces/${ns}/pods`)).items.length === 0, `pods of ${ns} to be deleted`, 120_000);
}

// ---- (a) pod startup latency

interface PodTimeline {
  created: number;
  bound?: number;
  agentSeen?: number;
  startPodBegin?: number;
  sandboxBegin?: number;
  sandboxEnd?: number;
  createBegin?: number;
  createEnd?: number;
  startBegin?: number;
  startEnd?: number;
  startPodEnd?: number;
  patchBegin?: number;
  patchEnd?: number;
  running?: number;
}

const SEGMENTS: [string, keyof PodTimeline, keyof PodTimeline][] = [
  ['scheduler (created -> bound event)', 'created', 'bound'],
  ['agent watch (bound event -> agent sees pod)', 'bound', 'agentSeen'],
  ['agent queue (sees -> startPod)', 'agentSeen', 'startPodBegin'],
  ['before RunPodSandbox (list sandboxes, log dir)', 'startPodBegin', 'sandboxBegin'],
  ['CRI RunPodSandbox', 'sandboxBegin', 'sandboxEnd'],
  ['sandbox -> CreateContainer (sandbox status, status reads, image check, env)', 'sandboxEnd', 'createBegin'],
  ['CRI CreateContainer', 'createBegin', 'createEnd'],
  ['CRI StartContainer', 'startBegin', 'startEnd'],
  ['after StartContainer -> startPod returns (status read)', 'startEnd', 'startPodEnd'],
  ['startPod returned -> Running patch sent (status read, report)', 'startPodEnd', 'patchBegin'],
  ['status PATCH round trip', 'patchBegin', 'patchEnd'],
  ['patch answered -> watch sees Running', 'patchEnd', 'running'],
  ['total (created -> Running)', 'created', 'running'],
];

function breakdown(timelines: PodTimeline[]): Record<string, { p50Ms: number; p99Ms: number }> {
  const out: Record<string, { p50Ms: number; p99Ms: number }> = {};
  for (const [label, from, to] of SEGMENTS) {
    const xs = timelines.filter((t) => t[from] !== undefined && t[to] !== undefined).map((t) => t[to]! - t[from]!);
    if (xs.length) out[label] = { p50Ms: round(pct(xs, 50)), p99Ms: round(pct(xs, 99)) };
  }
  return out;
}

export interface StartupResult {
  node: string;
  sequential: { pods: number; p50Ms: number; p99Ms: number; maxMs: number; breakdown: Record<string, { p50Ms: number; p99Ms: number }> };
  waves: { waves: number; perWave: number; p50Ms: number; p99Ms: number; maxMs: number; breakdown: Record<string, { p50Ms: number; p99Ms: number }> };
  /** Every CRI call the agent made during the run: count and mean duration. */
  criCalls: Record<string, { calls: number; meanMs: number }>;
  pollIntervalMs: number;
  /** 1-minute load average before and after: other work on the machine shows here. */
  loadAvg: number[];
}

export async function runStartupBench(opts: { quick?: boolean; pollIntervalMs?: number } = {}): Promise<StartupResult> {
  const ns = 'bench-node-startup';
  const nodeName = 'stratus-bench-startup';
  const cgroupRoot = '/stratus-bench-startup';
  const sequentialPods = opts.quick ? 5 : 10;
  const waves = opts.quick ? 1 : 2;
  const perWave = 10;
  const pollIntervalMs = opts.pollIntervalMs ?? 500;
  const loadAtStart = round(loadavg()[0], 2);
  const unscope = scopeCriToNamespace(ns);
  await removeNamespaceSandboxes(ns, cgroupRoot);
  const dir = mkdtempSync(join(tmpdir(), 'stratus-bench-node-'));
  let cp: ControlPlane | undefined;
  let admin: KubeClient | undefined;
  let nodeClient: KubeClient | undefined;
  let node: Awaited<ReturnType<typeof startLocalNode>> | undefined;
  try {
    cp = await startControlPlane({ dataDir: dir, port: await freePort(), log: createLogger('silent') });
    admin = new KubeClient({ server: cp.url, token: cp.token, caCert: cp.caCert });
    await admin.create('/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
    const credential = await issueLocalNodeCredential({ server: cp.url, token: cp.token, caCert: cp.caCert }, dir, nodeName);
    nodeClient = new KubeClient(credential.access, { userAgent: 'stratus-node-agent' });

    const timelines = new Map<string, PodTimeline>(); // by pod name
    const byUid = new Map<string, PodTimeline>();
    const uidOfSandbox = new Map<string, string>();
    const uidOfContainer = new Map<string, string>();
    const calls = new Map<string, { n: number; ms: number }>();

    // The status patch that reports Running, seen on the node's client.
    const patch = nodeClient.patch.bind(nodeClient);
    nodeClient.patch = (async (path: string, body: unknown, type?: 'merge' | 'strategic' | 'json') => {
      const m = /\/namespaces\/[^/]+\/pods\/([^/]+)\/status$/.exec(path);
      const t = m && (body as { status?: { phase?: string } }).status?.phase === 'Running' ? timelines.get(m[1]) : undefined;
      const begin = performance.now();
      const res = await patch(path, body, type);
      if (t && t.patchBegin === undefined) {
        t.patchBegin = begin;
        t.patchEnd = performance.now();
      }
      return res;
    }) as typeof nodeClient.patch;

    say('startup', `starting node ${nodeName} (containerd ${NODE_DIR})`);
    node = await startLocalNode({ client: nodeClient, nodeDir: NODE_DIR, nodeName, log: createLogger('warn'), cgroupRoot, pollIntervalMs });
    const agent = node.agent;
    const handlePod = agent.handlePod.bind(agent);
    agent.handlePod = (type, pod) => {
      const t = timelines.get(pod.metadata.name);
      if (t && t.agentSeen === undefined && pod.spec.nodeName) t.agentSeen = performance.now();
      if (t) byUid.set(pod.metadata.uid, t);
      return handlePod(type, pod);
    };
    const runtime = node.runtime;
    const startPod = runtime.startPod.bind(runtime);
    runtime.startPod = async (pod) => {
      const t = byUid.get((pod.metadata as { uid: string }).uid);
      if (t && t.startPodBegin === undefined) t.startPodBegin = performance.now();
      const res = await startPod(pod);
      if (t && t.startPodEnd === undefined) t.startPodEnd = performance.now();
      return res;
    };
    // Every CRI call: count and time; the three that start a pod also go into its timeline.
    const cri = runtime.client as unknown as Record<string, (...args: unknown[]) => Promise<unknown>>;
    for (const method of ['status', 'runPodSandbox', 'stopPodSandbox', 'removePodSandbox', 'podSandboxStatus', 'listPodSandbox', 'createContainer', 'startContainer', 'stopContainer', 'removeContainer', 'listContainers', 'containerStatus', 'listImages', 'imageStatus', 'pullImage']) {
      const orig = cri[method].bind(runtime.client);
      cri[method] = async (...args: unknown[]) => {
        const begin = performance.now();
        const res = await orig(...args);
        const end = performance.now();
        const c = calls.get(method) ?? { n: 0, ms: 0 };
        c.n++;
        c.ms += end - begin;
        calls.set(method, c);
        let t: PodTimeline | undefined;
        if (method === 'runPodSandbox') {
          const uid = (args[0] as { metadata: { uid: string } }).metadata.uid;
          uidOfSandbox.set(res as string, uid);
          t = byUid.get(uid);
          if (t && t.sandboxBegin === undefined) [t.sandboxBegin, t.sandboxEnd] = [begin, end];
        } else if (method === 'createContainer') {
          const uid = uidOfSandbox.get(args[0] as string);
          if (uid) uidOfContainer.set(res as string, uid);
          t = uid ? byUid.get(uid) : undefined;
          if (t && t.createBegin === undefined) [t.createBegin, t.createEnd] = [begin, end];
        } else if (method === 'startContainer') {
          const uid = uidOfContainer.get(args[0] as string);
          t = uid ? byUid.get(uid) : undefined;
          if (t && t.startBegin === undefined) [t.startBegin, t.startEnd] = [begin, end];
        }
        return res;
      };
    }

    const waiters = new Map<string, () => void>();
    const watch = admin.watch(`/api/v1/namespaces/${ns}/pods`, (type, obj) => {
      const pod = obj as PodView;
      const t = timelines.get(pod.metadata?.name);
      if (!t || type === 'DELETED') return;
      const now = performance.now();
      if (pod.spec?.nodeName && t.bound === undefined) t.bound = now;
      if (pod.status?.phase === 'Running' && t.running === undefined) {
        t.running = now;
        waiters.get(pod.metadata.name)?.();
      }
    });
    const startOne = async (name: string) => {
      const running = new Promise<void>((r) => waiters.set(name, r));
      const t: PodTimeline = { created: performance.now() };
      timelines.set(name, t);
      await admin!.create(`/api/v1/namespaces/${ns}/pods`, busybox(ns, name));
      await Promise.race([running, sleep(60_000).then(() => Promise.reject(new Error(`${name} did not run within 60 s`)))]);
      return t;
    };
    try {
      // Warm up (image metadata, first CNI call) outside the numbers.
      await startOne('warmup');
      const sequential: PodTimeline[] = [];
      for (let i = 0; i < sequentialPods; i++) {
        sequential.push(await startOne(`seq-${i}`));
        say('startup', `sequential ${i + 1}/${sequentialPods}: ${round(sequential[i].running! - sequential[i].created)} ms`);
      }
      const inWaves: PodTimeline[] = [];
      for (let w = 0; w < waves; w++) {
        const wave = await Promise.all(Array.from({ length: perWave }, (_, i) => startOne(`wave${w}-${i}`)));
        inWaves.push(...wave);
        const totals = wave.map((t) => t.running! - t.created);
        say('startup', `wave ${w + 1}/${waves} of ${perWave}: p50 ${pct(totals, 50)} ms, max ${round(Math.max(...totals))} ms`);
      }
      const totals = (ts: PodTimeline[]) => ts.map((t) => t.running! - t.created);
      const result: StartupResult = {
        node: nodeName,
        sequential: { pods: sequential.length, p50Ms: round(pct(totals(sequential), 50)), p99Ms: round(pct(totals(sequential), 99)), maxMs: round(Math.max(...totals(sequential))), breakdown: breakdown(sequential) },
        waves: { waves, perWave, p50Ms: round(pct(totals(inWaves), 50)), p99Ms: round(pct(totals(inWaves), 99)), maxMs: round(Math.max(...totals(inWaves))), breakdown: breakdown(inWaves) },
        criCalls: Object.fromEntries([...calls].sort((a, b) => b[1].ms - a[1].ms).map(([k, v]) => [k, { calls: v.n, meanMs: round(v.ms / v.n, 2) }])),
        pollIntervalMs,
        loadAvg: [loadAtStart, round(loadavg()[0], 2)],
      };
      say('startup', `sequential p50 ${result.sequential.p50Ms} ms p99 ${result.sequential.p99Ms} ms; waves p50 ${result.waves.p50Ms} ms p99 ${result.waves.p99Ms} ms`);
      return result;
    } finally {
      watch.close();
      await deleteAllPods(admin, ns).catch((e: unknown) => say('startup', `cleanup: ${String(e)}`));
    }
  } finally {
    await node?.stop();
    nodeClient?.close();
    admin?.close();
    await cp?.close();
    unscope();
    await removeNamespaceSandboxes(ns, cgroupRoot);
    rmSync(dir, { recursive: true, force: true });
  }
}

// ---- (b) agent RSS as its own process

/** The agent process: a real node with the credential and options in STRATUS_BENCH_AGENT (JSON). */
function agentEntrySource(importPath: (file: string) => string): string {
  return `
import { startLocalNode } from ${JSON.stringify(importPath('node-agent/real-node.ts'))};
import { KubeClient } from ${JSON.stringify(importPath('shared/client/kube-client.ts'))};
import { CriClient } from ${JSON.stringify(importPath('node-agent/cri/client.ts'))};
import { createLogger } from ${JSON.stringify(importPath('shared/apiserver/logger.ts'))};
const cfg = JSON.parse(process.env.STRATUS_BENCH_AGENT);
// Shared containerd: see only this namespace's sandboxes (as bench/node-agent.ts explains).
const scope = (f = {}) => ({ ...f, label_selector: { ${JSON.stringify(NS_LABEL)}: cfg.namespace, ...f.label_selector } });
const { listPodSandbox, listContainers } = CriClient.prototype;
CriClient.prototype.listPodSandbox = function (f) { return listPodSandbox.call(this, scope(f)); };
CriClient.prototype.listContainers = function (f) { return listContainers.call(this, scope(f)); };
const client = new KubeClient(cfg.access, { userAgent: 'stratus-node-agent' });
const node = await startLocalNode({ client, nodeDir: cfg.nodeDir, nodeName: cfg.nodeName, cgroupRoot: cfg.cgroupRoot, log: createLogger('warn') });
process.stdout.write('agent ready\\n');
process.on('SIGTERM', () => void node.stop().finally(() => { client.close(); process.exit(0); }));
`;
}

interface AgentProcess {
  child: ChildProcess;
  stop(): Promise<void>;
}

async function spawnAgent(command: string[], env: Record<string, string>): Promise<AgentProcess> {
  const child = spawn(command[0], command.slice(1), { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  await waitFor(() => {
    if (child.exitCode !== null) throw new Error(`agent exited with ${child.exitCode}:\n${out}`);
    return out.includes('agent ready');
  }, 'the agent process to start', 60_000);
  return {
    child,
    async stop() {
      const exited = new Promise((r) => child.once('exit', r));
      if (child.exitCode === null) child.kill('SIGTERM');
      await Promise.race([exited, sleep(15_000).then(() => child.kill('SIGKILL'))]);
    },
  };
}

export interface RssResult {
  settleMs: number;
  /** VmRSS in MB per way of running the agent (tsx, esbuild bundle, bundle with a small young generation, the shipped launcher's flags) and pod count. */
  variants: Record<string, Record<string, number>>;
  bundleKiB: number;
  targetMb: number;
  loadAvg: number[];
}

export async function runRssBench(opts: { quick?: boolean } = {}): Promise<RssResult> {
  const ns = 'bench-node-rss';
  const nodeName = 'stratus-bench-rss';
  const cgroupRoot = '/stratus-bench-rss';
  const settleMs = opts.quick ? 3000 : 8000;
  const podCounts = [0, 10, 30];
  await removeNamespaceSandboxes(ns, cgroupRoot);
  const dir = mkdtempSync(join(tmpdir(), 'stratus-bench-rss-'));
  const cp = await startControlPlane({ dataDir: dir, port: await freePort(), log: createLogger('silent') });
  const admin = new KubeClient({ server: cp.url, token: cp.token, caCert: cp.caCert });
  try {
    await admin.create('/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
    const credential = await issueLocalNodeCredential({ server: cp.url, token: cp.token, caCert: cp.caCert }, dir, nodeName);
    const env = { STRATUS_BENCH_AGENT: JSON.stringify({ access: credential.access satisfies ClusterAccess, nodeDir: NODE_DIR, nodeName, cgroupRoot, namespace: ns }) };
    const entryTs = join(dir, 'agent-entry.mts');
    writeFileSync(entryTs, agentEntrySource((f) => pathToFileURL(join(repoRoot, f)).href));
    // The bundle is built the way scripts/build-agent.ts ships the agent, from the benchmark's own
    // entry: the shipped node-agent/main.ts would see (and remove) every sandbox on the shared containerd.
    const bundleEntry = join(dir, 'agent-entry-bundle.ts');
    writeFileSync(bundleEntry, agentEntrySource((f) => join(repoRoot, f)));
    say('rss', 'bundling the agent with esbuild (scripts/build-agent.ts)');
    const bundle = await buildAgent({ outDir: join(dir, 'bundle'), entry: bundleEntry });
    const variants: [string, string[]][] = [
      ['tsx', [process.execPath, '--import', 'tsx', entryTs]],
      ['bundled', [process.execPath, bundle.file]],
      // V8's young generation defaults to 16 MB semi-spaces; an agent allocates little per second.
      ['bundledSemiSpace1Mb', [process.execPath, '--max-semi-space-size=1', bundle.file]],
      // As dist/agent/stratus-agent runs it: also without V8's optimizing compilers (less code memory, slower hot loops; an agent has few).
      ['shipped', [process.execPath, ...AGENT_NODE_FLAGS, bundle.file]],
    ];
    const result: RssResult = { settleMs, variants: {}, bundleKiB: Math.round(bundle.bytes / 1024), targetMb: NODE_TARGETS.agentRssMb, loadAvg: [round(loadavg()[0], 2)] };
    for (const [variant, command] of variants) {
      const agent = await spawnAgent(command, env);
      const pid = agent.child.pid!;
      try {
        let created = 0;
        for (const count of podCounts) {
          for (; created < count; created++) await admin.create(`/api/v1/namespaces/${ns}/pods`, busybox(ns, `${variant.toLowerCase()}-${created}`, nodeName));
          // Another test run's node on the shared containerd may remove sandboxes it does not know; record what ran.
          let running = 0;
          await waitFor(async () => {
            const items = (await admin.get<{ items: PodView[] }>(`/api/v1/namespaces/${ns}/pods`)).items;
            running = items.filter((p) => p.status?.phase === 'Running').length;
            return running >= count;
          }, `${count} pods running`, 90_000).catch(() => say('rss', `only ${running}/${count} pods running after 90 s; measuring anyway`));
          await sleep(settleMs);
          const rss = rssMb(pid);
          const v = (result.variants[variant] ??= {});
          v[`pods${count}Mb`] = rss;
          if (running < count) v[`pods${count}Running`] = running;
          say('rss', `${variant} agent with ${count} pods (${running} running): VmRSS ${rss} MB`);
        }
      } finally {
        await deleteAllPods(admin, ns).catch((e: unknown) => say('rss', `cleanup: ${String(e)}`));
        await agent.stop();
      }
    }
    result.loadAvg.push(round(loadavg()[0], 2));
    return result;
  } finally {
    admin.close();
    await cp.close();
    await removeNamespaceSandboxes(ns, cgroupRoot);
    rmSync(dir, { recursive: true, force: true });
  }
}

// ---- (c) hollow capacity

export interface HollowStep {
  nodes: number;
  registerSec: number;
  steadySec: number;
  leaseAgeP50Sec: number;
  leaseAgeP99Sec: number;
  leaseAgeMaxSec: number;
  /** Lease renewals seen per second (expected nodes / heartbeat interval). */
  renewalsPerSec: number;
  notReadyMax: number;
  probeP50Ms: number;
  probeP99Ms: number;
  probeMaxMs: number;
  agentRssMb: number;
  agentCpuPct: number;
  controlPlaneRssMb: number;
  controlPlaneCpuPct: number;
  keptUp: boolean;
  /** 1-minute load average at the end of the steady state (other work on the machine shows here). */
  loadAvg: number;
}

type LeaseList = { items: { metadata: { name: string }; spec?: { renewTime?: string } }[] };
type NodeList = { items: { metadata: { name: string }; status?: { conditions?: { type: string; status: string }[] } }[] };

async function hollowStep(nodes: number, steadySec: number, heartbeatSec: number): Promise<HollowStep> {
  const server = await startServer({ logLevel: 'warn' });
  const client = new KubeClient({ server: server.url, token: server.token, caCert: server.ca }, { maxSockets: 4 });
  const prefix = 'hollow-';
  const agentArgs = ['--import', 'tsx', join(repoRoot, 'cli/stratus.ts'), 'agent', '--kubeconfig', server.kubeconfig, '--simulate', String(nodes), '--heartbeat-interval', String(heartbeatSec), '--prefix', prefix, '--log-level', 'warn'];
  const agent = spawn(process.execPath, agentArgs, { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
  let agentOut = '';
  agent.stdout!.on('data', (d) => (agentOut += d));
  agent.stderr!.on('data', (d) => (agentOut += d));
  try {
    const t0 = performance.now();
    // Registration: watch the Node count grow.
    for (;;) {
      if (agent.exitCode !== null) throw new Error(`stratus agent exited with ${agent.exitCode}:\n${agentOut.slice(-2000)}`);
      if (agentOut.includes('hollow nodes running')) break;
      await sleep(2000);
      const leases = await client.get<LeaseList>('/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases');
      say('hollow', `${nodes} nodes: ${leases.items.length} registered after ${round((performance.now() - t0) / 1000)} s (agent RSS ${rssMb(agent.pid!)} MB)`);
      if (performance.now() - t0 > 900_000) throw new Error('registration took more than 15 minutes');
    }
    const registerSec = round((performance.now() - t0) / 1000);
    say('hollow', `${nodes} nodes registered in ${registerSec} s; one heartbeat interval to settle, then steady state for ${steadySec} s`);
    // Leases written during registration are older than one interval until the first round of renewals.
    await sleep((heartbeatSec + 2) * 1000);

    const agentCpu = cpuMeter(agent.pid!);
    const cpCpu = cpuMeter(server.child.pid!);
    const ages: number[] = [];
    const probes: number[] = [];
    let notReadyMax = 0;
    let renewals = 0;
    let lastRenew = new Map<string, string>();
    const steadyStart = performance.now();
    let stopProbe = false;
    const probeLoop = (async () => {
      while (!stopProbe) {
        const b = performance.now();
        await client.get('/api/v1/namespaces/default');
        probes.push(performance.now() - b);
        await sleep(500);
      }
    })();
    let firstSample = true;
    while (performance.now() - steadyStart < steadySec * 1000) {
      await sleep(5000);
      const [leases, nodeList] = await Promise.all([
        client.get<LeaseList>('/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases'),
        client.get<NodeList>(`/api/v1/nodes?labelSelector=${encodeURIComponent('node.stratus.dev/hollow=true')}`),
      ]);
      const now = Date.now();
      const seen = new Map<string, string>();
      for (const l of leases.items) {
        if (!l.metadata.name.startsWith(prefix) || !l.spec?.renewTime) continue;
        seen.set(l.metadata.name, l.spec.renewTime);
        ages.push((now - Date.parse(l.spec.renewTime)) / 1000);
        if (!firstSample && lastRenew.get(l.metadata.name) !== l.spec.renewTime) renewals++;
      }
      firstSample = false;
      lastRenew = seen;
      const notReady = nodeList.items.filter((n) => n.status?.conditions?.find((c) => c.type === 'Ready')?.status !== 'True').length;
      notReadyMax = Math.max(notReadyMax, notReady);
      say('hollow', `${nodes} nodes, ${round((performance.now() - steadyStart) / 1000)} s: lease age p99 ${round(pct(ages, 99))} s, NotReady ${notReady}, probe p99 ${round(pct(probes, 99))} ms, agent RSS ${rssMb(agent.pid!)} MB`);
    }
    const steadyElapsed = (performance.now() - steadyStart) / 1000;
    stopProbe = true;
    await probeLoop;
    const step: HollowStep = {
      nodes,
      registerSec,
      steadySec: round(steadyElapsed),
      leaseAgeP50Sec: round(pct(ages, 50)),
      leaseAgeP99Sec: round(pct(ages, 99)),
      leaseAgeMaxSec: round(Math.max(...ages)),
      // Renewals counted between samples: a lease renewed twice between two samples counts once, so this is a lower bound.
      renewalsPerSec: round(renewals / Math.max(1, steadyElapsed - 5)),
      notReadyMax,
      probeP50Ms: round(pct(probes, 50)),
      probeP99Ms: round(pct(probes, 99)),
      probeMaxMs: round(Math.max(...probes)),
      agentRssMb: rssMb(agent.pid!),
      agentCpuPct: agentCpu(),
      controlPlaneRssMb: rssMb(server.child.pid!),
      controlPlaneCpuPct: cpCpu(),
      keptUp: false,
      loadAvg: round(loadavg()[0], 2),
    };
    step.keptUp = step.leaseAgeP99Sec < LEASE_DURATION_SECONDS && step.notReadyMax === 0;
    say('hollow', JSON.stringify(step));
    return step;
  } finally {
    const exited = new Promise((r) => agent.once('exit', r));
    if (agent.exitCode === null) agent.kill('SIGTERM');
    await Promise.race([exited, sleep(20_000).then(() => agent.kill('SIGKILL'))]);
    client.close();
    await server.stop();
    removeDir(server.dataDir);
  }
}

export async function runHollowBench(opts: { quick?: boolean; nodes?: number[]; steadySec?: number; heartbeatSec?: number } = {}): Promise<{ heartbeatSec: number; leaseDurationSec: number; steps: HollowStep[]; maxNodesKeptUp: number; targetNodes: number }> {
  const counts = opts.nodes ?? (opts.quick ? [500] : [1000, 2500, 5000]);
  const heartbeatSec = opts.heartbeatSec ?? 10;
  const steps: HollowStep[] = [];
  for (const n of counts) steps.push(await hollowStep(n, opts.steadySec ?? (opts.quick ? 30 : 60), heartbeatSec));
  return { heartbeatSec, leaseDurationSec: LEASE_DURATION_SECONDS, steps, maxNodesKeptUp: Math.max(0, ...steps.filter((s) => s.keptUp).map((s) => s.nodes)), targetNodes: NODE_TARGETS.hollowNodes };
}

// ---- all parts

export const NODE_PARTS = ['startup', 'rss', 'hollow'] as const;
export type NodePart = (typeof NODE_PARTS)[number];

export async function runNodeAgentBench(opts: { quick?: boolean; parts?: NodePart[]; hollowNodes?: number[] } = {}): Promise<Record<string, unknown>> {
  const parts = opts.parts ?? [...NODE_PARTS];
  const out: Record<string, unknown> = { targets: NODE_TARGETS };
  if (parts.includes('startup')) out.startup = await runStartupBench(opts);
  if (parts.includes('rss')) out.rss = await runRssBench(opts);
  if (parts.includes('hollow')) out.hollow = await runHollowBench({ quick: opts.quick, nodes: opts.hollowNodes });
  return out;
}

if (process.argv[1] && resolve(process.argv[1]) === resolve(import.meta.filename)) {
  const { values } = parseArgs({
    options: {
      part: { type: 'string', multiple: true },
      nodes: { type: 'string' },
      'poll-ms': { type: 'string' },
      quick: { type: 'boolean' },
      out: { type: 'string', default: join(import.meta.dirname, 'results') },
      help: { type: 'boolean' },
    },
  });
  if (values.help) {
    process.stdout.write('npx tsx bench/node-agent.ts [--part startup|rss|hollow ...] [--nodes 1000,2500,5000] [--poll-ms 500] [--quick] [--out dir]\n');
    process.exit(0);
  }
  const parts = (values.part ?? [...NODE_PARTS]) as NodePart[];
  for (const p of parts) if (!NODE_PARTS.includes(p)) throw new Error(`--part must be one of ${NODE_PARTS.join(', ')}`);
  const hollowNodes = values.nodes?.split(',').map(Number);
  const results: Record<string, unknown> = {
    date: new Date().toISOString(),
    machine: { cpu: cpus()[0]?.model, cores: cpus().length, memoryGiB: +(totalmem() / 2 ** 30).toFixed(1), os: `${platform()} ${release()}`, node: process.version },
    quick: !!values.quick,
  };
  if (parts.includes('startup')) results.startup = await runStartupBench({ quick: values.quick, pollIntervalMs: values['poll-ms'] ? Number(values['poll-ms']) : undefined });
  if (parts.includes('rss')) results.rss = await runRssBench({ quick: values.quick });
  if (parts.includes('hollow')) results.hollow = await runHollowBench({ quick: values.quick, nodes: hollowNodes });
  mkdirSync(values.out!, { recursive: true });
  const file = join(values.out!, `node-${parts.join('-')}-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, JSON.stringify(results, null, 2));
  process.stdout.write(`${JSON.stringify(results, null, 2)}\nwritten to ${file}\n`);
  process.exit(0);
}
