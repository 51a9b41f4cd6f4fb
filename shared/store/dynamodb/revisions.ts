// Revisions: allocation from the counter item, and gap safety.
//
// A writer takes revision r from the counter (UpdateItem ADD) and then commits one transaction
// whose first item is the log item for r, put only if absent. Between the two steps other writers
// may take and commit r+1, r+2, ...; a reader that saw them must not move past r while r may
// still commit. So readers walk the log in revision order and stop at a missing r. If r stays
// missing for `gapWaitMs`, the reader puts a filler log item for r, also only if absent: exactly
// one of {the writer's transaction, the filler} succeeds. A writer that loses retries with a new
// revision; a writer that crashed after taking r leaves a hole that the first reader fills.
// `resolved` is the highest revision below which no hole is left (committed or filled): nothing
// can ever commit at or below it, so reads and watches may stand on it.
//
// History ends in two ways. compact(rev) raises an explicit marker first and then deletes; holes
// at or below it are deleted history, never filled. TTL removes superseded history after the
// retention; the retention horizon (retentionHorizon below) makes watches and snapshots from
// before it fail with Expired. Holes left by TTL are filled like any other old hole: a hole whose
// successor was committed long ago cannot belong to a live writer, so it is filled at once.
import { setTimeout as sleep } from 'node:timers/promises';
import { StoreError } from '../contract.js';
import type { Item, TableClient } from './client.js';
import { fillerItem, keyOfLog, num } from './items.js';
import {
  CHECKPOINT_SK_PREFIX,
  COMPACTED_SK,
  COUNTER_SK,
  LOG_PK,
  META_PK,
  PARTITION_KEY,
  RESOLVED_SK,
  revOfSortKey,
  revSortKey,
  SORT_KEY,
  TTL_ATTRIBUTE,
} from './table.js';

export interface RevisionOptions {
  /** How long a missing revision may stay missing before readers fill it. */
  gapWaitMs: number;
  /** History kept after a value is superseded (TTL), and so how far back watches may resume. */
  retentionMs: number;
  /** Added to TTLs: clock skew between writers and DynamoDB, and TTL's own imprecision. */
  ttlSlackMs: number;
  /** A writer stops trying to commit a revision within this long after taking it. */
  writerGiveUpMs: number;
}

/** What happened to a missing revision a reader looked at. */
export type HoleVerdict = { kind: 'retry' } | { kind: 'compacted'; compacted: number };

const WALK_PAGE = 1000;

export class Revisions {
  /** Every revision <= resolved is committed or filled (or compacted away). */
  resolved = 0;
  /** The highest revision known to be committed or allocated-and-visible through this store instance. */
  knownRev = 0;
  private knownCompacted = 0;
  private persistedResolved = 0;
  private lastPersistAt = 0;
  private resolving: Promise<void> | undefined;
  private readonly holes = new Map<number, number>();
  /** Revisions this instance allocated that are neither committed nor filled yet. */
  private readonly pending = new Map<number, { settled: Promise<void>; release: () => void }>();
  private readonly background = new Set<Promise<unknown>>();
  private readonly checkpointWrites = new Set<Promise<unknown>>();
  private lastCheckpointBucket = 0;
  private readonly checkpointBucketMs: number;
  private ttlCompacted: { value: number; at: number } | undefined;
  /** When the first revision of this table was allocated (ms). */
  private since: number | undefined;

  constructor(
    private readonly table: TableClient,
    private readonly opts: RevisionOptions,
    /** Written into log items so an ambiguous commit can be recognised as ours. */
    readonly writer: string,
  ) {
    // One checkpoint bucket a minute; shorter when the retention itself is short (tests).
    this.checkpointBucketMs = Math.min(60_000, Math.max(10, Math.floor(opts.retentionMs / 100)));
  }

  /** Reads the counter and markers; a missing table fails here with a clear message. */
  async init(op: string): Promise<void> {
    const items = await this.table.batchGet(op, [metaKey(COUNTER_SK), metaKey(RESOLVED_SK), metaKey(COMPACTED_SK)]);
    const byName = new Map(items.map((i) => [i[SORT_KEY].S!, i]));
    this.knownRev = numberOf(byName.get(COUNTER_SK), 'n');
    const since = byName.get(COUNTER_SK)?.since?.N;
    if (since) this.since = Number(since);
    this.knownCompacted = numberOf(byName.get(COMPACTED_SK), 'n');
    this.persistedResolved = numberOf(byName.get(RESOLVED_SK), 'n');
    this.resolved = Math.max(this.persistedResolved, this.knownCompacted);
  }

