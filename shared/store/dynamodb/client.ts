// Every DynamoDB call of the store goes through here: it asks for ReturnConsumedCapacity TOTAL and
// adds the units to the store operation that made the call, and it retries throttling and
// transaction conflicts with jittered exponential backoff, so neither ever reaches a caller as a
// failed (let alone lost) write. Conditional-check failures are returned as data, not thrown.
import {
  BatchGetItemCommand,
  BatchWriteItemCommand,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  TransactWriteItemsCommand,
  UpdateItemCommand,
  type AttributeValue,
  type CancellationReason,
  type ConsumedCapacity,
  type DynamoDBClient,
  type QueryCommandInput,
  type QueryCommandOutput,
  type TransactWriteItem,
  type UpdateItemCommandInput,
} from '@aws-sdk/client-dynamodb';
import { randomUUID } from 'node:crypto';
import { StoreError } from '../contract.js';

export type Item = Record<string, AttributeValue>;

export interface OperationCapacity {
  /** Store operations of this kind (get, list, create, ...). */
  calls: number;
  /** DynamoDB requests they made, retries included. */
  requests: number;
  /** Read and write capacity units DynamoDB reported as consumed. */
  rcu: number;
  wcu: number;
}

export type CapacityReport = Record<string, OperationCapacity>;

export class CapacityMeter {
  private readonly ops = new Map<string, OperationCapacity>();

  /** Counts one store operation. */
  begin(op: string): void {
    this.entry(op).calls++;
  }

  record(op: string, kind: 'read' | 'write', consumed: ConsumedCapacity | ConsumedCapacity[] | undefined): void {
    const entry = this.entry(op);
    entry.requests++;
    for (const c of consumed === undefined ? [] : Array.isArray(consumed) ? consumed : [consumed]) {
      // TOTAL reports CapacityUnits; the read/write split is given for some calls only.
      if (c.ReadCapacityUnits !== undefined || c.WriteCapacityUnits !== undefined) {
        entry.rcu += c.ReadCapacityUnits ?? 0;
        entry.wcu += c.WriteCapacityUnits ?? 0;
      } else if (kind === 'read') entry.rcu += c.CapacityUnits ?? 0;
      else entry.wcu += c.CapacityUnits ?? 0;
    }
  }

  report(): CapacityReport {
    const out: CapacityReport = {};
    for (const [op, c] of [...this.ops].sort(([a], [b]) => a.localeCompare(b))) out[op] = { ...c };
    return out;
  }

  reset(): void {
    this.ops.clear();
  }

  private entry(op: string): OperationCapacity {
    let entry = this.ops.get(op);
    if (!entry) this.ops.set(op, (entry = { calls: 0, requests: 0, rcu: 0, wcu: 0 }));
    return entry;
  }
}

