// Store benchmark: the stratus SQLite store and a real etcd, side by side, measured by one
// client-side harness: create (put) latency and throughput, get, list of a prefix, and watch
// delivery latency. Run directly: `npx tsx bench/store.ts --help`.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, platform, release, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { openStore } from '../shared/store/index.js';
import { DEFAULT_ETCD_BIN, EtcdJsonClient, etcdVersion, startEtcd } from './store-etcd.js';

export type StoreBenchTarget = 'sqlite' | 'sqlite-fsync' | 'etcd';

export interface StoreBenchOptions {
  /** A tenth of the load, for a smoke run. */
  quick?: boolean;
  targets?: StoreBenchTarget[];
  /** Sequential creates (latency). */
  creates?: number;
  /** Creates spread over `clients` concurrent clients (throughput). */
  concurrentCreates?: number;
  clients?: number;
  gets?: number;
  /** Keys under the listed prefix, and how many times it is listed. */
  listKeys?: number;
  lists?: number;
  /** Sequential writes whose delivery to a watcher is timed. */
  watchEvents?: number;
  valueBytes?: number;
  etcdBin?: string;
}

/** One backend as the harness sees it. */
interface Target {
  describe: string;
  create(key: string, value: string): Promise<unknown>;
  get(key: string): Promise<unknown>;
  list(prefix: string): Promise<number>;
  watch(prefix: string, onEvent: (key: string) => void): Promise<{ close(): void }>;
  close(): Promise<void>;
}

interface Latency {
  p50Ms: number;
  p99Ms: number;
  meanMs: number;
  maxMs: number;
}

const DEFAULTS: Required<Omit<StoreBenchOptions, 'quick' | 'targets' | 'etcdBin'>> = {
  creates: 2000,
  concurrentCreates: 4000,
  clients: 16,
  gets: 2000,
  listKeys: 2330,
  lists: 20,
  watchEvents: 1000,
  valueBytes: 1500,
};

const NOTES = [
  'One harness drives every target; only the client underneath differs.',
  'sqlite targets use the store in-process (no network, no serialisation); etcd is reached over loopback HTTP/1.1 keep-alive through its v3 JSON gateway (base64 keys/values), the client costs included.',
  'sqlite: WAL + synchronous=NORMAL (no acknowledged write lost on process kill; a power loss may drop the newest commits). sqlite-fsync: synchronous=FULL, an fsync per commit like etcd.',
  'Creates are create-if-absent on every target: store.create for sqlite, a txn comparing create_revision = 0 for etcd (what kube-apiserver sends).',
  'Watch delivery latency: from just before the write is issued until the watcher callback sees its event; one write in flight at a time.',
];

function makeValue(bytes: number, i: number): string {
  const head = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `cm-${i}`, namespace: 'bench', uid: `uid-${i}` } };
  const base = JSON.stringify({ ...head, data: { payload: '' } });
  return JSON.stringify({ ...head, data: { payload: 'x'.repeat(Math.max(0, bytes - base.length)) } });
}

function latency(samplesMs: number[]): Latency {
  const sorted = [...samplesMs].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
  const round = (x: number) => Math.round(x * 1000) / 1000;
  return {
    p50Ms: round(at(0.5)),
    p99Ms: round(at(0.99)),
    meanMs: round(sorted.reduce((a, b) => a + b, 0) / sorted.length),
    maxMs: round(sorted[sorted.length - 1]),
  };
}

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const start = performance.now();
  await fn();
  return performance.now() - start;
}

