// The DynamoDB store backend: configuration as plain data (writer processes and Lambda handlers
// receive it as JSON) and the client built from it.
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { Agent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { DEFAULT_RETRY } from './client.js';
import { openDynamoStoreWith, type DynamoStore } from './store.js';

export type { DynamoStore } from './store.js';
export type { CapacityReport, OperationCapacity } from './client.js';
export { ensureTable } from './table.js';

export interface DynamoClientConfig {
  /** Override for DynamoDB Local; absent on AWS. */
  endpoint?: string;
  region?: string;
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
}

export interface DynamoConfig {
  tableName: string;
  client?: DynamoClientConfig;
  /** History kept after a value is superseded (TTL), so watches resume without a relist. Default 24. */
  historyRetentionHours?: number;
  /** How often watchers look for other processes' writes (ms). Default 100. */
  pollIntervalMs?: number;
  /** How often live watchers get a progress notification (ms). Default 1000. */
  progressIntervalMs?: number;
  /** How long a missing revision may stay missing before readers fill it (ms). Default 300. */
  gapWaitMs?: number;
  /** Give up on a throttled call after retrying this long (ms). Default 60000. */
  retryBudgetMs?: number;
}

export async function openDynamoStore(config: DynamoConfig): Promise<DynamoStore> {
  const client = new DynamoDBClient({
    region: config.client?.region ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? 'us-east-1',
    ...(config.client?.endpoint ? { endpoint: config.client.endpoint } : {}),
    ...(config.client?.credentials ? { credentials: config.client.credentials } : {}),
    // The store retries throttling itself (short jittered backoff, see client.ts); the SDK's own
    // retries would add their longer waits on top.
    maxAttempts: 1,
    // Concurrent writers each hold a connection; keep them open between calls.
    requestHandler: {
      connectionTimeout: 3000,
      requestTimeout: 10_000,
      httpAgent: new Agent({ keepAlive: true, maxSockets: 128 }),
      httpsAgent: new HttpsAgent({ keepAlive: true, maxSockets: 128 }),
    },
  });
  try {
    return await openDynamoStoreWith({
      client,
      tableName: config.tableName,
      retentionMs: (config.historyRetentionHours ?? 24) * 3600_000,
      pollIntervalMs: config.pollIntervalMs ?? 100,
      progressIntervalMs: config.progressIntervalMs ?? 1000,
      gapWaitMs: config.gapWaitMs ?? 300,
      retry: { ...DEFAULT_RETRY, ...(config.retryBudgetMs !== undefined ? { budgetMs: config.retryBudgetMs } : {}) },
      ownsClient: true,
    });
  } catch (err) {
    client.destroy();
    throw err;
  }
}
