// Discovery for joining nodes, as kubeadm does it: the ConfigMap kube-public/cluster-info holds a
// kubeconfig naming the server and its CA, and it is readable without credentials. For each
// bootstrap token marked for signing it also holds jws-kubeconfig-<token-id>: a detached HS256
// JWS of that kubeconfig keyed by the token secret, so a joiner that knows the token can tell the
// ConfigMap came from the cluster that issued it. A joiner pins the CA with
// sha256:<hex digest of the CA certificate's SubjectPublicKeyInfo>.
import { createHash, createHmac, timingSafeEqual, X509Certificate } from 'node:crypto';
import { stringify } from 'yaml';
import type { KubeObject } from '../api/kind.js';
import { builtinRegistry } from '../api/registry.js';
import { BOOTSTRAP_TOKEN_SECRET_TYPE, isExpired, readBootstrapTokenSecret, TOKEN_NAMESPACE } from './bootstrap-tokens.js';
import { ApiError } from './errors.js';
import { decodeFromStore } from './codec.js';
import type { RestStorage, WriteOptions } from './rest.js';

export const CLUSTER_INFO_NAMESPACE = 'kube-public';
export const CLUSTER_INFO_NAME = 'cluster-info';
export const CLUSTER_INFO_PATH = `/api/v1/namespaces/${CLUSTER_INFO_NAMESPACE}/configmaps/${CLUSTER_INFO_NAME}`;
export const JWS_KEY_PREFIX = 'jws-kubeconfig-';

/** "sha256:<hex>" of the certificate's DER SubjectPublicKeyInfo. */
export function caCertHash(caPem: string): string {
  const spki = new X509Certificate(caPem).publicKey.export({ type: 'spki', format: 'der' });
  return `sha256:${createHash('sha256').update(spki).digest('hex')}`;
}

/** The kubeconfig published in cluster-info: one unnamed cluster, no users or contexts. */
export function clusterInfoKubeconfig(caPem: string, server: string): string {
  return stringify({
    apiVersion: 'v1',
    clusters: [{ cluster: { 'certificate-authority-data': Buffer.from(caPem).toString('base64'), server }, name: '' }],
    contexts: null,
    'current-context': '',
    kind: 'Config',
    preferences: {},
    users: null,
  });
}

/**
 * A JWS (RFC 7515) over `content` with the payload left out ("header..signature"): protected
 * header {"alg":"HS256","kid":<token id>}, key = the token secret zero-padded to 32 bytes.
 */
export function detachedJws(content: string, tokenId: string, tokenSecret: string): string {
  const key = Buffer.alloc(Math.max(32, Buffer.byteLength(tokenSecret)));
  key.write(tokenSecret, 'utf8');
  const header = Buffer.from(JSON.stringify({ alg: 'HS256', kid: tokenId })).toString('base64url');
  const payload = Buffer.from(content, 'utf8').toString('base64url');
  const signature = createHmac('sha256', key).update(`${header}.${payload}`).digest('base64url');
  return `${header}..${signature}`;
}

export function jwsMatches(jws: string, content: string, tokenId: string, tokenSecret: string): boolean {
  const want = Buffer.from(detachedJws(content, tokenId, tokenSecret));
  const got = Buffer.from(jws);
  return want.length === got.length && timingSafeEqual(want, got);
}

/**
 * The cluster-info data for a server: the kubeconfig plus one signature per bootstrap token
 * Secret that is usable for signing now.
 */
export function clusterInfoData(caPem: string, server: string, tokenSecrets: KubeObject[], now = new Date()): Record<string, string> {
  const kubeconfig = clusterInfoKubeconfig(caPem, server);
  const data: Record<string, string> = { kubeconfig };
  for (const secret of tokenSecrets) {
    if ((secret as { type?: string }).type !== BOOTSTRAP_TOKEN_SECRET_TYPE || secret.metadata.deletionTimestamp) continue;
    const info = readBootstrapTokenSecret(secret);
    if (!info.id || !info.secret || secret.metadata.name !== `bootstrap-token-${info.id}`) continue;
    if (!info.usages.includes('signing') || isExpired(info, now)) continue;
    data[`${JWS_KEY_PREFIX}${info.id}`] = detachedJws(kubeconfig, info.id, info.secret);
  }
  return data;
}

export function clusterInfoConfigMap(data: Record<string, string>): KubeObject {
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: CLUSTER_INFO_NAME, namespace: CLUSTER_INFO_NAMESPACE }, data } as KubeObject;
}

const sameData = (a: unknown, b: Record<string, string>) => {
  const x = (a ?? {}) as Record<string, unknown>;
  return Object.keys(x).length === Object.keys(b).length && Object.entries(b).every(([k, v]) => x[k] === v);
};

const WRITE: WriteOptions = { dryRun: false, fieldManager: 'stratus-cluster-info', userAgentManager: 'stratus', fieldValidation: 'Strict' };

/**
 * Create or refresh kube-public/cluster-info for `server` (e.g. https://127.0.0.1:6443), signed
 * for the current bootstrap tokens. Idempotent; run it at start after the system namespaces exist.
 */
export async function publishClusterInfo(rest: RestStorage, caPem: string, server: string): Promise<void> {
  const registry = builtinRegistry();
  const secrets = registry.resource('', 'v1', 'secrets')!;
  const configMaps = registry.resource('', 'v1', 'configmaps')!;
  const page = await rest.list({ def: secrets, namespace: TOKEN_NAMESPACE }, { fieldSelector: `type=${BOOTSTRAP_TOKEN_SECRET_TYPE}` });
  const tokens = page.items.map((kv) => page.parsed?.get(kv) ?? decodeFromStore(kv));
  const data = clusterInfoData(caPem, server, tokens);
  const scope = { def: configMaps, namespace: CLUSTER_INFO_NAMESPACE };
  for (let attempt = 0; ; attempt++) {
    let current: KubeObject | undefined;
    try {
      current = await rest.get({ ...scope, name: CLUSTER_INFO_NAME });
    } catch (e) {
      if (!(e instanceof ApiError && e.code === 404)) throw e;
    }
    if (current && sameData(current.data, data)) return;
    try {
      if (current) await rest.update({ ...scope, name: CLUSTER_INFO_NAME }, { ...current, data }, undefined, WRITE);
      else await rest.create(scope, clusterInfoConfigMap(data), undefined, WRITE);
      return;
    } catch (e) {
      if (!(e instanceof ApiError && (e.code === 409 || e.code === 404)) || attempt > 4) throw e;
    }
  }
}
