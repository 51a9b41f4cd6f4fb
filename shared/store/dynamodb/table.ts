// The store's DynamoDB table, as data: the one definition of its key schema, stream and TTL that
// both ensureTable() (tests, the local runner) and the CDK stack (infra/) build the table from.
// Item layout (see docs/STORE-DYNAMODB.md): every item lives under a partition key `pk` and a
// string sort key `sk`: the revision counter and markers under "meta", current state under "kv"
// (sk = object key), the change log under "log" (sk = zero-padded revision), and the pieces of
// large values under "chunk#<revision>".
import {
  CreateTableCommand,
  DescribeTableCommand,
  DescribeTimeToLiveCommand,
  UpdateTimeToLiveCommand,
  type AttributeDefinition,
  type DynamoDBClient,
  type KeySchemaElement,
  type StreamViewType,
} from '@aws-sdk/client-dynamodb';

export const PARTITION_KEY = 'pk';
export const SORT_KEY = 'sk';

export const TABLE_KEY_SCHEMA: KeySchemaElement[] = [
  { AttributeName: PARTITION_KEY, KeyType: 'HASH' },
  { AttributeName: SORT_KEY, KeyType: 'RANGE' },
];

export const TABLE_ATTRIBUTE_DEFINITIONS: AttributeDefinition[] = [
  { AttributeName: PARTITION_KEY, AttributeType: 'S' },
  { AttributeName: SORT_KEY, AttributeType: 'S' },
];

/** The Streams dispatcher needs both images (parseStreamRecord reads the new one). */
export const TABLE_STREAM_VIEW_TYPE: StreamViewType = 'NEW_AND_OLD_IMAGES';

/** Epoch seconds after which DynamoDB may delete the item (superseded history, fillers). */
export const TTL_ATTRIBUTE = 'expiresAt';

/** On-demand: an idle tenant pays for storage only. */
export const TABLE_BILLING_MODE = 'PAY_PER_REQUEST' as const;

/** Partition keys of the item families. */
export const META_PK = 'meta';
export const KV_PK = 'kv';
export const LOG_PK = 'log';
export const CHUNK_PK_PREFIX = 'chunk#';

/** Sort keys inside the meta partition. */
export const COUNTER_SK = 'rev';
export const RESOLVED_SK = 'resolved';
export const COMPACTED_SK = 'compacted';
export const CHECKPOINT_SK_PREFIX = 'ckpt#';

const REV_DIGITS = 16;

/** A revision as a sort key: zero-padded so string order is numeric order. */
export function revSortKey(rev: number): string {
  return String(rev).padStart(REV_DIGITS, '0');
}

export function revOfSortKey(sk: string): number {
  return Number(sk);
}

export function chunkPartitionKey(rev: number): string {
  return CHUNK_PK_PREFIX + revSortKey(rev);
}

export function chunkSortKey(index: number): string {
  return String(index).padStart(4, '0');
}

/**
 * Creates the table (on-demand, stream with both images, TTL on TTL_ATTRIBUTE) unless it exists,
 * waits until it is ACTIVE and makes sure TTL is enabled. Safe to call concurrently.
 */
export async function ensureTable(client: DynamoDBClient, tableName: string, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  if (!(await tableStatus(client, tableName))) {
    try {
      await client.send(
        new CreateTableCommand({
          TableName: tableName,
          KeySchema: TABLE_KEY_SCHEMA,
          AttributeDefinitions: TABLE_ATTRIBUTE_DEFINITIONS,
          BillingMode: TABLE_BILLING_MODE,
          StreamSpecification: { StreamEnabled: true, StreamViewType: TABLE_STREAM_VIEW_TYPE },
        }),
      );
    } catch (err) {
      if ((err as Error).name !== 'ResourceInUseException') throw err;
    }
  }
  while ((await tableStatus(client, tableName)) !== 'ACTIVE') {
    if (Date.now() > deadline) throw new Error(`table ${tableName} did not become ACTIVE within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  const ttl = await client.send(new DescribeTimeToLiveCommand({ TableName: tableName }));
  const status = ttl.TimeToLiveDescription?.TimeToLiveStatus;
  if (status === 'ENABLED' || status === 'ENABLING') {
    const current = ttl.TimeToLiveDescription?.AttributeName;
    if (current !== TTL_ATTRIBUTE) throw new Error(`table ${tableName} has TTL on ${current}, the store needs ${TTL_ATTRIBUTE}`);
    return;
  }
  await client.send(
    new UpdateTimeToLiveCommand({
      TableName: tableName,
      TimeToLiveSpecification: { Enabled: true, AttributeName: TTL_ATTRIBUTE },
    }),
  );
}

async function tableStatus(client: DynamoDBClient, tableName: string): Promise<string | undefined> {
  try {
    const out = await client.send(new DescribeTableCommand({ TableName: tableName }));
    return out.Table?.TableStatus ?? 'UNKNOWN';
  } catch (err) {
    if ((err as Error).name === 'ResourceNotFoundException') return undefined;
    throw err;
  }
}
