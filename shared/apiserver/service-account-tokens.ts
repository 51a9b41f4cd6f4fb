// TokenRequest (POST serviceaccounts/<name>/token, authentication.k8s.io/v1): issues a signed JWT
// for a ServiceAccount, optionally bound to a Pod or Secret, with the claims kube-apiserver puts
// in its tokens. The authenticator that accepts these tokens is service-account-authenticator.ts.
import { randomUUID } from 'node:crypto';
import type { KubeObject } from '../api/kind.js';
import type { Registry } from '../api/registry.js';
import type { FieldError } from '../api/schema/dsl.js';
import { invalid } from '../api/schema/errors.js';
import { ApiError, errors } from './errors.js';
import { rfc3339 } from './metadata.js';
import type { RestStorage } from './rest.js';
import { signEs256 } from './jws-es256.js';
import { serviceAccountKeys } from './service-account-keys.js';

/** The issuer (and default audience) kube-apiserver is given by kubeadm-style clusters. */
export const SERVICE_ACCOUNT_ISSUER = 'https://kubernetes.default.svc.cluster.local';
/** The audiences the API server identifies as (--api-audiences defaults to the issuer). */
export const API_AUDIENCES: readonly string[] = [SERVICE_ACCOUNT_ISSUER];
export const DEFAULT_EXPIRATION_SECONDS = 3600;
export const MIN_EXPIRATION_SECONDS = 600;
const MAX_EXPIRATION_SECONDS = 2 ** 32;
/** The lifetime the ServiceAccount admission plugin asks for; such pod-bound tokens are extended (see below). */
export const WARN_ONLY_BOUND_TOKEN_EXPIRATION_SECONDS = 3607;
export const EXTENDED_EXPIRATION_SECONDS = 365 * 24 * 60 * 60;
export const SERVICE_ACCOUNT_USER_PREFIX = 'system:serviceaccount:';

const GROUP = 'authentication.k8s.io';
const API_VERSION = `${GROUP}/v1`;

export interface ObjectRef {
  name: string;
  uid: string;
}

/** The "kubernetes.io" private claim. */
export interface KubernetesClaim {
  namespace: string;
  serviceaccount: ObjectRef;
  pod?: ObjectRef;
  secret?: ObjectRef;
  node?: ObjectRef;
  warnafter?: number;
}

export interface ServiceAccountClaims {
  aud: string[];
  exp: number;
  iat: number;
  iss: string;
  jti: string;
  'kubernetes.io': KubernetesClaim;
  nbf: number;
  sub: string;
}

export interface BoundObjectReference {
  kind?: string;
  apiVersion?: string;
  name?: string;
  uid?: string;
}

export interface TokenRequest {
  kind: 'TokenRequest';
  apiVersion: string;
  metadata: Record<string, unknown>;
  spec: { audiences: string[]; expirationSeconds: number; boundObjectRef: BoundObjectReference | null };
  status: { token: string; expirationTimestamp: string };
}

export const serviceAccountUsername = (namespace: string, name: string) => `${SERVICE_ACCOUNT_USER_PREFIX}${namespace}:${name}`;

const seconds = (d: Date) => Math.floor(d.getTime() / 1000);

/** The claims of a token for `sa`, bound to `pod` (and its `node`) or `secret`, valid for `expirationSeconds` from `now`. */
export function serviceAccountClaims(opts: {
  sa: KubeObject;
  pod?: KubeObject;
  secret?: KubeObject;
  node?: KubeObject;
  audiences: string[];
  expirationSeconds: number;
  warnAfterSeconds?: number;
  now: Date;
}): ServiceAccountClaims {
  const { sa, now } = opts;
  const namespace = sa.metadata.namespace!;
  const ref = (o: KubeObject): ObjectRef => ({ name: o.metadata.name!, uid: o.metadata.uid! });
  // Keys in name order, as kube-apiserver's JSON encoder writes them.
  const k8s = { namespace } as KubernetesClaim;
  if (opts.node) k8s.node = ref(opts.node);
  if (opts.pod) k8s.pod = ref(opts.pod);
  else if (opts.secret) k8s.secret = ref(opts.secret);
  k8s.serviceaccount = ref(sa);
  if (opts.warnAfterSeconds) k8s.warnafter = seconds(now) + opts.warnAfterSeconds;
  const iat = seconds(now);
  return {
    aud: opts.audiences,
    exp: iat + opts.expirationSeconds,
    iat,
    iss: SERVICE_ACCOUNT_ISSUER,
    jti: randomUUID(),
    'kubernetes.io': k8s,
    nbf: iat,
    sub: serviceAccountUsername(namespace, sa.metadata.name!),
  };
}

