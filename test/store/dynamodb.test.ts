// The DynamoDB store against DynamoDB Local (started here from the npm package): the shared
// conformance suite, then what only this backend has: chunked large values, filler revisions for
// writers that reserved a revision and never committed (or committed too late), retries of
// throttling and transaction conflicts, stream records, capacity accounting, the retention horizon.
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  DeleteTableCommand,
  DescribeTableCommand,
  DescribeTimeToLiveCommand,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  ScanCommand,
  UpdateItemCommand,
  type AttributeValue,
} from '@aws-sdk/client-dynamodb';
import {
  DescribeStreamCommand,
  DynamoDBStreamsClient,
  GetRecordsCommand,
  GetShardIteratorCommand,
  type _Record as StreamRecord,
} from '@aws-sdk/client-dynamodb-streams';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startDynamoDbLocal, type DynamoDbLocal } from '../../shared/aws-local/dynamodb-local.js';
import type { DynamoStore } from '../../shared/store/dynamodb/index.js';
import { parseStreamRecord } from '../../shared/store/dynamodb/stream.js';
import { ensureTable, revSortKey, TTL_ATTRIBUTE } from '../../shared/store/dynamodb/table.js';
import { openStore, StoreError, type DynamoStoreConfig, type Store, type WatchEvent } from '../../shared/store/index.js';
import { storeConformance } from './conformance.js';
import { spawnStoreWriter, WriterHandle } from './writers.js';

let local: DynamoDbLocal;
let admin: DynamoDBClient;
let tables = 0;

beforeAll(async () => {
  local = await startDynamoDbLocal();
  admin = new DynamoDBClient({ endpoint: local.endpoint, region: local.region, credentials: local.credentials });
});

afterAll(async () => {
  admin?.destroy();
  await local?.stop();
});

async function freshConfig(extra: Partial<DynamoStoreConfig> = {}): Promise<DynamoStoreConfig> {
  const tableName = `stratus-test-${process.pid}-${++tables}`;
  await ensureTable(admin, tableName);
  return {
    backend: 'dynamodb',
    tableName,
    client: { endpoint: local.endpoint, region: local.region, credentials: local.credentials },
    pollIntervalMs: 50,
    ...extra,
  };
}

async function dropTable(tableName: string): Promise<void> {
  await admin.send(new DeleteTableCommand({ TableName: tableName }));
}

storeConformance('dynamodb', async () => {
  const config = await freshConfig();
  let current = await openStore(config);
  return {
    store: current,
    cleanup: async () => {
      await current.close();
      await dropTable(config.tableName);
    },
    reopen: async () => {
      await current.close();
      current = await openStore(config);
      return current;
    },
    spawnWriter: (job) => spawnStoreWriter(config, job),
  };
});

