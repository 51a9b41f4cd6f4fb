// Kubelet's streaming endpoints (/exec, /attach, /portForward) served on an HTTP upgrade that the
// agent's HTTP server hands over (the API server tunnels kubectl's request here unchanged apart
// from the path). The container runtime's own streaming server does the container side:
// - SPDY/3.1 (kubectl ≤ 1.29, and the fallback of newer ones) and WebSocket protocols the
//   runtime knows (v1–v4, base64) are relayed to it byte for byte, as kubelet does;
// - WebSocket v5.channel.k8s.io/v4.channel.k8s.io exec/attach (kubectl 1.30+) is translated to
//   the runtime's SPDY (channel-session.ts), since containerd has no v5;
// - WebSocket-tunnelled SPDY port-forward (kubectl 1.31+) is unwrapped (portforward-tunnel.ts).
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Logger } from '../../../shared/apiserver/logger.js';
import { CriError, type CriClient } from '../../cri/client.js';
import { chooseChannelProtocol, serveChannelSession } from './channel-session.js';
import { serveTunneledPortForward, TUNNELED_PORT_FORWARD_PROTOCOL } from './portforward-tunnel.js';
import { BadStreamingRequest, parseCommandRequest, parsePortForwardRequest } from './request.js';
import { refuseUpgrade } from './status.js';
import { findRunningContainer, findSandbox, TargetNotFound } from './target.js';
import { relayUpgrade } from './upstream.js';
import { isWebSocketUpgrade, offeredProtocols } from './websocket.js';

export interface StreamingContext {
  cri: CriClient;
  log: Logger;
}

export type UpgradeHandler = (req: IncomingMessage, socket: Duplex, head: Buffer, ctx: StreamingContext) => void;

function refuseFor(err: unknown, socket: Duplex, ctx: StreamingContext, what: string): void {
  const message = err instanceof Error ? err.message : String(err);
  if (err instanceof BadStreamingRequest) return refuseUpgrade(socket, 400, message);
  if (err instanceof TargetNotFound || (err instanceof CriError && err.notFound)) return refuseUpgrade(socket, 404, message);
  ctx.log.warn({ err }, `${what} failed`);
  refuseUpgrade(socket, 500, message);
}

function serveCommand(verb: 'exec' | 'attach', req: IncomingMessage, socket: Duplex, head: Buffer, ctx: StreamingContext): void {
  socket.on('error', () => socket.destroy());
  void (async () => {
    const request = parseCommandRequest(req.url ?? '/', verb);
    const container = await findRunningContainer(ctx.cri, request);
    const streams = { container_id: container.id, tty: request.tty, stdin: request.stdin, stdout: request.stdout, stderr: request.stderr };
    const runtimeUrl = verb === 'exec' ? await ctx.cri.exec({ ...streams, cmd: request.command }) : await ctx.cri.attach(streams);
    ctx.log.debug({ namespace: request.namespace, pod: request.pod, container: request.container, verb }, 'streaming session');
    const protocol = isWebSocketUpgrade(req) ? chooseChannelProtocol(offeredProtocols(req)) : undefined;
    if (protocol) await serveChannelSession(req, socket, head, { runtimeUrl, protocol, request, log: ctx.log });
    else relayUpgrade(req, socket, head, runtimeUrl, ctx.log);
  })().catch((err: unknown) => refuseFor(err, socket, ctx, verb));
}

export const handleExec: UpgradeHandler = (req, socket, head, ctx) => serveCommand('exec', req, socket, head, ctx);

export const handleAttach: UpgradeHandler = (req, socket, head, ctx) => serveCommand('attach', req, socket, head, ctx);

export const handlePortForward: UpgradeHandler = (req, socket, head, ctx) => {
  socket.on('error', () => socket.destroy());
  void (async () => {
    const request = parsePortForwardRequest(req.url ?? '/');
    const sandbox = await findSandbox(ctx.cri, request);
    const runtimeUrl = await ctx.cri.portForward(sandbox.id, request.ports);
    const tunneled = isWebSocketUpgrade(req) && offeredProtocols(req).includes(TUNNELED_PORT_FORWARD_PROTOCOL);
    if (tunneled) await serveTunneledPortForward(req, socket, head, { runtimeUrl, log: ctx.log });
    else relayUpgrade(req, socket, head, runtimeUrl, ctx.log);
  })().catch((err: unknown) => refuseFor(err, socket, ctx, 'port-forward'));
};
