// Authenticates the service account tokens TokenRequest issues, checking what kube-apiserver's
// service account token validator checks: signature, issuer, audience, exp/nbf/iat (with its one
// minute of leeway), and that the ServiceAccount and the bound Pod or Secret still exist with the
// uids in the token and are not deleted (deletions more than the leeway ago invalidate it).
import type { KubeObject } from '../api/kind.js';
import type { Registry } from '../api/registry.js';
import { ApiError } from './errors.js';
import type { RestStorage } from './rest.js';
import { parseJws, verifyEs256 } from './jws-es256.js';
import { serviceAccountKeys } from './service-account-keys.js';
import { API_AUDIENCES, SERVICE_ACCOUNT_ISSUER, serviceAccountUsername, type KubernetesClaim } from './service-account-tokens.js';

export const SERVICE_ACCOUNTS_GROUP = 'system:serviceaccounts';
const LEEWAY_SECONDS = 60;

export const EXTRA_POD_NAME = 'authentication.kubernetes.io/pod-name';
export const EXTRA_POD_UID = 'authentication.kubernetes.io/pod-uid';
export const EXTRA_NODE_NAME = 'authentication.kubernetes.io/node-name';
export const EXTRA_NODE_UID = 'authentication.kubernetes.io/node-uid';
export const EXTRA_CREDENTIAL_ID = 'authentication.kubernetes.io/credential-id';

export interface ServiceAccountUser {
  username: string;
  uid: string;
  groups: string[];
  extra: Record<string, string[]>;
}

const isRef = (v: unknown): v is { name: string; uid: string } =>
  !!v && typeof v === 'object' && typeof (v as { name?: unknown }).name === 'string' && typeof (v as { uid?: unknown }).uid === 'string';

const audiencesOf = (aud: unknown): string[] => (typeof aud === 'string' ? [aud] : Array.isArray(aud) ? aud.filter((a): a is string => typeof a === 'string') : []);

export function serviceAccountTokenAuthenticator(rest: RestStorage, registry: Registry, opts: { audiences?: readonly string[]; clock?: () => number } = {}) {
  const audiences = opts.audiences ?? API_AUDIENCES;
  const clock = opts.clock ?? Date.now;
  const keys = serviceAccountKeys(rest, registry);
  const defs = {
    serviceaccounts: registry.resource('', 'v1', 'serviceaccounts')!,
    pods: registry.resource('', 'v1', 'pods')!,
    secrets: registry.resource('', 'v1', 'secrets')!,
  };

  const lookup = async (kind: keyof typeof defs, namespace: string, name: string): Promise<KubeObject | undefined> => {
    try {
      return await rest.get({ def: defs[kind], namespace, name });
    } catch (e) {
      if (e instanceof ApiError && e.code === 404) return undefined;
      throw e;
    }
  };

  /** Whether `obj` exists with `uid` and was not deleted before `cutoff` (seconds). */
  const stillValid = (obj: KubeObject | undefined, uid: string, cutoff: number) => {
    if (!obj || obj.metadata.uid !== uid) return false;
    const deleted = obj.metadata.deletionTimestamp;
    return !(typeof deleted === 'string' && Date.parse(deleted) / 1000 < cutoff);
  };

  return {
    async authenticateToken(token: string): Promise<ServiceAccountUser | undefined> {
      const jws = parseJws(token);
      if (!jws || jws.header.alg !== 'ES256') return undefined;
      const c = jws.payload;
      if (c.iss !== SERVICE_ACCOUNT_ISSUER) return undefined;
      const key = await keys.verificationKey(jws.header.kid);
      if (!key || !verifyEs256(jws, key.publicKey)) return undefined;
      const now = clock() / 1000;
      const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
      const exp = num(c.exp);
      const nbf = num(c.nbf);
      const iat = num(c.iat);
      if (exp === undefined || now - LEEWAY_SECONDS > exp) return undefined;
      if (nbf !== undefined && now + LEEWAY_SECONDS < nbf) return undefined;
      if (iat !== undefined && now + LEEWAY_SECONDS < iat) return undefined;
      if (!audiencesOf(c.aud).some((a) => audiences.includes(a))) return undefined;

      const k8s = c['kubernetes.io'] as Partial<KubernetesClaim> | undefined;
      if (!k8s || typeof k8s.namespace !== 'string' || !isRef(k8s.serviceaccount)) return undefined;
      const { namespace, serviceaccount } = k8s;
      if (c.sub !== serviceAccountUsername(namespace, serviceaccount.name)) return undefined;
      const cutoff = now - LEEWAY_SECONDS;
      if (!stillValid(await lookup('serviceaccounts', namespace, serviceaccount.name), serviceaccount.uid, cutoff)) return undefined;
      if (k8s.secret !== undefined && !(isRef(k8s.secret) && stillValid(await lookup('secrets', namespace, k8s.secret.name), k8s.secret.uid, cutoff))) return undefined;
      if (k8s.pod !== undefined && !(isRef(k8s.pod) && stillValid(await lookup('pods', namespace, k8s.pod.name), k8s.pod.uid, cutoff))) return undefined;

      const extra: Record<string, string[]> = {};
      if (isRef(k8s.pod)) {
        extra[EXTRA_POD_NAME] = [k8s.pod.name];
        extra[EXTRA_POD_UID] = [k8s.pod.uid];
      }
      if (isRef(k8s.node)) {
        extra[EXTRA_NODE_NAME] = [k8s.node.name];
        extra[EXTRA_NODE_UID] = [k8s.node.uid];
      }
      if (typeof c.jti === 'string' && c.jti) extra[EXTRA_CREDENTIAL_ID] = [`JTI=${c.jti}`];
      return {
        username: serviceAccountUsername(namespace, serviceaccount.name),
        uid: serviceaccount.uid,
        groups: [SERVICE_ACCOUNTS_GROUP, `${SERVICE_ACCOUNTS_GROUP}:${namespace}`, 'system:authenticated'],
        extra,
      };
    },
  };
}
