// A small HTTPS client for the Kubernetes API, for the node agent and tools: JSON requests with a
// bearer token and the cluster CA over one keep-alive agent, and watches read as JSON lines.
// Outbound only, so it works from behind NAT. Errors carry the server's Status.
import { Agent, request } from 'node:https';
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';

export interface ClusterAccess {
  /** https://host:port */
  server: string;
  token: string;
  /** PEM of the cluster CA. */
  caCert: string;
}

export interface KubeStatus {
  kind?: string;
  code?: number;
  reason?: string;
  message?: string;
}

export class KubeApiError extends Error {
  constructor(
    readonly code: number,
    readonly status: KubeStatus | undefined,
    message: string,
  ) {
    super(message);
    this.name = 'KubeApiError';
  }
  get reason(): string | undefined {
    return this.status?.reason;
  }
}

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';

export interface WatchHandle {
  /** Resolves when the server ends the watch (timeout) or the connection drops. */
  done: Promise<void>;
  close(): void;
}

/** Server, token and CA from a kubeconfig (current context; token users with inline or file CA). */
export function accessFromKubeconfig(path: string): ClusterAccess {
  const cfg = parseYaml(readFileSync(path, 'utf8')) as {
    'current-context'?: string;
    contexts?: { name: string; context: { cluster: string; user: string } }[];
    clusters?: { name: string; cluster: { server: string; 'certificate-authority-data'?: string; 'certificate-authority'?: string } }[];
    users?: { name: string; user: { token?: string } }[];
  };
  const ctx = cfg.contexts?.find((c) => c.name === cfg['current-context']) ?? cfg.contexts?.[0];
  const cluster = cfg.clusters?.find((c) => c.name === ctx?.context.cluster)?.cluster;
  const user = cfg.users?.find((u) => u.name === ctx?.context.user)?.user;
  if (!cluster?.server) throw new Error(`${path}: no cluster server in the current context`);
  if (!user?.token) throw new Error(`${path}: the current user has no token (stratus agents authenticate with bearer tokens)`);
  const ca = cluster['certificate-authority-data']
    ? Buffer.from(cluster['certificate-authority-data'], 'base64').toString('utf8')
    : cluster['certificate-authority']
      ? readFileSync(cluster['certificate-authority'], 'utf8')
      : '';
  if (!ca) throw new Error(`${path}: the cluster has no certificate authority`);
  return { server: cluster.server.replace(/\/$/, ''), token: user.token, caCert: ca };
}

export class KubeClient {
  private readonly agent: Agent;
  private readonly url: URL;

  constructor(
    readonly access: ClusterAccess,
    opts: { maxSockets?: number; userAgent?: string } = {},
  ) {
    this.url = new URL(access.server);
    this.agent = new Agent({ keepAlive: true, maxSockets: opts.maxSockets ?? 32, ca: access.caCert });
    this.userAgent = opts.userAgent ?? 'stratus-node-agent';
  }

  private readonly userAgent: string;

  close(): void {
    this.agent.destroy();
  }

  get<T = Record<string, unknown>>(path: string): Promise<T> {
    return this.request<T>('GET', path);
  }

  create<T = Record<string, unknown>>(path: string, body: unknown): Promise<T> {
    return this.request<T>('POST', path, body);
  }

  update<T = Record<string, unknown>>(path: string, body: unknown): Promise<T> {
    return this.request<T>('PUT', path, body);
  }

  patch<T = Record<string, unknown>>(path: string, body: unknown, type: 'merge' | 'strategic' | 'json' = 'merge'): Promise<T> {
    const ct = { merge: 'application/merge-patch+json', strategic: 'application/strategic-merge-patch+json', json: 'application/json-patch+json' }[type];
    return this.request<T>('PATCH', path, body, ct);
  }

  delete<T = Record<string, unknown>>(path: string, body?: unknown): Promise<T> {
    return this.request<T>('DELETE', path, body);
  }

  request<T>(method: string, path: string, body?: unknown, contentType = 'application/json'): Promise<T> {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    return new Promise<T>((resolve, reject) => {
      const req = request(
        {
          host: this.url.hostname,
          port: this.url.port || 443,
          method,
          path,
          agent: this.agent,
          headers: {
            Authorization: `Bearer ${this.access.token}`,
            Accept: 'application/json',
            'User-Agent': this.userAgent,
            ...(payload !== undefined ? { 'Content-Type': contentType, 'Content-Length': Buffer.byteLength(payload) } : {}),
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            let parsed: unknown;
            try {
              parsed = text ? JSON.parse(text) : undefined;
            } catch {
              parsed = undefined;
            }
            const code = res.statusCode ?? 0;
            if (code >= 200 && code < 300) return resolve(parsed as T);
            const status = parsed as KubeStatus | undefined;
            reject(new KubeApiError(code, status, `${method} ${path}: ${code} ${status?.message ?? text.slice(0, 200)}`));
          });
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      if (payload !== undefined) req.write(payload);
      req.end();
    });
  }

  /**
   * Stream a watch (`path` without watch=true; it is added). Each event is handed to onEvent in
   * order. The handle's `done` resolves when the stream ends; an HTTP error rejects it.
   */
  watch(path: string, onEvent: (type: WatchEventType, obj: Record<string, unknown>) => void): WatchHandle {
    const sep = path.includes('?') ? '&' : '?';
    let req: ReturnType<typeof request> | undefined;
    let closed = false;
    const done = new Promise<void>((resolve, reject) => {
      req = request(
        {
          host: this.url.hostname,
          port: this.url.port || 443,
          method: 'GET',
          path: `${path}${sep}watch=true`,
          agent: this.agent,
          headers: { Authorization: `Bearer ${this.access.token}`, Accept: 'application/json', 'User-Agent': this.userAgent },
        },
        (res) => {
          const code = res.statusCode ?? 0;
          if (code !== 200) {
            let text = '';
            res.on('data', (c: Buffer) => (text += c.toString('utf8')));
            res.on('end', () => {
              let status: KubeStatus | undefined;
              try {
                status = JSON.parse(text) as KubeStatus;
              } catch {
                status = undefined;
              }
              reject(new KubeApiError(code, status, `watch ${path}: ${code} ${status?.message ?? text.slice(0, 200)}`));
            });
            return;
          }
          let buf = '';
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => {
            buf += chunk;
            let nl: number;
            while ((nl = buf.indexOf('\n')) >= 0) {
              const line = buf.slice(0, nl).trim();
              buf = buf.slice(nl + 1);
              if (!line) continue;
              try {
                const ev = JSON.parse(line) as { type: WatchEventType; object: Record<string, unknown> };
                onEvent(ev.type, ev.object);
              } catch {
                // A line that is not JSON cannot be an event: ignore it.
              }
            }
          });
          res.on('end', () => resolve());
          res.on('error', () => resolve());
          res.on('close', () => resolve());
        },
      );
      req.on('error', (err) => (closed ? resolve() : reject(err)));
      req.end();
    });
    return {
      done,
      close() {
        closed = true;
        req?.destroy();
      },
    };
  }
}

export const isKubeNotFound = (e: unknown): boolean => e instanceof KubeApiError && e.code === 404;
export const isKubeConflict = (e: unknown): boolean => e instanceof KubeApiError && e.code === 409;
