// Issue #4 end to end: real kubectl 1.27 and 1.33 against `stratus start` with three hollow nodes
// (`stratus agent --simulate 3`): Deployments roll out, roll back, pause, restart and scale;
// pods are scheduled, replaced and garbage-collected; Jobs complete; nodes drain; Events show.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BACKENDS, kubectl, kubectlPath, removeDir, startHollowAgent, startServer, type RunningAgent, type RunningServer } from './harness.js';

const backends = BACKENDS;

describe.each(backends)('%s backend', (backend) => {
  let server: RunningServer;
  let agent: RunningAgent;
  beforeAll(async () => {
    server = await startServer({ backend, extraArgs: ['--node-monitor-grace-period', '4'] });
    // Nodes heartbeat every second, so a 4 s grace period is safe for them and short for the lost node.
    agent = await startHollowAgent(server, 3, { heartbeatSeconds: 1 });
  }, 180_000);
  afterAll(async () => {
    await agent?.stop();
    await server?.stop();
    if (server) removeDir(server.dataDir);
  });

  describe.each(['1.27', '1.33'])('kubectl %s', (version) => {
    const ns = `wl-${version.replace('.', '-')}`;
    let work: string;
    const k = (args: string[], input?: string, timeoutMs = 90_000) => kubectl(server, version, ['-n', ns, ...args], { input, cacheDir: work, timeoutMs });
    const ok = async (args: string[], input?: string, timeoutMs?: number) => {
      const r = await k(args, input, timeoutMs);
      if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')} failed (${r.code}):\n${r.stderr}\n${r.stdout}\n--- server log tail ---\n${server.logs().slice(-3000)}`);
      return r.stdout;
    };
    const json = async (args: string[]) => JSON.parse(await ok([...args, '-o', 'json']));
    const until = async <T>(what: string, check: () => Promise<T | undefined | false>, timeoutMs = 60_000): Promise<T> => {
      const deadline = Date.now() + timeoutMs;
      let last: unknown;
      for (;;) {
        last = await check();
        if (last) return last as T;
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(last)}`);
        await new Promise((r) => setTimeout(r, 250));
      }
    };
    const podsOf = async (selector: string) => (await json(['get', 'pods', '-l', selector])).items as { metadata: { name: string; deletionTimestamp?: string }; spec: { nodeName?: string; containers: { image: string; env?: unknown[] }[] }; status: { phase: string } }[];

    beforeAll(async () => {
      work = mkdtempSync(join(tmpdir(), `kubectl-wl-${version}-`));
      kubectlPath(version);
      await kubectl(server, version, ['create', 'namespace', ns], { cacheDir: work });
    });
    afterAll(() => removeDir(work));

    it('create deployment -> ReplicaSet -> 3 pods scheduled onto Ready nodes; rollout status waits for them', async () => {
      await ok(['create', 'deployment', 'web', '--image=busybox', '--replicas=3', '--', 'httpd', '-f', '-p', '8080']);
      const status = await ok(['rollout', 'status', 'deployment/web', '--timeout=60s']);
      expect(status).toContain('deployment "web" successfully rolled out');
      const pods = await podsOf('app=web');
      expect(pods).toHaveLength(3);
      for (const p of pods) {
        expect(p.status.phase).toBe('Running');
        expect(p.spec.nodeName).toMatch(/^hollow-\d$/);
      }
      const rs = (await json(['get', 'rs', '-l', 'app=web'])).items;
      expect(rs).toHaveLength(1);
      expect(rs[0].status).toMatchObject({ replicas: 3, readyReplicas: 3, availableReplicas: 3 });
      const d = await json(['get', 'deployment', 'web']);
      expect(d.status).toMatchObject({ observedGeneration: d.metadata.generation, replicas: 3, updatedReplicas: 3, readyReplicas: 3, availableReplicas: 3 });
      const conditions = Object.fromEntries(d.status.conditions.map((c: { type: string; reason: string }) => [c.type, c.reason]));
      expect(conditions).toEqual({ Available: 'MinimumReplicasAvailable', Progressing: 'NewReplicaSetAvailable' });
      const table = await ok(['get', 'deployment', 'web']);
      expect(table).toMatch(/web\s+3\/3\s+3\s+3/);
    });

    it('set image rolls out a new ReplicaSet; history lists both revisions; undo goes back', async () => {
      await ok(['set', 'image', 'deployment/web', 'busybox=busybox:1.36']);
      await ok(['rollout', 'status', 'deployment/web', '--timeout=60s']);
      let pods = await until('only new pods', async () => {
        const list = (await podsOf('app=web')).filter((p) => !p.metadata.deletionTimestamp);
        return list.length === 3 && list.every((p) => p.spec.containers[0].image === 'busybox:1.36') && list;
      });
      expect(pods).toHaveLength(3);
      const rs = (await json(['get', 'rs', '-l', 'app=web'])).items as { spec: { replicas: number }; metadata: { annotations: Record<string, string> } }[];
      expect(rs.map((r) => [r.metadata.annotations['deployment.kubernetes.io/revision'], r.spec.replicas]).sort()).toEqual([
        ['1', 0],
        ['2', 3],
      ]);
      const history = await ok(['rollout', 'history', 'deployment/web']);
      expect(history).toMatch(/REVISION\s+CHANGE-CAUSE/);
      expect(history).toMatch(/^1\s/m);
      expect(history).toMatch(/^2\s/m);
      await ok(['rollout', 'undo', 'deployment/web']);
      await ok(['rollout', 'status', 'deployment/web', '--timeout=60s']);
      pods = await until('pods back on busybox', async () => {
        const list = (await podsOf('app=web')).filter((p) => !p.metadata.deletionTimestamp);
        return list.length === 3 && list.every((p) => p.spec.containers[0].image === 'busybox') && list;
      });
      const after = await ok(['rollout', 'history', 'deployment/web']);
      expect(after).toMatch(/^2\s/m);
      expect(after).toMatch(/^3\s/m);
      expect(after).not.toMatch(/^1\s/m);
    });

    it('pause holds a template change back; resume rolls it out; restart rolls again', async () => {
      await ok(['rollout', 'pause', 'deployment/web']);
      await ok(['set', 'env', 'deployment/web', 'MODE=paused']);
      await new Promise((r) => setTimeout(r, 1500));
      expect((await json(['get', 'rs', '-l', 'app=web'])).items).toHaveLength(2);
      await ok(['rollout', 'resume', 'deployment/web']);
      await ok(['rollout', 'status', 'deployment/web', '--timeout=60s']);
      expect((await json(['get', 'rs', '-l', 'app=web'])).items).toHaveLength(3);
      await ok(['rollout', 'restart', 'deployment/web']);
      await ok(['rollout', 'status', 'deployment/web', '--timeout=60s']);
      const d = await json(['get', 'deployment', 'web']);
      expect(d.spec.template.metadata.annotations['kubectl.kubernetes.io/restartedAt']).toBeTruthy();
      expect(d.metadata.annotations['deployment.kubernetes.io/revision']).toBe('5');
    });

    it('scale, self-healing of a deleted pod, and the Events kubectl shows', async () => {
      await ok(['scale', 'deployment/web', '--replicas=5']);
      await ok(['rollout', 'status', 'deployment/web', '--timeout=60s']);
      const before = (await podsOf('app=web')).filter((p) => !p.metadata.deletionTimestamp);
      expect(before).toHaveLength(5);
      await ok(['delete', 'pod', before[0].metadata.name, '--wait=true', '--timeout=30s']);
      await until('a replacement pod', async () => {
        const list = (await podsOf('app=web')).filter((p) => !p.metadata.deletionTimestamp && p.status.phase === 'Running');
        return list.length === 5 && !list.some((p) => p.metadata.name === before[0].metadata.name);
      });
      const events = await ok(['get', 'events']);
      for (const reason of ['ScalingReplicaSet', 'SuccessfulCreate', 'Scheduled', 'SuccessfulDelete']) expect(events).toContain(reason);
      const describe = await ok(['describe', 'deployment', 'web']);
      expect(describe).toMatch(/Scaled up replica set web-[a-z0-9]+ .*to 5/);
      const podDescribe = await ok(['describe', 'pod', before[1].metadata.name]);
      expect(podDescribe).toMatch(/Successfully assigned .* to hollow-\d/);
    });

    it('deleting the deployment removes its ReplicaSets and pods', async () => {
      await ok(['delete', 'deployment', 'web', '--wait=true', '--timeout=60s']);
      await until('no pods and no replica sets left', async () => (await podsOf('app=web')).length === 0 && (await json(['get', 'rs', '-l', 'app=web'])).items.length === 0);
    });

    it('an unschedulable pod gets a FailedScheduling event worded like Kubernetes', async () => {
      await ok(['run', 'huge', '--image=busybox', '--overrides={"spec":{"containers":[{"name":"huge","image":"busybox","resources":{"requests":{"cpu":"64"}}}]}}']);
      const described = await until('FailedScheduling', async () => {
        const text = await ok(['describe', 'pod', 'huge']);
        return /FailedScheduling/.test(text) && text;
      });
      expect(described).toContain('0/3 nodes are available: 3 Insufficient cpu.');
      await ok(['delete', 'pod', 'huge', '--wait=false']);
    });

    it('jobs run to completion and kubectl wait sees the Complete condition', async () => {
      await ok(['create', 'job', 'once', '--image=busybox', '--', 'true']);
      await ok(['wait', '--for=condition=complete', 'job/once', '--timeout=60s']);
      const table = await ok(['get', 'job', 'once']);
      expect(table).toMatch(/once\s+(Complete\s+)?1\/1/);
    });

    it('cronjobs: kubectl create cronjob, get shows the schedule, and a job created from it completes', async () => {
      await ok(['create', 'cronjob', 'tick', '--image=busybox', '--schedule=*/5 * * * *', '--', 'true']);
      expect(await ok(['get', 'cronjob', 'tick'])).toMatch(/tick\s+\*\/5 \* \* \* \*\s+(<none>\s+)?False\s+0/);
      await ok(['create', 'job', '--from=cronjob/tick', 'tick-manual']);
      await ok(['wait', '--for=condition=complete', 'job/tick-manual', '--timeout=60s']);
      await ok(['delete', 'cronjob', 'tick']);
    });

    it('daemonsets run one pod per node and statefulsets create ordered, stable pods; rollout status waits for both', async () => {
      await ok(['apply', '-f', '-'], `
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: agent}
spec:
  selector: {matchLabels: {app: agent}}
  template:
    metadata: {labels: {app: agent}}
    spec: {containers: [{name: a, image: busybox}]}
---
apiVersion: v1
kind: Service
metadata: {name: db}
spec: {clusterIP: None, selector: {app: db}, ports: [{port: 5432}]}
---
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: db}
spec:
  serviceName: db
  replicas: 3
  selector: {matchLabels: {app: db}}
  template:
    metadata: {labels: {app: db}}
    spec: {containers: [{name: db, image: busybox}]}
`);
      expect(await ok(['rollout', 'status', 'daemonset/agent', '--timeout=60s'])).toContain('daemon set "agent" successfully rolled out');
      const daemons = await podsOf('app=agent');
      expect(new Set(daemons.map((p) => p.spec.nodeName)).size).toBe(daemons.length);
      expect(daemons.length).toBeGreaterThanOrEqual(3);
      expect(await ok(['rollout', 'status', 'statefulset/db', '--timeout=60s'])).toMatch(/partitioned roll out complete|rolling update complete|3 pods at revision/);
      const db = await podsOf('app=db');
      expect(db.map((p) => p.metadata.name).sort()).toEqual(['db-0', 'db-1', 'db-2']);
      const endpoints = await json(['get', 'endpoints', 'db']);
      expect(endpoints.subsets[0].addresses.map((a: { hostname: string }) => a.hostname).sort()).toEqual(['db-0', 'db-1', 'db-2']);
      const slices = (await json(['get', 'endpointslices', '-l', 'kubernetes.io/service-name=db'])).items;
      expect(slices.flatMap((s: { endpoints: unknown[] }) => s.endpoints)).toHaveLength(3);
      await ok(['delete', 'daemonset/agent', 'statefulset/db', 'service/db']);
    });

    it('every namespace gets its default ServiceAccount and kube-root-ca.crt', async () => {
      await until('default service account', async () => (await k(['get', 'serviceaccount', 'default'])).code === 0);
      await until('root CA configmap', async () => (await k(['get', 'configmap', 'kube-root-ca.crt'])).code === 0);
    });

    it('cordon, drain (eviction) and uncordon move pods off a node', async () => {
      await ok(['create', 'deployment', 'spread', '--image=busybox', '--replicas=6']);
      await ok(['rollout', 'status', 'deployment/spread', '--timeout=60s']);
      const target = `hollow-${version === '1.27' ? 0 : 1}`;
      const drained = await k(['drain', target, '--ignore-daemonsets', '--delete-emptydir-data', '--timeout=60s', '--pod-selector=app=spread'], undefined, 90_000);
      expect(drained.code, drained.stderr).toBe(0);
      expect(drained.stdout + drained.stderr).toContain(`node/${target} drained`);
      const node = await json(['get', 'node', target]);
      expect(node.spec.unschedulable).toBe(true);
      await until('all spread pods running elsewhere', async () => {
        const list = (await podsOf('app=spread')).filter((p) => !p.metadata.deletionTimestamp);
        return list.length === 6 && list.every((p) => p.status.phase === 'Running' && p.spec.nodeName !== target);
      });
      await ok(['uncordon', target]);
      expect((await json(['get', 'node', target])).spec.unschedulable).toBeFalsy();
      await ok(['delete', 'deployment', 'spread']);
    });
  });

  it('a node whose agent stops turns NotReady, gets the unreachable taint, and its pods are replaced elsewhere', async () => {
    const version = '1.33';
    const run = (args: string[]) => kubectl(server, version, args, { timeoutMs: 60_000 });
    const lost = await startHollowAgent(server, 1, { prefix: `lost-${backend}-`, heartbeatSeconds: 1 });
    const node = `lost-${backend}-0`;
    await run(['create', 'namespace', 'lost']);
    const tolerate = { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 2 };
    const pinned = { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'pinned', namespace: 'lost' }, spec: { replicas: 2, selector: { matchLabels: { app: 'pinned' } }, template: { metadata: { labels: { app: 'pinned' } }, spec: { nodeSelector: { 'kubernetes.io/hostname': node }, tolerations: [tolerate], containers: [{ name: 'c', image: 'busybox' }] } } } };
    expect((await kubectl(server, version, ['apply', '-f', '-'], { input: JSON.stringify(pinned) })).code).toBe(0);
    expect((await run(['-n', 'lost', 'rollout', 'status', 'deployment/pinned', '--timeout=60s'])).code).toBe(0);
    await lost.stop('SIGKILL');
    const deadline = Date.now() + 60_000;
    let nodeJson: { spec: { taints?: { key: string; effect: string }[] }; status: { conditions: { type: string; status: string; reason: string }[] } } | undefined;
    for (;;) {
      nodeJson = JSON.parse((await run(['get', 'node', node, '-o', 'json'])).stdout);
      const ready = nodeJson!.status.conditions.find((c) => c.type === 'Ready');
      if (ready?.status === 'Unknown' && nodeJson!.spec.taints?.some((t) => t.key === 'node.kubernetes.io/unreachable' && t.effect === 'NoExecute')) break;
      if (Date.now() > deadline) throw new Error(`node never turned NotReady: ${JSON.stringify(nodeJson)}`);
      await new Promise((r) => setTimeout(r, 500));
    }
    expect(nodeJson!.status.conditions.find((c) => c.type === 'Ready')!.reason).toBe('NodeStatusUnknown');
    expect((await run(['get', 'node', node])).stdout).toMatch(/NotReady/);
    // The pinned pods are evicted after their 2 s toleration; replacements cannot go anywhere but wait Pending.
    const until = Date.now() + 60_000;
    for (;;) {
      const pods = JSON.parse((await run(['-n', 'lost', 'get', 'pods', '-o', 'json'])).stdout).items as { metadata: { deletionTimestamp?: string }; spec: { nodeName?: string } }[];
      const live = pods.filter((p) => !p.metadata.deletionTimestamp);
      if (pods.filter((p) => p.metadata.deletionTimestamp).length >= 2 && live.length === 2 && live.every((p) => !p.spec.nodeName)) break;
      if (Date.now() > until) throw new Error(`pods were not evicted and replaced: ${JSON.stringify(pods.map((p) => [p.spec.nodeName, p.metadata.deletionTimestamp]))}`);
      await new Promise((r) => setTimeout(r, 500));
    }
    const events = (await run(['-n', 'lost', 'get', 'events'])).stdout;
    expect(events).toContain('TaintManagerEviction');
    await run(['delete', 'namespace', 'lost', '--wait=false']);
  });
});