async function measure(target: Target, p: typeof DEFAULTS, log: (line: string) => void): Promise<object> {
  const value = makeValue(p.valueBytes, 0);

  const seq: number[] = [];
  const seqStart = performance.now();
  for (let i = 0; i < p.creates; i++) seq.push(await timed(() => target.create(`/bench/seq/${i}`, value)));
  const seqSeconds = (performance.now() - seqStart) / 1000;
  log(`  create (sequential)  p50 ${latency(seq).p50Ms} ms`);

  const conc: number[] = [];
  const perClient = Math.ceil(p.concurrentCreates / p.clients);
  const concStart = performance.now();
  await Promise.all(
    Array.from({ length: p.clients }, async (_, c) => {
      for (let i = 0; i < perClient; i++) conc.push(await timed(() => target.create(`/bench/conc/${c}/${i}`, value)));
    }),
  );
  const concSeconds = (performance.now() - concStart) / 1000;
  log(`  create (${p.clients} clients)  ${Math.round(conc.length / concSeconds)}/s`);

  const gets: number[] = [];
  for (let i = 0; i < p.gets; i++) {
    const key = `/bench/seq/${Math.floor(Math.random() * p.creates)}`;
    gets.push(await timed(() => target.get(key)));
  }
  log(`  get  p50 ${latency(gets).p50Ms} ms`);

  await Promise.all(
    Array.from({ length: p.clients }, async (_, c) => {
      for (let i = c; i < p.listKeys; i += p.clients) await target.create(`/bench/list/bench/cm-${String(i).padStart(5, '0')}`, makeValue(p.valueBytes, i));
    }),
  );
  const lists: number[] = [];
  for (let i = 0; i < p.lists; i++) {
    let count = 0;
    lists.push(await timed(async () => (count = await target.list('/bench/list/'))));
    if (count !== p.listKeys) throw new Error(`list returned ${count} items, expected ${p.listKeys}`);
  }
  log(`  list ${p.listKeys}  p50 ${latency(lists).p50Ms} ms`);

  const waiting = new Map<string, (at: number) => void>();
  const watch = await target.watch('/bench/watch/', (key) => waiting.get(key)?.(performance.now()));
  const deliveries: number[] = [];
  for (let i = 0; i < p.watchEvents; i++) {
    const key = `/bench/watch/${i}`;
    const arrived = new Promise<number>((resolve) => waiting.set(key, resolve));
    const start = performance.now();
    await target.create(key, value);
    deliveries.push((await arrived) - start);
    waiting.delete(key);
  }
  watch.close();
  log(`  watch delivery  p50 ${latency(deliveries).p50Ms} ms`);

  return {
    target: target.describe,
    createSequential: { ops: seq.length, perSecond: Math.round(seq.length / seqSeconds), ...latency(seq) },
    createConcurrent: {
      clients: p.clients,
      ops: conc.length,
      perSecond: Math.round(conc.length / concSeconds),
      ...latency(conc),
    },
    get: { ops: gets.length, ...latency(gets) },
    listPrefix: { keys: p.listKeys, valueBytes: value.length, runs: lists.length, ...latency(lists) },
    watchDelivery: { events: deliveries.length, ...latency(deliveries) },
  };
}

