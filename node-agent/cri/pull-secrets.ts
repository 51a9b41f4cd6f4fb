// Registry credentials from a pod's imagePullSecrets, chosen per image the way kubelet's docker
// keyring does: keys are host[:port][/path] (scheme and a /v1/ or /v2/ suffix ignored), a key
// matches when the port and the number of host labels agree, each label matches as a glob
// ("*.example.com"), and the key's path is a prefix of the repository path. Keys are tried in
// reverse lexical order; Docker Hub images also use credentials stored for index.docker.io.
import type { AuthConfig } from './client.js';

/** The parts of a Secret this module reads (data values are base64, as the API returns them). */
export interface PullSecret {
  type?: string;
  data?: Record<string, string>;
}

export type GetSecret = (namespace: string, name: string) => Promise<PullSecret | undefined>;

export interface RegistryCredential {
  /** The keyring key: host[:port] with an optional path, e.g. "127.0.0.1:5000" or "*.example.com/team". */
  registry: string;
  username: string;
  password: string;
  /** The secret it came from. */
  secret: string;
}

export interface PodPullCredentials {
  credentials: RegistryCredential[];
  /** imagePullSecrets that could not be read; post pullSecretsMissingEvent(missing) for them. */
  missing: string[];
  /** A referenced secret holds a malformed docker config: kubelet then fails every pull of the pod with this. */
  error?: string;
}

export const DOCKER_CONFIG_JSON_TYPE = 'kubernetes.io/dockerconfigjson';
export const DOCKER_CFG_TYPE = 'kubernetes.io/dockercfg';
const DEFAULT_REGISTRY_KEY = 'index.docker.io';

interface PodWithPullSecrets {
  metadata: { namespace?: string };
  spec: { imagePullSecrets?: ({ name?: string } | null)[] };
}

/** Read the pod's pull secrets; missing ones are listed, not fatal (kubelet pulls anyway). */
export async function pullCredentials(pod: PodWithPullSecrets, getSecret: GetSecret): Promise<PodPullCredentials> {
  const namespace = pod.metadata.namespace ?? 'default';
  const result: PodPullCredentials = { credentials: [], missing: [] };
  for (const ref of pod.spec.imagePullSecrets ?? []) {
    const name = ref?.name;
    // The API admits entries without a name; kubelet ignores them silently.
    if (!name) continue;
    let secret: PullSecret | undefined;
    try {
      secret = await getSecret(namespace, name);
    } catch {
      secret = undefined;
    }
    if (!secret) {
      result.missing.push(name);
      continue;
    }
    try {
      result.credentials.push(...secretCredentials(name, secret));
    } catch (e) {
      result.error ??= e instanceof Error ? e.message : String(e);
    }
  }
  return result;
}

/** The event kubelet posts on the pod when some imagePullSecrets cannot be read. */
export function pullSecretsMissingEvent(missing: string[]): { type: 'Warning'; reason: string; message: string } {
  return {
    type: 'Warning',
    reason: 'FailedToRetrieveImagePullSecret',
    message: `Unable to retrieve some image pull secrets (${missing.join(', ')}); attempting to pull the image may not succeed.`,
  };
}

/** Credentials in one secret; secrets of other types, or without their key, give none. Throws on malformed content. */
export function secretCredentials(secretName: string, secret: PullSecret): RegistryCredential[] {
  const jsonConfig = secret.data?.['.dockerconfigjson'];
  if (secret.type === DOCKER_CONFIG_JSON_TYPE && jsonConfig) {
    const parsed = parseJsonObject(decodeBase64(jsonConfig));
    const auths = parsed.auths;
    return entriesToCredentials(secretName, auths && typeof auths === 'object' ? (auths as Record<string, unknown>) : {});
  }
  const legacyConfig = secret.data?.['.dockercfg'];
  if (secret.type === DOCKER_CFG_TYPE && legacyConfig) {
    return entriesToCredentials(secretName, parseJsonObject(decodeBase64(legacyConfig)));
  }
  return [];
}

function entriesToCredentials(secretName: string, entries: Record<string, unknown>): RegistryCredential[] {
  const out: RegistryCredential[] = [];
  for (const [location, raw] of Object.entries(entries)) {
    const entry = (raw && typeof raw === 'object' ? raw : {}) as Record<string, unknown>;
    let username = typeof entry.username === 'string' ? entry.username : '';
    let password = typeof entry.password === 'string' ? entry.password : '';
    if (typeof entry.auth === 'string' && entry.auth !== '') ({ username, password } = decodeAuthField(entry.auth));
    out.push({ registry: keyringKey(location), username, password, secret: secretName });
  }
  return out;
}