describe('dynamodb store specifics', () => {
  const opened: Store[] = [];
  const cleanups: (() => Promise<void>)[] = [];
  async function open(config: DynamoStoreConfig): Promise<DynamoStore> {
    const store = (await openStore(config)) as DynamoStore;
    opened.push(store);
    return store;
  }
  afterEach(async () => {
    for (const store of opened.splice(0)) await store.close();
    for (const cleanup of cleanups.splice(0)) await cleanup();
  });

  it('ensureTable creates the table with a NEW_AND_OLD_IMAGES stream and TTL, and is idempotent', async () => {
    const config = await freshConfig();
    await ensureTable(admin, config.tableName);
    const table = (await admin.send(new DescribeTableCommand({ TableName: config.tableName }))).Table!;
    expect(table.StreamSpecification).toEqual({ StreamEnabled: true, StreamViewType: 'NEW_AND_OLD_IMAGES' });
    expect(table.BillingModeSummary?.BillingMode).toBe('PAY_PER_REQUEST');
    const ttl = await admin.send(new DescribeTimeToLiveCommand({ TableName: config.tableName }));
    expect(ttl.TimeToLiveDescription).toMatchObject({ TimeToLiveStatus: 'ENABLED', AttributeName: TTL_ATTRIBUTE });
    await expect(openStore({ ...config, tableName: 'stratus-no-such-table' })).rejects.toThrow(/does not exist/);
  });

  it('stores 1.5 MiB values in chunks, reads them back intact and leaves no pieces of failed writes', async () => {
    const config = await freshConfig();
    const store = await open(config);
    const big1 = JSON.stringify({ data: 'ä'.repeat(768 * 1024) }); // 1.5 MiB of UTF-8, two bytes per character
    const big2 = JSON.stringify({ data: '🚀'.repeat(384 * 1024) });
    const events: WatchEvent[] = [];
    const from = await store.currentRev();
    const watch = store.watch({ prefix: '/big/', afterRev: from, onEvents: (e) => events.push(...e) });
    const v1 = await store.create('/big/a', big1);
    await expect(store.create('/big/a', big2)).rejects.toMatchObject({ code: 'AlreadyExists' });
    const v2 = await store.update('/big/a', big2, v1.rev);
    await expect(store.update('/big/a', big1, v1.rev)).rejects.toMatchObject({ code: 'Conflict', current: v2 });
    await expect(store.create('/big/huge', 'x'.repeat(2 * 1024 * 1024))).rejects.toMatchObject({ code: 'TooLarge' });

    // Another instance has nothing cached: everything comes from the table.
    const other = await open(config);
    expect(await other.get('/big/a')).toEqual(v2);
    expect((await other.list({ prefix: '/big/' })).items).toEqual([v2]);
    expect((await other.list({ prefix: '/big/', rev: v1.rev })).items).toEqual([v1]);
    const deleted = await other.delete('/big/a');
    expect(deleted.deleted).toEqual(v2);

    await waitFor(() => events.length >= 3);
    watch.close();
    expect(events.map((e) => [e.type, e.kv.value.length, e.prev?.value.length])).toEqual([
      ['PUT', big1.length, undefined],
      ['PUT', big2.length, big1.length],
      ['DELETE', big2.length, big2.length],
    ]);
    expect(events[1].kv.value).toBe(big2);
    expect(events[1].prev?.value).toBe(big1);

    // Pieces exist only for revisions whose log item is a committed write.
    const items = await scanAll(config.tableName);
    const logTypes = new Map(items.filter((i) => i.pk.S === 'log').map((i) => [i.sk.S!, i.t.S]));
    const chunkRevs = new Set(items.filter((i) => i.pk.S!.startsWith('chunk#')).map((i) => i.pk.S!.slice('chunk#'.length)));
    expect([...chunkRevs].sort()).toEqual([revSortKey(v1.rev), revSortKey(v2.rev)]);
    for (const rev of chunkRevs) expect(logTypes.get(rev)).toBe('PUT');
    for (const item of items.filter((i) => i.pk.S!.startsWith('chunk#'))) {
      expect(item.d.B!.length).toBeLessThan(400 * 1024);
      // Superseded pieces expire with their history.
      expect(item[TTL_ATTRIBUTE]).toBeDefined();
    }
    cleanups.push(() => dropTable(config.tableName));
  });

  it('covers a revision whose writer reserved it and never committed with a filler, and the watcher moves on', async () => {
    const config = await freshConfig({ gapWaitMs: 200 });
    const store = await open(config);
    const before = await store.create('/gap/0', 'v');
    const events: WatchEvent[] = [];
    const watch = store.watch({ prefix: '/gap/', afterRev: before.rev, onEvents: (e) => events.push(...e) });
    // A writer takes the next revision from the counter and dies before its transaction.
    const reserved = Number(
      (
        await admin.send(
          new UpdateItemCommand({
            TableName: config.tableName,
            Key: { pk: { S: 'meta' }, sk: { S: 'rev' } },
            UpdateExpression: 'ADD n :one',
            ExpressionAttributeValues: { ':one': { N: '1' } },
            ReturnValues: 'UPDATED_NEW',
          }),
        )
      ).Attributes!.n.N,
    );
    const started = Date.now();
    const after = await store.create('/gap/1', 'v');
    expect(after.rev).toBe(reserved + 1);
    await waitFor(() => events.length >= 1);
    const stalled = Date.now() - started;
    watch.close();
    expect(events.map((e) => e.kv)).toEqual([after]);
    // The watcher waited for the missing revision (about gapWaitMs), not forever.
    expect(stalled).toBeGreaterThanOrEqual(150);
    expect(stalled).toBeLessThan(3000);
    expect(await store.currentRev()).toBe(after.rev);
    const filler = await admin.send(
      new GetItemCommand({ TableName: config.tableName, Key: { pk: { S: 'log' }, sk: { S: revSortKey(reserved) } }, ConsistentRead: true }),
    );
    expect(filler.Item?.t.S).toBe('FILL');
    // Should the writer come back, its log item can no longer be put: it would have to retry.
    await expect(
      admin.send(
        new PutItemCommand({
          TableName: config.tableName,
          Item: { pk: { S: 'log' }, sk: { S: revSortKey(reserved) }, t: { S: 'PUT' }, k: { S: '/gap/late' } },
          ConditionExpression: 'attribute_not_exists(sk)',
        }),
      ),
    ).rejects.toMatchObject({ name: 'ConditionalCheckFailedException' });
    cleanups.push(() => dropTable(config.tableName));
  });

  it('makes a writer that commits too late retry with a new revision, delivered once and in order', async () => {
    const config = await freshConfig({ gapWaitMs: 100 });
    // The slow writer's transactions reach DynamoDB 700 ms late (long after readers filled its revision).
    const proxy = await startFaultProxy(local.endpoint, (target) => (target === 'TransactWriteItems' ? { delayMs: 700 } : {}));
    cleanups.push(() => proxy.stop());
    const watcher = await open(config);
    const fast = await open(config);
    const slow = await open({ ...config, client: { ...config.client, endpoint: proxy.endpoint } });
    const from = (await watcher.create('/late-start', 'v')).rev;
    const events: WatchEvent[] = [];
    const watch = watcher.watch({ prefix: '/late/', afterRev: from, onEvents: (e) => events.push(...e) });

    const slowWrite = slow.create('/late/slow', 'slow');
    const fastRevs: number[] = [];
    for (let i = 0; i < 20; i++) {
      fastRevs.push((await fast.create(`/late/fast-${i}`, 'fast')).rev);
      await sleep(40);
    }
    const slowKv = await slowWrite;
    await waitFor(() => events.length >= 21);
    await sleep(150);
    watch.close();

    expect(events).toHaveLength(21);
    expectIncreasing(events.map((e) => e.kv.rev));
    expect(events.find((e) => e.key === '/late/slow')?.kv).toEqual(slowKv);
    // Its first revision was filled by a reader, so it committed with a later one.
    const fillers = (await scanAll(config.tableName)).filter((i) => i.pk.S === 'log' && i.t.S === 'FILL');
    expect(fillers.length).toBeGreaterThanOrEqual(1);
    expect(Number(fillers[0].sk.S)).toBeLessThan(slowKv.rev);
    expect(slowKv.rev).toBeGreaterThan(fastRevs[0]);
    cleanups.push(() => dropTable(config.tableName));
  });

  it('retries throttling and transaction conflicts: no write is lost or reported failed', async () => {
    const config = await freshConfig();
    let n = 0;
    const proxy = await startFaultProxy(local.endpoint, (target) => {
      n++;
      if (n % 3 !== 0) return {};
      const faults = FAULTS.filter((f) => !f.target || f.target === target);
      return { fault: faults[(n / 3) % faults.length] };
    });
    cleanups.push(() => proxy.stop());
    const viaProxy = { ...config, client: { ...config.client, endpoint: proxy.endpoint } };
    const a = await open(viaProxy);
    const b = await open(viaProxy);
    const seed = await a.create('/thr/x', '0');
    const events: WatchEvent[] = [];
    const errors: StoreError[] = [];
    const watch = a.watch({ prefix: '/thr/', afterRev: seed.rev, onEvents: (e) => events.push(...e), onError: (e) => errors.push(e) });
    const writer = new WriterHandle(spawnStoreWriter(viaProxy, { kind: 'create', prefix: '/thr/p/', count: 30 }));
    await writer.ready;
    writer.go();
    await Promise.all(
      [a, b].flatMap((store) =>
        Array.from({ length: 3 }, async () => {
          for (let i = 0; i < 5; i++) await increment(store, '/thr/x');
        }),
      ),
    );
    await writer.done;
    expect((await a.get('/thr/x'))?.value).toBe('30');
    const stored = await b.list({ prefix: '/thr/p/' });
    expect(new Map(stored.items.map((kv) => [kv.key, kv.rev]))).toEqual(new Map(writer.acks.map((ack) => [ack.key, ack.rev])));
    await waitFor(() => events.length >= 60);
    await sleep(150);
    watch.close();
    expect(errors).toEqual([]);
    expect(events).toHaveLength(60);
    expectIncreasing(events.map((e) => e.kv.rev));
    for (const fault of FAULTS) expect(proxy.injected.get(fault.name) ?? 0, fault.name).toBeGreaterThan(0);
    // Retries show up as requests beyond one per call.
    const capacity = a.capacity();
    expect(capacity.update.requests).toBeGreaterThan(capacity.update.calls);
    cleanups.push(() => dropTable(config.tableName));
  });

  it('turns the stream records of the table into change-log entries and nothing else', async () => {
    const config = await freshConfig({ gapWaitMs: 50 });
    const store = await open(config);
    const a1 = await store.create('/s/a', 'a1');
    const a2 = await store.update('/s/a', 'a2', a1.rev);
    await expect(store.update('/s/a', 'stale', a1.rev)).rejects.toMatchObject({ code: 'Conflict' });
    const del = await store.delete('/s/a');
    const big = await store.create('/s/big', 'b'.repeat(500 * 1024));
    await admin.send(
      new UpdateItemCommand({
        TableName: config.tableName,
        Key: { pk: { S: 'meta' }, sk: { S: 'rev' } },
        UpdateExpression: 'ADD n :one',
        ExpressionAttributeValues: { ':one': { N: '1' } },
      }),
    );
    const c = await store.create('/s/c', 'c');
    expect(await store.currentRev()).toBe(c.rev); // fills the abandoned revision
    await store.compact(del.rev);

    const records = await readStream(config.tableName);
    expect(records.length).toBeGreaterThan(10);
    const changes = records.map((r) => parseStreamRecord(r)).filter((x) => x !== undefined);
    expect(changes).toEqual([
      { key: '/s/a', rev: a1.rev, type: 'PUT' },
      { key: '/s/a', rev: a2.rev, type: 'PUT' },
      { key: '/s/a', rev: del.rev, type: 'DELETE' },
      { key: '/s/big', rev: big.rev, type: 'PUT' },
      { key: '/s/c', rev: c.rev, type: 'PUT' },
    ]);
    cleanups.push(() => dropTable(config.tableName));
  });

  it('lists and watches the whole keyspace, ordering keys by their UTF-8 bytes as DynamoDB does', async () => {
    const config = await freshConfig();
    const store = await open(config);
    const from = (await store.create('/0', '')).rev;
    const keys = ['/u/😀', '/u/a', '/u/\uffff', '/u/é'];
    for (const key of keys) await store.create(key, key);
    const ordered = ['/0', '/u/a', '/u/é', '/u/\uffff', '/u/😀'];
    expect((await store.list({ prefix: '' })).items.map((kv) => kv.key)).toEqual(ordered);
    expect((await store.list({ prefix: '', limit: 2, startAfter: '/u/a' })).items.map((kv) => kv.key)).toEqual(['/u/é', '/u/\uffff']);
    expect((await store.list({ prefix: '/u/', startAfter: '/v' })).items).toEqual([]);
    expect((await store.get('/0'))?.value).toBe('');
    const events: WatchEvent[] = [];
    const watch = store.watch({ prefix: '', afterRev: from, onEvents: (e) => events.push(...e) });
    await waitFor(() => events.length >= keys.length);
    watch.close();
    expect(events.map((e) => e.key)).toEqual(keys);
    cleanups.push(() => dropTable(config.tableName));
  });

  it('reports consumed capacity per store operation', async () => {
    const config = await freshConfig();
    const store = await open(config);
    const kv = await store.create('/cap/a', JSON.stringify({ pad: 'p'.repeat(3000) }));
    await store.update('/cap/a', 'small', kv.rev);
    await store.get('/cap/a');
    await store.list({ prefix: '/cap/' });
    const report = store.capacity();
    expect(report.create).toMatchObject({ calls: 1, requests: 2 });
    expect(report.create.wcu).toBeGreaterThanOrEqual(4);
    expect(report.update.calls).toBe(1);
    expect(report.update.wcu).toBeGreaterThan(0);
    expect(report.get.calls).toBe(1);
    expect(report.get.rcu).toBeGreaterThan(0);
    expect(report.list.rcu).toBeGreaterThan(0);
    store.resetCapacity();
    expect(store.capacity()).toEqual({});
    cleanups.push(() => dropTable(config.tableName));
  });

  it('expires watches and snapshots from before the retention horizon instead of going silent', async () => {
    const config = await freshConfig({ historyRetentionHours: 1 / 3600 }); // one second
    const store = await open(config);
    await store.create('/ret-seed', 'v'); // so that a.rev - 1 is a revision, not "from now"
    const a = await store.create('/ret/a', 'a');
    await sleep(1200);
    const b = await store.create('/ret/b', 'b');
    const compacted = await store.compactedRev();
    expect(compacted).toBeGreaterThanOrEqual(a.rev);
    expect(compacted).toBeLessThan(b.rev);
    const errors: string[] = [];
    const events: WatchEvent[] = [];
    store.watch({ prefix: '/ret/', afterRev: a.rev - 1, onEvents: (e) => events.push(...e), onError: (e) => errors.push(e.code) });
    await waitFor(() => errors.length > 0);
    expect(errors).toEqual(['Expired']);
    expect(events).toEqual([]);
    await expect(store.list({ prefix: '/ret/', rev: a.rev - 1 })).rejects.toMatchObject({ code: 'Expired' });
    // From inside the window a watch resumes without a relist.
    const resumed: WatchEvent[] = [];
    store.watch({ prefix: '/ret/', afterRev: compacted, onEvents: (e) => resumed.push(...e) });
    await waitFor(() => resumed.length >= 1);
    expect(resumed.map((e) => e.kv)).toEqual([b]);
    cleanups.push(() => dropTable(config.tableName));
  });

  it('fails loudly when Java is missing', async () => {
    await expect(startDynamoDbLocal({ java: '/nonexistent/bin/java' })).rejects.toThrow(/needs Java 17.*not found/);
  });
});