export interface RetryPolicy {
  /** First backoff ceiling; each retry doubles it (full jitter: the wait is uniform below it). */
  baseDelayMs: number;
  maxDelayMs: number;
  /** Give up with StoreError('Unavailable') once retrying took this long. */
  budgetMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { baseDelayMs: 10, maxDelayMs: 1000, budgetMs: 60_000 };

/** Errors after which the same request may simply be sent again (transactions carry a token). */
const THROTTLE_ERRORS = new Set([
  'ProvisionedThroughputExceededException',
  'ThrottlingException',
  'RequestLimitExceeded',
  'TransactionConflictException',
  'TransactionInProgressException',
  'InternalServerError',
  'ServiceUnavailable',
  'TimeoutError',
  'RequestTimeout',
]);

const NETWORK_CODES = new Set(['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT', 'EAI_AGAIN', 'ENOTFOUND', 'ECONNABORTED']);

/** Cancellation reasons that say "not now" rather than "no": the same transaction may succeed later. */
const TRANSIENT_REASONS = new Set(['None', 'TransactionConflict', 'ThrottlingError', 'ProvisionedThroughputExceeded']);

export function errorName(err: unknown): string {
  return (err as { name?: string } | null)?.name ?? '';
}

function cancellationReasons(err: unknown): CancellationReason[] | undefined {
  if (errorName(err) !== 'TransactionCanceledException') return undefined;
  return (err as { CancellationReasons?: CancellationReason[] }).CancellationReasons ?? [];
}

function isTransient(err: unknown): boolean {
  if (THROTTLE_ERRORS.has(errorName(err))) return true;
  const code = (err as { code?: string } | null)?.code;
  if (code && NETWORK_CODES.has(code)) return true;
  const status = (err as { $metadata?: { httpStatusCode?: number } } | null)?.$metadata?.httpStatusCode;
  if (status !== undefined && status >= 500) return true;
  const reasons = cancellationReasons(err);
  return !!reasons && reasons.length > 0 && reasons.every((r) => TRANSIENT_REASONS.has(r.Code ?? 'None')) && reasons.some((r) => r.Code !== 'None');
}

export type TransactOutcome = { ok: true } | { ok: false; reasons: CancellationReason[] };

export class TableClient {
  constructor(
    readonly client: DynamoDBClient,
    readonly tableName: string,
    readonly meter: CapacityMeter,
    readonly retry: RetryPolicy = DEFAULT_RETRY,
  ) {}

  async getItem(op: string, key: Item, projection?: string[]): Promise<Item | undefined> {
    const out = await this.call(op, 'read', () =>
      this.client.send(
        new GetItemCommand({
          TableName: this.tableName,
          Key: key,
          ConsistentRead: true,
          ReturnConsumedCapacity: 'TOTAL',
          ...projectionOf(projection),
        }),
      ),
    );
    return out.Item;
  }

  /** A conditional put; false when the condition failed. */
  async putItem(op: string, item: Item, condition?: string, names?: Record<string, string>): Promise<boolean> {
    try {
      await this.call(op, 'write', () =>
        this.client.send(
          new PutItemCommand({
            TableName: this.tableName,
            Item: item,
            ConditionExpression: condition,
            ExpressionAttributeNames: names,
            ReturnConsumedCapacity: 'TOTAL',
          }),
        ),
      );
      return true;
    } catch (err) {
      if (errorName(err) === 'ConditionalCheckFailedException') return false;
      throw err;
    }
  }

  /** An update returning the updated attributes; undefined when its condition failed. */
  async updateItem(op: string, input: Omit<UpdateItemCommandInput, 'TableName'>): Promise<Item | undefined> {
    try {
      const out = await this.call(op, 'write', () =>
        this.client.send(new UpdateItemCommand({ ...input, TableName: this.tableName, ReturnConsumedCapacity: 'TOTAL' })),
      );
      return out.Attributes ?? {};
    } catch (err) {
      if (errorName(err) === 'ConditionalCheckFailedException') return undefined;
      throw err;
    }
  }

  async query(op: string, input: Omit<QueryCommandInput, 'TableName'>): Promise<QueryCommandOutput> {
    return this.call(op, 'read', () =>
      this.client.send(new QueryCommand({ ...input, TableName: this.tableName, ConsistentRead: true, ReturnConsumedCapacity: 'TOTAL' })),
    );
  }

  /** Strongly consistent reads of many items (any number; 100 per request, unprocessed keys retried). */
  async batchGet(op: string, keys: Item[], projection?: string[]): Promise<Item[]> {
    const found: Item[] = [];
    const batches: Item[][] = [];
    for (let i = 0; i < keys.length; i += 100) batches.push(keys.slice(i, i + 100));
    await mapLimit(batches, 4, async (batch) => {
      let pending: Item[] = batch;
      const started = Date.now();
      for (let attempt = 0; pending.length > 0; attempt++) {
        const out = await this.call(op, 'read', () =>
          this.client.send(
            new BatchGetItemCommand({
              RequestItems: { [this.tableName]: { Keys: pending, ConsistentRead: true, ...projectionOf(projection) } },
              ReturnConsumedCapacity: 'TOTAL',
            }),
          ),
        );
        found.push(...(out.Responses?.[this.tableName] ?? []));
        pending = out.UnprocessedKeys?.[this.tableName]?.Keys ?? [];
        if (pending.length > 0) await this.backoff(attempt, started, 'BatchGetItem left keys unprocessed');
      }
    });
    return found;
  }

