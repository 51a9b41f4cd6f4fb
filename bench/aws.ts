// Latency and throughput through the full AWS-shaped path on this machine: `stratus start --backend
// dynamodb` (DynamoDB Local + the SQS emulator + the Lambda handlers invoked with real event shapes),
// driven over HTTPS exactly like the SQLite API benchmark (bench/api.ts). Counts are smaller than
// there: DynamoDB Local tops out at ~300 transactions/s on a 2-core machine, so the SQLite counts
// would spend minutes measuring the emulator rather than stratus.
import { Agent } from 'node:https';
import { performance } from 'node:perf_hooks';
import { startServer, removeDir } from '../test/e2e/harness.js';
import { call, configMap, ensureNamespace, measureWatch, pct, type Conn } from './api.js';

export const AWS_TARGETS = { watchDeliveryP99Ms: 1000 };

const progress = (msg: string) => process.stderr.write(`bench(aws): ${msg}\n`);

export async function runAwsBench(opts: { quick?: boolean } = {}) {
  const counts = opts.quick
    ? { warmUp: 20, sequential: 100, perClient: 10, watchEvents: 100 }
    : { warmUp: 50, sequential: 400, perClient: 40, watchEvents: 300 };
  progress('starting stratus --backend dynamodb (DynamoDB Local JVM + SQS emulator)');
  const server = await startServer({ backend: 'dynamodb' });
  const conn: Conn = { server, agent: new Agent({ keepAlive: true, maxSockets: 64, ca: server.ca }) };
  try {
    await ensureNamespace(conn, 'bench');
    for (let i = 0; i < counts.warmUp; i++) await call(conn, 'POST', '/api/v1/namespaces/bench/configmaps', configMap('bench', `warm-${i}`));

    progress(`sequential create / get latency (${counts.sequential} each)`);
    const createMs: number[] = [];
    const getMs: number[] = [];
    for (let i = 0; i < counts.sequential; i++) {
      const t0 = performance.now();
      const r = await call(conn, 'POST', '/api/v1/namespaces/bench/configmaps', configMap('bench', `seq-${i}`));
      createMs.push(performance.now() - t0);
      if (r.status !== 201) throw new Error(`create failed: ${r.status} ${r.text}`);
    }
    for (let i = 0; i < counts.sequential; i++) {
      const t0 = performance.now();
      const r = await call(conn, 'GET', `/api/v1/namespaces/bench/configmaps/seq-${i}`);
      getMs.push(performance.now() - t0);
      if (r.status !== 200) throw new Error(`get failed: ${r.status} ${r.text}`);
    }

    progress(`16-client create throughput (${16 * counts.perClient} creates)`);
    await ensureNamespace(conn, 'bench-par');
    const t0 = performance.now();
    await Promise.all(
      Array.from({ length: 16 }, async (_, c) => {
        for (let i = 0; i < counts.perClient; i++) {
          const r = await call(conn, 'POST', '/api/v1/namespaces/bench-par/configmaps', configMap('bench-par', `c${c}-${i}`));
          if (r.status !== 201) throw new Error(`create failed: ${r.status} ${r.text}`);
        }
      }),
    );
    const parSeconds = (performance.now() - t0) / 1000;

    progress(`watch delivery latency (${counts.watchEvents} events)`);
    await ensureNamespace(conn, 'bench-watch');
    const watch = await measureWatch(conn, counts.watchEvents);
    if (watch.count < counts.watchEvents) progress(`only ${watch.count}/${counts.watchEvents} watch events arrived within 30 s`);

    return {
      path: 'stratus start --backend dynamodb: DynamoDB Local + fauxqs SQS emulator + Lambda handlers (function URL events), HTTPS with keep-alive',
      note: 'Counts are smaller than the SQLite API benchmark: DynamoDB Local tops out at ~300 transactions/s on this machine, so larger runs measure the emulator. Latencies include DynamoDB Local (a JVM on the same 2 cores), not AWS network round trips.',
      createP50Ms: pct(createMs, 50),
      createP99Ms: pct(createMs, 99),
      getP50Ms: pct(getMs, 50),
      getP99Ms: pct(getMs, 99),
      creates16ClientsPerSec: +((16 * counts.perClient) / parSeconds).toFixed(0),
      watchDeliveryP50Ms: watch.p50,
      watchDeliveryP99Ms: watch.p99,
      watchDeliveryNote: 'request sent to event received (includes the create round trip: an upper bound), same method as bench/api.ts',
      targets: AWS_TARGETS,
      samples: { sequentialCreates: counts.sequential, gets: counts.sequential, parallelCreates: 16 * counts.perClient, watchEvents: watch.count },
    };
  } finally {
    conn.agent.destroy();
    await server.stop();
    removeDir(server.dataDir);
  }
}
