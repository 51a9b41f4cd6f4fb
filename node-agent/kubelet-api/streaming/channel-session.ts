// The remote command WebSocket protocols kubectl 1.30+ speaks (v5.channel.k8s.io, and
// v4.channel.k8s.io for other clients), relayed to the runtime's exec/attach session over SPDY.
// Every binary message starts with a channel byte: 0 stdin, 1 stdout, 2 stderr, 3 error (a
// metav1.Status when the command ends), 4 resize (JSON {"Width","Height"}). v5 adds 255: the client
// closed the channel named by the next byte, which is how stdin reaches end-of-file (kubectl cp,
// `exec -i` with piped input); SPDY carries that as a half-close of the stdin stream.
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Logger } from '../../../shared/apiserver/logger.js';
import { SpdyClientSession, type SpdyStream } from './spdy-client.js';
import type { CommandRequest } from './request.js';
import { dialSpdy } from './upstream.js';
import type { WebSocket } from 'ws';
import { acceptWebSocket } from './websocket.js';

export const CHANNEL_PROTOCOL_V5 = 'v5.channel.k8s.io';
export const CHANNEL_PROTOCOL_V4 = 'v4.channel.k8s.io';
export const CHANNEL_PROTOCOLS = [CHANNEL_PROTOCOL_V5, CHANNEL_PROTOCOL_V4];

const STDIN = 0;
const STDOUT = 1;
const STDERR = 2;
const ERROR = 3;
const RESIZE = 4;
const CLOSE = 255;

// What kubelet's SPDY server calls each stream (the "streamType" header).
const STREAM_TYPES: Record<number, string> = { [ERROR]: 'error', [STDIN]: 'stdin', [STDOUT]: 'stdout', [STDERR]: 'stderr', [RESIZE]: 'resize' };

/** The WebSocket subprotocol we serve for this client, or undefined if it offers none of ours. */
export function chooseChannelProtocol(offered: string[]): string | undefined {
  return CHANNEL_PROTOCOLS.find((p) => offered.includes(p));
}

/**
 * Connect to the runtime first (so a failure can still refuse the upgrade), then accept the
 * WebSocket and relay channels until the runtime ends the session.
 */
export async function serveChannelSession(
  req: IncomingMessage,
  socket: Duplex,
  head: Buffer,
  opts: { runtimeUrl: string; protocol: string; request: CommandRequest; log: Logger },
): Promise<void> {
  const { request, protocol, log } = opts;
  const upstream = await dialSpdy(opts.runtimeUrl, [CHANNEL_PROTOCOL_V4]);
  const session = new SpdyClientSession(upstream.socket, upstream.head);
  const streams = new Map<number, SpdyStream>();
  try {
    const wanted = [ERROR, ...(request.stdin ? [STDIN] : []), ...(request.stdout ? [STDOUT] : []), ...(request.stderr ? [STDERR] : []), ...(request.tty ? [RESIZE] : [])];
    for (const channel of wanted) streams.set(channel, await session.openStream({ streamtype: STREAM_TYPES[channel] }));
  } catch (err) {
    session.close();
    throw err;
  }

  // Output may arrive while the handshake completes: hold it until the WebSocket is open.
  let ws: WebSocket | undefined;
  const held: Buffer[] = [];
  const send = (channel: number, data: Buffer) => {
    const message = Buffer.concat([Buffer.of(channel), data]);
    if (!ws) held.push(message);
    else if (ws.readyState === ws.OPEN) ws.send(message);
  };
  for (const channel of [STDOUT, STDERR, ERROR]) streams.get(channel)?.on('data', (d: Buffer) => send(channel, d));
  // The runtime closes the connection once the command has ended and its status was sent.
  let runtimeDone = false;
  const finish = () => {
    if (ws && ws.readyState === ws.OPEN) ws.close(1000);
  };
  session.on('close', () => {
    runtimeDone = true;
    finish();
  });

  ws = await acceptWebSocket(req, socket, head, protocol).catch((err: unknown) => {
    session.close();
    throw err;
  });
  for (const message of held.splice(0)) ws.send(message);
  if (runtimeDone) finish();

  const stdin = streams.get(STDIN);
  const resize = streams.get(RESIZE);
  const client = ws;
  session.on('drain', () => client.isPaused && client.resume());
  client.on('message', (data: Buffer, isBinary: boolean) => {
    if (!isBinary || data.length === 0) return;
    const payload = data.subarray(1);
    switch (data[0]) {
      case STDIN:
        if (stdin && !stdin.write(payload)) client.pause();
        break;
      case RESIZE:
        resize?.write(payload);
        break;
      case CLOSE:
        if (protocol === CHANNEL_PROTOCOL_V5 && payload[0] === STDIN) stdin?.end();
        break;
    }
  });
  client.on('close', () => session.close());
  client.on('error', (err) => log.debug({ err }, 'exec websocket error'));
}
