// Node credentials: the bearer token a joined node's agent uses, authenticating as
// system:node:<name> in group system:nodes. Kubernetes gives kubelets client certificates through
// CSRs; stratus agents speak bearer tokens, so the exchange issues a random token instead.
//
// Only a SHA-256 digest of the token is stored, in the Secret kube-system/node-credential-<id>
// (type stratus.dev/node-credential), where <id> is derived from the node name: reading Secrets
// (a backup, the store's table) never yields a usable credential, the store backends need nothing
// new, and an administrator revokes a node with `kubectl -n kube-system delete secret ...`. One
// credential per node name: issuing again replaces (and so revokes) the previous one.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { KubeObject } from '../api/kind.js';
import type { Registry } from '../api/registry.js';
import { ApiError } from './errors.js';
import type { RestStorage, WriteOptions } from './rest.js';
import { TOKEN_NAMESPACE, type TokenUser } from './bootstrap-tokens.js';

export const NODE_CREDENTIAL_SECRET_TYPE = 'stratus.dev/node-credential';
export const NODE_USER_PREFIX = 'system:node:';
export const NODES_GROUP = 'system:nodes';

const TOKEN_RE = /^([0-9a-f]{16})\.([A-Za-z0-9_-]{43})$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const WRITE: WriteOptions = { dryRun: false, fieldManager: 'stratus-node-credentials', userAgentManager: 'stratus', fieldValidation: 'Strict' };
/** How long a successful lookup is reused: revocation takes effect within this time. */
const CACHE_MS = 10_000;
const CACHE_MAX = 10_000;

const sha256Hex = (s: string) => createHash('sha256').update(s).digest('hex');

export const isValidNodeName = (name: string): boolean => name.length <= 253 && DNS1123_SUBDOMAIN.test(name);

/** The credential's id: a digest of the node name, so each node has one slot. */
export const nodeCredentialId = (nodeName: string): string => sha256Hex(`node:${nodeName}`).slice(0, 16);
export const nodeCredentialSecretName = (nodeName: string): string => `node-credential-${nodeCredentialId(nodeName)}`;

/** The node name a node user stands for, or undefined for other users. */
export function nodeNameOf(user: { username: string; groups: string[] }): string | undefined {
  if (!user.username.startsWith(NODE_USER_PREFIX) || !user.groups.includes(NODES_GROUP)) return undefined;
  return user.username.slice(NODE_USER_PREFIX.length);
}

const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');
const unb64 = (v: unknown) => (typeof v === 'string' ? Buffer.from(v, 'base64').toString('utf8') : '');

/** Issue (or replace) the credential of `nodeName`; returns the bearer token, which is not stored. */
export async function issueNodeCredential(rest: RestStorage, registry: Registry, nodeName: string, issuedBy: string): Promise<string> {
  if (!isValidNodeName(nodeName)) throw new Error(`invalid node name ${JSON.stringify(nodeName)}`);
  const def = registry.resource('', 'v1', 'secrets')!;
  const token = `${nodeCredentialId(nodeName)}.${randomBytes(32).toString('base64url')}`;
  const name = nodeCredentialSecretName(nodeName);
  const secret = {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name, namespace: TOKEN_NAMESPACE, labels: { 'stratus.dev/node-credential': 'true' }, annotations: { 'stratus.dev/node-name': nodeName, 'stratus.dev/issued-by': issuedBy } },
    type: NODE_CREDENTIAL_SECRET_TYPE,
    data: { 'node-name': b64(nodeName), 'token-sha256': b64(sha256Hex(token)) },
  } as KubeObject;
  const scope = { def, namespace: TOKEN_NAMESPACE };
  for (let attempt = 0; ; attempt++) {
    try {
      await rest.create(scope, secret, undefined, WRITE);
      return token;
    } catch (e) {
      if (!(e instanceof ApiError && e.code === 409) || attempt > 4) throw e;
    }
    try {
      await rest.update({ ...scope, name }, secret, undefined, WRITE);
      return token;
    } catch (e) {
      if (!(e instanceof ApiError && (e.code === 404 || e.code === 409)) || attempt > 4) throw e;
    }
  }
}

/** Authenticates node credentials against their Secrets, reusing a verified answer for a few seconds. */
export function nodeCredentialAuthenticator(rest: RestStorage, registry: Registry, clock: () => number = Date.now) {
  const def = registry.resource('', 'v1', 'secrets')!;
  const cache = new Map<string, { user: TokenUser; until: number }>();
  return {
    async authenticateToken(token: string): Promise<TokenUser | undefined> {
      const m = TOKEN_RE.exec(token);
      if (!m) return undefined;
      const digest = sha256Hex(token);
      const now = clock();
      const hit = cache.get(digest);
      if (hit && hit.until > now) return hit.user;
      let secret: KubeObject;
      try {
        secret = await rest.get({ def, namespace: TOKEN_NAMESPACE, name: `node-credential-${m[1]}` });
      } catch (e) {
        if (e instanceof ApiError && e.code === 404) return undefined;
        throw e;
      }
      if (secret.metadata.deletionTimestamp || (secret as { type?: string }).type !== NODE_CREDENTIAL_SECRET_TYPE) return undefined;
      const data = (secret.data ?? {}) as Record<string, unknown>;
      const stored = Buffer.from(unb64(data['token-sha256']), 'utf8');
      const given = Buffer.from(digest, 'utf8');
      if (stored.length !== given.length || !timingSafeEqual(stored, given)) return undefined;
      const nodeName = unb64(data['node-name']);
      if (!isValidNodeName(nodeName) || nodeCredentialId(nodeName) !== m[1]) return undefined;
      const user: TokenUser = { username: `${NODE_USER_PREFIX}${nodeName}`, uid: '', groups: [NODES_GROUP, 'system:authenticated'] };
      if (cache.size >= CACHE_MAX) cache.clear();
      cache.set(digest, { user, until: now + CACHE_MS });
      return user;
    },
  };
}
