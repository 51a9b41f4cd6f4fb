// Service account tokens in-process through the Hono app over a real SQLite store: TokenRequest
// (defaults, validation, claims, bindings), authenticating with the issued JWTs (and what
// invalidates them), the node rules for tokens, discovery, and the ServiceAccount admission
// plugin's kube-api-access volume.
import { createPublicKey, generateKeyPairSync } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startInProcessApi, type InProcessApi } from './in-process-api.js';
import type { Registry } from '../../shared/api/registry.js';
import type { Store } from '../../shared/store/contract.js';
import { bootstrapCluster } from '../../shared/apiserver/bootstrap.js';
import { createApiServer, type ApiServer } from '../../functions/apiserver/app.js';
import { staticTokenAuthenticator } from '../../functions/apiserver/auth.js';
import { createLogger } from '../../shared/apiserver/logger.js';
import { issueNodeCredential } from '../../shared/apiserver/node-credentials.js';
import { signEs256 } from '../../shared/apiserver/jws-es256.js';
import { serviceAccountTokenAuthenticator } from '../../shared/apiserver/service-account-authenticator.js';
import { SIGNING_KEY_SECRET_NAME } from '../../shared/apiserver/service-account-keys.js';

const ADMIN = 'admin-token';
const NS = 'satok';
let api: InProcessApi;
let store: Store;
let server: ApiServer;
let registry: Registry;

type Result = { status: number; json: any; text: string };

async function call(method: string, path: string, opts: { body?: unknown; token?: string | null } = {}): Promise<Result> {
  return api.request(method, path, { body: opts.body, token: opts.token });
}

async function ok(method: string, path: string, opts: Parameters<typeof call>[2] = {}): Promise<any> {
  const r = await call(method, path, opts);
  if (r.status >= 300) throw new Error(`${method} ${path} -> ${r.status}: ${r.text}`);
  return r.json;
}

const tokenPath = (sa: string, ns = NS) => `/api/v1/namespaces/${ns}/serviceaccounts/${sa}/token`;
const requestToken = (sa: string, spec: Record<string, unknown> = {}, token?: string) =>
  call('POST', tokenPath(sa), { token, body: { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec } });
const claimsOf = (jwt: string) => JSON.parse(Buffer.from(jwt.split('.')[1], 'base64url').toString('utf8'));
const headerOf = (jwt: string) => JSON.parse(Buffer.from(jwt.split('.')[0], 'base64url').toString('utf8'));
const createSa = (name: string, extra: Record<string, unknown> = {}) => ok('POST', `/api/v1/namespaces/${NS}/serviceaccounts`, { body: { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name }, ...extra } });
const createPod = (name: string, spec: Record<string, unknown> = {}) =>
  ok('POST', `/api/v1/namespaces/${NS}/pods`, { body: { apiVersion: 'v1', kind: 'Pod', metadata: { name }, spec: { containers: [{ name: 'c', image: 'busybox' }], ...spec } } });
const podRef = (pod: any) => ({ apiVersion: 'v1', kind: 'Pod', name: pod.metadata.name, uid: pod.metadata.uid });

beforeAll(async () => {
  api = await startInProcessApi({ name: 'satok', adminToken: ADMIN, adminGroups: ['system:masters', 'system:authenticated'] });
  ({ store, server } = api);
  registry = api.registry;
  await bootstrapCluster(server.rest, registry, 443);
  await ok('POST', '/api/v1/namespaces', { body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } } });
  await createSa('default');
  await ok('POST', '/api/v1/nodes', { body: { apiVersion: 'v1', kind: 'Node', metadata: { name: 'sa-node-a' } } });
});

afterAll(() => api.close());

