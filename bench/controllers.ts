// Controller benchmark (issue #4), against a started `stratus start` (either backend) with hollow
// nodes in this process: reconcile latency from a change to its effect (scale a Deployment by
// one -> its new pod exists -> the pod is bound), and the time from `kubectl scale
// --replicas=1000` to all pods bound and running.
import { performance } from 'node:perf_hooks';
import { createLogger } from '../shared/apiserver/logger.js';
import { KubeClient } from '../shared/client/kube-client.js';
import { startHollowNodes } from '../node-agent/simulate.js';
import { kubectl, removeDir, startServer, type Backend } from '../test/e2e/harness.js';
import { pct } from './api.js';

interface PodEvent {
  type: string;
  name: string;
  nodeName?: string;
  phase?: string;
}

export interface ControllerBenchResult {
  backend: Backend;
  nodes: number;
  scaleByOne: { samples: number; podCreatedP50Ms: number; podCreatedP99Ms: number; podBoundP50Ms: number; podBoundP99Ms: number };
  scaleTo: { replicas: number; allBoundSec: number; allRunningSec: number; boundPerSec: number };
}

const deployment = (name: string, replicas: number) => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name, namespace: 'default' },
  spec: {
    replicas,
    selector: { matchLabels: { app: name } },
    template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'c', image: 'busybox', resources: { requests: { cpu: '10m', memory: '16Mi' } } }] } },
  },
});

export async function runControllersBench(opts: { quick?: boolean; backend?: Backend; log?: (msg: string) => void } = {}): Promise<ControllerBenchResult> {
  const backend = opts.backend ?? 'sqlite';
  const say = opts.log ?? ((m: string) => process.stderr.write(`[controllers ${backend}] ${m}\n`));
  const nodesWanted = opts.quick ? 20 : 100;
  const steps = opts.quick ? 10 : backend === 'dynamodb' ? 20 : 50;
  const replicas = opts.quick ? 100 : backend === 'dynamodb' ? 200 : 1000;
  const server = await startServer({ backend });
  const client = new KubeClient({ server: server.url, token: server.token, caCert: server.ca }, { maxSockets: 64 });
  const log = createLogger('warn');
  say(`registering ${nodesWanted} hollow nodes`);
  const nodes = await startHollowNodes({ client, count: nodesWanted, log, capacity: { cpu: '32', memory: '64Gi', pods: '110' } });
  const events: (PodEvent & { at: number })[] = [];
  let onEvent: ((e: PodEvent) => void) | undefined;
  const watch = client.watch('/api/v1/namespaces/default/pods', (type, obj) => {
    const pod = obj as { metadata: { name: string }; spec?: { nodeName?: string }; status?: { phase?: string } };
    const e = { type, name: pod.metadata?.name, nodeName: pod.spec?.nodeName, phase: pod.status?.phase };
    events.push({ ...e, at: performance.now() });
    onEvent?.(e);
  });
  try {
    // 1. Scale by one, many times: change -> pod created (deployment + replicaset controllers) -> bound (scheduler).
    await client.create('/apis/apps/v1/namespaces/default/deployments', deployment('step', 0));
    const created: number[] = [];
    const bound: number[] = [];
    for (let i = 1; i <= steps; i++) {
      const seen = new Set<string>(events.filter((e) => e.name.startsWith('step-')).map((e) => e.name));
      const t0 = performance.now();
      let createdAt = 0;
      const done = new Promise<void>((resolve) => {
        onEvent = (e) => {
          if (!e.name.startsWith('step-') || seen.has(e.name) || e.type === 'DELETED') return;
          if (!createdAt) createdAt = performance.now();
          if (e.nodeName) resolve();
        };
      });
      await client.patch('/apis/apps/v1/namespaces/default/deployments/step/scale', { spec: { replicas: i } });
      await done;
      created.push(createdAt - t0);
      bound.push(performance.now() - t0);
      if (i % 10 === 0) say(`scale step ${i}/${steps}: created p50 ${pct(created, 50)} ms, bound p50 ${pct(bound, 50)} ms`);
    }
    onEvent = undefined;

    // 2. kubectl scale --replicas=N on a fresh deployment: time to all bound and all running.
    await client.create('/apis/apps/v1/namespaces/default/deployments', deployment('big', 1));
    const boundNames = new Set<string>();
    const runningNames = new Set<string>();
    let allBound = 0;
    let allRunning = 0;
    const finished = new Promise<void>((resolve) => {
      onEvent = (e) => {
        if (!e.name.startsWith('big-') || e.type === 'DELETED') return;
        if (e.nodeName) boundNames.add(e.name);
        if (e.phase === 'Running') runningNames.add(e.name);
        if (!allBound && boundNames.size >= replicas) allBound = performance.now();
        if (!allRunning && runningNames.size >= replicas) {
          allRunning = performance.now();
          resolve();
        }
      };
    });
    const progress = setInterval(() => say(`scale to ${replicas}: ${boundNames.size} bound, ${runningNames.size} running`), 2000);
    const t0 = performance.now();
    const r = await kubectl(server, '1.33', ['scale', 'deployment/big', `--replicas=${replicas}`]);
    if (r.code !== 0) throw new Error(`kubectl scale failed: ${r.stderr}`);
    await finished;
    clearInterval(progress);
    const result: ControllerBenchResult = {
      backend,
      nodes: nodesWanted,
      scaleByOne: { samples: steps, podCreatedP50Ms: pct(created, 50), podCreatedP99Ms: pct(created, 99), podBoundP50Ms: pct(bound, 50), podBoundP99Ms: pct(bound, 99) },
      scaleTo: { replicas, allBoundSec: +((allBound - t0) / 1000).toFixed(2), allRunningSec: +((allRunning - t0) / 1000).toFixed(2), boundPerSec: Math.round(replicas / ((allBound - t0) / 1000)) },
    };
    say(JSON.stringify(result));
    return result;
  } finally {
    watch.close();
    await nodes.stop();
    client.close();
    await server.stop();
    removeDir(server.dataDir);
  }
}
