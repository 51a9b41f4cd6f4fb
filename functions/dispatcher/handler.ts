// The Streams consumer: DynamoDB Streams event -> one SQS FIFO message per changed object on each
// controller work queue that wants its resource. MessageGroupId = object key (one reconcile of an
// object at a time), MessageDeduplicationId = key@rev (a redelivered stream batch adds nothing).
// Records that could not be forwarded are returned in batchItemFailures; Lambda resumes the shard
// from the lowest of them, so nothing is lost and the resent rest is deduplicated by SQS.
import type { DynamoDBBatchResponse, DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { SendMessageBatchCommand, SQSClient, type SendMessageBatchRequestEntry } from '@aws-sdk/client-sqs';
import { parseStreamRecord } from '../../shared/store/dynamodb/stream.js';
import { createLogger, type Logger } from '../../shared/apiserver/logger.js';
import { awsClientConfig, initOnce, requiredEnv, type AwsClientConfig, type Env } from '../lambda-env.js';
import { changeDeduplicationId, encodeWorkItem, messageGroupId, resourceOfKey } from './work-message.js';

export interface StoreChange {
  key: string;
  rev: number;
  type: string;
}

export interface QueueRoute {
  queueUrl: string;
  /** Resources ("<group or core>/<plural>") this queue's controllers reconcile; absent = all. */
  resources?: string[];
}

export interface DispatcherConfig {
  routes: QueueRoute[];
  sqs: AwsClientConfig;
  logLevel?: string;
}

export interface DispatcherDeps {
  routes: QueueRoute[];
  sqs: SQSClient;
  log: Logger;
  /** Turns a stream record into a change-log entry; undefined for records that are not one. */
  parse?: (record: DynamoDBRecord) => StoreChange | undefined;
}

export type DispatcherHandler = (event: DynamoDBStreamEvent) => Promise<DynamoDBBatchResponse>;

/**
 * WORK_QUEUE_URL (+ optional WORK_QUEUE_RESOURCES, comma-separated) names one queue;
 * WORK_QUEUES='[{"queueUrl":...,"resources":[...]}]' names several.
 */
export function dispatcherConfigFromEnv(env: Env): DispatcherConfig {
  let routes: QueueRoute[];
  if (env.WORK_QUEUES) {
    routes = JSON.parse(env.WORK_QUEUES) as QueueRoute[];
    if (!Array.isArray(routes) || routes.some((r) => typeof r?.queueUrl !== 'string')) throw new Error('WORK_QUEUES must be a JSON array of {queueUrl, resources?}');
  } else {
    const resources = env.WORK_QUEUE_RESOURCES?.split(',').map((s) => s.trim()).filter(Boolean);
    routes = [{ queueUrl: requiredEnv(env, 'WORK_QUEUE_URL'), ...(resources?.length ? { resources } : {}) }];
  }
  return { routes, sqs: awsClientConfig(env, 'SQS'), logLevel: env.STRATUS_LOG_LEVEL };
}

export function createDispatcher(config: DispatcherConfig): DispatcherHandler {
  return createDispatcherWith({ routes: config.routes, sqs: new SQSClient(config.sqs), log: createLogger(config.logLevel ?? 'info') });
}

const SQS_BATCH = 10;

interface Pending {
  change: StoreChange;
  /** Sequence numbers of every stream record this message stands for. */
  sequenceNumbers: string[];
}

export function createDispatcherWith(deps: DispatcherDeps): DispatcherHandler {
  const parse = deps.parse ?? (parseStreamRecord as (record: DynamoDBRecord) => StoreChange | undefined);
  const wants = deps.routes.map((r) => (r.resources ? new Set(r.resources) : undefined));

  return async (event) => {
    // Per queue, the latest change of each key: controllers are level-triggered, so one
    // reconcile after the newest change covers the older ones in the same batch.
    const perQueue = deps.routes.map(() => new Map<string, Pending>());
    for (const record of event.Records) {
      const seq = record.dynamodb?.SequenceNumber;
      let change: StoreChange | undefined;
      try {
        change = parse(record);
      } catch (err) {
        // A record that cannot be read would block its shard forever if retried: log and skip it.
        deps.log.error({ err: String(err), eventID: record.eventID, sequenceNumber: seq }, 'unreadable stream record skipped');
        continue;
      }
      if (!change || !seq) continue;
      const resource = resourceOfKey(change.key);
      deps.routes.forEach((_, i) => {
        if (wants[i] && (!resource || !wants[i]!.has(resource))) return;
        const pending = perQueue[i].get(change.key);
        if (!pending) perQueue[i].set(change.key, { change, sequenceNumbers: [seq] });
        else {
          if (change.rev > pending.change.rev) pending.change = change;
          pending.sequenceNumbers.push(seq);
        }
      });
    }

    const failed = new Set<string>();
    for (let i = 0; i < deps.routes.length; i++) {
      const queueUrl = deps.routes[i].queueUrl;
      const items = [...perQueue[i].values()];
      for (let start = 0; start < items.length; start += SQS_BATCH) {
        const chunk = items.slice(start, start + SQS_BATCH);
        const entries: SendMessageBatchRequestEntry[] = chunk.map((p, n) => ({
          Id: String(n),
          MessageBody: encodeWorkItem(p.change),
          MessageGroupId: messageGroupId(p.change.key),
          MessageDeduplicationId: changeDeduplicationId(p.change.key, p.change.rev),
        }));
        try {
          const out = await deps.sqs.send(new SendMessageBatchCommand({ QueueUrl: queueUrl, Entries: entries }));
          for (const f of out.Failed ?? []) {
            deps.log.warn({ queueUrl, code: f.Code, message: f.Message, key: chunk[Number(f.Id)].change.key }, 'work message not sent');
            for (const s of chunk[Number(f.Id)].sequenceNumbers) failed.add(s);
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
