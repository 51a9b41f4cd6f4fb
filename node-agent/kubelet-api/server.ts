// The node agent's kubelet HTTP API, as the API server reaches it through the agent's tunnel:
// /healthz, /containerLogs, /stats/summary, /pods, and the streaming upgrades (/exec, /attach,
// /portForward) handed to the streaming module. The server never listens: the tunnel emits each
// stream as a 'connection'.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Logger } from '../../shared/apiserver/logger.js';
import type { CriClient } from '../cri/client.js';
import { currentSandbox, findLogTarget, LogRequestError, openLogFile, parseLogOptions, streamLogs, type KubeletPod } from './logs.js';
import { SummaryCollector } from './stats.js';
import { handleAttach, handleExec, handlePortForward, type StreamingContext } from './streaming/index.js';

export type { KubeletPod } from './logs.js';

/** The pods the agent runs, as the API has them. */
export interface KubeletPodSource {
  get(namespace: string, name: string): Promise<KubeletPod | undefined> | KubeletPod | undefined;
  list(): Promise<KubeletPod[]> | KubeletPod[];
}

export interface KubeletApiDeps {
  cri: CriClient;
  /** Where pod log directories are (<logRoot>/<ns>_<pod>_<uid>/<container>/<restart>.log). */
  logRoot: string;
  log: Logger;
  nodeName: string;
  /**
   * When given, log requests follow the pods' statuses (kubelet's exact choice of instance and
   * error texts), /pods lists them and /stats/summary reports only them; otherwise all of this is
   * derived from what the runtime holds.
   */
  pods?: KubeletPodSource;
  /** While following logs, how often the container's state is re-checked without file changes (default 1 s, kubelet's). */
  followRecheckMs?: number;
}

type Route = { kind: 'exec' | 'attach'; namespace: string; pod: string; container: string } | { kind: 'portForward'; namespace: string; pod: string };

/** /exec|attach/{ns}/{pod}[/{uid}]/{container} and /portForward/{ns}/{pod}[/{uid}], as kubelet routes them. */
function streamingRoute(path: string): Route | undefined {
  const parts = decodeParts(path.split('/').slice(1));
  if (!parts) return undefined;
  const [kind, ...rest] = parts;
  if ((kind === 'exec' || kind === 'attach') && (rest.length === 3 || rest.length === 4) && rest.every(Boolean)) {
    return { kind, namespace: rest[0], pod: rest[1], container: rest[rest.length - 1] };
  }
  if (kind === 'portForward' && (rest.length === 2 || rest.length === 3) && rest.every(Boolean)) return { kind, namespace: rest[0], pod: rest[1] };
  return undefined;
}

