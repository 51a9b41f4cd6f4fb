// The dispatcher handler: DynamoDB stream records of the store's change log become SQS FIFO
// messages (group = object key, deduplication = key@rev) on the work queues that want them;
// records it could not forward come back in batchItemFailures. Runs against DynamoDB Local and the
// SQS emulator, with hand-made Lambda events and with real stream records read by the local
// Streams event source.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DescribeTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBStreamsClient } from '@aws-sdk/client-dynamodb-streams';
import { CreateQueueCommand, DeleteMessageBatchCommand, ReceiveMessageCommand, SQSClient, type Message } from '@aws-sdk/client-sqs';
import { startDynamoDbLocal, type DynamoDbLocal } from '../../shared/aws-local/dynamodb-local.js';
import { LOCAL_CREDENTIALS, startSqsLocal, type SqsLocal } from '../../shared/aws-local/sqs-local.js';
import { ensureTable } from '../../shared/store/dynamodb/table.js';
import { openStore, type Store } from '../../shared/store/index.js';
import { createLogger } from '../../shared/apiserver/logger.js';
import { createDispatcherWith } from '../../functions/dispatcher/handler.js';
import { startStreamPoller } from '../../cli/aws-local/stream-poller.js';
import { removeDir } from '../e2e/harness.js';

const log = createLogger('silent');
let ddb: DynamoDbLocal;
let sqsLocal: SqsLocal;
let sqs: SQSClient;
let dynamodb: DynamoDBClient;
let streams: DynamoDBStreamsClient;
let dir: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'stratus-dispatch-'));
  [ddb, sqsLocal] = await Promise.all([startDynamoDbLocal(), startSqsLocal()]);
  sqs = new SQSClient({ endpoint: sqsLocal.endpoint, region: sqsLocal.region, credentials: LOCAL_CREDENTIALS });
  dynamodb = new DynamoDBClient({ endpoint: ddb.endpoint, region: ddb.region, credentials: ddb.credentials });
  streams = new DynamoDBStreamsClient({ endpoint: ddb.endpoint, region: ddb.region, credentials: ddb.credentials });
});
afterAll(async () => {
  sqs?.destroy();
  dynamodb?.destroy();
  streams?.destroy();
  await Promise.all([ddb?.stop(), sqsLocal?.stop()]);
  removeDir(dir);
});

let queues = 0;
async function fifo(): Promise<string> {
  const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: `work-${++queues}.fifo`, Attributes: { FifoQueue: 'true' } }));
  return QueueUrl!;
}

/** Everything in a FIFO queue, taking each group's messages in order. */
async function drain(url: string): Promise<Message[]> {
  const all: Message[] = [];
  for (;;) {
    const out = await sqs.send(new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10, MessageSystemAttributeNames: ['All'] }));
    const got = out.Messages ?? [];
    if (!got.length) return all;
    all.push(...got);
    await sqs.send(new DeleteMessageBatchCommand({ QueueUrl: url, Entries: got.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle! })) }));
  }
}

const STREAM_ARN = 'arn:aws:dynamodb:us-east-1:000000000000:table/stratus-t/stream/2026-01-01T00:00:00.000';
let seq = 100;
/** A stream record of the store's table in the shape Lambda delivers it. */
function record(eventName: 'INSERT' | 'MODIFY' | 'REMOVE', pk: string, sk: string, image: Record<string, { S?: string; N?: string }> = {}): DynamoDBRecord {
  const keys = { pk: { S: pk }, sk: { S: sk } };
  return {
    eventID: `e${seq}`,
    eventName,
    eventVersion: '1.1',
    eventSource: 'aws:dynamodb',
    awsRegion: 'us-east-1',
    dynamodb: {
      ApproximateCreationDateTime: 1767225600,
      Keys: keys,
      ...(eventName !== 'REMOVE' ? { NewImage: { ...keys, ...image } } : {}),
      ...(eventName !== 'INSERT' ? { OldImage: { ...keys, ...image } } : {}),
      SequenceNumber: String(++seq).padStart(21, '0'),
      SizeBytes: 120,
      StreamViewType: 'NEW_AND_OLD_IMAGES',
    },
    eventSourceARN: STREAM_ARN,
  };
}
const logEntry = (rev: number, type: 'PUT' | 'DELETE' | 'FILL', key?: string) => record('INSERT', 'log', String(rev).padStart(16, '0'), { t: { S: type }, ...(key ? { k: { S: key } } : {}), c: { N: String(rev) }, p: { N: '0' } });

