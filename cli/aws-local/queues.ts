// The controller queues of one tenant, as the CDK stack defines them: a FIFO work queue with a
// FIFO dead-letter queue, and a standard queue for delayed requeues with its own dead-letter queue.
import { CreateQueueCommand, GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';

export interface QueueRef {
  url: string;
  arn: string;
}

export interface WorkQueues {
  work: QueueRef;
  workDlq: QueueRef;
  requeue: QueueRef;
  requeueDlq: QueueRef;
}

export interface WorkQueueSettings {
  /** Name prefix, e.g. the tenant. */
  prefix: string;
  /** Receives before a message moves to the dead-letter queue. */
  maxReceiveCount?: number;
  /** Seconds a received message stays invisible; must exceed the worker's timeout. */
  visibilityTimeoutSeconds?: number;
}

async function ensureQueue(sqs: SQSClient, name: string, attributes: Record<string, string>): Promise<QueueRef> {
  const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: name, Attributes: attributes }));
  const { Attributes } = await sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['QueueArn'] }));
  return { url: QueueUrl!, arn: Attributes!.QueueArn! };
}

export async function ensureWorkQueues(sqs: SQSClient, settings: WorkQueueSettings): Promise<WorkQueues> {
  const redrive = (dlq: QueueRef) => JSON.stringify({ deadLetterTargetArn: dlq.arn, maxReceiveCount: settings.maxReceiveCount ?? 5 });
  const visibility = String(settings.visibilityTimeoutSeconds ?? 60);
  const fourteenDays = String(14 * 24 * 3600);
  const workDlq = await ensureQueue(sqs, `${settings.prefix}-work-dlq.fifo`, { FifoQueue: 'true', MessageRetentionPeriod: fourteenDays });
  const work = await ensureQueue(sqs, `${settings.prefix}-work.fifo`, { FifoQueue: 'true', VisibilityTimeout: visibility, RedrivePolicy: redrive(workDlq) });
  const requeueDlq = await ensureQueue(sqs, `${settings.prefix}-requeue-dlq`, { MessageRetentionPeriod: fourteenDays });
  const requeue = await ensureQueue(sqs, `${settings.prefix}-requeue`, { VisibilityTimeout: visibility, RedrivePolicy: redrive(requeueDlq) });
  return { work, workDlq, requeue, requeueDlq };
}