  /** Epoch seconds at which history superseded now may be deleted. */
  expiresAt(): number {
    return Math.ceil((Date.now() + this.opts.retentionMs + this.opts.ttlSlackMs) / 1000);
  }

  // ---- allocation ------------------------------------------------------------------------------

  /** Takes the next revision. The caller must settle() it once committed or filled. */
  async allocate(op: string): Promise<number> {
    const out = await this.table.updateItem(op, {
      Key: metaKey(COUNTER_SK),
      UpdateExpression: 'ADD #n :one SET #since = if_not_exists(#since, :now)',
      ExpressionAttributeNames: { '#n': 'n', '#since': 'since' },
      ExpressionAttributeValues: { ':one': num(1), ':now': num(Date.now()) },
      ReturnValues: 'UPDATED_NEW',
    });
    const rev = Number(out!.n.N);
    if (out!.since?.N) this.since = Number(out!.since.N);
    let release!: () => void;
    const settled = new Promise<void>((resolve) => (release = resolve));
    this.pending.set(rev, { settled, release });
    this.checkpoint(rev);
    return rev;
  }

  settle(rev: number): void {
    const p = this.pending.get(rev);
    if (!p) return;
    this.pending.delete(rev);
    p.release();
  }

  noteCommitted(rev: number): void {
    if (rev > this.knownRev) this.knownRev = rev;
  }

  /** Puts a filler log item for rev unless the revision's log item exists; true if ours won. */
  async fill(op: string, rev: number): Promise<boolean> {
    return this.table.putItem(op, fillerItem(rev, this.expiresAt()), 'attribute_not_exists(#sk)', { '#sk': SORT_KEY });
  }

  /**
   * After a transaction failed without a clear answer (network, budget exhausted): makes sure the
   * revision is settled one way or the other and says whether our transaction committed.
   */
  async settleUnknown(op: string, rev: number): Promise<'committed' | 'aborted'> {
    if (await this.fill(op, rev)) return 'aborted';
    const item = await this.table.getItem(op, keyOfLog(rev), ['t', 'w']);
    return item && item.t?.S !== 'FILL' && item.w?.S === this.writer ? 'committed' : 'aborted';
  }

  async counter(op: string): Promise<number> {
    const item = await this.table.getItem(op, metaKey(COUNTER_SK));
    const rev = numberOf(item, 'n');
    if (item?.since?.N) this.since = Number(item.since.N);
    if (rev > this.knownRev) this.knownRev = rev;
    return rev;
  }

  // ---- resolution --------------------------------------------------------------------------------

  /** Returns once every revision <= target is committed or filled. */
  async resolveThrough(op: string, target: number): Promise<void> {
    while (this.resolved < target) {
      this.resolving ??= this.walk(op, target).finally(() => (this.resolving = undefined));
      await this.resolving;
    }
  }

  /** Raises `resolved` after a contiguous stretch of log items was seen. */
  advance(to: number): void {
    if (to <= this.resolved) return;
    this.resolved = to;
    if (to > this.knownRev) this.knownRev = to;
    for (const rev of this.holes.keys()) if (rev <= to) this.holes.delete(rev);
    if (Date.now() - this.lastPersistAt >= 1000) this.persistResolved();
  }

