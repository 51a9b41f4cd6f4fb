// The store contract on one DynamoDB table (layout in items.ts, design in docs/STORE-DYNAMODB.md).
//   write  = read the kv item (update/delete) → take a revision from the counter → one
//            TransactWriteItems: put log item (only if absent) + kv item (optimistic-concurrency
//            condition) + TTL on the superseded log item and its chunks + chunks of the new value.
//   get    = kv item → value of the log item it points at.
//   list   = kv items (latest pointers) + log items after the snapshot revision (snapshot.ts).
// Revisions and gap safety live in revisions.ts, watches in watch.ts, compaction in compaction.ts.
import { randomBytes } from 'node:crypto';
import type { CancellationReason, DynamoDBClient, TransactWriteItem } from '@aws-sdk/client-dynamodb';
import {
  StoreError,
  type KeyValue,
  type ListOptions,
  type ListResult,
  type Store,
  type Watch,
  type WatchOptions,
} from '../contract.js';
import { CapacityMeter, TableClient, type CapacityReport, type Item, type RetryPolicy } from './client.js';
import {
  checkKey,
  chunkItem,
  decodeKv,
  encodeValue,
  keyOfChunk,
  keyOfKv,
  keyOfLog,
  kvItem,
  logItem,
  num,
  type EncodedValue,
  type KvHead,
} from './items.js';
import { KeyHeads } from './heads.js';
import { Revisions } from './revisions.js';
import { deleteHistory } from './compaction.js';
import { expired, readSnapshot } from './snapshot.js';
import { SORT_KEY, TTL_ATTRIBUTE } from './table.js';
import { ValueReader } from './values.js';
import { WatchHub } from './watch.js';

export interface DynamoStoreOptions {
  client: DynamoDBClient;
  tableName: string;
  /** History kept after a value is superseded; watches resume from anywhere inside it. */
  retentionMs: number;
  pollIntervalMs: number;
  progressIntervalMs: number;
  gapWaitMs: number;
  retry: RetryPolicy;
  /** Destroy the client on close (it was made for this store). */
  ownsClient: boolean;
}

export interface DynamoStore extends Store {
  readonly backend: 'dynamodb';
  readonly tableName: string;
  /** Consumed capacity per store operation since open (or the last reset). */
  capacity(): CapacityReport;
  resetCapacity(): void;
}

/** What a write does with its revision, and how it reads a cancelled transaction. */
interface WritePlan<T> {
  items(rev: number): TransactWriteItem[];
  success(rev: number): T;
  /** The kv item's condition failed (the revision is filled by then): retry, or fail with this. */
  cancelled(kvReason: CancellationReason): Promise<'retry' | StoreError>;
}

interface HeadReadSlot {
  inflight: Promise<KvHead | undefined>;
  /** The read that starts when `inflight` ends, joined by everyone who came after it was sent. */
  next?: Promise<KvHead | undefined>;
}

export async function openDynamoStoreWith(opts: DynamoStoreOptions): Promise<DynamoStore> {
  const store = new DynamoStoreImpl(opts);
  await store.init();
  return store;
}

class DynamoStoreImpl implements DynamoStore {
  readonly backend = 'dynamodb' as const;
  readonly tableName: string;
  private readonly meter = new CapacityMeter();
  private readonly table: TableClient;
  private readonly revs: Revisions;
  private readonly values: ValueReader;
  private readonly hub: WatchHub;
  private readonly heads = new KeyHeads();
  private readonly headReads = new Map<string, HeadReadSlot>();
  private closed = false;

  constructor(private readonly opts: DynamoStoreOptions) {
    this.tableName = opts.tableName;
    this.table = new TableClient(opts.client, opts.tableName, this.meter, opts.retry);
    this.revs = new Revisions(
      this.table,
      { gapWaitMs: opts.gapWaitMs, retentionMs: opts.retentionMs, ttlSlackMs: 60 * 60_000, writerGiveUpMs: opts.retry.budgetMs + 10_000 },
      randomBytes(9).toString('base64url'),
    );
    this.values = new ValueReader(this.table);
    this.hub = new WatchHub(this.table, this.revs, this.values, {
      pollIntervalMs: opts.pollIntervalMs,
      progressIntervalMs: opts.progressIntervalMs,
    });
  }

  async init(): Promise<void> {
    try {
      await this.revs.init('open');
    } catch (err) {
      if ((err as Error).name === 'ResourceNotFoundException') {
        throw new Error(`DynamoDB table ${this.tableName} does not exist (create it with ensureTable() or the CDK stack)`);
      }
      throw err;
    }
  }

  capacity(): CapacityReport {
    return this.meter.report();
  }

