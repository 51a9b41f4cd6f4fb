// The worker handler against the SQS emulator, driven by the local SQS event source (the way
// Lambda's event source mapping drives it): reconcile per (controller, object), requeue with a delay through the
// standard requeue queue, retries with backoff, and poison messages ending in the dead-letter queue.
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { GetQueueAttributesCommand, PurgeQueueCommand, ReceiveMessageCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { LOCAL_CREDENTIALS, startSqsLocal, type SqsLocal } from '../../shared/aws-local/sqs-local.js';
import { createLogger } from '../../shared/apiserver/logger.js';
import { ensureWorkQueues, type WorkQueues } from '../../cli/aws-local/queues.js';
import { startSqsPoller, toLambdaSqsRecord, type SqsPoller } from '../../cli/aws-local/sqs-poller.js';
import { createWorkerWith, type WorkerHandler } from '../../functions/worker/handler.js';
import { changeDeduplicationId, encodeWorkItem, messageGroupId } from '../../functions/dispatcher/work-message.js';
import type { ObjectRef, Reconcile, ReconcileResult } from '../../shared/controllers/runtime/types.js';

const log = createLogger(process.env.TEST_LOG ?? 'silent');
let sqs: SqsLocal;
let client: SQSClient;
let queues: WorkQueues;
let pollers: SqsPoller[] = [];

beforeAll(async () => {
  sqs = await startSqsLocal();
  client = new SQSClient({ endpoint: sqs.endpoint, region: sqs.region, credentials: LOCAL_CREDENTIALS });
  queues = await ensureWorkQueues(client, { prefix: 'test', maxReceiveCount: 3, visibilityTimeoutSeconds: 30 });
});
afterEach(async () => {
  for (const p of pollers) await p.stop();
  // A receive abandoned by a stopped poller is still waiting in the emulator and would take the
  // next test's message (as an abandoned SQS long poll can): let those waits run out first.
  if (pollers.length) await new Promise((r) => setTimeout(r, 1200));
  pollers = [];
  for (const q of Object.values(queues)) await client.send(new PurgeQueueCommand({ QueueUrl: q.url }));
});
afterAll(async () => {
  client?.destroy();
  await sqs?.stop();
});

type Calls = { name: string; at: number }[];
const ref = (name: string): ObjectRef => ({ resource: 'core/configmaps', namespace: 'default', name });

function worker(reconcile: (ref: ObjectRef, calls: Calls) => Promise<ReconcileResult | void>, opts: { requeueQueue?: boolean; retryBaseSeconds?: number } = {}) {
  const calls: Calls = [];
  const r: Reconcile = (ref) => (calls.push({ name: ref.name, at: Date.now() }), reconcile(ref, calls));
  const handler = createWorkerWith({
    sqs: client,
    log,
    workQueueUrl: queues.work.url,
    requeueQueueUrl: opts.requeueQueue === false ? undefined : queues.requeue.url,
    reconcilers: new Map([['test', r]]),
    retryBaseSeconds: opts.retryBaseSeconds ?? 0,
  });
  return { handler, calls };
}

function drive(handler: WorkerHandler, which: ('work' | 'requeue')[] = ['work', 'requeue']) {
  for (const name of which) {
    const q = queues[name];
    pollers.push(startSqsPoller({ client, queueUrl: q.url, queueArn: q.arn, region: sqs.region, log, invoke: handler, waitTimeSeconds: 1 }));
  }
}

/** What the dispatcher sends when a change at `rev` wakes controller "test" for ConfigMap `name`. */
const change = (name: string, rev: number, controller = 'test') =>
  client.send(
    new SendMessageCommand({
      QueueUrl: queues.work.url,
      MessageBody: encodeWorkItem({ controller, ref: ref(name), rev }),
      MessageGroupId: messageGroupId(controller, ref(name)),
      MessageDeduplicationId: changeDeduplicationId(controller, ref(name), rev),
    }),
  );

async function until(check: () => boolean | Promise<boolean>, ms = 15_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function depth(url: string): Promise<number> {
  const { Attributes } = await client.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible', 'ApproximateNumberOfMessagesDelayed'] }));
  return Number(Attributes!.ApproximateNumberOfMessages) + Number(Attributes!.ApproximateNumberOfMessagesNotVisible) + Number(Attributes!.ApproximateNumberOfMessagesDelayed ?? 0);
}

/** Receive real messages and hand them to the handler as one Lambda batch. */
async function invokeWithReceived(handler: WorkerHandler, count: number) {
  const got = [];
  while (got.length < count) {
    const out = await client.send(new ReceiveMessageCommand({ QueueUrl: queues.work.url, MaxNumberOfMessages: 10, MessageSystemAttributeNames: ['All'], WaitTimeSeconds: 1 }));
    got.push(...(out.Messages ?? []));
  }
  const records = got.map((m) => toLambdaSqsRecord(m, queues.work.arn, sqs.region));
  return { records, result: await handler({ Records: records }) };
}

describe('worker', () => {
  // An object per test: a FIFO group stays locked while a message of an earlier test is in flight.
  let name: string;
  let n = 0;
  beforeEach(() => {
    name = `app-${++n}`;
  });

  it('reconciles a changed object once and deletes its message', async () => {
    const { handler, calls } = worker(async () => {});
    drive(handler);
    await change(name, 7);
    await until(() => calls.length === 1);
    await until(async () => (await depth(queues.work.url)) === 0);
    await new Promise((r) => setTimeout(r, 300));
    expect(calls.map((c) => c.name)).toEqual([name]);
  });

  it('requeues with a delay: { requeueAfter } brings the object back after that time', async () => {
    const { handler, calls } = worker(async (_key, calls) => (calls.length === 1 ? { requeueAfter: 1500 } : {}));
    drive(handler);
    await change(name, 8);
    await until(() => calls.length === 2);
    const gap = calls[1].at - calls[0].at;
    expect(gap).toBeGreaterThanOrEqual(1400);
    expect(gap).toBeLessThan(5000);
    await new Promise((r) => setTimeout(r, 500));
    expect(calls).toHaveLength(2);
    expect(await depth(queues.requeue.url)).toBe(0);
  });

  it('a requeue longer than SQS allows (900 s) waits in hops on the requeue queue', async () => {
    const { handler } = worker(async () => ({ requeueAfter: 3600_000 }));
    const { result } = await (async () => {
      await change(name, 9);
      return invokeWithReceived(handler, 1);
    })();
    expect(result.batchItemFailures).toEqual([]);
    const inspect = await client.send(new GetQueueAttributesCommand({ QueueUrl: queues.requeue.url, AttributeNames: ['ApproximateNumberOfMessagesDelayed'] }));
    expect(inspect.Attributes!.ApproximateNumberOfMessagesDelayed).toBe('1');
  });

  it('a reconcile that keeps throwing ends in the dead-letter queue after maxReceiveCount', async () => {
    const { handler, calls } = worker(async () => {
      throw new Error('cannot reconcile');
    });
    drive(handler, ['work']);
    await change(name, 10);
    await until(async () => (await depth(queues.workDlq.url)) === 1);
    expect(calls).toHaveLength(3);
    const dead = await client.send(new ReceiveMessageCommand({ QueueUrl: queues.workDlq.url, MessageSystemAttributeNames: ['All'] }));
    expect(JSON.parse(dead.Messages![0].Body!)).toEqual({ controller: 'test', ref: ref(name), rev: 10 });
    expect(dead.Messages![0].Attributes!.MessageGroupId).toBe(`test#core/configmaps|default/${name}`);
  });

  it('backs off exponentially between failed attempts', async () => {
    const { handler, calls } = worker(
      async (_key, calls) => {
        if (calls.length < 3) throw new Error('not yet');
      },
      { retryBaseSeconds: 1 },
    );
    drive(handler, ['work']);
    await change(name, 11);
    await until(() => calls.length === 3, 20_000);
    expect(calls[1].at - calls[0].at).toBeGreaterThanOrEqual(900);
    expect(calls[2].at - calls[1].at).toBeGreaterThanOrEqual(1900);
  });

  it('reports only the failed objects of a batch, and malformed messages', async () => {
    const other = 'broken';
    const { handler, calls } = worker(async (r) => {
      if (r.name === other) throw new Error('broken');
    });
    await change(name, 12);
    await change(other, 13);
    await client.send(new SendMessageCommand({ QueueUrl: queues.work.url, MessageBody: 'not json', MessageGroupId: 'junk', MessageDeduplicationId: 'junk' }));
    await client.send(new SendMessageCommand({ QueueUrl: queues.work.url, MessageBody: JSON.stringify({ key: '/registry/core/configmaps/default/old-format', rev: 1 }), MessageGroupId: 'junk2', MessageDeduplicationId: 'junk2' }));
    const { records, result } = await invokeWithReceived(handler, 4);
    const failedIds = result.batchItemFailures.map((f) => f.itemIdentifier).sort();
    const expected = records.filter((r) => !r.body.includes(`"${name}"`)).map((r) => r.messageId).sort();
    expect(failedIds).toEqual(expected);
    expect(failedIds).toHaveLength(3);
    expect(calls.map((c) => c.name).sort()).toEqual([other, name].sort());
  });

  it('without a requeue queue, requeues by keeping the FIFO message invisible', async () => {
    const { handler, calls } = worker(async (_key, calls) => (calls.length === 1 ? { requeueAfter: 1000 } : {}), { requeueQueue: false });
    drive(handler, ['work']);
    await change(name, 14);
    await until(() => calls.length === 2);
    expect(calls[1].at - calls[0].at).toBeGreaterThanOrEqual(900);
  });

  it('acknowledges work for a controller it does not run', async () => {
    const { handler, calls } = worker(async () => {});
    await change(name, 1, 'retired-controller');
    const { result } = await invokeWithReceived(handler, 1);
    expect(result.batchItemFailures).toEqual([]);
    expect(calls).toEqual([]);
  });
});
