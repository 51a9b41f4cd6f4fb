// The dispatcher handler: DynamoDB stream records of the store's change log become SQS FIFO
// messages, one per (controller, object) a change wakes (group = controller + object,
// deduplication = that + revision), on the work queues that want them; records it could not
// forward come back in batchItemFailures. Runs against DynamoDB Local and the SQS emulator, with
// hand-made Lambda events and with real stream records read by the local Streams event source.
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
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { createDispatcherWith } from '../../functions/dispatcher/handler.js';
import { openDispatcherStoreAccess, type DispatcherStoreAccess } from '../../functions/dispatcher/store-access.js';
import { toControllerOwner } from '../../shared/controllers/runtime/mappers.js';
import type { ControllerDef, ObjectRef } from '../../shared/controllers/runtime/types.js';
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
type Image = Record<string, { S?: string; N?: string }>;
/** A stream record of the store's table in the shape Lambda delivers it. */
function record(eventName: 'INSERT' | 'MODIFY' | 'REMOVE', pk: string, sk: string, image: Image = {}): DynamoDBRecord {
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
const padRev = (rev: number) => String(rev).padStart(16, '0');
/** The insertion of a change-log item: `value` inline for a PUT, `prev` the key's previous revision. */
const logEntry = (rev: number, type: 'PUT' | 'DELETE' | 'FILL', key?: string, opts: { value?: string; prev?: number } = {}) =>
  record('INSERT', 'log', padRev(rev), {
    t: { S: type },
    ...(key ? { k: { S: key } } : {}),
    ...(opts.value !== undefined ? { v: { S: opts.value } } : {}),
    c: { N: String(rev) },
    p: { N: String(opts.prev ?? 0) },
  });
/** The same transaction giving the superseded log item of `rev` its TTL (the record carries its value). */
const superseded = (rev: number, key: string, value: string, by: number) =>
  record('MODIFY', 'log', padRev(rev), { t: { S: 'PUT' }, k: { S: key }, v: { S: value }, c: { N: String(rev) }, p: { N: '0' }, s: { N: String(by) }, expiresAt: { N: '1' } });

/** A stored ConfigMap (JSON without resourceVersion), controlled by the Secret `owner` when given. */
function configMap(name: string, owner?: string, data: Record<string, string> = {}): string {
  const ownerReferences = owner ? [{ apiVersion: 'v1', kind: 'Secret', name: owner, uid: `uid-${owner}`, controller: true }] : undefined;
  return JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: 'default', uid: `uid-${name}`, ...(ownerReferences ? { ownerReferences } : {}) }, data });
}
const secret = (name: string, labels: Record<string, string> = {}) => JSON.stringify({ apiVersion: 'v1', kind: 'Secret', metadata: { name, namespace: 'default', uid: `uid-${name}`, labels } });

const idle = () => async () => {};
const configMaps: ControllerDef = { name: 'cm', resources: ['core/configmaps'], setup: idle };
const configMapAudit: ControllerDef = { name: 'cm-audit', resources: ['core/configmaps'], setup: idle };
const secrets: ControllerDef = { name: 'sec', resources: ['core/secrets'], setup: idle };
/** Reconciles Secrets; woken by the ConfigMaps a Secret controls. */
const owners: ControllerDef = { name: 'owner', resources: ['core/secrets'], watches: [{ resource: 'core/configmaps', map: toControllerOwner('Secret', 'core/secrets') }], setup: idle };
/** Woken for the Secrets labelled wake-on=<ConfigMap name>, found through the reader. */
const labelled: ControllerDef = {
  name: 'by-label',
  resources: ['core/secrets'],
  watches: [
    {
      resource: 'core/configmaps',
      map: async (cm, reader) => (await reader.list('core/secrets', { namespace: cm.metadata.namespace, labels: { 'wake-on': cm.metadata.name! } })).map((s) => ({ resource: 'core/secrets', namespace: s.metadata.namespace, name: s.metadata.name! })),
    },
  ],
  setup: idle,
};

interface Sent {
  controller: string;
  ref: ObjectRef;
  rev: number;
  group: string;
  dedup: string;
}
const sent = (messages: Message[]): Sent[] =>
  messages.map((m) => ({ ...(JSON.parse(m.Body!) as { controller: string; ref: ObjectRef; rev: number }), group: m.Attributes!.MessageGroupId!, dedup: m.Attributes!.MessageDeduplicationId! }));
/** "controller:name" of each message, sorted: what woke whom. */
const woken = (messages: Message[]) => sent(messages).map((m) => `${m.controller}:${m.ref.name}`).sort();
const wokenOnce = (messages: Message[]) => [...new Set(woken(messages))];