  resetCapacity(): void {
    this.meter.reset();
  }

  // ---- reads ---------------------------------------------------------------------------------

  async get(key: string): Promise<KeyValue | undefined> {
    this.begin('get');
    // The log item a kv item points at only goes away once superseded and compacted: re-read then.
    for (let attempt = 0; attempt < 5; attempt++) {
      const head = await this.freshHead('get', key);
      if (!head) return undefined;
      const value = (await this.values.atRevs('get', [head.rev])).get(head.rev);
      if (value !== undefined) return { key, value, rev: head.rev, createRev: head.createRev };
    }
    throw new StoreError('Unavailable', `value of ${key} keeps disappearing under compaction`);
  }

  async list(opts: ListOptions): Promise<ListResult> {
    this.begin('list');
    const requested = opts.rev ?? 0;
    let rev: number;
    if (requested > 0) {
      const [current, compacted] = await Promise.all([this.revs.counter('list'), this.revs.compactedRev('list')]);
      if (requested > current) {
        throw new StoreError('TooLarge', `revision ${requested} is newer than the current revision ${current}`);
      }
      if (requested < compacted) throw expired(requested, compacted);
      await this.revs.resolveThrough('list', requested);
      rev = requested;
    } else {
      rev = await this.resolvedCurrent('list');
    }
    const result = await readSnapshot({ table: this.table, values: this.values, revs: this.revs }, opts, rev);
    if (requested > 0) {
      // Compaction may have removed history while we read; its marker went up first.
      const compacted = await this.revs.compactedRev('list');
      if (rev < compacted) throw expired(rev, compacted);
    }
    return result;
  }

  async currentRev(): Promise<number> {
    this.begin('currentRev');
    return this.resolvedCurrent('currentRev');
  }

  async compactedRev(): Promise<number> {
    this.begin('compactedRev');
    this.assertOpen();
    return this.revs.compactedRev('compactedRev');
  }

  // ---- writes --------------------------------------------------------------------------------

  async create(key: string, value: string): Promise<KeyValue> {
    this.begin('create');
    checkKey(key);
    const encoded = encodeValue(value);
    return this.write('create', key, async () => ({
      items: (rev) => [
        this.putLog(logItem({ rev, type: 'PUT', key, value: encoded, createRev: rev, prevRev: 0, writer: this.revs.writer })),
        {
          Put: {
            TableName: this.tableName,
            Item: kvItem(key, rev, rev, encoded.chunks.length),
            ConditionExpression: 'attribute_not_exists(#sk)',
            ExpressionAttributeNames: { '#sk': SORT_KEY },
            ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
          },
        },
        ...this.putChunks(rev, encoded),
      ],
      success: (rev) => {
        this.heads.seen(key, { key, rev, createRev: rev, chunks: encoded.chunks.length });
        this.values.remember(rev, value);
        return { key, value, rev, createRev: rev };
      },
      cancelled: async (kvReason) => {
        if (kvReason.Item) this.heads.seen(key, decodeKv(kvReason.Item));
        return new StoreError('AlreadyExists', `key ${key} already exists`);
      },
    }));
  }

  async update(key: string, value: string, expectedRev: number): Promise<KeyValue> {
    this.begin('update');
    checkKey(key);
    const encoded = encodeValue(value);
    return this.write('update', key, async () => {
      const head = await this.currentHead('update', key, expectedRev);
      return {
        items: (rev) => [
          this.putLog(logItem({ rev, type: 'PUT', key, value: encoded, createRev: head.createRev, prevRev: head.rev, writer: this.revs.writer })),
          {
            Update: {
              TableName: this.tableName,
              Key: keyOfKv(key),
              UpdateExpression: 'SET #r = :rev, #n = :n',
              ConditionExpression: '#r = :expected',
              ExpressionAttributeNames: { '#r': 'r', '#n': 'n' },
              ExpressionAttributeValues: { ':rev': num(rev), ':n': num(encoded.chunks.length), ':expected': num(expectedRev) },
              ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
            },
          },
          ...this.supersede(head, rev),
          ...this.putChunks(rev, encoded),
        ],
        success: (rev) => {
          this.heads.seen(key, { key, rev, createRev: head.createRev, chunks: encoded.chunks.length });
          this.values.remember(rev, value);
          return { key, value, rev, createRev: head.createRev };
        },
        cancelled: async (kvReason) => {
          if (!kvReason.Item) return new StoreError('NotFound', `key ${key} not found`);
          const current = decodeKv(kvReason.Item);
          this.heads.seen(key, current);
          return this.conflict('update', current, expectedRev);
        },
      };
    });
  }