interface ParsedRequest {
  metadata: Record<string, unknown>;
  audiences: string[];
  expirationSeconds: number;
  boundObjectRef: BoundObjectReference | null;
}

const isObject = (v: unknown): v is Record<string, unknown> => !!v && typeof v === 'object' && !Array.isArray(v);

/** Decodes and defaults the request body; field errors answer 422 as kube-apiserver's TokenRequest validation does. */
export function parseTokenRequest(body: unknown): ParsedRequest {
  if (body === undefined || body === null) body = {};
  if (!isObject(body)) throw errors.badRequest('the object provided is unrecognized (must be of type TokenRequest)');
  if (body.apiVersion !== undefined && body.apiVersion !== API_VERSION) {
    throw errors.badRequest(`the API version in the data (${String(body.apiVersion)}) does not match the expected API version (${API_VERSION})`);
  }
  if (body.kind !== undefined && body.kind !== 'TokenRequest') throw errors.badRequest(`the object provided is unrecognized (must be of type TokenRequest): kind ${JSON.stringify(body.kind)}`);
  const spec = body.spec === undefined || body.spec === null ? {} : body.spec;
  if (!isObject(spec)) throw errors.badRequest('json: cannot unmarshal spec into Go struct field TokenRequest.spec of type v1.TokenRequestSpec');
  const audiences = spec.audiences ?? [];
  if (!Array.isArray(audiences) || !audiences.every((a) => typeof a === 'string')) throw errors.badRequest('json: cannot unmarshal spec.audiences into Go struct field TokenRequestSpec.spec.audiences of type []string');
  const exp = spec.expirationSeconds ?? DEFAULT_EXPIRATION_SECONDS;
  if (typeof exp !== 'number' || !Number.isInteger(exp)) throw errors.badRequest('json: cannot unmarshal spec.expirationSeconds into Go struct field TokenRequestSpec.spec.expirationSeconds of type int64');
  const fieldErrors: FieldError[] = [];
  if (exp < MIN_EXPIRATION_SECONDS) fieldErrors.push(invalid('spec.expirationSeconds', exp, 'may not specify a duration less than 10 minutes'));
  if (exp > MAX_EXPIRATION_SECONDS) fieldErrors.push(invalid('spec.expirationSeconds', exp, 'may not specify a duration larger than 2^32 seconds'));
  if (fieldErrors.length) throw errors.invalid(GROUP, 'TokenRequest', '', fieldErrors);
  const ref = spec.boundObjectRef;
  if (ref !== undefined && ref !== null && !isObject(ref)) throw errors.badRequest('json: cannot unmarshal spec.boundObjectRef into Go struct field TokenRequestSpec.spec.boundObjectRef of type v1.BoundObjectReference');
  const str = (v: unknown) => (typeof v === 'string' ? v : undefined);
  const boundObjectRef = ref ? { kind: str(ref.kind), apiVersion: str(ref.apiVersion), name: str(ref.name), uid: str(ref.uid) } : null;
  return { metadata: isObject(body.metadata) ? body.metadata : {}, audiences: audiences as string[], expirationSeconds: exp, boundObjectRef };
}

async function getOrNull(rest: RestStorage, scope: Parameters<RestStorage['get']>[0]): Promise<KubeObject | undefined> {
  try {
    return await rest.get(scope);
  } catch (e) {
    if (e instanceof ApiError && e.code === 404) return undefined;
    throw e;
  }
}

const withoutKeys = (o: Record<string, unknown>, keys: string[]) => Object.fromEntries(Object.entries(o).filter(([k]) => !keys.includes(k)));

