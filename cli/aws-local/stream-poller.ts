// The DynamoDB Streams half of a Lambda event source mapping, against DynamoDB Local: find the
// stream's shards (parents before children), read each with GetRecords, invoke the function with
// Lambda-shaped batches, and move the shard's checkpoint only past records the function handled.
// Settings as the stack uses them: ReportBatchItemFailures on, bisect-on-error off, retries until
// the function succeeds (Lambda's default for streams). With a checkpoint file, a restart
// resumes where the last run stopped instead of replaying the stream.
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import type { DynamoDBBatchResponse, DynamoDBStreamEvent } from 'aws-lambda';
import {
  DescribeStreamCommand,
  DynamoDBStreamsClient,
  GetRecordsCommand,
  GetShardIteratorCommand,
  type _Record as StreamsRecord,
  type Shard,
  type ShardIteratorType,
} from '@aws-sdk/client-dynamodb-streams';
import type { Logger } from '../../shared/apiserver/logger.js';
import { toLambdaStreamRecord } from './stream-event.js';

export interface StreamPollerOptions {
  client: DynamoDBStreamsClient;
  streamArn: string;
  region: string;
  invoke: (event: DynamoDBStreamEvent) => Promise<DynamoDBBatchResponse | void>;
  log: Logger;
  /** Records per invocation (Lambda's default for streams is 100). */
  batchSize?: number;
  /** Pause between reads of a shard with nothing new (Lambda polls about 4 times a second). */
  pollIntervalMs?: number;
  /** How often the shard list is refreshed. */
  discoverIntervalMs?: number;
  /** Where shard checkpoints are kept between runs. */
  checkpointFile?: string;
  /** Retries of a failing batch before its records are skipped (default: until it succeeds). */
  maxRetries?: number;
}

interface ShardState {
  /** Last sequence number handled. */
  seq?: string;
  /** All records handled and the shard closed. */
  done?: boolean;
}

export interface StreamPoller {
  /** Resolves when every open shard has been read up to its current end once. */
  caughtUp(): Promise<void>;
  stop(): Promise<void>;
}

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    if (signal.aborted) return resolve();
    const wake = () => {
      clearTimeout(t);
      signal.removeEventListener('abort', wake);
      resolve();
    };
    const t = setTimeout(wake, ms);
    signal.addEventListener('abort', wake, { once: true });
  });

const errorName = (e: unknown) => (e as { name?: string })?.name ?? '';

