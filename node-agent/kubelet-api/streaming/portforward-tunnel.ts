// kubectl 1.31+ port-forward: SPDY tunnelled through a WebSocket whose subprotocol is
// "SPDY/3.1+portforward.k8s.io". Binary messages carry the SPDY connection's bytes with no
// meaning attached to message boundaries, so the tunnel is unwrapped into a plain SPDY upgrade to
// the runtime's port-forward server, which speaks portforward.k8s.io to kubectl directly.
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Logger } from '../../../shared/apiserver/logger.js';
import { dialSpdy } from './upstream.js';
import { acceptWebSocket } from './websocket.js';

export const TUNNEL_PREFIX = 'SPDY/3.1+';
export const PORT_FORWARD_PROTOCOL = 'portforward.k8s.io';
export const TUNNELED_PORT_FORWARD_PROTOCOL = TUNNEL_PREFIX + PORT_FORWARD_PROTOCOL;

const HIGH_WATER = 1024 * 1024;

export async function serveTunneledPortForward(req: IncomingMessage, socket: Duplex, head: Buffer, opts: { runtimeUrl: string; log: Logger }): Promise<void> {
  const upstream = await dialSpdy(opts.runtimeUrl, [PORT_FORWARD_PROTOCOL]);
  const runtime = upstream.socket;
  runtime.pause(); // keep the runtime's bytes until the WebSocket can take them
  const ws = await acceptWebSocket(req, socket, head, TUNNELED_PORT_FORWARD_PROTOCOL).catch((err: unknown) => {
    runtime.destroy();
    throw err;
  });
  const forward = (d: Buffer) => {
    if (ws.readyState !== ws.OPEN) return;
    ws.send(d);
    if (ws.bufferedAmount > HIGH_WATER) {
      runtime.pause();
      const wait = setInterval(() => {
        if (ws.readyState !== ws.OPEN || ws.bufferedAmount <= HIGH_WATER / 2) {
          clearInterval(wait);
          runtime.resume();
        }
      }, 10);
    }
  };
  if (upstream.head.length) forward(upstream.head);
  runtime.on('data', forward);
  runtime.resume();
  runtime.on('drain', () => ws.isPaused && ws.resume());
  ws.on('message', (data: Buffer) => {
    if (!runtime.write(data)) ws.pause();
  });
  const finish = () => {
    runtime.destroy();
    if (ws.readyState === ws.OPEN) ws.close(1000);
  };
  ws.on('close', finish);
  ws.on('error', (err) => opts.log.debug({ err }, 'port-forward websocket error'));
  runtime.on('close', finish);
  runtime.on('error', finish);
  if (runtime.destroyed) finish();
}