  async delete(key: string, expectedRev?: number): Promise<{ deleted: KeyValue; rev: number }> {
    this.begin('delete');
    checkKey(key);
    let deletedValue: Promise<string | undefined> = Promise.resolve(undefined);
    let deletedHead: KvHead | undefined;
    const rev = await this.write('delete', key, async () => {
      const head = await this.currentHead('delete', key, expectedRev);
      deletedHead = head;
      // The deleted value is read while the transaction runs (its log item outlives the delete).
      deletedValue = this.values.atRevs('delete', [head.rev]).then((m) => m.get(head.rev));
      deletedValue.catch(() => undefined);
      return {
        items: (rev) => [
          this.putLog(
            logItem({
              rev,
              type: 'DELETE',
              key,
              createRev: head.createRev,
              prevRev: head.rev,
              writer: this.revs.writer,
              expiresAt: this.revs.expiresAt(),
            }),
          ),
          {
            Delete: {
              TableName: this.tableName,
              Key: keyOfKv(key),
              ConditionExpression: '#r = :expected',
              ExpressionAttributeNames: { '#r': 'r' },
              ExpressionAttributeValues: { ':expected': num(head.rev) },
              ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
            },
          },
          ...this.supersede(head, rev),
        ],
        success: (rev) => {
          this.heads.deleted(key, rev);
          return rev;
        },
        cancelled: async (kvReason) => {
          // Without an expected revision, a concurrent change just means: read again and retry.
          if (expectedRev === undefined) return 'retry';
          if (!kvReason.Item) return new StoreError('NotFound', `key ${key} not found`);
          const current = decodeKv(kvReason.Item);
          this.heads.seen(key, current);
          return this.conflict('delete', current, expectedRev);
        },
      };
    });
    const value = await deletedValue;
    if (value === undefined) throw new Error(`value of ${key} at revision ${deletedHead!.rev} is missing`);
    return { deleted: { key, value, rev: deletedHead!.rev, createRev: deletedHead!.createRev }, rev };
  }

  /**
   * The write protocol: prepare (reads, may fail with NotFound/Conflict before any revision is
   * taken), take a revision, commit one transaction. A transaction that did not commit leaves its
   * revision filled, so no reader ever waits on it.
   */
  private async write<T>(op: string, key: string, prepare: () => Promise<WritePlan<T>>): Promise<T> {
    this.assertOpen();
    return this.heads.serialize(key, () => this.commit(op, prepare));
  }

  private async commit<T>(op: string, prepare: () => Promise<WritePlan<T>>): Promise<T> {
    for (;;) {
      this.assertOpen();
      const plan = await prepare();
      const rev = await this.revs.allocate(op);
      try {
        let outcome;
        try {
          outcome = await this.table.transactWrite(op, plan.items(rev));
        } catch (err) {
          // No clear answer (network, throttled beyond the retry budget): settle the revision.
          if ((await this.revs.settleUnknown(op, rev)) === 'committed') outcome = { ok: true as const };
          else throw err instanceof StoreError ? err : new StoreError('Unavailable', `${op} failed: ${String(err)}`);
        }
        if (outcome.ok) {
          this.revs.noteCommitted(rev);
          this.hub.kick();
          return plan.success(rev);
        }
        const [logReason, kvReason] = outcome.reasons;
        // A reader filled our revision before we committed: simply try again with a new one.
        if (logReason?.Code === 'ConditionalCheckFailed') continue;
        await this.revs.fill(op, rev);
        if (kvReason?.Code !== 'ConditionalCheckFailed') {
          throw new Error(`${op} transaction rejected: ${outcome.reasons.map((r) => `${r.Code}: ${r.Message ?? ''}`).join('; ')}`);
        }
        const verdict = await plan.cancelled(kvReason);
        if (verdict instanceof StoreError) throw verdict;
      } finally {
        this.revs.settle(rev);
      }
    }
  }

  /** The log item for a revision: put only if absent, so a filler and a commit cannot both win. */
  private putLog(item: Item): TransactWriteItem {
    return {
      Put: { TableName: this.tableName, Item: item, ConditionExpression: 'attribute_not_exists(#sk)', ExpressionAttributeNames: { '#sk': SORT_KEY } },
    };
  }

  private putChunks(rev: number, encoded: EncodedValue): TransactWriteItem[] {
    return encoded.chunks.map((data, i) => ({ Put: { TableName: this.tableName, Item: chunkItem(rev, i, data) } }));
  }

