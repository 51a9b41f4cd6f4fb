// The SQS emulator speaks what the AWS-shaped path needs, through the real AWS SDK v3 client:
// FIFO groups and deduplication, per-message delays on standard queues, long polling, visibility
// changes and redrive to a dead-letter queue.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ChangeMessageVisibilityCommand,
  CreateQueueCommand,
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SendMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { LOCAL_CREDENTIALS, startSqsLocal, type SqsLocal } from '../../shared/aws-local/sqs-local.js';

let sqs: SqsLocal;
let client: SQSClient;
beforeAll(async () => {
  sqs = await startSqsLocal();
  client = new SQSClient({ endpoint: sqs.endpoint, region: sqs.region, credentials: LOCAL_CREDENTIALS });
});
afterAll(async () => {
  client?.destroy();
  await sqs?.stop();
});

async function queue(name: string, attributes: Record<string, string> = {}): Promise<{ url: string; arn: string }> {
  const { QueueUrl } = await client.send(new CreateQueueCommand({ QueueName: name, Attributes: attributes }));
  const { Attributes } = await client.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['QueueArn'] }));
  return { url: QueueUrl!, arn: Attributes!.QueueArn! };
}

const receive = (url: string, opts: { wait?: number; max?: number; visibility?: number } = {}) =>
  client.send(new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: opts.max ?? 10, WaitTimeSeconds: opts.wait ?? 0, VisibilityTimeout: opts.visibility, MessageSystemAttributeNames: ['All'] })).then((r) => r.Messages ?? []);

describe('fauxqs SQS emulator', () => {
  it('listens on loopback only', () => {
    expect(sqs.endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  });

  it('FIFO: drops a repeated deduplication id and keeps one message of a group in flight at a time', async () => {
    const q = await queue('dedup.fifo', { FifoQueue: 'true' });
    const sent = await client.send(
      new SendMessageBatchCommand({
        QueueUrl: q.url,
        Entries: [
          { Id: '0', MessageBody: 'a1', MessageGroupId: 'a', MessageDeduplicationId: 'a@1' },
          { Id: '1', MessageBody: 'a2', MessageGroupId: 'a', MessageDeduplicationId: 'a@2' },
          { Id: '2', MessageBody: 'b1', MessageGroupId: 'b', MessageDeduplicationId: 'b@1' },
        ],
      }),
    );
    expect(sent.Successful).toHaveLength(3);
    const again = await client.send(new SendMessageCommand({ QueueUrl: q.url, MessageBody: 'a1-again', MessageGroupId: 'a', MessageDeduplicationId: 'a@1' }));
    expect(again.MessageId).toBe(sent.Successful!.find((s) => s.Id === '0')!.MessageId);

    const first = await receive(q.url);
    expect(first.map((m) => m.Body).sort()).toEqual(['a1', 'b1']);
    expect(first.find((m) => m.Body === 'a1')!.Attributes).toMatchObject({ MessageGroupId: 'a', MessageDeduplicationId: 'a@1', ApproximateReceiveCount: '1' });
    expect(await receive(q.url), 'group a is locked while a1 is in flight').toEqual([]);
    for (const m of first) await client.send(new DeleteMessageCommand({ QueueUrl: q.url, ReceiptHandle: m.ReceiptHandle }));
    expect((await receive(q.url)).map((m) => m.Body)).toEqual(['a2']);
  });

  it('FIFO queues refuse per-message DelaySeconds, as SQS does', async () => {
    const q = await queue('nodelay.fifo', { FifoQueue: 'true' });
    await expect(client.send(new SendMessageCommand({ QueueUrl: q.url, MessageBody: 'x', MessageGroupId: 'g', MessageDeduplicationId: 'x', DelaySeconds: 1 }))).rejects.toThrow(/DelaySeconds/);
  });

  it('standard queues honour per-message DelaySeconds and long polling returns when it is due', async () => {
    const q = await queue('delayed');
    const started = Date.now();
    await client.send(new SendMessageCommand({ QueueUrl: q.url, MessageBody: 'later', DelaySeconds: 1 }));
    expect(await receive(q.url)).toEqual([]);
    const got = await receive(q.url, { wait: 5 });
    const elapsed = Date.now() - started;
    expect(got.map((m) => m.Body)).toEqual(['later']);
    expect(elapsed).toBeGreaterThanOrEqual(950);
    expect(elapsed).toBeLessThan(3000);
  });

  it('long polling wakes up as soon as a message is sent', async () => {
    const q = await queue('longpoll');
    const started = Date.now();
    const pending = receive(q.url, { wait: 10 });
    setTimeout(() => void client.send(new SendMessageCommand({ QueueUrl: q.url, MessageBody: 'now' })), 300);
    expect((await pending).map((m) => m.Body)).toEqual(['now']);
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it('a message received more than maxReceiveCount times moves to the dead-letter queue', async () => {
    const dlq = await queue('poison-dlq.fifo', { FifoQueue: 'true' });
    const q = await queue('poison.fifo', { FifoQueue: 'true', RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlq.arn, maxReceiveCount: 2 }) });
    await client.send(new SendMessageCommand({ QueueUrl: q.url, MessageBody: 'bad', MessageGroupId: 'g', MessageDeduplicationId: 'bad' }));
    for (let i = 1; i <= 2; i++) {
      const [m] = await receive(q.url);
      expect(m.Attributes!.ApproximateReceiveCount).toBe(String(i));
      // Give the message back at once, as a failed attempt with no backoff would.
      await client.send(new ChangeMessageVisibilityCommand({ QueueUrl: q.url, ReceiptHandle: m.ReceiptHandle, VisibilityTimeout: 0 }));
    }
    expect(await receive(q.url)).toEqual([]);
    const dead = await receive(dlq.url);
    expect(dead.map((m) => [m.Body, m.Attributes!.MessageGroupId])).toEqual([['bad', 'g']]);
  });
});
