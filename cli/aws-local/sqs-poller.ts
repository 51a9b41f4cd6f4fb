// The SQS half of a Lambda event source mapping: long-poll a queue, invoke the function with
// Lambda-shaped batches (up to 10 messages), and delete only the messages it handled
// (ReportBatchItemFailures on). Failed messages stay and reappear after their visibility timeout;
// SQS' redrive policy moves them to the dead-letter queue after maxReceiveCount receives.
import type { SQSBatchResponse, SQSEvent, SQSMessageAttributes, SQSRecord } from 'aws-lambda';
import { DeleteMessageBatchCommand, ReceiveMessageCommand, SQSClient, type Message, type MessageAttributeValue } from '@aws-sdk/client-sqs';
import type { Logger } from '../../shared/apiserver/logger.js';

export interface SqsPollerOptions {
  client: SQSClient;
  queueUrl: string;
  queueArn: string;
  region: string;
  invoke: (event: SQSEvent) => Promise<SQSBatchResponse | void>;
  log: Logger;
  /** Messages per invocation, 1..10. */
  batchSize?: number;
  /** Concurrent pollers (each runs one invocation at a time). */
  concurrency?: number;
  /** Long-poll wait (≤ 20 s, Lambda uses 20). */
  waitTimeSeconds?: number;
}

export interface SqsPoller {
  stop(): Promise<void>;
}

const b64 = (b: Uint8Array) => Buffer.from(b).toString('base64');

function toMessageAttributes(attrs: Record<string, MessageAttributeValue> | undefined): SQSMessageAttributes {
  const out: SQSMessageAttributes = {};
  for (const [name, v] of Object.entries(attrs ?? {})) {
    out[name] = {
      ...(v.StringValue !== undefined ? { stringValue: v.StringValue } : {}),
      ...(v.BinaryValue !== undefined ? { binaryValue: b64(v.BinaryValue) } : {}),
      stringListValues: v.StringListValues ?? [],
      binaryListValues: (v.BinaryListValues ?? []).map(b64),
      dataType: v.DataType ?? 'String',
    };
  }
  return out;
}

export function toLambdaSqsRecord(m: Message, queueArn: string, region: string): SQSRecord {
  const a = m.Attributes ?? {};
  return {
    messageId: m.MessageId!,
    receiptHandle: m.ReceiptHandle!,
    body: m.Body ?? '',
    attributes: {
      ApproximateReceiveCount: a.ApproximateReceiveCount ?? '1',
      SentTimestamp: a.SentTimestamp ?? String(Date.now()),
      SenderId: a.SenderId ?? '000000000000',
      ApproximateFirstReceiveTimestamp: a.ApproximateFirstReceiveTimestamp ?? String(Date.now()),
      ...(a.SequenceNumber ? { SequenceNumber: a.SequenceNumber } : {}),
      ...(a.MessageGroupId ? { MessageGroupId: a.MessageGroupId } : {}),
      ...(a.MessageDeduplicationId ? { MessageDeduplicationId: a.MessageDeduplicationId } : {}),
    },
    messageAttributes: toMessageAttributes(m.MessageAttributes),
    md5OfBody: m.MD5OfBody ?? '',
    ...(m.MD5OfMessageAttributes ? { md5OfMessageAttributes: m.MD5OfMessageAttributes } : {}),
    eventSource: 'aws:sqs',
    eventSourceARN: queueArn,
    awsRegion: region,
  };
}

export function startSqsPoller(opts: SqsPollerOptions): SqsPoller {
  const stopping = new AbortController();
  const signal = stopping.signal;
  const batchSize = Math.min(10, Math.max(1, opts.batchSize ?? 10));

  async function handleBatch(messages: Message[]): Promise<void> {
    const records = messages.map((m) => toLambdaSqsRecord(m, opts.queueArn, opts.region));
    let failed: Set<string>;
    try {
      const res = await opts.invoke({ Records: records });
      const ids = (res?.batchItemFailures ?? []).map((f) => f.itemIdentifier);
      const inBatch = new Set(records.map((r) => r.messageId));
      // An identifier that is not in the batch makes Lambda treat the whole batch as failed.
      failed = ids.some((id) => !id || !inBatch.has(id)) ? inBatch : new Set(ids);
    } catch (err) {
      opts.log.warn({ queue: opts.queueArn, err: err instanceof Error ? err.message : String(err), messages: records.length }, 'queue batch failed');
      return;
    }
    const done = records.filter((r) => !failed.has(r.messageId));
    if (!done.length) return;
    const out = await opts.client.send(new DeleteMessageBatchCommand({ QueueUrl: opts.queueUrl, Entries: done.map((r, i) => ({ Id: String(i), ReceiptHandle: r.receiptHandle })) }));
    for (const f of out.Failed ?? []) opts.log.warn({ queue: opts.queueArn, code: f.Code, message: f.Message }, 'message not deleted');
  }

  async function loop(): Promise<void> {
    while (!signal.aborted) {
      try {
        const out = await opts.client.send(
          new ReceiveMessageCommand({
            QueueUrl: opts.queueUrl,
            MaxNumberOfMessages: batchSize,
            WaitTimeSeconds: opts.waitTimeSeconds ?? 20,
            MessageSystemAttributeNames: ['All'],
            MessageAttributeNames: ['All'],
          }),
          { abortSignal: signal },
        );
        if (out.Messages?.length) await handleBatch(out.Messages);
      } catch (err) {
        if (signal.aborted) break;
        opts.log.warn({ queue: opts.queueArn, err: err instanceof Error ? err.message : String(err) }, 'receive failed');
        await new Promise((r) => setTimeout(r, 1000));
      }
    }
  }

  const loops = Array.from({ length: Math.max(1, opts.concurrency ?? 2) }, () => loop());
  return {
    async stop() {
      stopping.abort();
      await Promise.allSettled(loops);
    },
  };
}
