// Answers on a raw socket, for requests that arrive through node:http's 'upgrade' event (no Hono,
// no ServerResponse): a Status as JSON with a matching HTTP status line, then the connection closes.
import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Status } from '../../shared/apiserver/errors.js';

export function writeRawStatus(socket: Duplex, status: Status): void {
  const body = Buffer.from(JSON.stringify(status));
  const head = [`HTTP/1.1 ${status.code} ${STATUS_CODES[status.code] ?? 'Error'}`, 'Content-Type: application/json', `Content-Length: ${body.length}`, 'Connection: close', '', ''].join('\r\n');
  if (socket.destroyed || !socket.writable) return void socket.destroy();
  socket.end(Buffer.concat([Buffer.from(head), body]));
}