/** `auth` is base64("user:password"), padded or not. */
function decodeAuthField(field: string): { username: string; password: string } {
  const decoded = decodeBase64(field, 'auth');
  const colon = decoded.indexOf(':');
  if (colon < 0) throw new Error('unable to parse auth field, must be formatted as base64(username:password)');
  return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

function decodeBase64(value: string, what = 'data'): string {
  const trimmed = value.trim();
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(trimmed) || trimmed.length % 4 === 1) throw new Error(`illegal base64 data in ${what}`);
  return Buffer.from(trimmed, 'base64').toString('utf8');
}

function parseJsonObject(text: string): Record<string, unknown> {
  const value: unknown = JSON.parse(text);
  if (!value || typeof value !== 'object' || Array.isArray(value)) throw new Error('docker config is not a JSON object');
  return value as Record<string, unknown>;
}

/** host[:port][/path] of a docker config location, without scheme; "/v1/" and "/v2/" paths mean the host alone. */
export function keyringKey(location: string): string {
  const rest = location.replace(/^https?:\/\//, '');
  const slash = rest.indexOf('/');
  const host = slash < 0 ? rest : rest.slice(0, slash);
  let path = slash < 0 ? '' : rest.slice(slash);
  if (path.startsWith('/v1/') || path.startsWith('/v2/')) path = path.slice(3);
  return path && path !== '/' ? host + path : host;
}

/**
 * The auth configs to try, in order, when pulling `image`. Empty means pull anonymously; when some
 * match, kubelet tries only those (no anonymous attempt after they all fail).
 */
export function authFor(image: string, creds: RegistryCredential[]): AuthConfig[] {
  const repo = repositoryName(image);
  const keys = [...new Set(creds.map((c) => c.registry))].sort().reverse();
  const toAuth = (c: RegistryCredential): AuthConfig => ({ username: c.username, password: c.password });
  const matched = keys.filter((k) => keyMatches(k, repo)).flatMap((k) => creds.filter((c) => c.registry === k));
  if (matched.length > 0) return matched.map(toAuth);
  if (isDockerHub(repo)) return creds.filter((c) => c.registry === DEFAULT_REGISTRY_KEY).map(toAuth);
  return [];
}

/** The fully qualified repository of an image reference: "busybox:1.36" → "docker.io/library/busybox". */
export function repositoryName(image: string): string {
  let name = image.split('@')[0];
  const lastSlash = name.lastIndexOf('/');
  const colon = name.indexOf(':', lastSlash + 1);
  if (colon >= 0) name = name.slice(0, colon);
  const slash = name.indexOf('/');
  const first = slash < 0 ? '' : name.slice(0, slash);
  if (slash < 0 || !(first.includes('.') || first.includes(':') || first === 'localhost')) {
    const path = slash < 0 ? `library/${name}` : name;
    return `docker.io/${path}`;
  }
  if (first === 'index.docker.io') return `docker.io${name.slice(slash)}`;
  return name;
}

function isDockerHub(repo: string): boolean {
  const first = repo.split('/', 1)[0];
  return first === 'docker.io' || first === 'index.docker.io';
}

function splitHostPath(s: string): { labels: string[]; port: string; path: string } {
  const slash = s.indexOf('/');
  const hostPort = slash < 0 ? s : s.slice(0, slash);
  const path = slash < 0 ? '' : s.slice(slash);
  const m = /^(.*):(\d*)$/.exec(hostPort);
  const host = m ? m[1] : hostPort;
  return { labels: host.split('.'), port: m ? m[2] : '', path };
}

function keyMatches(key: string, repo: string): boolean {
  const k = splitHostPath(key);
  const r = splitHostPath(repo);
  if (k.port !== r.port || k.labels.length !== r.labels.length) return false;
  if (!r.path.startsWith(k.path)) return false;
  return k.labels.every((label, i) => globToRegExp(label)?.test(r.labels[i]) ?? false);
}

/** A shell-style pattern for one host label (*, ?, [set], [^set], backslash escapes); null when malformed. */
function globToRegExp(pattern: string): RegExp | null {
  let re = '';
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i];
    if (ch === '*') re += '.*';
    else if (ch === '?') re += '.';
    else if (ch === '\\') {
      if (i + 1 >= pattern.length) return null;
      re += escapeRegExp(pattern[++i]);
    } else if (ch === '[') {
      const end = pattern.indexOf(']', i + 2);
      if (end < 0) return null;
      let set = pattern.slice(i + 1, end);
      const negate = set.startsWith('^');
      if (negate) set = set.slice(1);
      re += `[${negate ? '^' : ''}${set.replace(/[\\\]]/g, '\\$&')}]`;
      i = end;
    } else re += escapeRegExp(ch);
  }
  return new RegExp(`^${re}$`);
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