describe('dispatcher', () => {
  const a = '/registry/core/configmaps/default/a';
  const b = '/registry/core/configmaps/default/b';
  const s = '/registry/core/secrets/default/s';

  it('sends one FIFO message per changed object: group = key, deduplication = key@rev', async () => {
    const url = await fifo();
    const dispatch = createDispatcherWith({ routes: [{ queueUrl: url }], sqs, log });
    const event: DynamoDBStreamEvent = {
      Records: [
        logEntry(5, 'PUT', a),
        record('MODIFY', 'kv', a, { r: { N: '5' } }), // current-state pointer: not a change
        logEntry(6, 'PUT', b),
        logEntry(7, 'FILL'), // a gap filler: not a change
        logEntry(8, 'DELETE', a),
        record('MODIFY', 'log', String(5).padStart(16, '0'), { t: { S: 'PUT' }, k: { S: a }, expiresAt: { N: '1' } }), // TTL set on superseded history
      ],
    };
    expect(await dispatch(event)).toEqual({ batchItemFailures: [] });
    const messages = await drain(url);
    const seen = messages.map((m) => ({ body: JSON.parse(m.Body!), group: m.Attributes!.MessageGroupId, dedup: m.Attributes!.MessageDeduplicationId }));
    // a's two changes in one batch become one message for its latest revision.
    expect(seen.sort((x, y) => x.body.rev - y.body.rev)).toEqual([
      { body: { key: b, rev: 6, type: 'PUT' }, group: b, dedup: `${b}@6` },
      { body: { key: a, rev: 8, type: 'DELETE' }, group: a, dedup: `${a}@8` },
    ]);
    // Lambda redelivering the batch adds nothing: SQS drops the duplicates.
    expect(await dispatch(event)).toEqual({ batchItemFailures: [] });
    expect(await drain(url)).toEqual([]);
  });

  it('forwards each resource only to the queues that want it', async () => {
    const cms = await fifo();
    const secrets = await fifo();
    const dispatch = createDispatcherWith({ routes: [{ queueUrl: cms, resources: ['core/configmaps'] }, { queueUrl: secrets, resources: ['core/secrets'] }], sqs, log });
    await dispatch({ Records: [logEntry(10, 'PUT', a), logEntry(11, 'PUT', s)] });
    expect((await drain(cms)).map((m) => JSON.parse(m.Body!).key)).toEqual([a]);
    expect((await drain(secrets)).map((m) => JSON.parse(m.Body!).key)).toEqual([s]);
  });

  it('reports the records it could not forward, and only those', async () => {
    const cms = await fifo();
    const gone = cms.replace(/work-\d+\.fifo$/, 'deleted-queue.fifo');
    const dispatch = createDispatcherWith({ routes: [{ queueUrl: cms, resources: ['core/configmaps'] }, { queueUrl: gone, resources: ['core/secrets'] }], sqs, log });
    const records = [logEntry(20, 'PUT', a), logEntry(21, 'PUT', s), logEntry(22, 'PUT', b), logEntry(23, 'DELETE', s)];
    const out = await dispatch({ Records: records });
    expect(out.batchItemFailures).toEqual([{ itemIdentifier: records[1].dynamodb!.SequenceNumber }, { itemIdentifier: records[3].dynamodb!.SequenceNumber }]);
    expect((await drain(cms)).map((m) => JSON.parse(m.Body!).key).sort()).toEqual([a, b]);
  });

  describe('with real stream records from DynamoDB Local', () => {
    let store: Store;
    let streamArn: string;
    beforeAll(async () => {
      await ensureTable(dynamodb, 'stratus-dispatch');
      streamArn = (await dynamodb.send(new DescribeTableCommand({ TableName: 'stratus-dispatch' }))).Table!.LatestStreamArn!;
      store = await openStore({ backend: 'dynamodb', tableName: 'stratus-dispatch', client: { endpoint: ddb.endpoint, region: ddb.region, credentials: ddb.credentials } });
    });
    afterAll(async () => {
      await store?.close();
    });

    it('every write reaches the queue once, through a failed first delivery and a restart', async () => {
      const url = await fifo();
      const dispatch = createDispatcherWith({ routes: [{ queueUrl: url }], sqs, log });
      const events: DynamoDBStreamEvent[] = [];
      let failOnce = true;
      const invoke = async (event: DynamoDBStreamEvent) => {
        events.push(event);
        const out = await dispatch(event);
        // The first batch with two or more records reports its second record as failed:
        // the event source must resume from there (and SQS drop what was already sent).
        if (failOnce && event.Records.length >= 2) {
          failOnce = false;
          return { batchItemFailures: [{ itemIdentifier: event.Records[1].dynamodb!.SequenceNumber! }] };
        }
        return out;
      };
      const checkpointFile = join(dir, 'checkpoints.json');

      const written: { key: string; rev: number }[] = [];
      const x = await store.create('/registry/core/configmaps/default/x', '{"data":{"v":"1"}}');
      written.push({ key: x.key, rev: x.rev });
      const y = await store.create('/registry/core/configmaps/default/y', '{}');
      written.push({ key: y.key, rev: y.rev });
      const x2 = await store.update(x.key, '{"data":{"v":"2"}}', x.rev);
      written.push({ key: x.key, rev: x2.rev });

      let poller = startStreamPoller({ client: streams, streamArn, region: ddb.region, log, invoke, checkpointFile, pollIntervalMs: 50 });
      await poller.caughtUp();
      await poller.stop();
      const first = await drain(url);

      // Writes while stopped are picked up by the next run from the saved checkpoint.
      const del = await store.delete(y.key);
      written.push({ key: y.key, rev: del.rev });
      const before = events.length;
      poller = startStreamPoller({ client: streams, streamArn, region: ddb.region, log, invoke, checkpointFile, pollIntervalMs: 50 });
      await poller.caughtUp();
      await poller.stop();
      const second = await drain(url);
      expect(events.slice(before).flatMap((e) => e.Records).length, 'the restart replays nothing already handled').toBeGreaterThan(0);

      const messages = [...first, ...second].map((m) => ({ ...(JSON.parse(m.Body!) as { key: string; rev: number; type: string }), dedup: m.Attributes!.MessageDeduplicationId }));
      // No change sent twice; every write covered by a message for its revision or a later one
      // (changes of one key in one batch are coalesced: controllers are level-triggered).
      expect(new Set(messages.map((m) => m.dedup)).size).toBe(messages.length);
      for (const w of written) expect(messages.some((m) => m.key === w.key && m.rev >= w.rev && m.dedup === `${m.key}@${m.rev}`), `${w.key}@${w.rev}`).toBe(true);
      expect(messages.filter((m) => m.key === x.key).at(-1)).toMatchObject({ rev: x2.rev, type: 'PUT' });
      expect(messages.filter((m) => m.key === y.key).at(-1)).toMatchObject({ rev: del.rev, type: 'DELETE' });

      // Lambda's event shape: epoch-second timestamps, the stream ARN, string attribute values.
      const r = events[0].Records[0];
      expect(r).toMatchObject({ eventSource: 'aws:dynamodb', eventVersion: '1.1', eventSourceARN: streamArn, awsRegion: ddb.region, dynamodb: { StreamViewType: 'NEW_AND_OLD_IMAGES' } });
      expect(typeof r.dynamodb!.ApproximateCreationDateTime).toBe('number');
      expect(r.dynamodb!.Keys!.pk.S).toBeTypeOf('string');
      const saved = JSON.parse(readFileSync(checkpointFile, 'utf8'));
      expect(saved.streamArn).toBe(streamArn);
      expect(Object.values(saved.shards as Record<string, { seq?: string }>).some((s) => s.seq)).toBe(true);
    });
  });
});
