// API server benchmark over HTTPS with keep-alive, against a started `stratus start` process:
// create latency, get latency, 16-client create throughput, watch delivery latency, LIST of
// 2,330 ConfigMaps, and server RSS holding 10,000 pods. Compared with the numbers measured for a
// real kube-apiserver v1.26 + etcd on this machine class (see DESIGN-BRIEF.md).
import { readFileSync } from 'node:fs';
import { Agent, request } from 'node:https';
import { performance } from 'node:perf_hooks';
import { startServer, removeDir, type Backend, type RunningServer } from '../test/e2e/harness.js';

export const KUBE_APISERVER_REFERENCE = {
  source: 'kube-apiserver v1.26 + etcd 3.4, same 2-core machine class (DESIGN-BRIEF.md)',
  createP50Ms: 4.5,
  createP99Ms: 15,
  getP50Ms: 1.8,
  creates16ClientsPerSec: 650,
  watchDeliveryP50Ms: 5,
  watchDeliveryP99Ms: 20,
  list2330ConfigMapsMs: 80,
};

export const TARGETS = { creates16ClientsPerSec: 1300, createP99Ms: 10, watchDeliveryP99Ms: 10, list2330ConfigMapsMs: 40, rssMbWith10kPods: 300 };

export interface Conn {
  agent: Agent;
  server: RunningServer;
}

export function call(conn: Conn, method: string, path: string, body?: unknown): Promise<{ status: number; text: string }> {
  const payload = body === undefined ? undefined : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = request(
      new URL(path, conn.server.url),
      {
        method,
        agent: conn.agent,
        ca: conn.server.ca,
        headers: {
          Authorization: `Bearer ${conn.server.token}`,
          Accept: 'application/json',
          ...(payload ? { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(payload) } : {}),
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString() }));
      },
    );
    req.on('error', reject);
    if (payload) req.write(payload);
    req.end();
  });
}

export const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return +s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))].toFixed(3);
};

export const configMap = (ns: string, name: string, extra: Record<string, string> = {}) => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name, namespace: ns, labels: { app: 'bench', tier: 'x' }, annotations: extra },
  data: { 'config.yaml': 'key: value\n'.repeat(40) },
});

const pod = (ns: string, name: string) => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, namespace: ns, labels: { app: 'bench' } },
  spec: { containers: [{ name: 'app', image: 'busybox', command: ['sleep', '3600'], resources: { requests: { cpu: '10m', memory: '16Mi' } } }] },
});

export async function ensureNamespace(conn: Conn, name: string) {
  const r = await call(conn, 'POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
  if (r.status !== 201 && r.status !== 409) throw new Error(`namespace ${name}: ${r.status} ${r.text}`);
}

function rssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
  return +(kb / 1024).toFixed(1);
}

const progress = (msg: string) => process.stderr.write(`bench(api): ${msg}\n`);