describe('TokenRequest', () => {
  it('issues an ES256 token with kube-apiserver defaults and claims', async () => {
    const before = Math.floor(Date.now() / 1000);
    const r = await requestToken('default');
    expect(r.status).toBe(201);
    expect(r.json).toMatchObject({ kind: 'TokenRequest', apiVersion: 'authentication.k8s.io/v1', spec: { audiences: ['https://kubernetes.default.svc.cluster.local'], expirationSeconds: 3600, boundObjectRef: null } });
    const sa = await ok('GET', `/api/v1/namespaces/${NS}/serviceaccounts/default`);
    const header = headerOf(r.json.status.token);
    expect(header.alg).toBe('ES256');
    expect(header.kid).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const c = claimsOf(r.json.status.token);
    expect(Object.keys(c)).toEqual(['aud', 'exp', 'iat', 'iss', 'jti', 'kubernetes.io', 'nbf', 'sub']);
    expect(c.iss).toBe('https://kubernetes.default.svc.cluster.local');
    expect(c.sub).toBe(`system:serviceaccount:${NS}:default`);
    expect(c.aud).toEqual(['https://kubernetes.default.svc.cluster.local']);
    expect(c.iat).toBeGreaterThanOrEqual(before);
    expect(c.nbf).toBe(c.iat);
    expect(c.exp).toBe(c.iat + 3600);
    expect(c.jti).toMatch(/^[0-9a-f-]{36}$/);
    expect(c['kubernetes.io']).toEqual({ namespace: NS, serviceaccount: { name: 'default', uid: sa.metadata.uid } });
    expect(Date.parse(r.json.status.expirationTimestamp) / 1000).toBe(c.exp);
  });

  it('keeps the signing key in a kube-system Secret shared by every API server on the store', async () => {
    const r = await requestToken('default');
    const secret = await ok('GET', `/api/v1/namespaces/kube-system/secrets/${SIGNING_KEY_SECRET_NAME}`);
    const publicKey = createPublicKey(Buffer.from(secret.data['pub.pem'], 'base64').toString('utf8'));
    expect(publicKey.asymmetricKeyType).toBe('ec');
    expect(secret.metadata.annotations['stratus.dev/key-id']).toBe(headerOf(r.json.status.token).kid);
    // A second API server on the same store verifies the first one's tokens.
    const other = createApiServer({ store, registry, log: createLogger('silent'), serverAddress: '127.0.0.1:0', authenticator: staticTokenAuthenticator({}) });
    const res = await other.app.request(`/api/v1/namespaces/${NS}/serviceaccounts`, { headers: { Authorization: `Bearer ${r.json.status.token}` } });
    expect(res.status).toBe(200);
  });

  it('honours audiences and expirationSeconds and validates the lifetime as kube-apiserver does', async () => {
    const r = await requestToken('default', { audiences: ['vault', 'other'], expirationSeconds: 7200 });
    expect(r.status).toBe(201);
    const c = claimsOf(r.json.status.token);
    expect(c.aud).toEqual(['vault', 'other']);
    expect(c.exp - c.iat).toBe(7200);
    const short = await requestToken('default', { expirationSeconds: 60 });
    expect(short.status).toBe(422);
    expect(short.json.message).toBe('TokenRequest.authentication.k8s.io "" is invalid: spec.expirationSeconds: Invalid value: 60: may not specify a duration less than 10 minutes');
    const long = await requestToken('default', { expirationSeconds: 2 ** 32 + 1 });
    expect(long.status).toBe(422);
    expect(long.json.message).toContain('may not specify a duration larger than 2^32 seconds');
  });

  it('answers 404 for a missing service account and 405 for other methods', async () => {
    const r = await requestToken('nobody');
    expect(r.status).toBe(404);
    expect(r.json.message).toBe('serviceaccounts "nobody" not found');
    expect((await call('GET', tokenPath('default'))).status).toBe(405);
    expect((await call('POST', `/api/v1/namespaces/${NS}/pods/x/token`, { body: {} })).status).toBe(404);
  });

  it('binds to a pod (and names its node) or a Secret, checking names and uids', async () => {
    const pod = await createPod('bound', { nodeName: 'sa-node-a' });
    const node = await ok('GET', '/api/v1/nodes/sa-node-a');
    const r = await requestToken('default', { boundObjectRef: podRef(pod) });
    expect(r.status).toBe(201);
    expect(claimsOf(r.json.status.token)['kubernetes.io']).toMatchObject({ pod: { name: 'bound', uid: pod.metadata.uid }, node: { name: 'sa-node-a', uid: node.metadata.uid } });

    const stale = await requestToken('default', { boundObjectRef: { ...podRef(pod), uid: 'stale' } });
    expect(stale.status).toBe(409);
    expect(stale.json.message).toBe('Operation cannot be fulfilled on Pod "bound": the UID in the bound object reference (stale) does not match the UID in record. The object might have been deleted and then recreated');

    await createSa('other');
    const wrongSa = await requestToken('other', { boundObjectRef: podRef(pod) });
    expect(wrongSa.status).toBe(400);
    expect(wrongSa.json.message).toBe('cannot bind token for serviceaccount "other" to pod running with different serviceaccount name.');

    const kind = await requestToken('default', { boundObjectRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'd' } });
    expect(kind.status).toBe(400);
    expect(kind.json.message).toBe('cannot bind token to object of type apps/v1, Kind=Deployment');

    const secret = await ok('POST', `/api/v1/namespaces/${NS}/secrets`, { body: { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'binder' } } });
    const s = await requestToken('default', { boundObjectRef: { apiVersion: 'v1', kind: 'Secret', name: 'binder' } });
    expect(claimsOf(s.json.status.token)['kubernetes.io'].secret).toEqual({ name: 'binder', uid: secret.metadata.uid });
  });

  it('extends pod-bound 3607 s tokens to a year with warnafter, reporting the requested expiry', async () => {
    const pod = await createPod('extended');
    const r = await requestToken('default', { expirationSeconds: 3607, boundObjectRef: podRef(pod) });
    const c = claimsOf(r.json.status.token);
    expect(c.exp - c.iat).toBe(365 * 24 * 3600);
    expect(c['kubernetes.io'].warnafter).toBe(c.iat + 3607);
    expect(Date.parse(r.json.status.expirationTimestamp) / 1000).toBe(c.iat + 3607);
  });

  it('lists serviceaccounts/token in discovery', async () => {
    const list = await ok('GET', '/api/v1');
    expect(list.resources).toContainEqual({ name: 'serviceaccounts/token', singularName: '', namespaced: true, group: 'authentication.k8s.io', version: 'v1', kind: 'TokenRequest', verbs: ['create'] });
    const res = await server.app.request('/api', { headers: { Authorization: `Bearer ${ADMIN}`, Accept: 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList' } });
    const sa = (await res.json()).items[0].versions[0].resources.find((r: any) => r.resource === 'serviceaccounts');
    expect(sa.subresources).toEqual([{ subresource: 'token', responseKind: { group: 'authentication.k8s.io', version: 'v1', kind: 'TokenRequest' }, verbs: ['create'] }]);
  });
});

describe('authenticating with service account tokens', () => {
  const whoCanList = async (token: string) => (await call('GET', `/api/v1/namespaces/${NS}/pods`, { token })).status;

  it('authenticates as system:serviceaccount:<ns>:<name> with the service account groups and pod extras', async () => {
    const pod = await createPod('who', { nodeName: 'sa-node-a' });
    const sa = await ok('GET', `/api/v1/namespaces/${NS}/serviceaccounts/default`);
    const token = (await requestToken('default', { boundObjectRef: podRef(pod) })).json.status.token;
    expect(await whoCanList(token)).toBe(200);
    const user = await serviceAccountTokenAuthenticator(server.rest, registry).authenticateToken(token);
    expect(user).toEqual({
      username: `system:serviceaccount:${NS}:default`,
      uid: sa.metadata.uid,
      groups: ['system:serviceaccounts', `system:serviceaccounts:${NS}`, 'system:authenticated'],
      extra: {
        'authentication.kubernetes.io/pod-name': ['who'],
        'authentication.kubernetes.io/pod-uid': [pod.metadata.uid],
        'authentication.kubernetes.io/node-name': ['sa-node-a'],
        'authentication.kubernetes.io/node-uid': [(await ok('GET', '/api/v1/nodes/sa-node-a')).metadata.uid],
        'authentication.kubernetes.io/credential-id': [`JTI=${claimsOf(token).jti}`],
      },
    });
  });

  it('answers 401 for tampered, foreign-key, wrong-audience and expired tokens', async () => {
    const token = (await requestToken('default')).json.status.token as string;
    const [h, p, s] = token.split('.');
    const payload = claimsOf(token);
    const tampered = `${h}.${Buffer.from(JSON.stringify({ ...payload, sub: `system:serviceaccount:${NS}:other` })).toString('base64url')}.${s}`;
    expect(await whoCanList(tampered)).toBe(401);
    const foreign = generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey;
    expect(await whoCanList(signEs256(payload, foreign, headerOf(token).kid))).toBe(401);
    const r = await call('GET', `/api/v1/namespaces/${NS}/pods`, { token: `${h}.${p}.${s.slice(0, -2)}AA` });
    expect(r.status).toBe(401);
    expect(r.json).toMatchObject({ kind: 'Status', reason: 'Unauthorized', message: 'Unauthorized', code: 401 });
    const other = (await requestToken('default', { audiences: ['vault'] })).json.status.token;
    expect(await whoCanList(other)).toBe(401);
    // Expired more than the minute of leeway ago (checked with a clock two hours ahead).
    const later = serviceAccountTokenAuthenticator(server.rest, registry, { clock: () => Date.now() + 2 * 3600_000 });
    expect(await later.authenticateToken(token)).toBeUndefined();
    const almost = serviceAccountTokenAuthenticator(server.rest, registry, { clock: () => Date.now() + 3600_000 + 30_000 });
    expect(await almost.authenticateToken(token)).toBeDefined();
  });

  it('stops accepting a token when its service account or bound pod is deleted or recreated', async () => {
    await createSa('shortlived');
    const saToken = (await requestToken('shortlived')).json.status.token;
    expect(await whoCanList(saToken)).toBe(200);
    await ok('DELETE', `/api/v1/namespaces/${NS}/serviceaccounts/shortlived`);
    await createSa('shortlived');
    expect(await whoCanList(saToken)).toBe(401);

    const pod = await createPod('gone');
    const podToken = (await requestToken('default', { boundObjectRef: podRef(pod) })).json.status.token;
    expect(await whoCanList(podToken)).toBe(200);
    await ok('DELETE', `/api/v1/namespaces/${NS}/pods/gone?gracePeriodSeconds=0`);
    expect(await whoCanList(podToken)).toBe(401);

    const secret = await ok('POST', `/api/v1/namespaces/${NS}/secrets`, { body: { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'gone-secret' } } });
    const secretToken = (await requestToken('default', { boundObjectRef: { apiVersion: 'v1', kind: 'Secret', name: 'gone-secret', uid: secret.metadata.uid } })).json.status.token;
    expect(await whoCanList(secretToken)).toBe(200);
    await ok('DELETE', `/api/v1/namespaces/${NS}/secrets/gone-secret`);
    expect(await whoCanList(secretToken)).toBe(401);
  });

  it('keeps a token of a pod in its deletion grace period valid until the grace has passed', async () => {
    const pod = await createPod('graceful', { nodeName: 'sa-node-a' });
    const token = (await requestToken('default', { boundObjectRef: podRef(pod) })).json.status.token;
    // A bound pod (nodeName set) is deleted gracefully: deletionTimestamp is 30 s ahead.
    await ok('DELETE', `/api/v1/namespaces/${NS}/pods/graceful`);
    expect(await whoCanList(token)).toBe(200);
    const afterGrace = serviceAccountTokenAuthenticator(server.rest, registry, { clock: () => Date.now() + 30_000 + 61_000 });
    expect(await afterGrace.authenticateToken(token)).toBeUndefined();
  });
});