export function createKubeletApi(deps: KubeletApiDeps): Server {
  const { cri, log } = deps;
  const stats = new SummaryCollector({
    cri,
    nodeName: deps.nodeName,
    logRoot: deps.logRoot,
    podUids: deps.pods ? async () => new Set((await deps.pods!.list()).map((p) => p.metadata.uid)) : undefined,
  });
  const streaming: StreamingContext = { cri, log };

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      log.warn({ err: String(err), url: req.url }, 'kubelet API request failed');
      if (!res.headersSent) plain(res, 500, err instanceof Error ? err.message : String(err));
      else res.destroy();
    });
  });

  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const route = streamingRoute(new URL(req.url ?? '/', 'http://kubelet').pathname);
    if (!route) {
      rawResponse(socket, 404, 'text/plain; charset=utf-8', '404 page not found\n');
      return;
    }
    const handler = route.kind === 'exec' ? handleExec : route.kind === 'attach' ? handleAttach : handlePortForward;
    try {
      handler(req, socket, head, streaming);
    } catch (err) {
      log.warn({ err: String(err), url: req.url }, 'streaming upgrade failed');
      if (socket.writable) rawResponse(socket, 500, 'application/json', JSON.stringify(status(500, 'InternalError', err instanceof Error ? err.message : String(err))));
      else socket.destroy();
    }
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://kubelet');
    const path = url.pathname;
    const method = req.method ?? 'GET';

    if (streamingRoute(path)) {
      // Streaming endpoints only work as upgrades (SPDY or WebSocket).
      if (method !== 'GET' && method !== 'POST') return plain(res, 405, '405: Method Not Allowed');
      return plain(res, 400, 'Upgrade request required');
    }
    if (path === '/healthz') {
      if (method !== 'GET' && method !== 'HEAD') return plain(res, 405, '405: Method Not Allowed');
      return plain(res, 200, 'ok');
    }
    if (path === '/stats/summary' || path === '/stats/summary/') {
      if (method !== 'GET') return plain(res, 405, '405: Method Not Allowed');
      const onlyCpuAndMemory = url.searchParams.get('only_cpu_and_memory') === 'true';
      return json(res, 200, await stats.summary(onlyCpuAndMemory));
    }
    if (path === '/pods' || path === '/pods/') {
      if (method !== 'GET') return plain(res, 405, '405: Method Not Allowed');
      return json(res, 200, { kind: 'PodList', apiVersion: 'v1', metadata: {}, items: await runningPods() });
    }
    const logs = /^\/containerLogs\/([^/]*)\/([^/]*)\/([^/]*)\/?$/.exec(path);
    if (logs) {
      if (method !== 'GET') return plain(res, 405, '405: Method Not Allowed');
      const parts = decodeParts(logs.slice(1));
      if (!parts) return plain(res, 404, '404 page not found\n');
      const [namespace, pod, container] = parts;
      return containerLogs(req, res, namespace, pod, container, url.searchParams);
    }
    return plain(res, 404, '404 page not found\n');
  }

  async function containerLogs(req: IncomingMessage, res: ServerResponse, namespace: string, podName: string, container: string, query: URLSearchParams): Promise<void> {
    // kubelet's own JSON-looking plain-text messages for missing path parts.
    if (!podName) return plain(res, 400, `{"message": "Missing podID."}`);
    if (!container) return plain(res, 400, `{"message": "Missing container name."}`);
    if (!namespace) return plain(res, 400, `{"message": "Missing podNamespace."}`);
    const abort = new AbortController();
    res.on('close', () => abort.abort());
    try {
      const opts = parseLogOptions(query);
      const pod = deps.pods ? await deps.pods.get(namespace, podName) : undefined;
      if (deps.pods) {
        const q = JSON.stringify;
        if (!pod) throw new LogRequestError(404, `pod ${q(podName)} does not exist`);
        const names = [...(pod.spec?.containers ?? []), ...(pod.spec?.initContainers ?? []), ...(pod.spec?.ephemeralContainers ?? [])].map((c) => c.name);
        if (!names.includes(container)) throw new LogRequestError(404, `container ${q(container)} not found in pod ${q(podName)}`);
      }
      const target = await findLogTarget(cri, namespace, podName, container, opts.previous, pod);
      const file = await openLogFile(target.path);
      try {
        res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8', 'Transfer-Encoding': 'chunked' });
        res.flushHeaders();
        await streamLogs(file, target.path, opts, res, {
          signal: abort.signal,
          recheckMs: deps.followRecheckMs,
          isRunning: async () => {
            try {
              return (await cri.containerStatus(target.containerId)).status.state === 'CONTAINER_RUNNING';
            } catch {
              return false;
            }
          },
        });
      } finally {
        await file.close();
      }
      if (!res.destroyed) res.end();
    } catch (e) {
      if (e instanceof LogRequestError && !res.headersSent) return plain(res, e.status, e.message);
      throw e;
    }
  }

  async function runningPods(): Promise<unknown[]> {
    if (deps.pods) return deps.pods.list();
    const sandboxes = await cri.listPodSandbox({ state: { state: 'SANDBOX_READY' } });
    const seen = new Map<string, unknown>();
    for (const s of sandboxes) {
      const current = await currentSandbox(cri, s.metadata.namespace, s.metadata.name);
      if (current?.id !== s.id) continue;
      const containers = await cri.listContainers({ pod_sandbox_id: s.id });
      const names = [...new Set(containers.map((c) => c.metadata.name))].sort();
      seen.set(s.metadata.uid, {
        metadata: { name: s.metadata.name, namespace: s.metadata.namespace, uid: s.metadata.uid, creationTimestamp: null },
        spec: { containers: names.map((name) => ({ name, resources: {} })) },
        status: {},
      });
    }
    return [...seen.values()];
  }

  return server;
}

/** Percent-decoded path segments; undefined when one is malformed. */
function decodeParts(parts: string[]): string[] | undefined {
  try {
    return parts.map(decodeURIComponent);
  } catch {
    return undefined;
  }
}

function plain(res: ServerResponse, code: number, body: string): void {
  res.writeHead(code, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}

function json(res: ServerResponse, code: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(code, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

function status(code: number, reason: string, message: string): Record<string, unknown> {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code };
}

const REASON_PHRASES: Record<number, string> = { 404: 'Not Found', 500: 'Internal Server Error', 501: 'Not Implemented' };

/** A whole HTTP/1.1 response on a socket that left the HTTP parser (an upgrade we do not take). */
function rawResponse(socket: Duplex, code: number, contentType: string, body: string): void {
  socket.end(`HTTP/1.1 ${code} ${REASON_PHRASES[code] ?? ''}\r\nContent-Type: ${contentType}\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
}