export async function runApiBench(opts: { quick?: boolean; backend?: Backend } = {}) {
  const scale = opts.quick ? 0.1 : 1;
  const server = await startServer({ backend: opts.backend ?? 'sqlite' });
  const conn: Conn = { server, agent: new Agent({ keepAlive: true, maxSockets: 64, ca: server.ca }) };
  try {
    await ensureNamespace(conn, 'bench');
    // warm-up
    for (let i = 0; i < 200; i++) await call(conn, 'POST', '/api/v1/namespaces/bench/configmaps', configMap('bench', `warm-${i}`));

    progress('sequential create / get latency');
    const createMs: number[] = [];
    const getMs: number[] = [];
    const n = Math.round(2000 * scale);
    for (let i = 0; i < n; i++) {
      const t0 = performance.now();
      const r = await call(conn, 'POST', '/api/v1/namespaces/bench/configmaps', configMap('bench', `seq-${i}`));
      createMs.push(performance.now() - t0);
      if (r.status !== 201) throw new Error(`create failed: ${r.status} ${r.text}`);
    }
    for (let i = 0; i < n; i++) {
      const t0 = performance.now();
      await call(conn, 'GET', `/api/v1/namespaces/bench/configmaps/seq-${i}`);
      getMs.push(performance.now() - t0);
    }

    progress('16-client create throughput');
    await ensureNamespace(conn, 'bench-par');
    const perClient = Math.round(600 * scale);
    const t0 = performance.now();
    await Promise.all(
      Array.from({ length: 16 }, async (_, c) => {
        for (let i = 0; i < perClient; i++) {
          const r = await call(conn, 'POST', '/api/v1/namespaces/bench-par/configmaps', configMap('bench-par', `c${c}-${i}`));
          if (r.status !== 201) throw new Error(`create failed: ${r.status}`);
        }
      }),
    );
    const parSeconds = (performance.now() - t0) / 1000;
    const creates16 = +((16 * perClient) / parSeconds).toFixed(0);

    progress('watch delivery latency');
    await ensureNamespace(conn, 'bench-watch');
    const watchLatency = await measureWatch(conn, Math.round(1000 * scale));

    progress('LIST of 2,330 ConfigMaps');
    await ensureNamespace(conn, 'bench-list');
    const listCount = 2330;
    await Promise.all(
      Array.from({ length: 8 }, async (_, c) => {
        for (let i = c; i < listCount; i += 8) await call(conn, 'POST', '/api/v1/namespaces/bench-list/configmaps', configMap('bench-list', `l-${i}`));
      }),
    );
    const listMs: number[] = [];
    for (let i = 0; i < 20; i++) {
      const t1 = performance.now();
      const r = await call(conn, 'GET', '/api/v1/namespaces/bench-list/configmaps');
      listMs.push(performance.now() - t1);
      if (i === 0 && (JSON.parse(r.text) as { items: unknown[] }).items.length !== listCount) throw new Error('list returned the wrong count');
    }

    progress('RSS holding 10,000 pods');
    await ensureNamespace(conn, 'bench-pods');
    const pods = Math.round(10000 * scale);
    await Promise.all(
      Array.from({ length: 16 }, async (_, c) => {
        for (let i = c; i < pods; i += 16) {
          const r = await call(conn, 'POST', '/api/v1/namespaces/bench-pods/pods', pod('bench-pods', `p-${i}`));
          if (r.status !== 201) throw new Error(`pod create failed: ${r.status} ${r.text}`);
        }
      }),
    );
    await call(conn, 'GET', '/api/v1/pods');
    const rss = rssMb(server.child.pid!);

    return {
      createP50Ms: pct(createMs, 50),
      createP99Ms: pct(createMs, 99),
      getP50Ms: pct(getMs, 50),
      getP99Ms: pct(getMs, 99),
      creates16ClientsPerSec: creates16,
      watchDeliveryP50Ms: watchLatency.p50,
      watchDeliveryP99Ms: watchLatency.p99,
      list2330ConfigMapsMs: pct(listMs, 50),
      list2330ConfigMapsP90Ms: pct(listMs, 90),
      serverRssMbWith10kPods: rss,
      podsHeld: pods,
      samples: { sequentialCreates: n, parallelCreates: 16 * perClient, watchEvents: watchLatency.count, lists: listMs.length },
    };
  } finally {
    conn.agent.destroy();
    await server.stop();
    removeDir(server.dataDir);
  }
}

export async function measureWatch(conn: Conn, count: number): Promise<{ p50: number; p99: number; count: number }> {
  const latencies: number[] = [];
  const sentAt = new Map<string, number>();
  let resolveDone!: () => void;
  const done = new Promise<void>((r) => (resolveDone = r));
  const list = await call(conn, 'GET', '/api/v1/namespaces/bench-watch/configmaps');
  const rv = (JSON.parse(list.text) as { metadata: { resourceVersion: string } }).metadata.resourceVersion;
  const req = request(new URL(`/api/v1/namespaces/bench-watch/configmaps?watch=true&resourceVersion=${rv}`, conn.server.url), {
    agent: new Agent({ ca: conn.server.ca }),
    headers: { Authorization: `Bearer ${conn.server.token}` },
  });
  let buf = '';
  req.on('response', (res) => {
    res.on('data', (chunk: Buffer) => {
      const now = performance.now();
      buf += chunk.toString();
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        const name = (JSON.parse(line) as { object: { metadata: { name: string } } }).object.metadata.name;
        const t = sentAt.get(name);
        if (t !== undefined) latencies.push(now - t);
        if (latencies.length === count) resolveDone();
      }
    });
  });
  req.end();
  await new Promise((r) => setTimeout(r, 300));
  for (let i = 0; i < count; i++) {
    const name = `w-${i}`;
    sentAt.set(name, performance.now());
    await call(conn, 'POST', '/api/v1/namespaces/bench-watch/configmaps', configMap('bench-watch', name));
  }
  await Promise.race([done, new Promise((r) => setTimeout(r, 30_000))]);
  req.destroy();
  // Latency here is request-sent to event-received: it includes the create round trip, so it is an upper bound.
  return { p50: pct(latencies, 50), p99: pct(latencies, 99), count: latencies.length };
}
