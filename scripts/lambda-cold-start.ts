// Cold start of each Lambda bundle: a fresh Node process imports dist/lambda/<name>/index.mjs
// (Lambda's init phase) and handles one event (the first invocation), then a second one (warm),
// against DynamoDB Local and the SQS emulator. Prints the median of several runs.
//   npx tsx scripts/lambda-cold-start.ts [--runs N]
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import { startDynamoDbLocal } from '../shared/aws-local/dynamodb-local.js';
import { startSqsLocal } from '../shared/aws-local/sqs-local.js';
import { ensureTable } from '../shared/store/dynamodb/table.js';
import { openStore } from '../shared/store/index.js';
import { builtinRegistry } from '../shared/api/registry.js';
import { createLogger } from '../shared/apiserver/logger.js';
import { createApiServer } from '../functions/apiserver/app.js';
import { bootstrapCluster } from '../shared/apiserver/bootstrap.js';
import { ensureWorkQueues } from '../cli/aws-local/queues.js';
import { buildLambdas, type LambdaName } from './build-lambdas.js';

// What the runtime provides before it loads a handler: the awslambda global and, for streaming
// handlers, a response stream with setContentType() and the first-write prelude hook.
const CHILD = `
import { Writable } from 'node:stream';
const marker = Symbol.for('aws.lambda.runtime.handler.streaming');
globalThis.awslambda ??= {};
Object.assign(globalThis.awslambda, {
  streamifyResponse: (h) => ((h[marker] = 'response'), h),
  HttpResponseStream: { from(s, prelude) { s.setContentType('application/vnd.awslambda.http-integration-response'); s._onBeforeFirstWrite = (w) => { w(JSON.stringify(prelude)); w(new Uint8Array(8)); }; return s; } },
});
class ResponseStream extends Writable {
  chunks = []; started = false;
  setContentType() {}
  _write(chunk, _e, cb) { if (!this.started) { this.started = true; this._onBeforeFirstWrite?.((c) => this.chunks.push(Buffer.from(c))); } this.chunks.push(chunk); cb(); }
}
const [bundle, eventJson] = process.argv.slice(2);
const context = { getRemainingTimeInMillis: () => 900000, awsRequestId: 'r', functionName: 'f' };
async function invoke(handler, event) {
  if (handler[marker] === 'response') {
    const s = new ResponseStream();
    await handler(event, s, context);
    const body = Buffer.concat(s.chunks);
    const prelude = JSON.parse(body.subarray(0, body.indexOf(Buffer.alloc(8))).toString());
    if (prelude.statusCode !== 200) throw new Error('status ' + prelude.statusCode + ': ' + body.toString());
  } else {
    const out = await handler(event, context);
    if (out?.batchItemFailures?.length) throw new Error('failures: ' + JSON.stringify(out));
  }
}
const event = JSON.parse(eventJson);
const t0 = performance.now();
const { handler } = await import(bundle);
const t1 = performance.now();
await invoke(handler, event);
const t2 = performance.now();
await invoke(handler, event);
const t3 = performance.now();
console.log(JSON.stringify({ importMs: t1 - t0, firstMs: t2 - t1, warmMs: t3 - t2, sinceProcessStartMs: t2 }));
process.exit(0);
`;

function runChild(script: string, bundle: string, event: unknown, env: Record<string, string>): Promise<{ importMs: number; firstMs: number; warmMs: number; sinceProcessStartMs: number }> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [script, bundle, JSON.stringify(event)], { env: { PATH: process.env.PATH ?? '', ...env } }, (err, stdout, stderr) => {
      if (err) return reject(new Error(`${bundle}: ${err.message}\n${stderr}`));
      resolve(JSON.parse(stdout.trim().split('\n').at(-1)!));
    });
  });
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const runsArg = process.argv.indexOf('--runs');
const runs = runsArg > 0 ? Number(process.argv[runsArg + 1]) : 5;
const work = mkdtempSync(join(tmpdir(), 'stratus-coldstart-'));
// Built inside the repository so the bundles resolve @aws-sdk/* from its node_modules, as the
// Lambda runtime resolves them from its own.
const built = await buildLambdas();
const script = join(work, 'child.mjs');
writeFileSync(script, CHILD);

