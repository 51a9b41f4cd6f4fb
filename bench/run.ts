// `npm run bench`: the API server benchmark and the store benchmark (stratus SQLite store vs a
// real etcd, side by side), written as JSON under bench/results/ with the machine noted.
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem, platform, release } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { KUBE_APISERVER_REFERENCE, TARGETS, runApiBench } from './api.js';
import { runStoreBench } from './store.js';

const program = new Command()
  .name('bench')
  .description('Benchmark stratus: API server over HTTPS (vs recorded kube-apiserver numbers) and the store (vs etcd, side by side).')
  .option('--only <which>', 'run only "api" or "store"')
  .option('--quick', 'a tenth of the load, for a smoke run')
  .option('--out <dir>', 'results directory', join(import.meta.dirname, 'results'))
  .parse();

const opts = program.opts<{ only?: string; quick?: boolean; out: string }>();
const machine = {
  cpu: cpus()[0]?.model,
  cores: cpus().length,
  memoryGiB: +(totalmem() / 2 ** 30).toFixed(1),
  os: `${platform()} ${release()}`,
  node: process.version,
};
const results: Record<string, unknown> = { date: new Date().toISOString(), machine, quick: !!opts.quick };
if (!opts.only || opts.only === 'api') {
  const api = await runApiBench({ quick: opts.quick });
  results.api = { stratus: api, kubeApiserverReference: KUBE_APISERVER_REFERENCE, targets: TARGETS };
}
if (!opts.only || opts.only === 'store') results.store = await runStoreBench({ quick: opts.quick });
mkdirSync(opts.out, { recursive: true });
const file = join(opts.out, `bench-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
writeFileSync(file, JSON.stringify(results, null, 2));
process.stdout.write(`${JSON.stringify(results, null, 2)}\nwritten to ${file}\n`);