  /** One step of walking the log from `resolved` towards `target`. */
  private async walk(op: string, target: number): Promise<void> {
    const from = Math.max(this.resolved, this.knownCompacted);
    const out = await this.table.query(op, {
      KeyConditionExpression: '#pk = :pk AND #sk BETWEEN :lo AND :hi',
      ExpressionAttributeNames: { '#pk': PARTITION_KEY, '#sk': SORT_KEY, '#at': 'at' },
      ExpressionAttributeValues: { ':pk': { S: LOG_PK }, ':lo': { S: revSortKey(from + 1) }, ':hi': { S: revSortKey(target) } },
      ProjectionExpression: '#sk, #at',
      Limit: WALK_PAGE,
    });
    const items = out.Items ?? [];
    let expected = from + 1;
    let next: Item | undefined;
    for (const item of items) {
      if (revOfSortKey(item[SORT_KEY].S!) !== expected) {
        next = item;
        break;
      }
      expected++;
    }
    this.advance(expected - 1);
    if (expected > target) return;
    // A full page walked without a hole: the next step continues after it.
    if (!next && out.LastEvaluatedKey) return;
    const verdict = await this.hole(op, expected, next?.at?.N ? Number(next.at.N) : undefined);
    if (verdict.kind === 'compacted') this.advance(verdict.compacted);
  }

  /**
   * A reader found `rev` missing while a later revision exists (committed at `laterAt`, when
   * known) or was allocated. Waits a little (or for our own writer of it), and once it has been
   * missing for gapWaitMs puts a filler.
   */
  async hole(op: string, rev: number, laterAt?: number): Promise<HoleVerdict> {
    if (rev <= this.knownCompacted) return { kind: 'compacted', compacted: this.knownCompacted };
    const now = Date.now();
    const first = this.holes.get(rev) ?? now;
    this.holes.set(rev, first);
    const waited = now - first;
    // A writer gives up on its revision within its retry budget; past that the hole is abandoned.
    const abandoned = laterAt !== undefined && now - laterAt > this.opts.gapWaitMs + this.opts.writerGiveUpMs;
    if (waited < this.opts.gapWaitMs && !abandoned) {
      const own = this.pending.get(rev);
      const remaining = this.opts.gapWaitMs - waited;
      await (own ? Promise.race([own.settled, sleep(remaining)]) : sleep(Math.min(remaining, 10)));
      return { kind: 'retry' };
    }
    // Compaction deletes superseded log items: a "hole" at or below the compacted revision is one
    // of those, and must not be filled as if it never committed.
    const compacted = await this.explicitCompacted(op);
    if (rev <= compacted) return { kind: 'compacted', compacted };
    await this.fill(op, rev);
    this.holes.delete(rev);
    return { kind: 'retry' };
  }

  // ---- compaction markers ----------------------------------------------------------------------

  /**
   * The oldest revision reads and watches may start from: the explicit compaction marker, or the
   * retention horizon (a watch from before it may miss log items that TTL has removed).
   */
  async compactedRev(op: string): Promise<number> {
    const [explicit, ttl] = await Promise.all([this.explicitCompacted(op), this.retentionHorizon(op)]);
    return Math.max(explicit, ttl);
  }

  async explicitCompacted(op: string): Promise<number> {
    const value = numberOf(await this.table.getItem(op, metaKey(COMPACTED_SK), ['n']), 'n');
    if (value > this.knownCompacted) this.knownCompacted = value;
    return this.knownCompacted;
  }

  /** Raises the compaction marker (never lowers it). */
  async raiseCompacted(op: string, rev: number): Promise<void> {
    await this.table.updateItem(op, {
      Key: metaKey(COMPACTED_SK),
      UpdateExpression: 'SET #n = :rev',
      ConditionExpression: 'attribute_not_exists(#n) OR #n < :rev',
      ExpressionAttributeNames: { '#n': 'n' },
      ExpressionAttributeValues: { ':rev': num(rev) },
    });
    if (rev > this.knownCompacted) this.knownCompacted = rev;
  }

  async compactionDone(op: string): Promise<number> {
    return numberOf(await this.table.getItem(op, metaKey(COMPACTED_SK), ['d']), 'd');
  }

  async markCompactionDone(op: string, rev: number): Promise<void> {
    await this.table.updateItem(op, {
      Key: metaKey(COMPACTED_SK),
      UpdateExpression: 'SET #d = :rev',
      ConditionExpression: 'attribute_not_exists(#d) OR #d < :rev',
      ExpressionAttributeNames: { '#d': 'd' },
      ExpressionAttributeValues: { ':rev': num(rev) },
    });
  }

