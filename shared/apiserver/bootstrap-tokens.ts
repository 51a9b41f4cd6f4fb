// Bootstrap tokens as Kubernetes defines them: "<id>.<secret>" ([a-z0-9]{6}.[a-z0-9]{16}), kept in
// the Secret kube-system/bootstrap-token-<id> of type bootstrap.kubernetes.io/token. A usable token
// authenticates as system:bootstrap:<id> in group system:bootstrappers (plus its extra groups).
import { randomInt, timingSafeEqual } from 'node:crypto';
import type { KubeObject } from '../api/kind.js';
import type { Registry } from '../api/registry.js';
import { ApiError } from './errors.js';
import type { RestStorage } from './rest.js';

export const BOOTSTRAP_TOKEN_SECRET_TYPE = 'bootstrap.kubernetes.io/token';
export const BOOTSTRAP_TOKEN_SECRET_PREFIX = 'bootstrap-token-';
export const BOOTSTRAP_USER_PREFIX = 'system:bootstrap:';
export const BOOTSTRAPPERS_GROUP = 'system:bootstrappers';
export const TOKEN_NAMESPACE = 'kube-system';
/** The extra group `stratus token create` puts its tokens in (kubeadm uses its own name here). */
export const DEFAULT_NODE_TOKEN_GROUP = 'system:bootstrappers:stratus:default-node-token';

const TOKEN_RE = /^([a-z0-9]{6})\.([a-z0-9]{16})$/;
const TOKEN_ID_RE = /^[a-z0-9]{6}$/;
const GROUP_RE = /^system:bootstrappers:[a-z0-9:-]{0,255}[a-z0-9]$/;
const ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';

export type TokenUsage = 'authentication' | 'signing';

/** The user a bearer token stands for (the API server's UserInfo). */
export interface TokenUser {
  username: string;
  uid: string;
  groups: string[];
}

export interface BootstrapToken {
  id: string;
  secret: string;
}

export function parseBootstrapToken(token: string): BootstrapToken | undefined {
  const m = TOKEN_RE.exec(token);
  return m ? { id: m[1], secret: m[2] } : undefined;
}

export const isBootstrapTokenId = (s: string): boolean => TOKEN_ID_RE.test(s);
export const isValidBootstrapGroup = (g: string): boolean => GROUP_RE.test(g);
export const bootstrapTokenSecretName = (id: string): string => `${BOOTSTRAP_TOKEN_SECRET_PREFIX}${id}`;

function randomString(length: number): string {
  let s = '';
  for (let i = 0; i < length; i++) s += ALPHABET[randomInt(ALPHABET.length)];
  return s;
}

/** A fresh random token. */
export function generateBootstrapToken(): string {
  return `${randomString(6)}.${randomString(16)}`;
}

export interface BootstrapTokenOptions {
  /** Lifetime from `now`; 0 or undefined: the token never expires. */
  ttlMs?: number;
  description?: string;
  usages?: TokenUsage[];
  /** Extra groups, each matching system:bootstrappers:<name>. */
  groups?: string[];
}

const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');
const rfc3339 = (d: Date) => d.toISOString().replace(/\.\d+Z$/, 'Z');

/** The Secret that stores `token`. */
export function bootstrapTokenSecret(token: string, opts: BootstrapTokenOptions = {}, now = new Date()): KubeObject {
  const parsed = parseBootstrapToken(token);
  if (!parsed) throw new Error(`the token does not have the form [a-z0-9]{6}.[a-z0-9]{16}`);
  for (const g of opts.groups ?? []) if (!isValidBootstrapGroup(g)) throw new Error(`group ${JSON.stringify(g)} must match ${GROUP_RE.source}`);
  const data: Record<string, string> = { 'token-id': b64(parsed.id), 'token-secret': b64(parsed.secret) };
  if (opts.ttlMs) data.expiration = b64(rfc3339(new Date(now.getTime() + opts.ttlMs)));
  if (opts.description) data.description = b64(opts.description);
  for (const u of opts.usages ?? ['authentication', 'signing']) data[`usage-bootstrap-${u}`] = b64('true');
  if (opts.groups?.length) data['auth-extra-groups'] = b64(opts.groups.join(','));
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: bootstrapTokenSecretName(parsed.id), namespace: TOKEN_NAMESPACE },
    type: BOOTSTRAP_TOKEN_SECRET_TYPE,
    data,
  } as KubeObject;
}

/** What a bootstrap token Secret says, decoded. */
export interface BootstrapTokenInfo {
  id: string;
  secret: string;
  /** undefined: never expires; null: the expiration cannot be parsed (treated as expired). */
  expires: Date | undefined | null;
  usages: TokenUsage[];
  description: string;
  /** Extra groups as written (possibly invalid). */
  extraGroups: string[];
}

