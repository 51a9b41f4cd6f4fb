// The dispatcher's reads of the table: values by revision (for images a stream record does not
// carry) and an ObjectReader for watch mappings. Both are opened on first use, so a dispatcher
// whose changes only wake primaries never touches the table.
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { KubeObject } from '../../shared/api/kind.js';
import { StoreReader, type ListFilter, type ObjectReader } from '../../shared/controllers/runtime/reader.js';
import type { Resource } from '../../shared/controllers/runtime/types.js';
import { CapacityMeter, DEFAULT_RETRY, TableClient } from '../../shared/store/dynamodb/client.js';
import type { DynamoConfig } from '../../shared/store/dynamodb/index.js';
import { ValueReader } from '../../shared/store/dynamodb/values.js';
import { openStore, type Store } from '../../shared/store/index.js';
import type { RevisionValues } from './change-objects.js';

export interface DispatcherStoreAccess {
  reader: ObjectReader;
  values: RevisionValues;
  close(): Promise<void>;
}

/** Values cached per execution environment: a value written at a revision never changes. */
const VALUE_CACHE_BYTES = 16 * 1024 * 1024;

export function openDispatcherStoreAccess(config: DynamoConfig): DispatcherStoreAccess {
  let client: DynamoDBClient | undefined;
  let valueReader: ValueReader | undefined;
  const values: RevisionValues = {
    atRevs(revs) {
      if (!valueReader) {
        client = new DynamoDBClient({
          region: config.client?.region ?? process.env.AWS_REGION ?? 'us-east-1',
          ...(config.client?.endpoint ? { endpoint: config.client.endpoint } : {}),
          ...(config.client?.credentials ? { credentials: config.client.credentials } : {}),
          // TableClient retries throttling itself.
          maxAttempts: 1,
        });
        const retry = { ...DEFAULT_RETRY, ...(config.retryBudgetMs !== undefined ? { budgetMs: config.retryBudgetMs } : {}) };
        valueReader = new ValueReader(new TableClient(client, config.tableName, new CapacityMeter(), retry), VALUE_CACHE_BYTES);
      }
      return valueReader.atRevs('dispatch', revs);
    },
  };

  let store: Promise<Store> | undefined;
  const openOnce = (): Promise<Store> => {
    store ??= openStore({ backend: 'dynamodb', ...config }).catch((err: unknown) => {
      store = undefined;
      throw err;
    });
    return store;
  };
  const reader = new LazyReader(async () => new StoreReader(await openOnce()));

  return {
    reader,
    values,
    async close() {
      client?.destroy();
      const s = store;
      store = undefined;
      if (s) await (await s.catch(() => undefined))?.close();
    },
  };
}

/** An ObjectReader that builds the real one on its first read. */
export class LazyReader implements ObjectReader {
  private inner?: Promise<ObjectReader>;

  constructor(private readonly build: () => Promise<ObjectReader>) {}

  async get(resource: Resource, namespace: string | undefined, name: string): Promise<KubeObject | undefined> {
    return (await this.reader()).get(resource, namespace, name);
  }

  async list(resource: Resource, filter?: ListFilter): Promise<KubeObject[]> {
    return (await this.reader()).list(resource, filter);
  }

  private reader(): Promise<ObjectReader> {
    this.inner ??= this.build().catch((err: unknown) => {
      this.inner = undefined;
      throw err;
    });
    return this.inner;
  }
}
