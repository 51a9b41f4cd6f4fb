// Refusing an upgrade the way kubelet does: a plain HTTP error response carrying a metav1.Status,
// which kubectl shows as "error: unable to upgrade connection: <message>".
import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';

const REASONS: Record<number, string> = { 400: 'BadRequest', 404: 'NotFound', 500: 'InternalError', 502: 'InternalError', 503: 'ServiceUnavailable' };

export function statusBody(code: number, message: string): string {
  return JSON.stringify({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason: REASONS[code] ?? '', code });
}

export function refuseUpgrade(socket: Duplex, code: number, message: string): void {
  if (socket.destroyed) return;
  const body = statusBody(code, message);
  socket.end(
    `HTTP/1.1 ${code} ${STATUS_CODES[code] ?? 'Error'}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}
