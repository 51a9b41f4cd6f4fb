// Scheduler throughput, in-process: the SQLite store, the API server's storage and a controller
// manager running only the scheduler. Nodes and pending pods are created first; the clock runs
// from the manager's start (informer sync included) until every pod is bound. kube-scheduler's
// scheduler_perf CI floor for the same shape of test (5000 nodes, plain pods) is 680 pods/s.
// Run directly: `npx tsx bench/scheduler.ts --help`.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, platform, release, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { builtinRegistry } from '../shared/api/registry.js';
import { bootstrapCluster } from '../shared/apiserver/bootstrap.js';
import { createLogger } from '../shared/apiserver/logger.js';
import { RestClient } from '../shared/controllers/runtime/client.js';
import { ControllerManager } from '../shared/controllers/runtime/manager.js';
import { StoreReader } from '../shared/controllers/runtime/reader.js';
import { schedulerController } from '../shared/scheduler/controller.js';
import { openSqliteStore } from '../shared/store/sqlite.js';
import { createApiServer } from '../functions/apiserver/app.js';

export interface SchedulerBenchOptions {
  /** A tenth of the load, for a smoke run. */
  quick?: boolean;
  nodes?: number;
  pods?: number;
  /** Concurrent reconciles of the scheduler (its default when absent). */
  workers?: number;
}

export const SCHEDULER_TARGETS = { podsPerSecond: 1000, kubeSchedulerCiFloorPodsPerSecond: 680 };

const progress = (msg: string) => process.stderr.write(`bench(scheduler): ${msg}\n`);

async function inBatches(total: number, batch: number, make: (i: number) => Promise<unknown>, label: string): Promise<void> {
  for (let start = 0; start < total; start += batch) {
    await Promise.all(Array.from({ length: Math.min(batch, total - start) }, (_, j) => make(start + j)));
    if ((start + batch) % (batch * 20) === 0 || start + batch >= total) progress(`${label}: ${Math.min(total, start + batch)}/${total}`);
  }
}