export function startStreamPoller(opts: StreamPollerOptions): StreamPoller {
  const batchSize = opts.batchSize ?? 100;
  const pollMs = opts.pollIntervalMs ?? 250;
  const discoverMs = opts.discoverIntervalMs ?? 1000;
  const maxRetries = opts.maxRetries ?? Infinity;
  const stopping = new AbortController();
  const signal = stopping.signal;

  const shards = new Map<string, ShardState>(loadCheckpoints());
  const running = new Map<string, Promise<void>>();
  const caughtUpShards = new Set<string>();
  let known: Shard[] = [];
  let firstDiscovery: Promise<void> | undefined;

  function loadCheckpoints(): [string, ShardState][] {
    if (!opts.checkpointFile || !existsSync(opts.checkpointFile)) return [];
    try {
      const saved = JSON.parse(readFileSync(opts.checkpointFile, 'utf8')) as { streamArn?: string; shards?: Record<string, ShardState> };
      // A recreated table has a new stream: old checkpoints mean nothing for it.
      return saved.streamArn === opts.streamArn ? Object.entries(saved.shards ?? {}) : [];
    } catch {
      return [];
    }
  }

  function saveCheckpoints(): void {
    if (!opts.checkpointFile) return;
    const live = new Set(known.map((s) => s.ShardId));
    // Forget shards that left the stream (trimmed after 24 h); keep everything else.
    const kept = Object.fromEntries([...shards].filter(([id]) => live.size === 0 || live.has(id)));
    const tmp = `${opts.checkpointFile}.tmp`;
    writeFileSync(tmp, JSON.stringify({ streamArn: opts.streamArn, shards: kept }));
    renameSync(tmp, opts.checkpointFile);
  }

  async function describe(): Promise<Shard[]> {
    const all: Shard[] = [];
    let start: string | undefined;
    do {
      const out = await opts.client.send(new DescribeStreamCommand({ StreamArn: opts.streamArn, ExclusiveStartShardId: start }), { abortSignal: signal });
      all.push(...(out.StreamDescription?.Shards ?? []));
      start = out.StreamDescription?.LastEvaluatedShardId;
    } while (start);
    return all;
  }

  async function iterator(shardId: string, state: ShardState): Promise<string | undefined> {
    const type: ShardIteratorType = state.seq ? 'AFTER_SEQUENCE_NUMBER' : 'TRIM_HORIZON';
    const out = await opts.client.send(new GetShardIteratorCommand({ StreamArn: opts.streamArn, ShardId: shardId, ShardIteratorType: type, SequenceNumber: state.seq }), { abortSignal: signal });
    return out.ShardIterator;
  }

  /** Invoke the function until every record of the batch is handled (or retries run out). */
  async function deliver(shardId: string, state: ShardState, records: StreamsRecord[]): Promise<void> {
    let pending = records;
    for (let attempt = 0; pending.length && !signal.aborted; attempt++) {
      let failedAt = 0;
      try {
        const res = await opts.invoke({ Records: pending.map((r) => toLambdaStreamRecord(r, opts.streamArn, opts.region)) });
        const failures = res?.batchItemFailures ?? [];
        if (!failures.length) failedAt = pending.length;
        else {
          const index = new Map(pending.map((r, i) => [r.dynamodb?.SequenceNumber, i]));
          // An identifier that is not in the batch makes Lambda treat the whole batch as failed.
          const positions = failures.map((f) => (f.itemIdentifier ? index.get(f.itemIdentifier) : undefined));
          failedAt = positions.some((p) => p === undefined) ? 0 : Math.min(...(positions as number[]));
        }
      } catch (err) {
        opts.log.warn({ shardId, err: err instanceof Error ? err.message : String(err), records: pending.length }, 'stream batch failed');
      }
      if (failedAt > 0) {
        state.seq = pending[failedAt - 1].dynamodb!.SequenceNumber;
        saveCheckpoints();
      }
      pending = pending.slice(failedAt);
      if (!pending.length) return;
      if (attempt >= maxRetries) {
        opts.log.error({ shardId, skipped: pending.length, from: pending[0].dynamodb?.SequenceNumber }, 'stream records skipped after retries');
        state.seq = pending[pending.length - 1].dynamodb!.SequenceNumber;
        saveCheckpoints();
        return;
      }
      await sleep(Math.min(10_000, 100 * 2 ** attempt), signal);
    }
  }

  async function readShard(shardId: string): Promise<void> {
    const state = shards.get(shardId) ?? {};
    shards.set(shardId, state);
    let it: string | undefined;
    while (!signal.aborted) {
      try {
        it ??= await iterator(shardId, state);
        if (!it) break;
        const out = await opts.client.send(new GetRecordsCommand({ ShardIterator: it, Limit: batchSize }), { abortSignal: signal });
        const records = out.Records ?? [];
        if (records.length) await deliver(shardId, state, records);
        it = out.NextShardIterator;
        if (!it) {
          state.done = true;
          saveCheckpoints();
          break;
        }
        if (!records.length) {
          caughtUpShards.add(shardId);
          await sleep(pollMs, signal);
        }
      } catch (err) {
        if (signal.aborted) break;
        const name = errorName(err);
        if (name === 'TrimmedDataAccessException') state.seq = undefined; // history gone: read from the oldest kept
        else if (name !== 'ExpiredIteratorException') opts.log.warn({ shardId, err: err instanceof Error ? err.message : String(err) }, 'stream read failed');
        it = undefined;
        await sleep(pollMs, signal);
      }
    }
    caughtUpShards.add(shardId);
  }

  function schedule(): void {
    const listed = new Set(known.map((s) => s.ShardId!));
    for (const shard of known) {
      const id = shard.ShardId!;
      if (running.has(id) || shards.get(id)?.done) continue;
      // A child waits until its parent is fully read (or trimmed away), keeping per-item order.
      const parent = shard.ParentShardId;
      if (parent && listed.has(parent) && !shards.get(parent)?.done) continue;
      running.set(
        id,
        readShard(id).finally(() => {
          running.delete(id);
          if (!signal.aborted) schedule();
        }),
      );
    }
  }

  const discovery = (async () => {
    while (!signal.aborted) {
      try {
        known = await describe();
        schedule();
      } catch (err) {
        if (!signal.aborted) opts.log.warn({ err: err instanceof Error ? err.message : String(err) }, 'describe stream failed');
      }
      firstDiscovery ??= Promise.resolve();
      await sleep(discoverMs, signal);
    }
  })();

  return {
    async caughtUp() {
      while (!signal.aborted) {
        const open = known.filter((s) => !shards.get(s.ShardId!)?.done).map((s) => s.ShardId!);
        if (firstDiscovery && open.every((id) => caughtUpShards.has(id))) return;
        await sleep(50, signal);
      }
    },
    async stop() {
      stopping.abort();
      await discovery;
      await Promise.allSettled([...running.values()]);
    },
  };
}