const [ddb, sqsLocal] = await Promise.all([startDynamoDbLocal(), startSqsLocal()]);
try {
  const creds = ddb.credentials;
  const dynamodb = new DynamoDBClient({ endpoint: ddb.endpoint, region: ddb.region, credentials: creds });
  const sqs = new SQSClient({ endpoint: sqsLocal.endpoint, region: ddb.region, credentials: creds });
  const tableName = 'stratus-coldstart';
  await ensureTable(dynamodb, tableName);
  const store = await openStore({ backend: 'dynamodb', tableName, client: { endpoint: ddb.endpoint, region: ddb.region, credentials: creds } });
  const { rest } = createApiServer({ store, registry: builtinRegistry(), log: createLogger('silent'), serverAddress: '', authenticator: { authenticateToken: () => undefined } });
  await bootstrapCluster(rest, builtinRegistry(), 443);
  await store.close();
  const queues = await ensureWorkQueues(sqs, { prefix: 'coldstart' });

  const common = {
    AWS_REGION: ddb.region,
    AWS_ACCESS_KEY_ID: creds.accessKeyId,
    AWS_SECRET_ACCESS_KEY: creds.secretAccessKey,
    AWS_ENDPOINT_URL_DYNAMODB: ddb.endpoint,
    AWS_ENDPOINT_URL_SQS: sqsLocal.endpoint,
    STRATUS_LOG_LEVEL: 'warn',
  };
  const token = 'cold-start-token';
  const cases: Record<LambdaName, { env: Record<string, string>; event: unknown }> = {
    api: {
      env: { ...common, TABLE_NAME: tableName, ADMIN_TOKEN: token },
      event: {
        version: '2.0',
        routeKey: '$default',
        rawPath: '/api/v1/namespaces/default',
        rawQueryString: '',
        headers: { host: 'x.lambda-url.us-east-1.on.aws', authorization: `Bearer ${token}`, accept: 'application/json' },
        requestContext: { accountId: 'anonymous', apiId: 'x', domainName: 'x.lambda-url.us-east-1.on.aws', domainPrefix: 'x', http: { method: 'GET', path: '/api/v1/namespaces/default', protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'kubectl' }, requestId: 'r', routeKey: '$default', stage: '$default', time: '01/Jan/2026:00:00:00 +0000', timeEpoch: 0 },
        isBase64Encoded: false,
      },
    },
    dispatcher: {
      env: { ...common, WORK_QUEUE_URL: queues.work.url },
      event: {
        Records: [
          {
            eventID: '1',
            eventName: 'INSERT',
            eventVersion: '1.1',
            eventSource: 'aws:dynamodb',
            awsRegion: ddb.region,
            dynamodb: { ApproximateCreationDateTime: 1767225600, Keys: { pk: { S: 'log' }, sk: { S: '0000000000000042' } }, NewImage: { pk: { S: 'log' }, sk: { S: '0000000000000042' }, t: { S: 'PUT' }, k: { S: '/registry/core/configmaps/default/x' } }, SequenceNumber: '100', SizeBytes: 80, StreamViewType: 'NEW_AND_OLD_IMAGES' },
            eventSourceARN: 'arn:aws:dynamodb:us-east-1:000000000000:table/stratus-coldstart/stream/x',
          },
        ],
      },
    },
    worker: {
      env: { ...common, TABLE_NAME: tableName, WORK_QUEUE_URL: queues.work.url, REQUEUE_QUEUE_URL: queues.requeue.url },
      event: {
        Records: [
          {
            messageId: 'm1',
            receiptHandle: 'h1',
            body: JSON.stringify({ key: '/registry/core/namespaces/default', rev: 1, type: 'PUT' }),
            attributes: { ApproximateReceiveCount: '1', SentTimestamp: '0', SenderId: 'x', ApproximateFirstReceiveTimestamp: '0', MessageGroupId: '/registry/core/namespaces/default' },
            messageAttributes: {},
            md5OfBody: '',
            eventSource: 'aws:sqs',
            eventSourceARN: queues.work.arn,
            awsRegion: ddb.region,
          },
        ],
      },
    },
  };

  console.log(`bundle            size      gzip   import (init)   1st invocation   init+1st   2nd (warm)   process start→1st done   (median of ${runs})`);
  for (const b of built) {
    const c = cases[b.name];
    const samples = [];
    for (let i = 0; i < runs; i++) samples.push(await runChild(script, b.file, c.event, c.env));
    const imp = median(samples.map((s) => s.importMs));
    const first = median(samples.map((s) => s.firstMs));
    const total = median(samples.map((s) => s.importMs + s.firstMs));
    const warm = median(samples.map((s) => s.warmMs));
    const proc = median(samples.map((s) => s.sinceProcessStartMs));
    console.log(
      `${b.name.padEnd(12)} ${(b.bytes / 1024).toFixed(0).padStart(5)} KiB ${(b.gzipBytes / 1024).toFixed(0).padStart(5)} KiB ${imp.toFixed(0).padStart(10)} ms ${first.toFixed(0).padStart(13)} ms ${total.toFixed(0).padStart(7)} ms ${warm.toFixed(1).padStart(9)} ms ${proc.toFixed(0).padStart(18)} ms`,
    );
  }
  dynamodb.destroy();
  sqs.destroy();
} finally {
  await Promise.all([ddb.stop(), sqsLocal.stop()]);
}
