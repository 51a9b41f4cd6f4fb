// The WebSocket endpoint node agents keep open: GET /stratus/v1/nodetunnels/<node> with the node's
// bearer token. Only that node's credential (system:node:<node> in system:nodes) or an admin
// (system:masters) may register a tunnel for <node>. Once upgraded, the connection carries a
// TunnelSession whose streams this server opens towards the agent.
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { errors, type ApiError } from '../../shared/apiserver/errors.js';
import type { Logger } from '../../shared/apiserver/logger.js';
import { forbiddenError } from '../../shared/apiserver/authz-attributes.js';
import { NODE_USER_PREFIX, NODES_GROUP } from '../../shared/apiserver/node-credentials.js';
import { sessionOverWebSocket } from '../../shared/tunnel/session.js';
import { TUNNEL_PATH_PREFIX } from '../../shared/tunnel/endpoint.js';
import type { Authenticator, UserInfo } from './auth.js';
import type { NodeTunnels } from './tunnel-registry.js';
import { writeRawStatus } from './raw-response.js';


export interface TunnelEndpointOptions {
  authenticator: Authenticator;
  tunnels: NodeTunnels;
  log: Logger;
  /** How often the server pings each agent; a tunnel missing two pongs in a row is dropped (default 20 s). */
  pingIntervalMs?: number;
}

/** The user `header` authenticates as, or undefined. */
export async function bearerUser(authenticator: Authenticator, header: string | undefined): Promise<UserInfo | undefined> {
  const match = /^Bearer\s+(\S+)$/i.exec(header ?? '');
  return match ? await authenticator.authenticateToken(match[1]) : undefined;
}

/** Whether `user` may serve the tunnel of `nodeName`, or the 403 saying why not. */
export function tunnelPermission(user: UserInfo, nodeName: string): ApiError | undefined {
  if (user.groups.includes('system:masters')) return undefined;
  const isNode = user.username.startsWith(NODE_USER_PREFIX) && user.groups.includes(NODES_GROUP);
  if (isNode && user.username.slice(NODE_USER_PREFIX.length) === nodeName) return undefined;
  const reason = isNode ? `node "${user.username.slice(NODE_USER_PREFIX.length)}" cannot serve the tunnel of node "${nodeName}"` : `User "${user.username}" cannot serve node tunnels: only node credentials can`;
  return forbiddenError('', 'nodes', nodeName, reason);
}

/** Handles upgrade requests for TUNNEL_PATH_PREFIX; returns false for any other path. */
export function tunnelEndpoint(opts: TunnelEndpointOptions) {
  const wss = new WebSocketServer({ noServer: true, maxPayload: 1024 * 1024 });
  const pingIntervalMs = opts.pingIntervalMs ?? 20_000;

  const serve = (ws: WebSocket, nodeName: string, user: string) => {
    const log = opts.log.child({ node: nodeName });
    const session = sessionOverWebSocket(ws, { dialer: false });
    const unregister = opts.tunnels.register(nodeName, session);
    log.info({ user }, 'node tunnel connected');
    let missed = 0;
    const pinger = setInterval(() => {
      if (missed >= 2) {
        log.warn({ missedPongs: missed }, 'node tunnel not answering pings: dropping it');
        ws.terminate();
        return;
      }
      missed++;
      ws.ping();
    }, pingIntervalMs);
    pinger.unref();
    ws.on('pong', () => (missed = 0));
    ws.on('close', (code, reason) => {
      clearInterval(pinger);
      unregister();
      log.info({ code, reason: reason.toString() }, 'node tunnel disconnected');
    });
  };

  const handle = (req: IncomingMessage, socket: Duplex, head: Buffer): boolean => {
    const path = (req.url ?? '').split('?')[0];
    if (!path.startsWith(TUNNEL_PATH_PREFIX)) return false;
    void (async () => {
      let nodeName: string;
      try {
        nodeName = decodeURIComponent(path.slice(TUNNEL_PATH_PREFIX.length));
      } catch {
        nodeName = '';
      }
      if (!nodeName || nodeName.includes('/')) return writeRawStatus(socket, errors.badRequest('the tunnel path must name one node').status);
      const user = await bearerUser(opts.authenticator, req.headers.authorization);
      if (!user) return writeRawStatus(socket, errors.unauthorized().status);
      const denied = tunnelPermission(user, nodeName);
      if (denied) return writeRawStatus(socket, denied.status);
      if ((req.headers.upgrade ?? '').toLowerCase() !== 'websocket') return writeRawStatus(socket, errors.badRequest('the node tunnel needs a WebSocket upgrade').status);
      wss.handleUpgrade(req, socket, head, (ws) => serve(ws, nodeName, user.username));
    })().catch((err: unknown) => {
      opts.log.error({ err: err instanceof Error ? err.message : String(err) }, 'node tunnel upgrade failed');
      socket.destroy();
    });
    return true;
  };

  return { handle, close: () => wss.close() };
}