  /** The superseded value becomes history: its log item and chunks expire after the retention. */
  private supersede(head: KvHead, rev: number): TransactWriteItem[] {
    const expiresAt = num(this.revs.expiresAt());
    const touch = (Key: Item, extra: string) => ({
      Update: {
        TableName: this.tableName,
        Key,
        UpdateExpression: `SET #x = :x${extra}`,
        ConditionExpression: 'attribute_exists(#sk)',
        ExpressionAttributeNames: { '#x': TTL_ATTRIBUTE, '#sk': SORT_KEY, ...(extra ? { '#s': 's' } : {}) },
        ExpressionAttributeValues: { ':x': expiresAt, ...(extra ? { ':s': num(rev) } : {}) },
      },
    });
    return [
      touch(keyOfLog(head.rev), ', #s = :s'),
      ...Array.from({ length: head.chunks }, (_, i) => touch(keyOfChunk(head.rev, i), '')),
    ];
  }

  private async head(op: string, key: string): Promise<KvHead | undefined> {
    const item = await this.table.getItem(op, keyOfKv(key));
    const head = item && decodeKv(item);
    if (head) this.heads.seen(key, head);
    return head;
  }

  /**
   * A read of the key's head sent after this call began, shared by concurrent callers: while one
   * read is in flight, later callers all wait for the single next one. A hot key then costs at
   * most two reads in flight per process, however many callers spin on it.
   */
  private freshHead(op: string, key: string): Promise<KvHead | undefined> {
    const slot = this.headReads.get(key);
    if (slot) {
      slot.next ??= slot.inflight.then(
        () => this.launchHeadRead(op, key, slot),
        () => this.launchHeadRead(op, key, slot),
      );
      return slot.next;
    }
    const fresh: HeadReadSlot = { inflight: Promise.resolve(undefined) };
    this.headReads.set(key, fresh);
    return this.launchHeadRead(op, key, fresh);
  }

  private launchHeadRead(op: string, key: string, slot: HeadReadSlot): Promise<KvHead | undefined> {
    slot.next = undefined;
    const read = this.head(op, key);
    slot.inflight = read;
    const done = () => {
      if (slot.inflight === read && !slot.next) this.headReads.delete(key);
    };
    read.then(done, done);
    return read;
  }

  /**
   * The key's head for a write expecting `expectedRev` (any revision when absent): NotFound and
   * Conflict come from what this instance already knows when that settles it, else from a read.
   */
  private async currentHead(op: string, key: string, expectedRev?: number): Promise<KvHead> {
    const known = this.heads.get(key);
    if (expectedRev !== undefined && known?.head && known.head.rev === known.maxRev) {
      if (known.maxRev > expectedRev) throw await this.conflict(op, known.head, expectedRev);
      if (known.maxRev === expectedRev) return known.head;
    }
    const head = await this.head(op, key);
    if (!head) throw new StoreError('NotFound', `key ${key} not found`);
    if (expectedRev !== undefined && head.rev !== expectedRev) throw await this.conflict(op, head, expectedRev);
    return head;
  }

  private async conflict(op: string, head: KvHead, expectedRev: number): Promise<StoreError> {
    const value = (await this.values.atRevs(op, [head.rev])).get(head.rev);
    const current = value === undefined ? undefined : { key: head.key, value, rev: head.rev, createRev: head.createRev };
    return new StoreError('Conflict', `key ${head.key} is at revision ${head.rev}, not ${expectedRev}`, current);
  }

  private async resolvedCurrent(op: string): Promise<number> {
    this.assertOpen();
    const current = await this.revs.counter(op);
    await this.revs.resolveThrough(op, current);
    return current;
  }

  // ---- compaction ----------------------------------------------------------------------------

  async compact(rev: number): Promise<void> {
    this.begin('compact');
    const current = await this.resolvedCurrent('compact');
    if (rev > current) throw new StoreError('TooLarge', `cannot compact to ${rev}: current revision is ${current}`);
    // Local watchers read everything up to `rev` first, so compaction never expires them.
    await this.hub.flush();
    // Announce first: from here on, reads below `rev` fail with Expired instead of seeing a
    // half-compacted history.
    await this.revs.raiseCompacted('compact', rev);
    await deleteHistory(this.table, this.revs, rev);
  }

  // ---- watch / lifecycle ---------------------------------------------------------------------

  watch(opts: WatchOptions): Watch {
    this.assertOpen();
    this.meter.begin('watch');
    return this.hub.watch(opts);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.hub.close();
    await this.revs.close();
    if (this.opts.ownsClient) this.opts.client.destroy();
  }

  private begin(op: string): void {
    this.assertOpen();
    this.meter.begin(op);
  }

  private assertOpen(): void {
    if (this.closed) throw new StoreError('Unavailable', 'store is closed');
  }
}
