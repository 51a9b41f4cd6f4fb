// `stratus start --backend dynamodb`: the whole AWS-shaped system on this machine. DynamoDB Local
// (persisted under the data directory) and the fauxqs SQS emulator stand in for the managed
// services; the Lambda handlers from functions/ run in this process, invoked the way their event
// sources invoke them on AWS: a local function URL for the API, a Streams poller for the
// dispatcher, SQS pollers for the worker. Same flags and kubeconfig contract as the embedded store.
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { DescribeTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBStreamsClient } from '@aws-sdk/client-dynamodb-streams';
import { SendMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import { builtinRegistry } from '../../shared/api/registry.js';
import { createLogger, type Logger } from '../../shared/apiserver/logger.js';
import { openStore, type Store } from '../../shared/store/index.js';
import { ensureTable } from '../../shared/store/dynamodb/table.js';
import { startDynamoDbLocal, type DynamoDbLocal } from '../../shared/aws-local/dynamodb-local.js';
import { startSqsLocal, type SqsLocal } from '../../shared/aws-local/sqs-local.js';
import { createApiServer } from '../../functions/apiserver/app.js';
import { apiConfigFromEnv, createApiHandler, sha256Hex } from '../../functions/apiserver/lambda.js';
import { createDispatcher, dispatcherConfigFromEnv } from '../../functions/dispatcher/handler.js';
import { changeDeduplicationId, encodeWorkItem, messageGroupId } from '../../functions/dispatcher/work-message.js';
import { wakeResources } from '../../functions/dispatcher/routing.js';
import { createWorker, workerConfigFromEnv } from '../../functions/worker/handler.js';
import { builtinControllersWith, rootCaPublisher, type ControllerDef } from '../../shared/controllers/index.js';
import { refOfStoreKey } from '../../shared/controllers/runtime/types.js';
import type { Env } from '../../functions/lambda-env.js';
import type { ControlPlane } from '../control-plane.js';
import { bootstrapCluster } from '../../shared/apiserver/bootstrap.js';
import { ensurePki } from '../pki.js';
import { ensureAdminToken, writeKubeconfig } from '../kubeconfig.js';
import { installLambdaGlobals, invokeBuffered, type FunctionSettings } from './lambda-runtime.js';
import { startFunctionUrlServer } from './function-url.js';
import { startStreamPoller } from './stream-poller.js';
import { startSqsPoller } from './sqs-poller.js';
import { ensureWorkQueues, type WorkQueues } from './queues.js';

export interface AwsLocalOptions {
  dataDir: string;
  port: number;
  host?: string;
  log?: Logger;
  /** Names the table and queues (default "local"). */
  tenant?: string;
  /** Controllers the dispatcher routes for and the worker runs (default: the built-in ones). */
  controllers?: readonly ControllerDef[];
  /** Heartbeat silence after which a node turns NotReady (default 50 s). */
  nodeMonitorGracePeriodMs?: number;
  /** Worker retry backoff base in seconds (default 1). */
  retryBaseSeconds?: number;
  /** Receives of a work message before it goes to the dead-letter queue (default 5). */
  maxReceiveCount?: number;
}

export interface AwsLocal extends ControlPlane {
  tableName: string;
  queues: WorkQueues;
  endpoints: { dynamodb: string; sqs: string };
  /** The variables each function gets, as the CDK stack sets them. */
  functionEnv: { api: Env; dispatcher: Env; worker: Env };
}

const API_FN = (region: string): FunctionSettings => ({ functionName: 'stratus-api', timeoutMs: 900_000, region });
const DISPATCHER_FN = (region: string): FunctionSettings => ({ functionName: 'stratus-dispatcher', timeoutMs: 60_000, region });
const WORKER_FN = (region: string): FunctionSettings => ({ functionName: 'stratus-worker', timeoutMs: 30_000, region });

export async function startAwsLocal(opts: AwsLocalOptions): Promise<AwsLocal> {
  const log = opts.log ?? createLogger();
  const host = opts.host ?? '127.0.0.1';
  const dataDir = resolve(opts.dataDir);
  const tenant = opts.tenant ?? 'local';
  const tableName = `stratus-${tenant}`;
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const pki = await ensurePki(dataDir);
  const token = ensureAdminToken(dataDir);

  const cleanups: (() => Promise<unknown> | unknown)[] = [];
  const closeAll = async () => {
    for (const c of cleanups.splice(0).reverse()) {
      try {
        await c();
      } catch (err) {
        log.warn({ err: String(err) }, 'error while stopping');
      }
    }
  };

  try {
    const ddb: DynamoDbLocal = await startDynamoDbLocal({ dataDir: join(dataDir, 'dynamodb') });
    // Never leave the JVM behind, even if this process ends without close().
    const killJava = () => ddb.process.kill('SIGKILL');
    process.once('exit', killJava);
    cleanups.push(async () => {
      process.off('exit', killJava);
      await ddb.stop();
    });
    const sqsLocal: SqsLocal = await startSqsLocal({ region: ddb.region });
    cleanups.push(() => sqsLocal.stop());

    const region = ddb.region;
    const clientConfig = { region, credentials: ddb.credentials };
    const dynamodb = new DynamoDBClient({ ...clientConfig, endpoint: ddb.endpoint });
    const streams = new DynamoDBStreamsClient({ ...clientConfig, endpoint: ddb.endpoint });
    const sqs = new SQSClient({ ...clientConfig, endpoint: sqsLocal.endpoint });
    cleanups.push(() => (dynamodb.destroy(), streams.destroy(), sqs.destroy()));

    await ensureTable(dynamodb, tableName);
    const streamArn = (await dynamodb.send(new DescribeTableCommand({ TableName: tableName }))).Table?.LatestStreamArn;
    if (!streamArn) throw new Error(`table ${tableName} has no stream`);
    const queues = await ensureWorkQueues(sqs, { prefix: `stratus-${tenant}`, maxReceiveCount: opts.maxReceiveCount, visibilityTimeoutSeconds: 180 });

    const controllers = opts.controllers ?? [...builtinControllersWith({ nodeMonitorGracePeriodMs: opts.nodeMonitorGracePeriodMs }), rootCaPublisher(pki.caCert)];
    const resources = wakeResources(controllers);
    const common: Env = {
      AWS_REGION: region,
      AWS_ACCESS_KEY_ID: ddb.credentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: ddb.credentials.secretAccessKey,
      AWS_ENDPOINT_URL_DYNAMODB: ddb.endpoint,
      AWS_ENDPOINT_URL_SQS: sqsLocal.endpoint,
      STRATUS_LOG_LEVEL: log.level,
    };
    const functionEnv = {
      api: { ...common, TABLE_NAME: tableName, ADMIN_TOKEN_SHA256: sha256Hex(token), SERVER_ADDRESS: `${host}:${opts.port}` },
      // Only changes of resources that wake some controller (primary or watched) are worth routing.
      dispatcher: { ...common, TABLE_NAME: tableName, WORK_QUEUE_URL: queues.work.url, WORK_QUEUE_RESOURCES: resources.join(',') },
      worker: { ...common, TABLE_NAME: tableName, WORK_QUEUE_URL: queues.work.url, REQUEUE_QUEUE_URL: queues.requeue.url, ...(opts.retryBaseSeconds !== undefined ? { RETRY_BASE_SECONDS: String(opts.retryBaseSeconds) } : {}) },
    };

    installLambdaGlobals();
    const api = createApiHandler(apiConfigFromEnv(functionEnv.api));
    const dispatcher = createDispatcher({ ...dispatcherConfigFromEnv(functionEnv.dispatcher), controllers });
    const worker = createWorker({ ...workerConfigFromEnv(functionEnv.worker), controllers });
    cleanups.push(() => api.dispose(), () => dispatcher.dispose(), () => worker.dispose());

    // Cluster bootstrap, and every controller's primary objects queued once: controllers start by
    // reconciling everything (as the in-process driver does when its cache starts), so nothing
    // waits on a message lost with the previous emulator.
    const store: Store = await openStore(apiConfigFromEnv(functionEnv.api).store);
    try {
      const { rest } = createApiServer({ store, registry: builtinRegistry(), log, serverAddress: `${host}:${opts.port}`, authenticator: { authenticateToken: () => undefined } });
      await bootstrapCluster(rest, builtinRegistry(), opts.port);
      await resync(store, controllers, sqs, queues.work.url);
    } finally {
      await store.close();
    }

    const dispatcherFn = DISPATCHER_FN(region);
    const workerFn = WORKER_FN(region);
    const streamPoller = startStreamPoller({
      client: streams,
      streamArn,
      region,
      log,
      checkpointFile: join(dataDir, 'stream-checkpoints.json'),
      invoke: (event) => invokeBuffered(dispatcherFn, dispatcher, event),
    });
    cleanups.push(() => streamPoller.stop());
    for (const queue of [queues.work, queues.requeue]) {
      const poller = startSqsPoller({ client: sqs, queueUrl: queue.url, queueArn: queue.arn, region, log, invoke: (event) => invokeBuffered(workerFn, worker, event) });
      cleanups.push(() => poller.stop());
    }

    const urlServer = await startFunctionUrlServer({ handler: api, fn: API_FN(region), host, port: opts.port, tls: pki, log });
    cleanups.push(() => urlServer.close());
    const url = urlServer.url;
    const kubeconfig = writeKubeconfig(dataDir, url, pki.caCert, token);
    log.info({ url, kubeconfig, dataDir, backend: 'dynamodb', table: tableName, dynamodb: ddb.endpoint, sqs: sqsLocal.endpoint }, 'stratus control plane ready');

    return {
      url,
      kubeconfig,
      token,
      caCert: pki.caCert,
      tableName,
      queues,
      endpoints: { dynamodb: ddb.endpoint, sqs: sqsLocal.endpoint },
      functionEnv,
      close: closeAll,
    };
  } catch (err) {
    await closeAll();
    throw err;
  }
}

/** Queue one work message per controller for every stored object of its primary resources. */
async function resync(store: Store, controllers: readonly ControllerDef[], sqs: SQSClient, queueUrl: string): Promise<void> {
  for (const c of controllers) {
    for (const resource of c.resources) {
      const { items } = await store.list({ prefix: `/registry/${resource}/` });
      const work = items.flatMap((kv) => {
        const ref = refOfStoreKey(kv.key);
        return ref ? [{ ref, rev: kv.rev }] : [];
      });
      for (let i = 0; i < work.length; i += 10) {
        const entries = work.slice(i, i + 10).map(({ ref, rev }, n) => ({
          Id: String(n),
          MessageBody: encodeWorkItem({ controller: c.name, ref, rev }),
          MessageGroupId: messageGroupId(c.name, ref),
          MessageDeduplicationId: changeDeduplicationId(c.name, ref, rev),
        }));
        await sqs.send(new SendMessageBatchCommand({ QueueUrl: queueUrl, Entries: entries }));
      }
    }
  }
}