function secretValue(secret: KubeObject, key: string): string {
  const v = (secret.data as Record<string, unknown> | undefined)?.[key];
  return typeof v === 'string' ? Buffer.from(v, 'base64').toString('utf8') : '';
}

// RFC 3339 as Go's time.Parse reads it: a date, T, a time with optional fraction, and a zone.
const RFC3339_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

export function readBootstrapTokenSecret(secret: KubeObject): BootstrapTokenInfo {
  const exp = secretValue(secret, 'expiration');
  let expires: Date | undefined | null;
  if (!exp) expires = undefined;
  else {
    const t = RFC3339_RE.test(exp) ? new Date(exp) : new Date(NaN);
    expires = Number.isNaN(t.getTime()) ? null : t;
  }
  const extra = secretValue(secret, 'auth-extra-groups');
  return {
    id: secretValue(secret, 'token-id'),
    secret: secretValue(secret, 'token-secret'),
    expires,
    usages: (['authentication', 'signing'] as const).filter((u) => secretValue(secret, `usage-bootstrap-${u}`) === 'true'),
    description: secretValue(secret, 'description'),
    extraGroups: extra ? extra.split(',') : [],
  };
}

export const isExpired = (info: Pick<BootstrapTokenInfo, 'expires'>, now: Date): boolean => info.expires === null || (info.expires !== undefined && info.expires.getTime() <= now.getTime());

const sameString = (a: string, b: string) => {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
};

/**
 * The user `token` authenticates as, given the Secret named after its id, with the checks
 * kube-apiserver makes: not being deleted, the right type, matching id and secret, not expired,
 * marked for authentication, and valid extra groups. Anything else: undefined (401).
 */
export function authenticateWithSecret(token: BootstrapToken, secret: KubeObject | undefined, now: Date): TokenUser | undefined {
  if (!secret || secret.metadata.deletionTimestamp) return undefined;
  if ((secret as { type?: string }).type !== BOOTSTRAP_TOKEN_SECRET_TYPE || !secret.data) return undefined;
  const info = readBootstrapTokenSecret(secret);
  if (!sameString(info.secret, token.secret) || info.id !== token.id) return undefined;
  if (isExpired(info, now)) return undefined;
  if (!info.usages.includes('authentication')) return undefined;
  if (!info.extraGroups.every(isValidBootstrapGroup)) return undefined;
  const groups = [...new Set([BOOTSTRAPPERS_GROUP, ...info.extraGroups])].sort();
  return { username: `${BOOTSTRAP_USER_PREFIX}${info.id}`, uid: '', groups: [...groups, 'system:authenticated'] };
}

/** Authenticates bearer tokens of the bootstrap form against their Secrets in kube-system. */
export function bootstrapTokenAuthenticator(rest: RestStorage, registry: Registry, clock: () => Date = () => new Date()) {
  const def = registry.resource('', 'v1', 'secrets')!;
  return {
    async authenticateToken(token: string): Promise<TokenUser | undefined> {
      const parsed = parseBootstrapToken(token);
      if (!parsed) return undefined;
      let secret: KubeObject | undefined;
      try {
        secret = await rest.get({ def, namespace: TOKEN_NAMESPACE, name: bootstrapTokenSecretName(parsed.id) });
      } catch (e) {
        if (e instanceof ApiError && e.code === 404) return undefined;
        throw e;
      }
      return authenticateWithSecret(parsed, secret, clock());
    },
  };
}

// ---- durations (Go's time.Duration syntax, as --ttl takes it) ---------------------------------

const UNIT_MS: Record<string, number> = { ns: 1e-6, us: 1e-3, µs: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** "24h", "1h30m", "90s", "0" -> milliseconds. */
export function parseDuration(s: string): number {
  if (s === '0') return 0;
  const re = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)/y;
  let total = 0;
  let at = 0;
  while (at < s.length) {
    re.lastIndex = at;
    const m = re.exec(s);
    if (!m) throw new Error(`invalid duration ${JSON.stringify(s)}: use a number with a unit, e.g. 24h, 30m or 1h30m`);
    total += Number(m[1]) * UNIT_MS[m[2]];
    at = re.lastIndex;
  }
  if (!s) throw new Error('invalid duration ""');
  return Math.round(total);
}

/** A short human duration as kubeadm prints token TTLs: 45s, 12m, 23h, 6d, 2y. */
export function shortDuration(ms: number): string {
  const s = Math.floor(ms / 1000);
  if (s < 0) return '0s';
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m`;
  const h = Math.floor(m / 60);
  if (h < 24) return `${h}h`;
  if (h < 24 * 365) return `${Math.floor(h / 24)}d`;
  return `${Math.floor(h / 24 / 365)}y`;
}
