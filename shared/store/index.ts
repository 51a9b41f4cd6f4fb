// Opens the configured store backend. Callers depend on the contract, never on a backend module.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Store } from './contract.js';
import { openSqliteStore, type SqliteStoreOptions } from './sqlite.js';

export * from './contract.js';

/** File name of the embedded database inside the data directory. */
export const SQLITE_FILE_NAME = 'stratus.db';

export interface SqliteStoreConfig extends Omit<SqliteStoreOptions, 'path'> {
  backend: 'sqlite';
  /** Directory holding the database file (created if missing). */
  dataDir: string;
}

export type StoreConfig = SqliteStoreConfig;

export async function openStore(opts: StoreConfig): Promise<Store> {
  switch (opts.backend) {
    case 'sqlite': {
      const { backend: _backend, dataDir, ...tuning } = opts;
      mkdirSync(dataDir, { recursive: true });
      return openSqliteStore({ ...tuning, path: join(dataDir, SQLITE_FILE_NAME) });
    }
    default: {
      const unknown: never = opts.backend;
      throw new Error(`unknown store backend ${String(unknown)}`);
    }
  }
}