/** The group of an apiVersion ("v1" -> "", "apps/v1" -> "apps"). */
const groupOf = (apiVersion = '') => (apiVersion.includes('/') ? apiVersion.slice(0, apiVersion.indexOf('/')) : '');

/** Issue a token for ServiceAccount `namespace/name` as POST .../serviceaccounts/<name>/token does. */
export async function createTokenRequest(deps: { rest: RestStorage; registry: Registry }, namespace: string, name: string, body: unknown, now: Date = new Date()): Promise<TokenRequest> {
  const { rest, registry } = deps;
  const req = parseTokenRequest(body);
  const sa = await rest.get({ def: registry.resource('', 'v1', 'serviceaccounts')!, namespace, name });
  let pod: KubeObject | undefined;
  let secret: KubeObject | undefined;
  let node: KubeObject | undefined;
  const ref = req.boundObjectRef;
  if (ref) {
    const group = groupOf(ref.apiVersion);
    let bound: KubeObject;
    if (group === '' && ref.kind === 'Pod') {
      bound = pod = await rest.get({ def: registry.resource('', 'v1', 'pods')!, namespace, name: ref.name ?? '' });
      const podSa = (pod.spec as { serviceAccountName?: string } | undefined)?.serviceAccountName;
      if (podSa !== name) throw errors.badRequest(`cannot bind token for serviceaccount ${JSON.stringify(name)} to pod running with different serviceaccount name.`);
      const nodeName = (pod.spec as { nodeName?: string } | undefined)?.nodeName;
      // A node that cannot be read is left out of the claims, as kube-apiserver does.
      if (nodeName) node = await getOrNull(rest, { def: registry.resource('', 'v1', 'nodes')!, name: nodeName });
    } else if (group === '' && ref.kind === 'Secret') {
      bound = secret = await rest.get({ def: registry.resource('', 'v1', 'secrets')!, namespace, name: ref.name ?? '' });
    } else {
      const version = ref.apiVersion?.includes('/') ? ref.apiVersion.slice(ref.apiVersion.indexOf('/') + 1) : (ref.apiVersion ?? '');
      throw errors.badRequest(`cannot bind token to object of type ${group}/${version}, Kind=${ref.kind ?? ''}`);
    }
    if (ref.uid && ref.uid !== bound.metadata.uid) {
      throw errors.conflict(
        { group, resource: ref.kind! },
        ref.name ?? '',
        `the UID in the bound object reference (${ref.uid}) does not match the UID in record. The object might have been deleted and then recreated`,
      );
    }
  }
  const audiences = req.audiences.length ? req.audiences : [...API_AUDIENCES];
  // Tokens the admission plugin's volume asks for (3607 s, pod-bound, for the API server) stay
  // usable for a year; "warnafter" records the requested expiry. kube-apiserver does this by default
  // (--service-account-extend-token-expiration) so clients that do not reload tokens keep working.
  let lifetime = req.expirationSeconds;
  let warnAfter: number | undefined;
  if (pod && req.expirationSeconds === WARN_ONLY_BOUND_TOKEN_EXPIRATION_SECONDS && audiences.every((a) => API_AUDIENCES.includes(a))) {
    warnAfter = req.expirationSeconds;
    lifetime = EXTENDED_EXPIRATION_SECONDS;
  }
  const claims = serviceAccountClaims({ sa, pod, secret, node, audiences, expirationSeconds: lifetime, warnAfterSeconds: warnAfter, now });
  const key = await serviceAccountKeys(rest, registry).signingKey();
  const token = signEs256(claims as unknown as Record<string, unknown>, key.privateKey, key.kid);
  return {
    kind: 'TokenRequest',
    apiVersion: API_VERSION,
    metadata: { name, namespace, ...withoutKeys(req.metadata, ['name', 'namespace', 'creationTimestamp']), creationTimestamp: null },
    spec: { audiences, expirationSeconds: req.expirationSeconds, boundObjectRef: ref },
    status: { token, expirationTimestamp: rfc3339(new Date(claims.iat * 1000 + req.expirationSeconds * 1000)) },
  };
}
