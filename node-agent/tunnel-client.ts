// The node agent's side of its tunnel to the API server: it dials out (the agent never listens),
// authenticates with the node's bearer token, and serves every stream the API server opens by
// handing it to `onStream` (the kubelet API's http.Server, via emit('connection')). The link is
// pinged to notice when it died silently, and re-dialled with exponential back-off whenever it
// drops or cannot be established.
import type { Duplex } from 'node:stream';
import { WebSocket } from 'ws';
import type { Logger } from '../shared/apiserver/logger.js';
import { sessionOverWebSocket, type TunnelSession } from '../shared/tunnel/session.js';
import { tunnelUrl } from '../shared/tunnel/endpoint.js';

export interface TunnelClientOptions {
  /** The API server: https://host:port (or host:port). */
  server: string;
  token: string;
  caCert: string;
  nodeName: string;
  onStream: (stream: Duplex) => void;
  log: Logger;
  /** Ping period; a link that misses a pong for two periods is dropped and re-dialled (default 15 s). */
  pingIntervalMs?: number;
  /** First re-dial delay (default 500 ms); doubles per failure up to maxBackoffMs (default 30 s). */
  initialBackoffMs?: number;
  maxBackoffMs?: number;
}

export interface TunnelClient {
  /** Whether the tunnel is up now. */
  readonly connected: boolean;
  /** Stop re-dialling and close the tunnel. */
  close(): Promise<void>;
}

export function connectTunnel(opts: TunnelClientOptions): TunnelClient {
  const url = tunnelUrl(opts.server, opts.nodeName);
  const log = opts.log.child({ component: 'tunnel', node: opts.nodeName });
  const pingMs = opts.pingIntervalMs ?? 15_000;
  const initialBackoff = opts.initialBackoffMs ?? 500;
  const maxBackoff = opts.maxBackoffMs ?? 30_000;
  let stopped = false;
  let ws: WebSocket | undefined;
  let session: TunnelSession | undefined;
  let connected = false;
  let failures = 0;
  let retryTimer: NodeJS.Timeout | undefined;
  let closedOnce: (() => void) | undefined;

  const scheduleRetry = (reason: string) => {
    if (stopped) return;
    const base = Math.min(maxBackoff, initialBackoff * 2 ** failures);
    const delayMs = Math.round(base * (0.8 + Math.random() * 0.4));
    failures++;
    log.warn({ server: url, attempt: failures, retryInMs: delayMs, reason }, 'node tunnel down; re-dialling');
    retryTimer = setTimeout(dial, delayMs);
  };

  function dial(): void {
    retryTimer = undefined;
    if (stopped) return;
    let failure = '';
    const socket = new WebSocket(url, {
      headers: { Authorization: `Bearer ${opts.token}` },
      ca: opts.caCert,
      handshakeTimeout: 10_000,
      maxPayload: 1024 * 1024,
      perMessageDeflate: false,
    });
    ws = socket;
    socket.on('unexpected-response', (_req, res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        let message = Buffer.concat(chunks).toString('utf8');
        try {
          message = (JSON.parse(message) as { message?: string }).message ?? message;
        } catch {
          // not a Status: keep the text
        }
        failure = `the API server answered ${res.statusCode}: ${message.slice(0, 300)}`;
        socket.terminate();
      });
    });
    socket.on('error', (err) => {
      failure ||= err.message;
    });
    socket.on('open', () => {
      connected = true;
      failures = 0;
      log.info({ server: url }, 'node tunnel connected');
      session = sessionOverWebSocket(socket, { dialer: true, onStream: (s) => opts.onStream(s) });
    });
    let awaitingPong = false;
    const pinger = setInterval(() => {
      if (socket.readyState !== WebSocket.OPEN) return;
      if (awaitingPong) {
        failure = `no pong within ${pingMs} ms`;
        socket.terminate();
        return;
      }
      awaitingPong = true;
      socket.ping();
    }, pingMs);
    pinger.unref();
    socket.on('pong', () => (awaitingPong = false));
    socket.on('close', (code, reason) => {
      clearInterval(pinger);
      const wasConnected = connected;
      connected = false;
      session = undefined;
      if (ws === socket) ws = undefined;
      if (stopped) return closedOnce?.();
      scheduleRetry(failure || (wasConnected ? `connection closed (${code}${reason.length ? ` ${reason.toString()}` : ''})` : `could not connect (${code})`));
    });
  }

  dial();
  return {
    get connected() {
      return connected;
    },
    async close() {
      stopped = true;
      if (retryTimer) clearTimeout(retryTimer);
      const socket = ws;
      if (!socket || socket.readyState === WebSocket.CLOSED) return;
      const closed = new Promise<void>((r) => (closedOnce = r));
      session?.close('node agent stopping', 1001);
      if (socket.readyState === WebSocket.CONNECTING) socket.terminate();
      else socket.close(1001, 'node agent stopping');
      setTimeout(() => socket.terminate(), 2_000).unref();
      await closed;
    },
  };
}