  /** Deletes many items (25 per request, unprocessed items retried). */
  async batchDelete(op: string, keys: Item[]): Promise<void> {
    for (let i = 0; i < keys.length; i += 25) {
      let pending = keys.slice(i, i + 25).map((Key) => ({ DeleteRequest: { Key } }));
      const started = Date.now();
      for (let attempt = 0; pending.length > 0; attempt++) {
        const out = await this.call(op, 'write', () =>
          this.client.send(new BatchWriteItemCommand({ RequestItems: { [this.tableName]: pending }, ReturnConsumedCapacity: 'TOTAL' })),
        );
        pending = (out.UnprocessedItems?.[this.tableName] ?? []) as typeof pending;
        if (pending.length > 0) await this.backoff(attempt, started, 'BatchWriteItem left items unprocessed');
      }
    }
  }

  /**
   * One transaction. Transient cancellations are retried; a definite one returns its reasons.
   * Resending after a lost answer reuses the idempotency token, so a transaction that did commit
   * is not applied twice; after a cancellation (nothing applied) a new token is used.
   */
  async transactWrite(op: string, items: TransactWriteItem[]): Promise<TransactOutcome> {
    let token = randomUUID();
    try {
      await this.call(
        op,
        'write',
        () =>
          this.client.send(
            new TransactWriteItemsCommand({ TransactItems: items, ClientRequestToken: token, ReturnConsumedCapacity: 'TOTAL' }),
          ),
        (err) => {
          if (cancellationReasons(err)) token = randomUUID();
        },
      );
      return { ok: true };
    } catch (err) {
      const reasons = cancellationReasons(err);
      if (reasons) return { ok: false, reasons };
      throw err;
    }
  }

  /** Sends with retries on throttling and transient transaction cancellations. */
  private async call<T extends { ConsumedCapacity?: ConsumedCapacity | ConsumedCapacity[] }>(
    op: string,
    kind: 'read' | 'write',
    send: () => Promise<T>,
    beforeRetry?: (err: unknown) => void,
  ): Promise<T> {
    const started = Date.now();
    for (let attempt = 0; ; attempt++) {
      try {
        const out = await send();
        this.meter.record(op, kind, out.ConsumedCapacity);
        return out;
      } catch (err) {
        this.meter.record(op, kind, undefined);
        if (!isTransient(err)) throw err;
        await this.backoff(attempt, started, `${errorName(err)}: ${(err as Error).message}`);
        beforeRetry?.(err);
      }
    }
  }

  private async backoff(attempt: number, started: number, why: string): Promise<void> {
    const ceiling = Math.min(this.retry.maxDelayMs, this.retry.baseDelayMs * 2 ** Math.min(attempt, 20));
    const delay = Math.random() * ceiling;
    if (Date.now() + delay - started > this.retry.budgetMs) {
      throw new StoreError('Unavailable', `DynamoDB kept refusing for ${Date.now() - started} ms (${why})`);
    }
    await new Promise((resolve) => setTimeout(resolve, delay));
  }
}

function projectionOf(attributes: string[] | undefined): { ProjectionExpression?: string; ExpressionAttributeNames?: Record<string, string> } {
  if (!attributes) return {};
  const names: Record<string, string> = {};
  attributes.forEach((a, i) => (names[`#p${i}`] = a));
  return { ProjectionExpression: Object.keys(names).join(', '), ExpressionAttributeNames: names };
}

/** Runs fn over items with at most `limit` in flight. */
export async function mapLimit<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const run = async () => {
    while (next < items.length) await fn(items[next++]);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, run));
}