// ---- helpers --------------------------------------------------------------------------------

interface Fault {
  name: string;
  status: number;
  body: Record<string, unknown>;
  /** Only for requests of this API call. */
  target?: string;
}

const FAULTS: Fault[] = [
  {
    name: 'ProvisionedThroughputExceededException',
    status: 400,
    body: { __type: 'com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException', message: 'throughput exceeded' },
  },
  { name: 'ThrottlingException', status: 400, body: { __type: 'com.amazon.coral.availability#ThrottlingException', message: 'rate exceeded' } },
  { name: 'RequestLimitExceeded', status: 400, body: { __type: 'com.amazonaws.dynamodb.v20120810#RequestLimitExceeded', message: 'limit exceeded' } },
  {
    name: 'TransactionConflict',
    target: 'TransactWriteItems',
    status: 400,
    body: {
      __type: 'com.amazonaws.dynamodb.v20120810#TransactionCanceledException',
      message: 'Transaction cancelled, please refer cancellation reasons for specific reasons [TransactionConflict, None]',
      CancellationReasons: [{ Code: 'TransactionConflict', Message: 'Transaction is ongoing for the item' }, { Code: 'None' }],
    },
  },
  {
    name: 'TransactionConflictException',
    target: 'UpdateItem',
    status: 400,
    body: { __type: 'com.amazonaws.dynamodb.v20120810#TransactionConflictException', message: 'Transaction is ongoing for the item' },
  },
];

