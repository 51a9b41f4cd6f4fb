// Bearer-token authentication. Requests without a valid token get 401 Unauthorized, as
// kube-apiserver answers them when anonymous access is off.
import { timingSafeEqual, createHash } from 'node:crypto';
import type { MiddlewareHandler } from 'hono';
import { errors } from '../../shared/apiserver/errors.js';
import { statusResponse } from './app.js';

export interface UserInfo {
  username: string;
  uid: string;
  groups: string[];
}

export interface Authenticator {
  /** The user a bearer token belongs to, or undefined. */
  authenticateToken(token: string): UserInfo | undefined;
}

const digest = (s: string) => createHash('sha256').update(s).digest();

/** A fixed set of tokens (the admin token written to the kubeconfig). */
export function staticTokenAuthenticator(tokens: Record<string, UserInfo>): Authenticator {
  const entries = Object.entries(tokens).map(([token, user]) => ({ hash: digest(token), user }));
  return {
    authenticateToken(token) {
      const h = digest(token);
      return entries.find((e) => timingSafeEqual(e.hash, h))?.user;
    },
  };
}

export function authenticate(authenticator: Authenticator): MiddlewareHandler {
  return async (c, next) => {
    const header = c.req.header('authorization') ?? '';
    const match = /^Bearer\s+(\S+)$/i.exec(header);
    const user = match ? authenticator.authenticateToken(match[1]) : undefined;
    if (!user) return statusResponse(c, errors.unauthorized().status);
    c.set('user' as never, user as never);
    await next();
  };
}
