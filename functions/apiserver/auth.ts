// Authentication and authorization. Bearer tokens are checked by a chain of authenticators (the
// static admin token, bootstrap tokens, node credentials, service account tokens); requests without a valid token get 401
// Unauthorized, as kube-apiserver answers them when anonymous access is off, except the one
// anonymous read kubeadm-style discovery needs (kube-public/cluster-info). The authorizer then
// allows or refuses (403) what the user asks for.
import { timingSafeEqual, createHash } from 'node:crypto';
import type { Context, MiddlewareHandler } from 'hono';
import type { Registry } from '../../shared/api/registry.js';
import { decodeKubernetesProtobuf } from '../../shared/api/protobuf/decode.js';
import { TokenRequest as TokenRequestSchema } from '../../shared/api/types/authentication.js';
import { errors } from '../../shared/apiserver/errors.js';
import { decodeTextBody, mediaType, OBJECT_MEDIA_TYPES } from '../../shared/apiserver/media.js';
import type { RestStorage } from '../../shared/apiserver/rest.js';
import { requestAttributes, type RequestAttributes } from '../../shared/apiserver/authz-attributes.js';
import { bootstrapTokenAuthenticator } from '../../shared/apiserver/bootstrap-tokens.js';
import { CLUSTER_INFO_PATH } from '../../shared/apiserver/cluster-info.js';
import { nodeCredentialAuthenticator } from '../../shared/apiserver/node-credentials.js';
import { serviceAccountTokenAuthenticator } from '../../shared/apiserver/service-account-authenticator.js';
import { ANONYMOUS_USER, type RequestAuthorizer } from './node-authorizer.js';
import { statusResponse } from './app.js';

export interface UserInfo {
  username: string;
  uid: string;
  groups: string[];
  /** Extra attributes (service account tokens carry the pod and node they are bound to). */
  extra?: Record<string, string[]>;
}

export interface Authenticator {
  /** The user a bearer token belongs to, or undefined. */
  authenticateToken(token: string): UserInfo | undefined | Promise<UserInfo | undefined>;
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

/** The first user any of `authenticators` recognises the token as. */
export function unionAuthenticator(...authenticators: Authenticator[]): Authenticator {
  return {
    async authenticateToken(token) {
      for (const a of authenticators) {
        const user = await a.authenticateToken(token);
        if (user) return user;
      }
      return undefined;
    },
  };
}

/**
 * `base` plus the tokens the cluster issues itself: bootstrap tokens and node credentials (Secrets
 * in kube-system) and service account tokens (JWTs signed with the cluster's key).
 */
export function withClusterTokens(base: Authenticator, rest: RestStorage, registry: Registry): Authenticator {
  return unionAuthenticator(base, bootstrapTokenAuthenticator(rest, registry), nodeCredentialAuthenticator(rest, registry), serviceAccountTokenAuthenticator(rest, registry));
}

const ANONYMOUS: UserInfo = { username: ANONYMOUS_USER, uid: '', groups: ['system:unauthenticated'] };

/** Requests that may come without credentials: reading the cluster-info ConfigMap. */
const anonymousAllowed = (c: Context) => c.req.method === 'GET' && c.req.path === CLUSTER_INFO_PATH && !c.req.query('watch');

export function authenticate(authenticator: Authenticator): MiddlewareHandler {
  return async (c, next) => {
    const header = c.req.header('authorization');
    let user: UserInfo | undefined;
    if (header === undefined && anonymousAllowed(c)) user = ANONYMOUS;
    else {
      const match = /^Bearer\s+(\S+)$/i.exec(header ?? '');
      user = match ? await authenticator.authenticateToken(match[1]) : undefined;
    }
    if (!user) return statusResponse(c, errors.unauthorized().status);
    c.set('user' as never, user as never);
    await next();
  };
}

/** The request's object, decoded as the resource handler will decode it (JSON, YAML or protobuf). */
async function requestObject(c: Context, registry: Registry, kind: string): Promise<unknown> {
  const type = mediaType(c.req.header('content-type'));
  // Read as bytes (Hono caches the body, so the handler can read it again in any form).
  const bytes = new Uint8Array(await c.req.arrayBuffer());
  if (type === 'application/vnd.kubernetes.protobuf') {
    try {
      // TokenRequest is no stored kind but a body the node rules read.
      const decoded = decodeKubernetesProtobuf(bytes, (av, k) => registry.kind(av, k)?.schema ?? (k === 'TokenRequest' && av === 'authentication.k8s.io/v1' ? TokenRequestSchema : undefined));
      return decoded.object;
    } catch (e) {
      throw errors.badRequest(e instanceof Error ? e.message : String(e));
    }
  }
  if (type !== '' && type !== 'application/json' && type !== 'application/yaml') throw errors.unsupportedMediaType(OBJECT_MEDIA_TYPES);
  return decodeTextBody(new TextDecoder().decode(bytes), type === 'application/yaml' ? 'yaml' : 'json', kind);
}

/** Asks `authorizer` about every request that reaches it (after authentication). */
export function authorize(authorizer: RequestAuthorizer, registry: Registry): MiddlewareHandler {
  return async (c, next) => {
    const user = c.get('user' as never) as UserInfo;
    let attrs: RequestAttributes | undefined;
    let body: Promise<unknown> | undefined;
    // Attributes are derived on first use: the admin's requests never need them.
    const attributes = () => (attrs ??= requestAttributes(c.req.method, c.req.path, new URL(c.req.url).searchParams));
    const kind = () => registry.resource(attributes().apiGroup, attributes().apiVersion, attributes().resource)?.kind ?? attributes().resource;
    await authorizer.authorize({
      user,
      get attrs() {
        return attributes();
      },
      body: () => (body ??= requestObject(c, registry, kind())),
    });
    await next();
  };
}
