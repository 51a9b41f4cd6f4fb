// Opens the configured store backend. Callers depend on the contract, never on a backend module.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Store } from './contract.js';
import { openSqliteStore, type SqliteStoreOptions } from './sqlite.js';
import type { DynamoConfig } from './dynamodb/index.js';

export * from './contract.js';

/** File name of the embedded database inside the data directory. */
export const SQLITE_FILE_NAME = 'stratus.db';

export interface SqliteStoreConfig extends Omit<SqliteStoreOptions, 'path'> {
  backend: 'sqlite';
  /** Directory holding the database file (created if missing). */
  dataDir: string;
}

export interface DynamoStoreConfig extends DynamoConfig {
  backend: 'dynamodb';
}

export type StoreConfig = SqliteStoreConfig | DynamoStoreConfig;

export async function openStore(opts: StoreConfig): Promise<Store> {
  switch (opts.backend) {
    case 'sqlite': {
      const { backend: _backend, dataDir, ...tuning } = opts;
      mkdirSync(dataDir, { recursive: true });
      return openSqliteStore({ ...tuning, path: join(dataDir, SQLITE_FILE_NAME) });
    }
    case 'dynamodb': {
      const { backend: _backend, ...config } = opts;
      // Loaded on demand: the embedded store does not pay for the AWS SDK.
      const { openDynamoStore } = await import('./dynamodb/index.js');
      return openDynamoStore(config);
    }
    default: {
      const unknown: never = opts;
      throw new Error(`unknown store backend ${String((unknown as { backend?: unknown }).backend)}`);
    }
  }
}
