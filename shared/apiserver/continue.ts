// Opaque continue tokens for paginated lists: the snapshot revision of the first page plus the
// last key returned, so later pages read the same snapshot (etcd semantics).
import { errors } from './errors.js';

interface Token {
  v: 'meta.k8s.io/v1';
  rv: number;
  start: string;
}

export function continueToken(rev: number, lastKey: string): string {
  const token: Token = { v: 'meta.k8s.io/v1', rv: rev, start: lastKey };
  return Buffer.from(JSON.stringify(token)).toString('base64url');
}

export function parseContinueToken(value: string, prefix: string): { rev: number; startAfter: string } {
  let token: Partial<Token>;
  try {
    token = JSON.parse(Buffer.from(value, 'base64url').toString('utf8')) as Partial<Token>;
  } catch {
    throw errors.badRequest('continue key is not valid: illegal base64 data at input byte 0');
  }
  if (token.v !== 'meta.k8s.io/v1' || typeof token.rv !== 'number' || typeof token.start !== 'string') {
    throw errors.badRequest('continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)');
  }
  if (!token.start.startsWith(prefix)) throw errors.badRequest('continue key is not valid: key does not belong to this collection');
  return { rev: token.rv, startAfter: token.start };
}
