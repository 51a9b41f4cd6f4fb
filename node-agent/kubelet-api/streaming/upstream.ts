// Talking to the container runtime's streaming server (the URL that CRI Exec/Attach/PortForward
// return, on 127.0.0.1): relaying a client's upgrade request to it as is, or opening our own upgrade.
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { connect, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Logger } from '../../../shared/apiserver/logger.js';
import { refuseUpgrade } from './status.js';

// Headers that describe the hop to us rather than the request itself.
const HOP_HEADERS = new Set(['host', 'authorization', 'proxy-authorization', 'cookie', 'x-forwarded-for', 'x-forwarded-host', 'x-forwarded-proto']);

/** Splice two byte streams together until either side goes away. */
export function splice(a: Duplex, b: Duplex): void {
  a.pipe(b);
  b.pipe(a);
  const teardown = () => {
    a.destroy();
    b.destroy();
  };
  for (const s of [a, b]) {
    s.on('error', teardown);
    s.on('close', teardown);
  }
}

/**
 * Forward the client's upgrade request (method, upgrade headers, protocol offers) to `target`
 * and relay raw bytes both ways: the runtime answers the upgrade and speaks the protocol itself.
 * This is what kubelet does when it proxies streaming to the runtime.
 */
export function relayUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer, target: string, log: Logger): void {
  const url = new URL(target);
  const upstream: Socket = connect({ host: url.hostname, port: Number(url.port || 80) });
  const lines = [`${req.method ?? 'GET'} ${url.pathname}${url.search} HTTP/1.1`, `Host: ${url.host}`];
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    const name = req.rawHeaders[i];
    if (!HOP_HEADERS.has(name.toLowerCase())) lines.push(`${name}: ${req.rawHeaders[i + 1]}`);
  }
  let connected = false;
  upstream.once('connect', () => {
    connected = true;
    upstream.write(lines.join('\r\n') + '\r\n\r\n');
    if (head.length) upstream.write(head);
    splice(socket, upstream);
  });
  upstream.once('error', (err) => {
    if (connected) return;
    log.warn({ err, target: url.host }, 'cannot reach the runtime streaming server');
    refuseUpgrade(socket, 500, `error dialing the container runtime's streaming server: ${err.message}`);
  });
}

export interface UpgradedConnection {
  socket: Socket;
  head: Buffer;
  /** The protocol the server chose (X-Stream-Protocol-Version). */
  protocol: string;
}

/** Open our own SPDY/3.1 upgrade to `target`, offering `protocols` in order of preference. */
export function dialSpdy(target: string, protocols: string[]): Promise<UpgradedConnection> {
  return new Promise((resolve, reject) => {
    const url = new URL(target);
    const req = httpRequest({
      host: url.hostname,
      port: Number(url.port || 80),
      method: 'POST',
      path: url.pathname + url.search,
      headers: { Connection: 'Upgrade', Upgrade: 'SPDY/3.1', 'X-Stream-Protocol-Version': protocols },
    });
    req.on('upgrade', (res: IncomingMessage, socket: Socket, head: Buffer) => {
      const chosen = res.headers['x-stream-protocol-version'];
      resolve({ socket, head, protocol: Array.isArray(chosen) ? chosen[0] : (chosen ?? '') });
    });
    req.on('response', (res: IncomingMessage) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => reject(new Error(`the runtime refused the upgrade: ${res.statusCode} ${body.trim()}`)));
    });
    req.on('error', reject);
    req.end();
  });
}
