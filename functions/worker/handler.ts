// The controller worker: SQS event from a FIFO work queue -> reconcile(ref) by the controller each
// message names, once per distinct (controller, object) in the batch.
//   - success: the message is done (Lambda deletes it); { requeueAfter } sends a delayed message.
//     SQS FIFO queues refuse per-message DelaySeconds, so the delayed message goes to a standard
//     "requeue" queue whose messages this same handler forwards into the FIFO queue when due
//     (a FIFO-side visibility delay would also hold back newer changes of the object).
//   - failure: the message's visibility is set to an exponential backoff and it is reported in
//     batchItemFailures; after maxReceiveCount receives SQS moves it to the dead-letter queue.
import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { ChangeMessageVisibilityCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { builtinRegistry } from '../../shared/api/registry.js';
import { createLogger, type Logger } from '../../shared/apiserver/logger.js';
import { openStore, type Store, type StoreConfig } from '../../shared/store/index.js';
import { createApiServer } from '../apiserver/app.js';
import { awsClientConfig, initOnce, queueName, requiredEnv, type AwsClientConfig, type Env } from '../lambda-env.js';
import { builtinControllers } from '../../shared/controllers/index.js';
import type { ControllerDef, ObjectRef, Reconcile } from '../../shared/controllers/runtime/types.js';
import { decodeWorkItem, encodeWorkItem, messageGroupId, workKey } from '../dispatcher/work-message.js';
import { setupControllers } from './controller-setup.js';

/** SQS's ceiling for DelaySeconds and a sensible one for backoff. */
const MAX_DELAY_SECONDS = 900;

export interface WorkerConfig {
  store: StoreConfig;
  /** The FIFO queue this worker consumes (due requeues are forwarded into it). */
  workQueueUrl: string;
  /** A standard queue for delayed requeues; without it requeues use the FIFO message's visibility. */
  requeueQueueUrl?: string;
  sqs: AwsClientConfig;
  /** First retry after a failed reconcile waits this long, doubling per receive (default 1 s). */
  retryBaseSeconds?: number;
  logLevel?: string;
  /** Controllers to run (default: the built-in ones; must be the dispatcher's set). */
  controllers?: readonly ControllerDef[];
  /** The controllers' clock (default: the system clock). */
  clock?: () => Date;
}

export interface WorkerDeps {
  sqs: SQSClient;
  log: Logger;
  workQueueUrl: string;
  requeueQueueUrl?: string;
  /** Reconcile functions by controller name. */
  reconcilers: ReadonlyMap<string, Reconcile>;
  retryBaseSeconds?: number;
  now?: () => number;
}

export type WorkerHandler = (event: SQSEvent) => Promise<SQSBatchResponse>;

/** STORE_BACKEND=dynamodb (TABLE_NAME), WORK_QUEUE_URL, REQUEUE_QUEUE_URL, RETRY_BASE_SECONDS. */
export function workerConfigFromEnv(env: Env): WorkerConfig {
  const retry = env.RETRY_BASE_SECONDS === undefined ? undefined : Number(env.RETRY_BASE_SECONDS);
  if (retry !== undefined && !(retry >= 0)) throw new Error('RETRY_BASE_SECONDS must be a number >= 0');
  return {
    store: { backend: 'dynamodb', tableName: requiredEnv(env, 'TABLE_NAME'), client: awsClientConfig(env, 'DYNAMODB') },
    workQueueUrl: requiredEnv(env, 'WORK_QUEUE_URL'),
    ...(env.REQUEUE_QUEUE_URL ? { requeueQueueUrl: env.REQUEUE_QUEUE_URL } : {}),
    sqs: awsClientConfig(env, 'SQS'),
    ...(retry !== undefined ? { retryBaseSeconds: retry } : {}),
    logLevel: env.STRATUS_LOG_LEVEL,
  };
}

/** A handler plus dispose(), which closes its store (Lambda never calls it; local runs do). */
export type DisposableWorkerHandler = WorkerHandler & { dispose(): Promise<void> };

/** A worker that opens its store and sets up its controllers on the first invocation. */
export function createWorker(config: WorkerConfig): DisposableWorkerHandler {
  const log = createLogger(config.logLevel ?? 'info');
  let store: Store | undefined;
  const ready = initOnce(async () => {
    store = await openStore(config.store);
    const registry = builtinRegistry();
    const { rest, namespaces } = createApiServer({ store: store!, registry, log, serverAddress: '', authenticator: { authenticateToken: () => undefined } });
    const reconcilers = setupControllers(config.controllers ?? builtinControllers, { store: store!, registry, rest, namespaces, log, clock: config.clock });
    return createWorkerWith({ sqs: new SQSClient(config.sqs), log, workQueueUrl: config.workQueueUrl, requeueQueueUrl: config.requeueQueueUrl, reconcilers, retryBaseSeconds: config.retryBaseSeconds });
  });
  const handler: WorkerHandler = async (event) => (await ready())(event);
  return Object.assign(handler, { dispose: async () => store?.close() });
}

export function createWorkerWith(deps: WorkerDeps): WorkerHandler {
  const now = deps.now ?? Date.now;
  const base = deps.retryBaseSeconds ?? 1;
  const requeueQueue = deps.requeueQueueUrl ? queueName(deps.requeueQueueUrl) : undefined;

  const delaySeconds = (ms: number) => Math.min(MAX_DELAY_SECONDS, Math.max(0, Math.ceil(ms / 1000)));

  async function setVisibility(record: SQSRecord, seconds: number): Promise<void> {
    await deps.sqs.send(new ChangeMessageVisibilityCommand({ QueueUrl: deps.workQueueUrl, ReceiptHandle: record.receiptHandle, VisibilityTimeout: seconds }));
  }

  /** Schedule the object again in `ms`. Returns false when the messages must stay (reported as failures). */
  async function requeue(controller: string, ref: ObjectRef, ms: number, records: SQSRecord[]): Promise<boolean> {
    if (deps.requeueQueueUrl) {
      await deps.sqs.send(new SendMessageCommand({ QueueUrl: deps.requeueQueueUrl, MessageBody: encodeWorkItem({ controller, ref, notBefore: now() + ms }), DelaySeconds: delaySeconds(ms) }));
      return true;
    }
    // No requeue queue: keep the FIFO message invisible for the delay. This counts as a receive
    // towards maxReceiveCount and holds back newer changes of the object meanwhile.
    for (const r of records) await setVisibility(r, delaySeconds(ms));
    return false;
  }

  /** A due requeue goes into the FIFO queue; one still early goes back to the delay queue. */
  async function forward(record: SQSRecord): Promise<void> {
    const item = decodeWorkItem(record.body);
    const remaining = (item.notBefore ?? 0) - now();
    if (remaining > 1000) {
      await deps.sqs.send(new SendMessageCommand({ QueueUrl: deps.requeueQueueUrl, MessageBody: record.body, DelaySeconds: delaySeconds(remaining) }));
      return;
    }
    await deps.sqs.send(
      new SendMessageCommand({
        QueueUrl: deps.workQueueUrl,
        MessageBody: encodeWorkItem({ controller: item.controller, ref: item.ref }),
        MessageGroupId: messageGroupId(item.controller, item.ref),
        // A redelivered copy of the same delayed message is dropped by the FIFO queue.
        MessageDeduplicationId: `requeue:${record.messageId}`,
      }),
    );
  }

  interface Group {
    controller: string;
    ref: ObjectRef;
    records: SQSRecord[];
  }

  return async (event) => {
    const failed = new Set<string>();
    const groups = new Map<string, Group>();
    const delayed: SQSRecord[] = [];
    for (const record of event.Records) {
      if (requeueQueue && queueName(record.eventSourceARN) === requeueQueue) {
        delayed.push(record);
        continue;
      }
      try {
        const { controller, ref } = decodeWorkItem(record.body);
        const id = workKey(controller, ref);
        const group = groups.get(id) ?? { controller, ref, records: [] };
        group.records.push(record);
        groups.set(id, group);
      } catch (err) {
        deps.log.error({ err: String(err), messageId: record.messageId }, 'malformed work message');
        failed.add(record.messageId);
      }
    }

    // Distinct (controller, object) pairs run concurrently; the messages of one pair (one FIFO group) are reconciled once.
    const work = [...groups.values()].map(async ({ controller, ref, records }) => {
      const reconcile = deps.reconcilers.get(controller);
      if (!reconcile) {
        // Work for a controller this worker does not run (removed, or renamed): nothing can ever take it.
        deps.log.warn({ controller, ref }, 'work for an unknown controller dropped');
        return;
      }
      try {
        const after = (await reconcile(ref))?.requeueAfter;
        if (after !== undefined && after > 0 && !(await requeue(controller, ref, after, records))) for (const r of records) failed.add(r.messageId);
      } catch (err) {
        const attempt = Math.max(...records.map((r) => Number(r.attributes?.ApproximateReceiveCount ?? 1)));
        deps.log.warn({ controller, ref, attempt, err: err instanceof Error ? err.message : String(err) }, 'reconcile failed');
        for (const r of records) failed.add(r.messageId);
        const backoff = Math.min(MAX_DELAY_SECONDS, Math.round(base * 2 ** (attempt - 1)));
        await Promise.all(records.map((r) => setVisibility(r, backoff))).catch((e: unknown) => deps.log.warn({ controller, ref, err: String(e) }, 'could not set retry backoff'));
      }
    });
    const forwards = delayed.map(async (record) => {
      try {
        await forward(record);
      } catch (err) {
        deps.log.warn({ messageId: record.messageId, err: String(err) }, 'requeue not forwarded');
        failed.add(record.messageId);
      }
    });
    await Promise.all([...work, ...forwards]);
    return { batchItemFailures: event.Records.filter((r) => failed.has(r.messageId)).map((r) => ({ itemIdentifier: r.messageId })) };
  };
}

const fromEnv = initOnce(async () => createWorker(workerConfigFromEnv(process.env)));

/** The Lambda entry point (SQS event source on the work and requeue queues, ReportBatchItemFailures on). */
export const handler: WorkerHandler = async (event) => (await fromEnv())(event);