/** A logger whose warnings and errors the test can read. */
function capturedLog() {
  const lines: { msg: string; reason?: string; err?: string }[] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      lines.push(JSON.parse(String(chunk)));
      done();
    },
  });
  return { log: pino({ level: 'warn' }, stream), lines };
}

describe('dispatcher', () => {
  const a = '/registry/core/configmaps/default/a';
  const b = '/registry/core/configmaps/default/b';
  const s = '/registry/core/secrets/default/s';
  const cmRef = (name: string): ObjectRef => ({ resource: 'core/configmaps', namespace: 'default', name });

  it('sends one FIFO message per woken object: group = controller + object, deduplication = that + revision', async () => {
    const url = await fifo();
    const dispatch = createDispatcherWith({ routes: [{ queueUrl: url }], sqs, log, controllers: [configMaps] });
    const event: DynamoDBStreamEvent = {
      Records: [
        logEntry(5, 'PUT', a, { value: configMap('a') }),
        record('MODIFY', 'kv', a, { r: { N: '5' } }), // current-state pointer: not a change
        logEntry(6, 'PUT', b, { value: configMap('b') }),
        logEntry(7, 'FILL'), // a gap filler: not a change
        logEntry(8, 'DELETE', a, { prev: 5 }),
        superseded(5, a, configMap('a'), 8), // TTL set on superseded history: not a change
      ],
    };
    expect(await dispatch(event)).toEqual({ batchItemFailures: [] });
    const messages = sent(await drain(url));
    // a's two changes in one batch become one message for its latest revision.
    expect(messages.sort((x, y) => x.rev - y.rev)).toEqual([
      { controller: 'cm', ref: cmRef('b'), rev: 6, group: 'cm#core/configmaps|default/b', dedup: 'cm#core/configmaps|default/b@6' },
      { controller: 'cm', ref: cmRef('a'), rev: 8, group: 'cm#core/configmaps|default/a', dedup: 'cm#core/configmaps|default/a@8' },
    ]);
    // Lambda redelivering the batch adds nothing: SQS drops the duplicates.
    expect(await dispatch(event)).toEqual({ batchItemFailures: [] });
    expect(await drain(url)).toEqual([]);
  });

  it('wakes every controller of a resource, each in its own message group', async () => {
    const url = await fifo();
    const dispatch = createDispatcherWith({ routes: [{ queueUrl: url }], sqs, log, controllers: [configMaps, configMapAudit, secrets] });
    await dispatch({ Records: [logEntry(9, 'PUT', a, { value: configMap('a') })] });
    const messages = sent(await drain(url));
    expect(messages.map((m) => m.controller).sort()).toEqual(['cm', 'cm-audit']);
    expect(new Set(messages.map((m) => m.group)).size).toBe(2);
  });

  it('forwards each resource only to the queues that want it, and each controller only to its queue', async () => {
    const cms = await fifo();
    const secretQueue = await fifo();
    const byResource = createDispatcherWith({ routes: [{ queueUrl: cms, resources: ['core/configmaps'] }, { queueUrl: secretQueue, resources: ['core/secrets'] }], sqs, log, controllers: [configMaps, secrets] });
    await byResource({ Records: [logEntry(10, 'PUT', a, { value: configMap('a') }), logEntry(11, 'PUT', s, { value: secret('s') })] });
    expect(woken(await drain(cms))).toEqual(['cm:a']);
    expect(woken(await drain(secretQueue))).toEqual(['sec:s']);

    const main = await fifo();
    const audit = await fifo();
    const byController = createDispatcherWith({ routes: [{ queueUrl: main, controllers: ['cm'] }, { queueUrl: audit, controllers: ['cm-audit'] }], sqs, log, controllers: [configMaps, configMapAudit] });
    await byController({ Records: [logEntry(12, 'PUT', b, { value: configMap('b') })] });
    expect(woken(await drain(main))).toEqual(['cm:b']);
    expect(woken(await drain(audit))).toEqual(['cm-audit:b']);
  });

  it('reports the records it could not forward, and only those', async () => {
    const cms = await fifo();
    const gone = cms.replace(/work-\d+\.fifo$/, 'deleted-queue.fifo');
    const dispatch = createDispatcherWith({ routes: [{ queueUrl: cms, resources: ['core/configmaps'] }, { queueUrl: gone, resources: ['core/secrets'] }], sqs, log, controllers: [configMaps, secrets] });
    const records = [logEntry(20, 'PUT', a), logEntry(21, 'PUT', s), logEntry(22, 'PUT', b), logEntry(23, 'DELETE', s, { prev: 21 })];
    const out = await dispatch({ Records: records });
    expect(out.batchItemFailures).toEqual([{ itemIdentifier: records[1].dynamodb!.SequenceNumber }, { itemIdentifier: records[3].dynamodb!.SequenceNumber }]);
    expect(woken(await drain(cms))).toEqual(['cm:a', 'cm:b']);
  });

  it('maps watched objects, new and old, onto their owners from the values the batch carries', async () => {
    const url = await fifo();
    const { log: captured, lines } = capturedLog();
    const dispatch = createDispatcherWith({ routes: [{ queueUrl: url }], sqs, log: captured, controllers: [owners] });
    const c = '/registry/core/configmaps/default/c';
    // c is created controlled by x, then moved to y: both owners must hear of it.
    expect(await dispatch({ Records: [logEntry(30, 'PUT', c, { value: configMap('c', 'x') })] })).toEqual({ batchItemFailures: [] });
    expect(sent(await drain(url))).toEqual([
      { controller: 'owner', ref: { resource: 'core/secrets', namespace: 'default', name: 'x' }, rev: 30, group: 'owner#core/secrets|default/x', dedup: 'owner#core/secrets|default/x@30' },
    ]);
    await dispatch({ Records: [logEntry(31, 'PUT', c, { value: configMap('c', 'y'), prev: 30 }), superseded(30, c, configMap('c', 'x'), 31)] });
    expect(woken(await drain(url))).toEqual(['owner:x', 'owner:y']);

    // Without table access a state the record does not carry is skipped, with the reason logged.
    const out = await dispatch({ Records: [logEntry(33, 'DELETE', c, { prev: 32 })] });
    expect(out).toEqual({ batchItemFailures: [] });
    expect(await drain(url)).toEqual([]);
    expect(lines).toContainEqual(expect.objectContaining({ msg: 'object state not mapped by watches', reason: expect.stringContaining('deleted value (revision 32)') }));
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
      const dispatch = createDispatcherWith({ routes: [{ queueUrl: url }], sqs, log, controllers: [configMaps] });
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

      const written: { name: string; rev: number }[] = [];
      const x = await store.create('/registry/core/configmaps/default/x', configMap('x', undefined, { v: '1' }));
      written.push({ name: 'x', rev: x.rev });
      const y = await store.create('/registry/core/configmaps/default/y', configMap('y'));
      written.push({ name: 'y', rev: y.rev });
      const x2 = await store.update(x.key, configMap('x', undefined, { v: '2' }), x.rev);
      written.push({ name: 'x', rev: x2.rev });

      let poller = startStreamPoller({ client: streams, streamArn, region: ddb.region, log, invoke, checkpointFile, pollIntervalMs: 50 });
      await poller.caughtUp();
      await poller.stop();
      const first = await drain(url);

      // Writes while stopped are picked up by the next run from the saved checkpoint.
      const del = await store.delete(y.key);
      written.push({ name: 'y', rev: del.rev });
      const before = events.length;
      poller = startStreamPoller({ client: streams, streamArn, region: ddb.region, log, invoke, checkpointFile, pollIntervalMs: 50 });
      await poller.caughtUp();
      await poller.stop();
      const second = await drain(url);
      expect(events.slice(before).flatMap((e) => e.Records).length, 'the restart replays nothing already handled').toBeGreaterThan(0);

      const messages = sent([...first, ...second]);
      // No change sent twice; every write covered by a message for its revision or a later one
      // (changes of one object in one batch are coalesced: controllers are level-triggered).
      expect(new Set(messages.map((m) => m.dedup)).size).toBe(messages.length);
      for (const w of written) expect(messages.some((m) => m.controller === 'cm' && m.ref.name === w.name && m.rev >= w.rev && m.dedup === `${m.group}@${m.rev}`), `${w.name}@${w.rev}`).toBe(true);
      expect(messages.filter((m) => m.ref.name === 'x').at(-1)).toMatchObject({ rev: x2.rev, ref: cmRef('x') });
      expect(messages.filter((m) => m.ref.name === 'y').at(-1)).toMatchObject({ rev: del.rev, ref: cmRef('y') });

      // Lambda's event shape: epoch-second timestamps, the stream ARN, string attribute values.
      const r = events[0].Records[0];
      expect(r).toMatchObject({ eventSource: 'aws:dynamodb', eventVersion: '1.1', eventSourceARN: streamArn, awsRegion: ddb.region, dynamodb: { StreamViewType: 'NEW_AND_OLD_IMAGES' } });
      expect(typeof r.dynamodb!.ApproximateCreationDateTime).toBe('number');
      expect(r.dynamodb!.Keys!.pk.S).toBeTypeOf('string');
      const saved = JSON.parse(readFileSync(checkpointFile, 'utf8'));
      expect(saved.streamArn).toBe(streamArn);
      expect(Object.values(saved.shards as Record<string, { seq?: string }>).some((s) => s.seq)).toBe(true);
    });

    describe('watch mappings', () => {
      const table = 'stratus-dispatch-watch';
      let watchStore: Store;
      let access: DispatcherStoreAccess;
      let records: DynamoDBRecord[] = [];
      beforeAll(async () => {
        await ensureTable(dynamodb, table);
        const client = { endpoint: ddb.endpoint, region: ddb.region, credentials: ddb.credentials };
        watchStore = await openStore({ backend: 'dynamodb', tableName: table, client });
        access = openDispatcherStoreAccess({ tableName: table, client });

        const key = (kind: string, name: string) => `/registry/core/${kind}/default/${name}`;
        await watchStore.create(key('secrets', 'w'), secret('w', { 'wake-on': 'big' }));
        const small = await watchStore.create(key('configmaps', 'small'), configMap('small', 's1'));
        await watchStore.update(small.key, configMap('small', 's2'), small.rev);
        // Over 32 KiB: stored in chunk items, so the log item's record carries no value.
        await watchStore.create(key('configmaps', 'big'), configMap('big', 's3', { blob: 'z'.repeat(40 * 1024) }));
        const gone = await watchStore.create(key('configmaps', 'gone'), configMap('gone', 's4'));
        await watchStore.delete(gone.key);

        const arn = (await dynamodb.send(new DescribeTableCommand({ TableName: table }))).Table!.LatestStreamArn!;
        const poller = startStreamPoller({ client: streams, streamArn: arn, region: ddb.region, log, pollIntervalMs: 50, invoke: async (event) => void records.push(...event.Records) });
        await poller.caughtUp();
        await poller.stop();
        // The ConfigMaps' log items: their insertions, and the updates that supersede them.
        records = records.filter((r) => r.dynamodb?.NewImage?.k?.S?.includes('/configmaps/'));
      });
      afterAll(async () => {
        await access?.close();
        await watchStore?.close();
      });

      const expected = ['by-label:w', 'owner:s1', 'owner:s2', 'owner:s3', 'owner:s4'];

      it('maps new, previous, large and deleted objects onto their owners, reading what the records lack from the table', async () => {
        const big = records.find((r) => r.eventName === 'INSERT' && r.dynamodb!.NewImage!.k!.S!.endsWith('/big'))!;
        expect(big.dynamodb!.NewImage!.v, 'the large value is not in the record').toBeUndefined();
        const url = await fifo();
        const dispatch = createDispatcherWith({ routes: [{ queueUrl: url }], sqs, log, controllers: [owners, labelled], reader: access.reader, values: access.values });
        // One record per invocation: every previous and deleted value has to come from the table.
        for (const r of records) expect(await dispatch({ Records: [r] })).toEqual({ batchItemFailures: [] });
        expect(wokenOnce(await drain(url))).toEqual(expected);
      });

      it('wakes the same objects when the whole change log arrives in one batch', async () => {
        const url = await fifo();
        const dispatch = createDispatcherWith({ routes: [{ queueUrl: url }], sqs, log, controllers: [owners, labelled], reader: access.reader, values: access.values });
        expect(await dispatch({ Records: records })).toEqual({ batchItemFailures: [] });
        expect(woken(await drain(url))).toEqual(expected);
      });

      it('skips a state that is no longer stored with the reason logged, and still wakes primaries', async () => {
        const url = await fifo();
        const { log: captured, lines } = capturedLog();
        const dispatch = createDispatcherWith({ routes: [{ queueUrl: url }], sqs, log: captured, controllers: [owners, configMaps], reader: access.reader, values: access.values });
        const out = await dispatch({ Records: [logEntry(999_999, 'DELETE', '/registry/core/configmaps/default/forgotten', { prev: 999_998 })] });
        expect(out).toEqual({ batchItemFailures: [] });
        expect(woken(await drain(url))).toEqual(['cm:forgotten']);
        expect(lines).toContainEqual(expect.objectContaining({ msg: 'object state not mapped by watches', reason: 'deleted value (revision 999998) is no longer stored' }));
      });

      it('reports a record whose previous value cannot be read, and still forwards the rest', async () => {
        const url = await fifo();
        const broken = openDispatcherStoreAccess({ tableName: 'no-such-table', client: { endpoint: ddb.endpoint, region: ddb.region, credentials: ddb.credentials } });
        try {
          const dispatch = createDispatcherWith({ routes: [{ queueUrl: url }], sqs, log, controllers: [owners], reader: broken.reader, values: broken.values });
          const del = logEntry(50, 'DELETE', '/registry/core/configmaps/default/q', { prev: 49 });
          const put = logEntry(51, 'PUT', '/registry/core/configmaps/default/r', { value: configMap('r', 'sr') });
          expect(await dispatch({ Records: [del, put] })).toEqual({ batchItemFailures: [{ itemIdentifier: del.dynamodb!.SequenceNumber }] });
          expect(woken(await drain(url))).toEqual(['owner:sr']);
        } finally {
          await broken.close();
        }
      });
    });
  });
});