describe('node rules for tokens', () => {
  let nodeA: string;
  let nodeB: string;
  let pod: any;

  beforeAll(async () => {
    nodeA = await issueNodeCredential(server.rest, registry, 'sa-node-a', 'test');
    nodeB = await issueNodeCredential(server.rest, registry, 'sa-node-b', 'test');
    await createSa('runner');
    pod = await createPod('on-a', { nodeName: 'sa-node-a', serviceAccountName: 'runner' });
  });

  it('lets a node request a token for a pod bound to it', async () => {
    const r = await requestToken('runner', { boundObjectRef: podRef(pod) }, nodeA);
    expect(r.status).toBe(201);
    expect(claimsOf(r.json.status.token)['kubernetes.io'].pod.uid).toBe(pod.metadata.uid);
  });

  it("refuses other nodes, unbound tokens and foreign service accounts with kube-apiserver's wording", async () => {
    const other = await requestToken('runner', { boundObjectRef: podRef(pod) }, nodeB);
    expect(other.status).toBe(403);
    expect(other.json.message).toBe(`serviceaccounts "runner" is forbidden: User "system:node:sa-node-b" cannot create resource "serviceaccounts/token" in API group "" in the namespace "${NS}": no relationship found between node 'sa-node-b' and this object`);

    const unbound = await requestToken('runner', {}, nodeA);
    expect(unbound.status).toBe(403);
    expect(unbound.json.message).toBe('serviceaccounts "runner" is forbidden: node requested token not bound to a pod');

    const noUid = await requestToken('runner', { boundObjectRef: { apiVersion: 'v1', kind: 'Pod', name: 'on-a' } }, nodeA);
    expect(noUid.json.message).toBe('serviceaccounts "runner" is forbidden: node requested token with a pod binding without a uid');

    const stale = await requestToken('runner', { boundObjectRef: { ...podRef(pod), uid: 'stale' } }, nodeA);
    expect(stale.json.message).toBe('serviceaccounts "runner" is forbidden: the UID in the bound object reference (stale) does not match the UID in record. The object might have been deleted and then recreated');

    // "default" has a pod on node A too, but not the one named in the binding.
    await createPod('default-on-a', { nodeName: 'sa-node-a' });
    const offNode = await createPod('off-node', { nodeName: 'sa-node-b' });
    const elsewhere = await requestToken('default', { boundObjectRef: podRef(offNode) }, nodeA);
    expect(elsewhere.json.message).toBe('serviceaccounts "default" is forbidden: node requested token bound to a pod scheduled on a different node');

    const unrelated = await requestToken('other', {}, nodeA);
    expect(unrelated.status).toBe(403);
    expect(unrelated.json.message).toContain("no relationship found between node 'sa-node-a' and this object");

    const read = await call('GET', `/api/v1/namespaces/${NS}/serviceaccounts/runner`, { token: nodeA });
    expect(read.status).toBe(403);
    expect(read.json.message).toContain('can only create tokens for individual service accounts');
  });
});