interface FaultProxy {
  endpoint: string;
  injected: Map<string, number>;
  stop(): Promise<void>;
}

/** An HTTP proxy in front of DynamoDB Local that answers some calls with DynamoDB's error responses or delays them. */
async function startFaultProxy(
  upstream: string,
  decide: (target: string) => { fault?: Fault; delayMs?: number },
): Promise<FaultProxy> {
  const up = new URL(upstream);
  const injected = new Map<string, number>();
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', async () => {
      const target = String(req.headers['x-amz-target'] ?? '').split('.').pop() ?? '';
      const { fault, delayMs } = decide(target);
      if (fault) {
        injected.set(fault.name, (injected.get(fault.name) ?? 0) + 1);
        res.writeHead(fault.status, { 'content-type': 'application/x-amz-json-1.0' });
        res.end(JSON.stringify(fault.body));
        return;
      }
      if (delayMs) await sleep(delayMs);
      const forward = request(
        { host: up.hostname, port: up.port, method: req.method, path: req.url, headers: req.headers },
        (upRes) => {
          res.writeHead(upRes.statusCode ?? 500, upRes.headers);
          upRes.pipe(res);
        },
      );
      forward.on('error', (err) => res.destroy(err));
      forward.end(Buffer.concat(chunks));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    injected,
    stop: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

async function increment(store: Store, key: string): Promise<void> {
  for (;;) {
    const current = await store.get(key);
    try {
      await store.update(key, String(Number(current!.value) + 1), current!.rev);
      return;
    } catch (err) {
      if (!(err instanceof StoreError) || err.code !== 'Conflict') throw err;
    }
  }
}

async function scanAll(tableName: string): Promise<Record<string, AttributeValue>[]> {
  const items: Record<string, AttributeValue>[] = [];
  let start: Record<string, AttributeValue> | undefined;
  do {
    const out = await admin.send(new ScanCommand({ TableName: tableName, ExclusiveStartKey: start, ConsistentRead: true }));
    items.push(...(out.Items ?? []));
    start = out.LastEvaluatedKey;
  } while (start);
  return items;
}

/** Every record of the table's stream so far, in shard order. */
async function readStream(tableName: string): Promise<StreamRecord[]> {
  const streams = new DynamoDBStreamsClient({ endpoint: local.endpoint, region: local.region, credentials: local.credentials });
  try {
    const arn = (await admin.send(new DescribeTableCommand({ TableName: tableName }))).Table!.LatestStreamArn!;
    const shards = (await streams.send(new DescribeStreamCommand({ StreamArn: arn }))).StreamDescription!.Shards ?? [];
    const records: StreamRecord[] = [];
    for (const shard of shards) {
      let iterator = (
        await streams.send(new GetShardIteratorCommand({ StreamArn: arn, ShardId: shard.ShardId!, ShardIteratorType: 'TRIM_HORIZON' }))
      ).ShardIterator;
      for (let empty = 0; iterator && empty < 2; ) {
        const out = await streams.send(new GetRecordsCommand({ ShardIterator: iterator }));
        records.push(...(out.Records ?? []));
        if ((out.Records ?? []).length === 0) empty++;
        iterator = out.NextShardIterator;
      }
    }
    return records;
  } finally {
    streams.destroy();
  }
}

function expectIncreasing(revs: number[]): void {
  for (let i = 1; i < revs.length; i++) expect(revs[i]).toBeGreaterThan(revs[i - 1]);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function waitFor(condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await sleep(5);
  }
}