export async function runSchedulerBench(opts: SchedulerBenchOptions = {}): Promise<Record<string, unknown>> {
  const nodes = opts.nodes ?? (opts.quick ? 500 : 5000);
  const pods = opts.pods ?? (opts.quick ? 1000 : 10_000);
  const dir = mkdtempSync(join(tmpdir(), 'stratus-sched-bench-'));
  const store = openSqliteStore({ path: join(dir, 'db'), historyRetention: false });
  const registry = builtinRegistry();
  const log = createLogger('warn');
  const { rest, namespaces } = createApiServer({ store, registry, log, serverAddress: '127.0.0.1:0', authenticator: { authenticateToken: () => undefined } });
  await namespaces.start();
  await bootstrapCluster(rest, registry, 6443);
  const client = new RestClient(rest, registry, store, 'bench');
  try {
    const capacity = { cpu: '4', memory: '16Gi', pods: '110', 'ephemeral-storage': '100Gi' };
    const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
    await inBatches(
      nodes,
      50,
      async (i) => {
        const name = `node-${i}`;
        const node = await client.create('core/nodes', { metadata: { name, labels: { 'kubernetes.io/hostname': name, 'kubernetes.io/os': 'linux' } }, spec: {} });
        await client.updateStatus('core/nodes', {
          ...node,
          status: { capacity, allocatable: capacity, conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'kubelet is posting ready status', lastHeartbeatTime: now, lastTransitionTime: now }] },
        });
      },
      'nodes created',
    );
    await inBatches(
      pods,
      100,
      (i) =>
        client.create('core/pods', {
          metadata: { name: `pod-${i}`, namespace: 'default' },
          spec: { containers: [{ name: 'app', image: 'registry.k8s.io/pause:3.9', resources: { requests: { cpu: '100m', memory: '128Mi' } } }] },
        }),
      'pending pods created',
    );

    const scheduler = schedulerController(opts.workers ? { workers: opts.workers } : {});
    const manager = new ControllerManager({ store, registry, rest, namespaces, log, controllers: [scheduler] });
    let bound = 0;
    let done: () => void = () => {};
    const allBound = new Promise<void>((resolve) => (done = resolve));
    let start = 0;
    let lastReport = 0;
    // Reported from the cache's callback: in-process writes keep the event loop busy, so a timer would not fire until the end.
    manager.cache.subscribe('core/pods', (type, pod, old) => {
      const nodeName = (pod.spec as { nodeName?: string } | undefined)?.nodeName;
      const before = (old?.spec as { nodeName?: string } | undefined)?.nodeName;
      if (type === 'DELETED' || !nodeName || before) return;
      if (++bound >= pods) done();
      const now = performance.now();
      if (now - lastReport >= 1000) {
        lastReport = now;
        progress(`${bound}/${pods} bound, ${Math.round(bound / ((now - start) / 1000))} pods/s`);
      }
    });
    start = lastReport = performance.now();
    await manager.start();
    const synced = performance.now();
    progress(`informer cache synced in ${Math.round(synced - start)} ms`);
    await allBound;
    const end = performance.now();
    await manager.whenIdle();
    await manager.stop();

    // Nothing over-committed: at 100m per pod a 4-cpu node holds at most 40.
    const perNode = new Map<string, number>();
    for (const p of await new StoreReader(store).list('core/pods', { namespace: 'default' })) {
      const n = (p.spec as { nodeName?: string }).nodeName ?? '';
      perNode.set(n, (perNode.get(n) ?? 0) + 1);
    }
    const maxPodsOnANode = Math.max(...perNode.values());
    if (perNode.has('') || maxPodsOnANode > 40) throw new Error(`bad placement: ${perNode.get('') ?? 0} unbound, up to ${maxPodsOnANode} pods on a node`);
    const seconds = (end - start) / 1000;
    const result = {
      nodes,
      pods,
      workers: scheduler.workers,
      seconds: +seconds.toFixed(3),
      podsPerSecond: Math.round(pods / seconds),
      podsPerSecondAfterSync: Math.round(pods / ((end - synced) / 1000)),
      cacheSyncMs: Math.round(synced - start),
      nodesUsed: perNode.size,
      maxPodsOnANode,
      targets: SCHEDULER_TARGETS,
    };
    progress(`${pods} pods bound in ${result.seconds} s: ${result.podsPerSecond} pods/s`);
    return result;
  } finally {
    namespaces.stop();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

const USAGE = `Usage: npx tsx bench/scheduler.ts [--quick] [--nodes N] [--pods N] [--workers N] [--out DIR]
Schedules N pending pods (100m cpu, 128Mi each) onto N nodes (4 cpu, 16Gi, 110 pods) in-process
and reports pods per second from the scheduler's start until every pod is bound.
`;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      help: { type: 'boolean' },
      quick: { type: 'boolean' },
      nodes: { type: 'string' },
      pods: { type: 'string' },
      workers: { type: 'string' },
      out: { type: 'string' },
    },
  });
  if (values.help) {
    process.stdout.write(USAGE);
    return;
  }
  const num = (s: string | undefined) => (s === undefined ? undefined : Number(s));
  const scheduler = await runSchedulerBench({ quick: values.quick, nodes: num(values.nodes), pods: num(values.pods), workers: num(values.workers) });
  const machine = { cpu: cpus()[0]?.model, cores: cpus().length, memoryGiB: +(totalmem() / 2 ** 30).toFixed(1), os: `${platform()} ${release()}`, node: process.version };
  const result = { date: new Date().toISOString(), machine, quick: !!values.quick, scheduler };
  const outDir = values.out ?? join(import.meta.dirname, 'results');
  mkdirSync(outDir, { recursive: true });
  const file = join(outDir, `scheduler-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
  process.stdout.write(`${JSON.stringify(result, null, 2)}\nwritten to ${file}\n`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((err) => {
    process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
    process.exit(1);
  });
}
