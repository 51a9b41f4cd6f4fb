// The API server in-process for integration tests: the Hono app over a real SQLite store in a
// temp dir, an admin bearer token, and requests straight into app.request (no sockets).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { builtinRegistry, type Registry } from '../../shared/api/registry.js';
import { openSqliteStore } from '../../shared/store/sqlite.js';
import type { Store } from '../../shared/store/contract.js';
import { createLogger } from '../../shared/apiserver/logger.js';
import { createApiServer, type ApiServer } from '../../functions/apiserver/app.js';
import { staticTokenAuthenticator } from '../../functions/apiserver/auth.js';

export interface ApiResult {
  status: number;
  json: any;
  text: string;
  headers: Headers;
}

export interface RequestOptions {
  body?: unknown;
  /** Bearer token; default the admin's, null for none. */
  token?: string | null;
  headers?: Record<string, string>;
}

export interface InProcessApi {
  dir: string;
  store: Store;
  registry: Registry;
  server: ApiServer;
  request(method: string, path: string, opts?: RequestOptions): Promise<ApiResult>;
  close(): Promise<void>;
}

export async function startInProcessApi(opts: { name: string; adminToken: string; adminGroups?: string[] }): Promise<InProcessApi> {
  const dir = mkdtempSync(join(tmpdir(), `stratus-${opts.name}-`));
  const store = openSqliteStore({ path: join(dir, 'db'), historyRetention: false });
  const registry = builtinRegistry();
  const server = createApiServer({
    store,
    registry,
    log: createLogger('silent'),
    serverAddress: '127.0.0.1:0',
    authenticator: staticTokenAuthenticator({ [opts.adminToken]: { username: 'admin', uid: 'a', groups: opts.adminGroups ?? ['system:masters'] } }),
  });
  await server.namespaces.start();
  return {
    dir,
    store,
    registry,
    server,
    async request(method, path, r = {}) {
      const headers: Record<string, string> = { ...r.headers };
      const token = r.token === undefined ? opts.adminToken : r.token;
      if (token !== null) headers.Authorization = `Bearer ${token}`;
      const init: RequestInit = { method, headers };
      if (r.body !== undefined) {
        init.body = typeof r.body === 'string' ? r.body : JSON.stringify(r.body);
        headers['Content-Type'] ??= 'application/json';
      }
      const res = await server.app.request(path, init);
      const text = await res.text();
      let json: any;
      try {
        json = JSON.parse(text);
      } catch {
        json = undefined;
      }
      return { status: res.status, json, text, headers: res.headers };
    },
    async close() {
      server.namespaces.stop();
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
