// A real etcd for the store benchmark: started on loopback with a temporary data dir and reached
// through etcd's v3 JSON gateway (grpc-gateway: POST /v3/kv/*, streaming /v3/watch; keys and
// values base64) with Node's http module, so no client package is needed.
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { Agent, request, type IncomingMessage } from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { prefixEnd } from '../shared/store/keys.js';

export const DEFAULT_ETCD_BIN = '/usr/bin/etcd';

export interface EtcdServer {
  url: string;
  version: string;
  stop(): Promise<void>;
}

export function etcdVersion(bin: string): string | undefined {
  if (!existsSync(bin)) return undefined;
  try {
    const out = execFileSync(bin, ['--version'], { encoding: 'utf8' });
    return /etcd Version: (\S+)/.exec(out)?.[1] ?? out.trim().split('\n')[0];
  } catch {
    return undefined;
  }
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

export async function startEtcd(bin = DEFAULT_ETCD_BIN): Promise<EtcdServer> {
  const version = etcdVersion(bin);
  if (!version) throw new Error(`etcd not found at ${bin} (apt-get install -y etcd-server)`);
  const dataDir = mkdtempSync(join(tmpdir(), 'stratus-bench-etcd-'));
  const [clientPort, peerPort] = [await freePort(), await freePort()];
  const url = `http://127.0.0.1:${clientPort}`;
  const peer = `http://127.0.0.1:${peerPort}`;
  const child: ChildProcess = spawn(
    bin,
    [
      '--name', 'bench',
      '--data-dir', dataDir,
      '--listen-client-urls', url,
      '--advertise-client-urls', url,
      '--listen-peer-urls', peer,
      '--initial-advertise-peer-urls', peer,
      '--initial-cluster', `bench=${peer}`,
      '--logger', 'zap',
      '--log-level', 'error',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async () => {
    if (child.exitCode === null) child.kill('SIGTERM');
    await exited;
    rmSync(dataDir, { recursive: true, force: true });
  };
  const deadline = Date.now() + 15_000;
  for (;;) {
    try {
      const res = await fetch(`${url}/health`);
      if (res.ok && ((await res.json()) as { health?: string }).health === 'true') break;
    } catch {
      // not listening yet
    }
    if (child.exitCode !== null || Date.now() > deadline) {
      await stop();
      throw new Error(`etcd did not become healthy: ${stderr.slice(-2000)}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return { url, version, stop };
}

const b64 = (s: string) => Buffer.from(s).toString('base64');
const unb64 = (s: string | undefined) => (s ? Buffer.from(s, 'base64').toString() : '');

interface EtcdKv {
  key?: string;
  value?: string;
  mod_revision?: string;
  create_revision?: string;
}

/** Minimal etcd v3 client over the JSON gateway with keep-alive connections. */
export class EtcdJsonClient {
  private readonly agent: Agent;

  constructor(
    private readonly url: string,
    maxSockets = 64,
  ) {
    this.agent = new Agent({ keepAlive: true, maxSockets });
  }

  private post<T>(path: string, body: unknown): Promise<T> {
    const payload = JSON.stringify(body);
    return new Promise((resolve, reject) => {
      const req = request(
        `${this.url}${path}`,
        {
          method: 'POST',
          agent: this.agent,
          headers: { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(payload) },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString();
            if (res.statusCode !== 200) reject(new Error(`etcd ${path}: ${res.statusCode} ${text}`));
            else resolve(JSON.parse(text) as T);
          });
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end(payload);
    });
  }

  /** Create-if-absent the way kube-apiserver does it: a txn comparing create_revision with 0. */
  async create(key: string, value: string): Promise<number> {
    const res = await this.post<{ header: { revision: string }; succeeded?: boolean }>('/v3/kv/txn', {
      compare: [{ key: b64(key), target: 'CREATE', result: 'EQUAL', create_revision: '0' }],
      success: [{ request_put: { key: b64(key), value: b64(value) } }],
    });
    if (!res.succeeded) throw new Error(`etcd create ${key}: already exists`);
    return Number(res.header.revision);
  }

  async get(key: string): Promise<{ value: string; rev: number } | undefined> {
    const res = await this.post<{ kvs?: EtcdKv[] }>('/v3/kv/range', { key: b64(key) });
    const kv = res.kvs?.[0];
    return kv && { value: unb64(kv.value), rev: Number(kv.mod_revision) };
  }

  async list(prefix: string): Promise<{ items: { key: string; value: string }[]; rev: number }> {
    const res = await this.post<{ header: { revision: string }; kvs?: EtcdKv[] }>('/v3/kv/range', {
      key: b64(prefix),
      range_end: b64(prefixEnd(prefix) ?? '\0'),
    });
    return {
      items: (res.kvs ?? []).map((kv) => ({ key: unb64(kv.key), value: unb64(kv.value) })),
      rev: Number(res.header.revision),
    };
  }

  /** Streams events under a prefix; resolves once etcd confirmed the watch was created. */
  watch(prefix: string, onEvent: (key: string, rev: number) => void): Promise<{ close(): void }> {
    const payload = JSON.stringify({ create_request: { key: b64(prefix), range_end: b64(prefixEnd(prefix) ?? '\0') } });
    return new Promise((resolve, reject) => {
      // A dedicated connection: the stream holds it for its whole life.
      const req = request(`${this.url}/v3/watch`, {
        method: 'POST',
        agent: false,
        headers: { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(payload) },
      });
      req.on('error', reject);
      req.on('response', (res: IncomingMessage) => {
        let buffer = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          buffer += chunk;
          let newline: number;
          while ((newline = buffer.indexOf('\n')) >= 0) {
            const line = buffer.slice(0, newline).trim();
            buffer = buffer.slice(newline + 1);
            if (!line) continue;
            const msg = JSON.parse(line) as {
              result?: { created?: boolean; events?: { kv?: EtcdKv }[] };
              error?: unknown;
            };
            if (msg.error) reject(new Error(`etcd watch: ${JSON.stringify(msg.error)}`));
            if (msg.result?.created) resolve({ close: () => req.destroy() });
            for (const e of msg.result?.events ?? []) onEvent(unb64(e.kv?.key), Number(e.kv?.mod_revision));
          }
        });
        res.on('error', () => undefined);
      });
      req.end(payload);
    });
  }

  close(): void {
    this.agent.destroy();
  }
}
