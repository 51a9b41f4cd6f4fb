// The Streams consumer: DynamoDB Streams event -> controller work on SQS FIFO queues. Each change
// is routed like the in-process manager routes it (routing.ts): a change of a controller's
// primary resource wakes that object, a change of a watched resource wakes what the watch maps
// the new and the old object onto. One message per (controller, object) per batch:
// MessageGroupId = controller + object (one reconcile of one object by one controller at a time),
// MessageDeduplicationId = that + the newest causing revision (a redelivered stream batch adds
// nothing). Records that could not be forwarded are returned in batchItemFailures; Lambda resumes
// the shard from the lowest of them, so nothing is lost and the resent rest is deduplicated by SQS.
import type { DynamoDBBatchResponse, DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { SendMessageBatchCommand, SQSClient, type SendMessageBatchRequestEntry } from '@aws-sdk/client-sqs';
import { createLogger, type Logger } from '../../shared/apiserver/logger.js';
import { builtinControllers } from '../../shared/controllers/index.js';
import type { ObjectReader } from '../../shared/controllers/runtime/reader.js';
import { refOfStoreKey, type ControllerDef, type ObjectRef } from '../../shared/controllers/runtime/types.js';
import type { DynamoConfig } from '../../shared/store/dynamodb/index.js';
import { StoreError } from '../../shared/store/contract.js';
import { awsClientConfig, initOnce, requiredEnv, type AwsClientConfig, type Env } from '../lambda-env.js';
import { objectsOfChange, parseLoggedChange, valuesInBatch, type LoggedChange, type RevisionValues } from './change-objects.js';
import { isWatched, targetsOfChange } from './routing.js';
import { openDispatcherStoreAccess } from './store-access.js';
import { changeDeduplicationId, encodeWorkItem, messageGroupId, workKey, type WorkItem } from './work-message.js';

export interface QueueRoute {
  queueUrl: string;
  /** Changed resources ("<group or core>/<plural>") this queue's controllers are woken by; absent = all. */
  resources?: string[];
  /** Names of the controllers whose work goes to this queue; absent = all. */
  controllers?: string[];
}

export interface DispatcherConfig {
  routes: QueueRoute[];
  sqs: AwsClientConfig;
  /** The store's table: watch mappings read it, and so do images a stream record lacks. */
  store: DynamoConfig;
  logLevel?: string;
  /** Controllers to route for (default: the built-in ones; must be the worker's set). */
  controllers?: readonly ControllerDef[];
}

export interface DispatcherDeps {
  routes: QueueRoute[];
  sqs: SQSClient;
  log: Logger;
  controllers: readonly ControllerDef[];
  /** What watch mappings read through; needed only when some controller has watches. */
  reader?: ObjectReader;
  /** Values by revision, for large (chunked) values and previous/deleted values not in the batch. */
  values?: RevisionValues;
  /** Turns a stream record into a change-log entry; undefined for records that are not one. */
  parse?: (record: DynamoDBRecord) => LoggedChange | undefined;
}

export type DispatcherHandler = (event: DynamoDBStreamEvent) => Promise<DynamoDBBatchResponse>;

/**
 * TABLE_NAME; WORK_QUEUE_URL (+ optional WORK_QUEUE_RESOURCES, comma-separated) names one queue;
 * WORK_QUEUES='[{"queueUrl":...,"resources":[...],"controllers":[...]}]' names several.
 */
export function dispatcherConfigFromEnv(env: Env): DispatcherConfig {
  let routes: QueueRoute[];
  if (env.WORK_QUEUES) {
    routes = JSON.parse(env.WORK_QUEUES) as QueueRoute[];
    if (!Array.isArray(routes) || routes.some((r) => typeof r?.queueUrl !== 'string')) throw new Error('WORK_QUEUES must be a JSON array of {queueUrl, resources?, controllers?}');
  } else {
    const resources = env.WORK_QUEUE_RESOURCES?.split(',').map((s) => s.trim()).filter(Boolean);
    routes = [{ queueUrl: requiredEnv(env, 'WORK_QUEUE_URL'), ...(resources?.length ? { resources } : {}) }];
  }
  const ddb = awsClientConfig(env, 'DYNAMODB');
  return { routes, sqs: awsClientConfig(env, 'SQS'), store: { tableName: requiredEnv(env, 'TABLE_NAME'), client: ddb }, logLevel: env.STRATUS_LOG_LEVEL };
}

/** A handler plus dispose(), which closes its table clients (Lambda never calls it; local runs do). */
export type DisposableDispatcherHandler = DispatcherHandler & { dispose(): Promise<void> };

export function createDispatcher(config: DispatcherConfig): DisposableDispatcherHandler {
  const access = openDispatcherStoreAccess(config.store);
  const handler = createDispatcherWith({
    routes: config.routes,
    sqs: new SQSClient(config.sqs),
    log: createLogger(config.logLevel ?? 'info'),
    controllers: config.controllers ?? builtinControllers,
    reader: access.reader,
    values: access.values,
  });
  return Object.assign(handler, { dispose: () => access.close() });
}

const SQS_BATCH = 10;
/** Records routed at once (each may read the table or run watch mappings that do). */
const ROUTING_CONCURRENCY = 8;

interface Pending {
  item: WorkItem & { rev: number };
  /** Sequence numbers of every stream record this message stands for. */
  sequenceNumbers: Set<string>;
}

const errText = (err: unknown) => (err instanceof Error ? err.message : String(err));
/** A store that cannot answer now; the record is retried rather than skipped. */
const isTransient = (err: unknown) => err instanceof StoreError && err.code === 'Unavailable';

export function createDispatcherWith(deps: DispatcherDeps): DispatcherHandler {
  const parse = deps.parse ?? parseLoggedChange;
  const wantsResource = deps.routes.map((r) => (r.resources ? new Set(r.resources) : undefined));
  const wantsController = deps.routes.map((r) => (r.controllers ? new Set(r.controllers) : undefined));
  const routesOfResource = (resource: string) => deps.routes.map((_, i) => !wantsResource[i] || wantsResource[i]!.has(resource));
  const noReader: ObjectReader = {
    get: () => Promise.reject(new Error('the dispatcher has no store reader')),
    list: () => Promise.reject(new Error('the dispatcher has no store reader')),
  };

  return async (event) => {
    // Per queue, one message per (controller, object): controllers are level-triggered, so one
    // reconcile after the newest change covers the older ones in the same batch.
    const perQueue = deps.routes.map(() => new Map<string, Pending>());
    const failed = new Set<string>();
    const inBatch = valuesInBatch(event.Records);

    const route = async (record: DynamoDBRecord): Promise<void> => {
      const seq = record.dynamodb?.SequenceNumber;
      let change: LoggedChange | undefined;
      try {
        change = parse(record);
      } catch (err) {
        // A record that cannot be read would block its shard forever if retried: log and skip it.
        deps.log.error({ err: String(err), eventID: record.eventID, sequenceNumber: seq }, 'unreadable stream record skipped');
        return;
      }
      if (!change || !seq) return;
      const ref = refOfStoreKey(change.key);
      if (!ref) return;
      const queues = routesOfResource(ref.resource);
      if (!queues.some(Boolean)) return;

      let objects: Awaited<ReturnType<typeof objectsOfChange>>['objects'] = [];
      if (isWatched(deps.controllers, ref.resource)) {
        try {
          const found = await objectsOfChange(change, inBatch, deps.values);
          objects = found.objects;
          for (const reason of found.skipped) deps.log.warn({ key: change.key, rev: change.rev, reason }, 'object state not mapped by watches');
        } catch (err) {
          deps.log.warn({ key: change.key, rev: change.rev, err: errText(err) }, 'could not read the changed object; record will be retried');
          failed.add(seq);
          return;
        }
      }
      const { targets, failures } = await targetsOfChange(deps.controllers, ref, objects, deps.reader ?? noReader);
      for (const f of failures) {
        if (isTransient(f.err)) failed.add(seq);
        deps.log.error({ controller: f.controller, key: change.key, rev: change.rev, err: errText(f.err) }, isTransient(f.err) ? 'watch mapping could not read the store; record will be retried' : 'watch mapping failed');
      }
      for (const t of targets) add(queues, t.controller, t.ref, change.rev, seq);
    };

    const add = (queues: boolean[], controller: string, ref: ObjectRef, rev: number, seq: string) => {
      const id = workKey(controller, ref);
      queues.forEach((wanted, i) => {
        if (!wanted || (wantsController[i] && !wantsController[i]!.has(controller))) return;
        const pending = perQueue[i].get(id);
        if (!pending) perQueue[i].set(id, { item: { controller, ref, rev }, sequenceNumbers: new Set([seq]) });
        else {
          if (rev > pending.item.rev) pending.item.rev = rev;
          pending.sequenceNumbers.add(seq);
        }
      });
    };

    let next = 0;
    const records = event.Records;
    await Promise.all(
      Array.from({ length: Math.min(ROUTING_CONCURRENCY, records.length) }, async () => {
        while (next < records.length) await route(records[next++]);
      }),
    );

    for (let i = 0; i < deps.routes.length; i++) {
      const queueUrl = deps.routes[i].queueUrl;
      const items = [...perQueue[i].values()];
      for (let start = 0; start < items.length; start += SQS_BATCH) {
        const chunk = items.slice(start, start + SQS_BATCH);
        const entries: SendMessageBatchRequestEntry[] = chunk.map((p, n) => ({
          Id: String(n),
          MessageBody: encodeWorkItem(p.item),
          MessageGroupId: messageGroupId(p.item.controller, p.item.ref),
          MessageDeduplicationId: changeDeduplicationId(p.item.controller, p.item.ref, p.item.rev),
        }));
        try {
          const out = await deps.sqs.send(new SendMessageBatchCommand({ QueueUrl: queueUrl, Entries: entries }));
          for (const f of out.Failed ?? []) {
            const p = chunk[Number(f.Id)];
            deps.log.warn({ queueUrl, code: f.Code, message: f.Message, controller: p.item.controller, ref: p.item.ref }, 'work message not sent');
            for (const s of p.sequenceNumbers) failed.add(s);
          }
        } catch (err) {
          deps.log.warn({ queueUrl, err: String(err), messages: chunk.length }, 'work message batch not sent');
          for (const p of chunk) for (const s of p.sequenceNumbers) failed.add(s);
        }
      }
    }
    // Report in stream order; Lambda restarts from the lowest sequence number reported.
    const batchItemFailures = event.Records.map((r) => r.dynamodb?.SequenceNumber).filter((s): s is string => !!s && failed.has(s)).map((itemIdentifier) => ({ itemIdentifier }));
    return { batchItemFailures };
  };
}

const fromEnv = initOnce(async () => createDispatcher(dispatcherConfigFromEnv(process.env)));

/** The Lambda entry point (DynamoDB Streams event source, ReportBatchItemFailures on). */
export const handler: DispatcherHandler = async (event) => (await fromEnv())(event);