describe('ServiceAccount admission: the kube-api-access volume', () => {
  const MOUNT = '/var/run/secrets/kubernetes.io/serviceaccount';

  it('adds the projected volume and a read-only mount to every container and init container', async () => {
    const pod = await createPod('mounted', { initContainers: [{ name: 'init', image: 'busybox' }], containers: [{ name: 'a', image: 'busybox' }, { name: 'b', image: 'busybox', volumeMounts: [{ name: 'x', mountPath: '/x' }] }], volumes: [{ name: 'x', emptyDir: {} }] });
    const volumes = pod.spec.volumes;
    expect(volumes).toHaveLength(2);
    const name = volumes[1].name;
    expect(name).toMatch(/^kube-api-access-[bcdfghjklmnpqrstvwxz2456789]{5}$/);
    expect(volumes[1]).toEqual({
      name,
      projected: {
        sources: [
          { serviceAccountToken: { expirationSeconds: 3607, path: 'token' } },
          { configMap: { name: 'kube-root-ca.crt', items: [{ key: 'ca.crt', path: 'ca.crt' }] } },
          { downwardAPI: { items: [{ path: 'namespace', fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.namespace' } }] } },
        ],
        defaultMode: 420,
      },
    });
    // Field order as kube-apiserver 1.26 writes it (captured response).
    expect(JSON.stringify(volumes[1])).toBe(
      `{"name":"${name}","projected":{"sources":[{"serviceAccountToken":{"expirationSeconds":3607,"path":"token"}},{"configMap":{"name":"kube-root-ca.crt","items":[{"key":"ca.crt","path":"ca.crt"}]}},{"downwardAPI":{"items":[{"path":"namespace","fieldRef":{"apiVersion":"v1","fieldPath":"metadata.namespace"}}]}}],"defaultMode":420}}`,
    );
    const mount = { name, readOnly: true, mountPath: MOUNT };
    expect(JSON.stringify(pod.spec.containers[0].volumeMounts[0])).toBe(`{"name":"${name}","readOnly":true,"mountPath":"${MOUNT}"}`);
    expect(pod.spec.initContainers[0].volumeMounts).toEqual([mount]);
    expect(pod.spec.containers[0].volumeMounts).toEqual([mount]);
    expect(pod.spec.containers[1].volumeMounts).toEqual([{ name: 'x', mountPath: '/x' }, mount]);
  });

  it('leaves containers that already mount the path alone and skips the volume when none needs it', async () => {
    const pod = await createPod('own-mount', { containers: [{ name: 'a', image: 'busybox', volumeMounts: [{ name: 'mine', mountPath: MOUNT }] }], volumes: [{ name: 'mine', emptyDir: {} }] });
    expect(pod.spec.volumes.map((v: any) => v.name)).toEqual(['mine']);
    expect(pod.spec.containers[0].volumeMounts).toEqual([{ name: 'mine', mountPath: MOUNT }]);
  });

  it('respects automountServiceAccountToken: false on the pod or the service account, the pod winning', async () => {
    const off = await createPod('no-automount', { automountServiceAccountToken: false });
    expect(off.spec.volumes).toBeUndefined();
    expect(off.spec.containers[0].volumeMounts).toBeUndefined();
    await createSa('quiet', { automountServiceAccountToken: false });
    const quiet = await createPod('quiet-sa', { serviceAccountName: 'quiet' });
    expect(quiet.spec.volumes).toBeUndefined();
    const override = await createPod('quiet-override', { serviceAccountName: 'quiet', automountServiceAccountToken: true });
    expect(override.spec.volumes).toHaveLength(1);
  });

  it('does not touch mirror pods', async () => {
    const mirror = await ok('POST', `/api/v1/namespaces/${NS}/pods`, {
      body: { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'static', annotations: { 'kubernetes.io/config.mirror': 'abc' } }, spec: { nodeName: 'sa-node-a', containers: [{ name: 'c', image: 'busybox' }] } },
    });
    expect(mirror.spec.volumes).toBeUndefined();
  });
});