async function sqliteTarget(synchronous: 'NORMAL' | 'FULL'): Promise<Target> {
  const dataDir = mkdtempSync(join(tmpdir(), 'stratus-bench-store-'));
  const store = await openStore({ backend: 'sqlite', dataDir, synchronous });
  return {
    describe: `stratus SQLite store, in-process, WAL synchronous=${synchronous}`,
    create: (key, value) => store.create(key, value),
    get: (key) => store.get(key),
    list: async (prefix) => (await store.list({ prefix })).items.length,
    watch: async (prefix, onEvent) => {
      const w = store.watch({ prefix, afterRev: 0, onEvents: (events) => events.forEach((e) => onEvent(e.key)) });
      return w;
    },
    close: async () => {
      await store.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

async function etcdTarget(bin: string, clients: number): Promise<Target> {
  const server = await startEtcd(bin);
  const client = new EtcdJsonClient(server.url, clients + 4);
  return {
    describe: `etcd ${server.version} (${bin}), single member on loopback, v3 JSON gateway over HTTP/1.1`,
    create: (key, value) => client.create(key, value),
    get: (key) => client.get(key),
    list: async (prefix) => (await client.list(prefix)).items.length,
    watch: (prefix, onEvent) => client.watch(prefix, (key) => onEvent(key)),
    close: async () => {
      client.close();
      await server.stop();
    },
  };
}

export function machineInfo(): object {
  const cpuList = cpus();
  return {
    cpuModel: cpuList[0]?.model,
    cpuCount: cpuList.length,
    totalMemoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    os: `${platform()} ${release()}`,
    node: process.version,
  };
}

export async function runStoreBench(opts: StoreBenchOptions = {}): Promise<object> {
  const scale = opts.quick ? 0.1 : 1;
  const p = { ...DEFAULTS };
  for (const k of Object.keys(DEFAULTS) as (keyof typeof DEFAULTS)[]) {
    const given = opts[k];
    if (given !== undefined) p[k] = given;
    else if (k !== 'clients' && k !== 'valueBytes' && k !== 'listKeys') p[k] = Math.max(1, Math.round(p[k] * scale));
  }
  const targets = opts.targets ?? ['sqlite', 'sqlite-fsync', 'etcd'];
  const unknown = targets.filter((t) => !['sqlite', 'sqlite-fsync', 'etcd'].includes(t));
  if (unknown.length > 0) throw new Error(`unknown targets: ${unknown.join(', ')}`);
  const etcdBin = opts.etcdBin ?? DEFAULT_ETCD_BIN;
  const log = (line: string) => process.stderr.write(`${line}\n`);
  const results: Record<string, object> = {};

  for (const name of targets) {
    if (name === 'etcd' && !etcdVersion(etcdBin)) {
      const reason = `etcd is not installed at ${etcdBin} (apt-get install -y etcd-server): the peer was NOT measured`;
      log(`\n${'!'.repeat(100)}\n!!! ${reason}\n${'!'.repeat(100)}\n`);
      results[name] = { available: false, reason };
      continue;
    }
    log(`${name}:`);
    const target =
      name === 'etcd'
        ? await etcdTarget(etcdBin, p.clients)
        : await sqliteTarget(name === 'sqlite-fsync' ? 'FULL' : 'NORMAL');
    try {
      results[name] = { available: true, ...(await measure(target, p, log)) };
    } finally {
      await target.close();
    }
  }

  return {
    kind: 'store-benchmark',
    date: new Date().toISOString(),
    machine: machineInfo(),
    params: { ...p, quick: !!opts.quick },
    notes: NOTES,
    results,
  };
}

const USAGE = `Usage: npx tsx bench/store.ts [options]

Benchmarks the stratus SQLite store against a real etcd (started here on loopback) with one
harness: create latency/throughput, get, list of a prefix, watch delivery latency.
Writes bench/results/store-<ISO date>.json and prints it.

Options:
  --quick                 a tenth of the load
  --targets <list>        comma-separated: sqlite,sqlite-fsync,etcd (default: all three)
  --creates <n>           sequential creates (default ${DEFAULTS.creates})
  --concurrent <n>        creates spread over the clients (default ${DEFAULTS.concurrentCreates})
  --clients <n>           concurrent clients (default ${DEFAULTS.clients})
  --gets <n>              gets (default ${DEFAULTS.gets})
  --list-keys <n>         keys under the listed prefix (default ${DEFAULTS.listKeys})
  --lists <n>             list repetitions (default ${DEFAULTS.lists})
  --watch-events <n>      timed watch deliveries (default ${DEFAULTS.watchEvents})
  --value-bytes <n>       value size (default ${DEFAULTS.valueBytes})
  --etcd <path>           etcd binary (default ${DEFAULT_ETCD_BIN})
  --out <dir>             results directory (default bench/results)
  --help                  this text
`;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      help: { type: 'boolean' },
      quick: { type: 'boolean' },
      targets: { type: 'string' },
      creates: { type: 'string' },
      concurrent: { type: 'string' },
      clients: { type: 'string' },
      gets: { type: 'string' },
      'list-keys': { type: 'string' },
      lists: { type: 'string' },
      'watch-events': { type: 'string' },
      'value-bytes': { type: 'string' },
      etcd: { type: 'string' },
      out: { type: 'string' },
    },
  });
  if (values.help) {
    process.stdout.write(USAGE);
    return;
  }
  const num = (s: string | undefined) => (s === undefined ? undefined : Number(s));
  const result = await runStoreBench({
    quick: values.quick,
    targets: values.targets?.split(',').map((t) => t.trim()) as StoreBenchTarget[] | undefined,
    creates: num(values.creates),
    concurrentCreates: num(values.concurrent),
    clients: num(values.clients),
    gets: num(values.gets),
    listKeys: num(values['list-keys']),
    lists: num(values.lists),
    watchEvents: num(values['watch-events']),
    valueBytes: num(values['value-bytes']),
    etcdBin: values.etcd,
  });
  const outDir = values.out ?? join(import.meta.dirname, 'results');
  mkdirSync(outDir, { recursive: true });
  const file = join(outDir, `store-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
  process.stdout.write(`${JSON.stringify(result, null, 2)}\nwritten to ${file}\n`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((err) => {
    process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
    process.exit(1);
  });
}
