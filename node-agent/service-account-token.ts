// The token a projected serviceAccountToken source writes: requested from the API server with a
// TokenRequest bound to the pod (name and uid), as the kubelet does. The node's credential may only
// ask for pod-bound tokens of pods scheduled to it, so the binding is not optional here.
//
// Refresh: the kubelet replaces a projected token once 80% of its lifetime has passed, or after
// 24 hours, whichever is first (tokenRefreshAt below), and keeps using the old one while a refresh
// fails. Tokens for the admission plugin's kube-api-access volume (3607 s) are issued by the API
// server valid for a year, but expirationTimestamp still says 3607 s: refresh on that.
import type { KubeClient } from '../shared/client/kube-client.js';

export const DEFAULT_TOKEN_EXPIRATION_SECONDS = 3600;
const REFRESH_FRACTION = 0.8;
const MAX_REFRESH_AFTER_MS = 24 * 60 * 60 * 1000;

export interface PodForToken {
  metadata: { name: string; namespace: string; uid: string };
  spec: { serviceAccountName?: string };
}

export interface TokenSource {
  /** Empty or absent: the API server's own audience. */
  audience?: string;
  expirationSeconds?: number;
}

export interface PodToken {
  token: string;
  /** RFC 3339 time after which the token must not be relied on. */
  expirationTimestamp: string;
}

/** Requests a token for the pod's service account, bound to the pod. */
export async function requestPodServiceAccountToken(client: KubeClient, pod: PodForToken, source: TokenSource): Promise<PodToken> {
  const { name, namespace, uid } = pod.metadata;
  const serviceAccount = pod.spec.serviceAccountName || 'default';
  const request = {
    apiVersion: 'authentication.k8s.io/v1',
    kind: 'TokenRequest',
    spec: {
      audiences: source.audience ? [source.audience] : [],
      expirationSeconds: source.expirationSeconds ?? DEFAULT_TOKEN_EXPIRATION_SECONDS,
      boundObjectRef: { apiVersion: 'v1', kind: 'Pod', name, uid },
    },
  };
  const path = `/api/v1/namespaces/${encodeURIComponent(namespace)}/serviceaccounts/${encodeURIComponent(serviceAccount)}/token`;
  const response = await client.create<{ status?: { token?: string; expirationTimestamp?: string } }>(path, request);
  const token = response?.status?.token;
  const expirationTimestamp = response?.status?.expirationTimestamp;
  if (!token || !expirationTimestamp) throw new Error(`${path}: the response carries no token`);
  return { token, expirationTimestamp };
}

/** When a token obtained at `issuedAt` should be replaced: at 80% of its lifetime, at most 24 hours after issue. */
export function tokenRefreshAt(issuedAt: Date, expirationTimestamp: string): Date {
  const lifetime = Date.parse(expirationTimestamp) - issuedAt.getTime();
  return new Date(issuedAt.getTime() + Math.min(Math.max(lifetime, 0) * REFRESH_FRACTION, MAX_REFRESH_AFTER_MS));
}
