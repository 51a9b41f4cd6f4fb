// `npm run bench`: the API server benchmark, the store benchmark (stratus SQLite store vs a real
// etcd, side by side), the AWS-shaped benchmark (latency through DynamoDB Local + the SQS
// emulator + the Lambda handlers, and the capacity units per API operation that docs/COST-MODEL.md
// prices) the scheduler's throughput and the controllers' change-to-effect latency on both drivers, written as JSON under bench/results/ with the machine noted.
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem, platform, release } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { KUBE_APISERVER_REFERENCE, TARGETS, runApiBench } from './api.js';
import { runStoreBench } from './store.js';
import { AWS_TARGETS, runAwsBench } from './aws.js';
import { runCapacityBench } from './capacity.js';
import { runSchedulerBench } from './scheduler.js';
import { runControllersBench } from './controllers.js';
import { runNodeAgentBench } from './node-agent.js';

const program = new Command()
  .name('bench')
  .description('Benchmark stratus: API server over HTTPS (vs recorded kube-apiserver numbers), the store (vs etcd, side by side), the AWS-shaped path (DynamoDB Local + SQS emulator + Lambda handlers: latency and capacity units per operation), and the scheduler (pods bound per second).')
  .option('--only <which>', 'run only "api", "store", "aws" (AWS-shaped latency + capacity units per operation) "scheduler" (5000 nodes, 10000 pending pods) "controllers" (change-to-effect latency and scale to 1000 on both drivers) or "node" (pod startup with real containerd, agent RSS, hollow node capacity)')
  .option('--backend <backend>', 'store backend of the "api" part: sqlite, dynamodb or both', 'sqlite')
  .option('--quick', 'a tenth of the load, for a smoke run')
  .option('--out <dir>', 'results directory', join(import.meta.dirname, 'results'))
  .parse();

const opts = program.opts<{ only?: string; backend: string; quick?: boolean; out: string }>();
if (opts.only && !['api', 'store', 'aws', 'scheduler', 'controllers', 'node'].includes(opts.only)) program.error(`--only must be api, store, aws, scheduler, controllers or node, not ${opts.only}`);
if (!['sqlite', 'dynamodb', 'both'].includes(opts.backend)) program.error(`--backend must be sqlite, dynamodb or both, not ${opts.backend}`);
const machine = {
  cpu: cpus()[0]?.model,
  cores: cpus().length,
  memoryGiB: +(totalmem() / 2 ** 30).toFixed(1),
  os: `${platform()} ${release()}`,
  node: process.version,
};
const results: Record<string, unknown> = { date: new Date().toISOString(), machine, quick: !!opts.quick };
if (!opts.only || opts.only === 'api') {
  if (opts.backend === 'sqlite' || opts.backend === 'both') {
    const api = await runApiBench({ quick: opts.quick });
    results.api = { stratus: api, kubeApiserverReference: KUBE_APISERVER_REFERENCE, targets: TARGETS };
  }
  if (opts.backend === 'dynamodb' || opts.backend === 'both') {
    results.apiDynamodb = { stratus: await runApiBench({ quick: opts.quick, backend: 'dynamodb' }), kubeApiserverReference: KUBE_APISERVER_REFERENCE };
  }
}
if (!opts.only || opts.only === 'store') results.store = await runStoreBench({ quick: opts.quick });
if (!opts.only || opts.only === 'aws') {
  results.aws = { latency: await runAwsBench({ quick: opts.quick }), capacity: await runCapacityBench({ quick: opts.quick }), targets: AWS_TARGETS };
}
if (!opts.only || opts.only === 'scheduler') results.scheduler = await runSchedulerBench({ quick: opts.quick });
if (!opts.only || opts.only === 'controllers') {
  results.controllers = { inProcess: await runControllersBench({ quick: opts.quick, backend: 'sqlite' }), awsPath: await runControllersBench({ quick: opts.quick, backend: 'dynamodb' }) };
}
if (!opts.only || opts.only === 'node') results.node = await runNodeAgentBench({ quick: opts.quick });
mkdirSync(opts.out, { recursive: true });
const file = join(opts.out, `bench-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
writeFileSync(file, JSON.stringify(results, null, 2));
process.stdout.write(`${JSON.stringify(results, null, 2)}\nwritten to ${file}\n`);