  /**
   * Every revision committed before now - retention is at or below the result (TTL may have
   * removed history superseded back then). Checkpoint items record, per time bucket, the lowest
   * revision allocated in it; the first checkpoint of a bucket that starts after the horizon was
   * allocated after everything committed before the horizon. A table whose first revision is
   * younger than the retention has lost nothing.
   */
  private async retentionHorizon(op: string): Promise<number> {
    const now = Date.now();
    const horizon = now - this.opts.retentionMs;
    if (this.since === undefined) await this.counter(op);
    if (this.since === undefined || this.since >= horizon) return 0;
    if (this.ttlCompacted && now - this.ttlCompacted.at < this.checkpointBucketMs) return this.ttlCompacted.value;
    // This process's own checkpoint writes may still be in flight: wait, so a revision it allocated
    // after the horizon is found rather than mistaken for "nothing allocated since".
    await Promise.allSettled([...this.checkpointWrites]);
    const firstBucket = Math.ceil(horizon / this.checkpointBucketMs);
    const out = await this.table.query(op, {
      KeyConditionExpression: '#pk = :pk AND #sk BETWEEN :lo AND :hi',
      ExpressionAttributeNames: { '#pk': PARTITION_KEY, '#sk': SORT_KEY },
      ExpressionAttributeValues: {
        ':pk': { S: META_PK },
        ':lo': { S: checkpointSortKey(firstBucket) },
        ':hi': { S: CHECKPOINT_SK_PREFIX + '~' },
      },
      Limit: 1,
    });
    const checkpoint = out.Items?.[0];
    // No revision was allocated since the horizon: all of history may be gone but the latest state.
    const value = checkpoint ? Number(checkpoint.n.N) - 1 : await this.counter(op);
    this.ttlCompacted = { value, at: now };
    return value;
  }

  private checkpoint(rev: number): void {
    const bucket = Math.floor(Date.now() / this.checkpointBucketMs);
    if (bucket <= this.lastCheckpointBucket) return;
    this.lastCheckpointBucket = bucket;
    const expiresAt = Math.ceil(((bucket + 1) * this.checkpointBucketMs + this.opts.retentionMs + this.opts.ttlSlackMs) / 1000);
    // Keeps the lowest revision any writer allocated in the bucket.
    const write = this.track(
      this.table.updateItem('checkpoint', {
        Key: metaKey(checkpointSortKey(bucket)),
        UpdateExpression: 'SET #n = :rev, #x = :x',
        ConditionExpression: 'attribute_not_exists(#n) OR #n > :rev',
        ExpressionAttributeNames: { '#n': 'n', '#x': TTL_ATTRIBUTE },
        ExpressionAttributeValues: { ':rev': num(rev), ':x': num(expiresAt) },
      }),
    );
    this.checkpointWrites.add(write);
    void write.finally(() => this.checkpointWrites.delete(write));
  }

  private persistResolved(): void {
    const value = this.resolved;
    if (value <= this.persistedResolved) return;
    this.lastPersistAt = Date.now();
    this.persistedResolved = value;
    this.track(
      this.table.updateItem('resolve', {
        Key: metaKey(RESOLVED_SK),
        UpdateExpression: 'SET #n = :rev',
        ConditionExpression: 'attribute_not_exists(#n) OR #n < :rev',
        ExpressionAttributeNames: { '#n': 'n' },
        ExpressionAttributeValues: { ':rev': num(value) },
      }),
    );
  }

  private track(p: Promise<unknown>): Promise<unknown> {
    const tracked = p.catch((err) => {
      if (!(err instanceof StoreError)) process.emitWarning(`dynamodb store background write failed: ${String(err)}`);
    });
    this.background.add(tracked);
    void tracked.finally(() => this.background.delete(tracked));
    return tracked;
  }

  /** Waits for background writes (checkpoints, the resolved marker). */
  async close(): Promise<void> {
    this.persistResolved();
    await Promise.all([...this.background]);
  }
}

function metaKey(sk: string): Item {
  return { [PARTITION_KEY]: { S: META_PK }, [SORT_KEY]: { S: sk } };
}

function checkpointSortKey(bucket: number): string {
  return CHECKPOINT_SK_PREFIX + String(bucket).padStart(14, '0');
}

function numberOf(item: Item | undefined, attribute: string): number {
  const n = item?.[attribute]?.N;
  return n === undefined ? 0 : Number(n);
}
