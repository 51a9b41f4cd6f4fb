// Joining, in-process through the Hono app over a real SQLite store: bootstrap token
// authentication (usable, expired, malformed, wrong secret, not for authentication -> 401), the
// bootstrapper's only power (exchanging its token for a node credential), and what a node
// credential may do: its own Node, Lease and pods, with kube-apiserver's 403 wording for the rest.
import { createHash, createHmac, generateKeyPairSync } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startInProcessApi, type InProcessApi } from './in-process-api.js';
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { bootstrapCluster } from '../../shared/apiserver/bootstrap.js';
import type { ApiServer } from '../../functions/apiserver/app.js';
import { bootstrapTokenSecret } from '../../shared/apiserver/bootstrap-tokens.js';
import { caCertHash, detachedJws, jwsMatches, publishClusterInfo } from '../../shared/apiserver/cluster-info.js';
import { ensurePki } from '../../cli/pki.js';

const ADMIN = 'admin-token';
const BOOT = 'abcdef.0123456789abcdef';
const EXCHANGE = '/stratus/v1/nodecredentialrequests';
let api: InProcessApi;
let dir: string;
let server: ApiServer;
let caPem: string;

type Result = { status: number; json: any; text: string };

async function call(method: string, path: string, opts: { body?: unknown; token?: string | null; contentType?: string } = {}): Promise<Result> {
  return api.request(method, path, { body: opts.body, token: opts.token, headers: opts.contentType ? { 'Content-Type': opts.contentType } : {} });
}

async function ok(method: string, path: string, opts: Parameters<typeof call>[2] = {}): Promise<any> {
  const r = await call(method, path, opts);
  if (r.status >= 300) throw new Error(`${method} ${path} -> ${r.status}: ${r.text}`);
  return r.json;
}

const addToken = (token: string, opts: Parameters<typeof bootstrapTokenSecret>[1] = {}, now?: Date) =>
  ok('POST', '/api/v1/namespaces/kube-system/secrets', { body: bootstrapTokenSecret(token, { groups: ['system:bootstrappers:stratus:default-node-token'], ...opts }, now) });

const exchange = (token: string | null, nodeName: unknown) => call('POST', EXCHANGE, { token, body: { apiVersion: 'stratus.dev/v1', kind: 'NodeCredentialRequest', spec: { nodeName } } });

const pod = (name: string, nodeName: string, extra: Record<string, unknown> = {}) => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, namespace: 'default' },
  spec: { nodeName, containers: [{ name: 'c', image: 'busybox', ...extra }] },
});

beforeAll(async () => {
  api = await startInProcessApi({ name: 'join', adminToken: ADMIN, adminGroups: ['system:masters', 'system:authenticated'] });
  ({ dir, server } = api);
  const registry = api.registry;
  await bootstrapCluster(server.rest, registry, 443);
  caPem = (await ensurePki(dir)).caCert;
  await addToken(BOOT);
});

afterAll(() => api.close());

describe('bootstrap token authentication', () => {
  it('accepts a usable token as system:bootstrap:<id> (the exchange answers 201)', async () => {
    const r = await exchange(BOOT, 'auth-ok');
    expect(r.status).toBe(201);
    expect(r.json.status.user).toEqual({ username: 'system:node:auth-ok', groups: ['system:nodes'] });
    const secret = await ok('GET', `/api/v1/namespaces/kube-system/secrets/node-credential-${r.json.status.token.split('.')[0]}`);
    expect(secret.metadata.annotations['stratus.dev/issued-by']).toBe('system:bootstrap:abcdef');
  });

  it('rejects expired, unparseable-expiry, wrong-secret, malformed and non-authentication tokens with 401', async () => {
    await addToken('expird.0123456789abcdef', { ttlMs: 60_000 }, new Date(Date.now() - 120_000));
    await addToken('noauth.0123456789abcdef', { usages: ['signing'] });
    await addToken('badgrp.0123456789abcdef');
    await ok('PATCH', '/api/v1/namespaces/kube-system/secrets/bootstrap-token-badgrp', {
      contentType: 'application/merge-patch+json',
      body: { data: { 'auth-extra-groups': Buffer.from('system:masters').toString('base64') } },
    });
    await addToken('badexp.0123456789abcdef');
    await ok('PATCH', '/api/v1/namespaces/kube-system/secrets/bootstrap-token-badexp', {
      contentType: 'application/merge-patch+json',
      body: { data: { expiration: Buffer.from('tomorrow').toString('base64') } },
    });
    for (const token of ['expird.0123456789abcdef', 'noauth.0123456789abcdef', 'badgrp.0123456789abcdef', 'badexp.0123456789abcdef', 'abcdef.0123456789abcdeX', 'abcdef.ffffffffffffffff', 'abcdef0123456789abcdef', 'ABCDEF.0123456789ABCDEF', 'zzzzzz.0123456789abcdef']) {
      const r = await exchange(token, 'never');
      expect(r.status, token).toBe(401);
      expect(r.json).toMatchObject({ kind: 'Status', reason: 'Unauthorized', message: 'Unauthorized', code: 401 });
    }
  });

  it('rejects a token whose Secret has the wrong type or is in the wrong place', async () => {
    const secret = bootstrapTokenSecret('wrongt.0123456789abcdef');
    await ok('POST', '/api/v1/namespaces/kube-system/secrets', { body: { ...secret, type: 'Opaque' } });
    await ok('POST', '/api/v1/namespaces/default/secrets', { body: { ...bootstrapTokenSecret('elsewh.0123456789abcdef'), metadata: { name: 'bootstrap-token-elsewh', namespace: 'default' } } });
    expect((await exchange('wrongt.0123456789abcdef', 'x')).status).toBe(401);
    expect((await exchange('elsewh.0123456789abcdef', 'x')).status).toBe(401);
  });

  it('stops accepting a token once its Secret is deleted', async () => {
    await addToken('gone00.0123456789abcdef');
    expect((await exchange('gone00.0123456789abcdef', 'gone-a')).status).toBe(201);
    await ok('DELETE', '/api/v1/namespaces/kube-system/secrets/bootstrap-token-gone00');
    expect((await exchange('gone00.0123456789abcdef', 'gone-b')).status).toBe(401);
  });
});

describe('bootstrappers', () => {
  it('may only exchange: everything else is 403 in kube-apiserver wording', async () => {
    const listPods = await call('GET', '/api/v1/pods', { token: BOOT });
    expect(listPods.status).toBe(403);
    expect(listPods.json).toEqual({
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: 'pods is forbidden: User "system:bootstrap:abcdef" cannot list resource "pods" in API group "" at the cluster scope',
      reason: 'Forbidden',
      details: { kind: 'pods' },
      code: 403,
    });
    const getSecret = await call('GET', '/api/v1/namespaces/kube-system/secrets/bootstrap-token-abcdef', { token: BOOT });
    expect(getSecret.status).toBe(403);
    expect(getSecret.json.message).toBe('secrets "bootstrap-token-abcdef" is forbidden: User "system:bootstrap:abcdef" cannot get resource "secrets" in API group "" in the namespace "kube-system"');
    expect(getSecret.json.details).toEqual({ name: 'bootstrap-token-abcdef', kind: 'secrets' });
    const createNode = await call('POST', '/api/v1/nodes', { token: BOOT, body: { apiVersion: 'v1', kind: 'Node', metadata: { name: 'sneaky' } } });
    expect(createNode.json.message).toBe('nodes is forbidden: User "system:bootstrap:abcdef" cannot create resource "nodes" in API group "" at the cluster scope');
    const lease = await call('GET', '/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases', { token: BOOT });
    expect(lease.json.message).toBe('leases.coordination.k8s.io is forbidden: User "system:bootstrap:abcdef" cannot list resource "leases" in API group "coordination.k8s.io" in the namespace "kube-node-lease"');
    expect(lease.json.details).toEqual({ group: 'coordination.k8s.io', kind: 'leases' });
    // Discovery stays readable, as system:discovery grants every authenticated user.
    expect((await call('GET', '/api/v1', { token: BOOT })).status).toBe(200);
  });

  it('must name a valid node', async () => {
    const missing = await exchange(BOOT, undefined);
    expect(missing.status).toBe(422);
    expect(missing.json.message).toContain('spec.nodeName: Required value');
    const bad = await exchange(BOOT, 'Not_A_Node');
    expect(bad.status).toBe(422);
    expect(bad.json.details.causes[0]).toMatchObject({ reason: 'FieldValueInvalid', field: 'spec.nodeName' });
    expect((await call('POST', EXCHANGE, { token: BOOT, body: '{' })).status).toBe(400);
  });
});

describe('node credentials', () => {
  let n1: string;
  let n2: string;

  beforeAll(async () => {
    n1 = (await exchange(BOOT, 'n1')).json.status.token;
    n2 = (await exchange(BOOT, 'n2')).json.status.token;
  });

  it('are stored only as a digest, one per node name; issuing again revokes the previous one', async () => {
    const first = (await exchange(BOOT, 'rotating')).json.status.token as string;
    const secrets = (await ok('GET', '/api/v1/namespaces/kube-system/secrets?labelSelector=stratus.dev/node-credential')).items;
    const stored = secrets.find((s: any) => Buffer.from(s.data['node-name'], 'base64').toString() === 'rotating');
    expect(stored.type).toBe('stratus.dev/node-credential');
    expect(JSON.stringify(stored)).not.toContain(first.split('.')[1]);
    expect(Buffer.from(stored.data['token-sha256'], 'base64').toString()).toBe(createHash('sha256').update(first).digest('hex'));
    const second = (await exchange(BOOT, 'rotating')).json.status.token as string;
    expect(second).not.toBe(first);
    expect((await call('GET', '/api/v1/nodes', { token: first })).status).toBe(401);
    expect((await call('GET', '/api/v1/nodes', { token: second })).status).toBe(200);
  });

  it('cannot be used to exchange again', async () => {
    const r = await exchange(n1, 'n3');
    expect(r.status).toBe(403);
    expect(r.json.message).toBe('forbidden: User "system:node:n1" cannot post path "/stratus/v1/nodecredentialrequests"');
    expect(r.json.details).toEqual({});
  });

  it('let a node register itself, report status, heartbeat, and read what it needs', async () => {
    await ok('POST', '/api/v1/nodes', { token: n1, body: { apiVersion: 'v1', kind: 'Node', metadata: { name: 'n1' } } });
    await ok('PATCH', '/api/v1/nodes/n1', { token: n1, contentType: 'application/merge-patch+json', body: { metadata: { labels: { a: 'b' } } } });
    await ok('PATCH', '/api/v1/nodes/n1/status', { token: n1, contentType: 'application/merge-patch+json', body: { status: { conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'ready' }] } } });
    const lease = { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: 'n1', namespace: 'kube-node-lease' }, spec: { holderIdentity: 'n1', leaseDurationSeconds: 40 } };
    await ok('POST', '/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases', { token: n1, body: lease });
    await ok('PATCH', '/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/n1', { token: n1, contentType: 'application/merge-patch+json', body: { spec: { renewTime: '2024-01-01T00:00:00.000000Z' } } });
    expect((await ok('GET', '/api/v1/nodes', { token: n1 })).items.length).toBeGreaterThan(0);
    await ok('GET', '/api/v1/pods?fieldSelector=spec.nodeName%3Dn1', { token: n1 });
    await ok('GET', '/api/v1/services', { token: n1 });
    await ok('GET', '/api/v1/namespaces/default/endpoints', { token: n1 });
    await ok('GET', '/apis/discovery.k8s.io/v1/endpointslices', { token: n1 });
    const event = { apiVersion: 'v1', kind: 'Event', metadata: { name: 'n1.start', namespace: 'default' }, involvedObject: { kind: 'Node', name: 'n1' }, reason: 'Starting', message: 'Starting kubelet.', type: 'Normal', source: { component: 'kubelet', host: 'n1' } };
    await ok('POST', '/api/v1/namespaces/default/events', { token: n1, body: event });
  });

  it('let a node write status of and delete only the pods bound to it', async () => {
    await ok('POST', '/api/v1/namespaces/default/pods', { body: pod('on-n1', 'n1') });
    await ok('POST', '/api/v1/namespaces/default/pods', { body: pod('on-n2', 'n2') });
    await ok('PATCH', '/api/v1/namespaces/default/pods/on-n1/status', { token: n1, contentType: 'application/merge-patch+json', body: { status: { phase: 'Running' } } });

    const status = await call('PATCH', '/api/v1/namespaces/default/pods/on-n2/status', { token: n1, contentType: 'application/merge-patch+json', body: { status: { phase: 'Failed' } } });
    expect(status.status).toBe(403);
    expect(status.json.message).toBe('pods "on-n2" is forbidden: node "n1" can only update pod status for pods with spec.nodeName set to itself');
    expect(status.json.details).toEqual({ name: 'on-n2', kind: 'pods' });

    const del = await call('DELETE', '/api/v1/namespaces/default/pods/on-n2', { token: n1 });
    expect(del.status).toBe(403);
    expect(del.json.message).toBe('pods "on-n2" is forbidden: node "n1" can only delete pods with spec.nodeName set to itself');
    await ok('DELETE', '/api/v1/namespaces/default/pods/on-n1', { token: n1, body: { apiVersion: 'v1', kind: 'DeleteOptions', gracePeriodSeconds: 0 } });
    expect((await call('DELETE', '/api/v1/namespaces/default/pods/no-such-pod', { token: n1 })).status).toBe(404);

    const evict = await call('POST', '/api/v1/namespaces/default/pods/on-n2/eviction', { token: n1, body: { apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name: 'on-n2', namespace: 'default' } } });
    expect(evict.json.message).toBe('pods "on-n2" is forbidden: node n1 can only evict pods with spec.nodeName set to itself');

    const create = await call('POST', '/api/v1/namespaces/default/pods', { token: n1, body: pod('by-node', 'n1') });
    expect(create.json.message).toBe('pods is forbidden: User "system:node:n1" cannot create resource "pods" in API group "" in the namespace "default"');
  });

  it("refuse another node's Node and Lease with kube-apiserver's messages", async () => {
    const createOther = await call('POST', '/api/v1/nodes', { token: n1, body: { apiVersion: 'v1', kind: 'Node', metadata: { name: 'n2' } } });
    expect(createOther.status).toBe(403);
    expect(createOther.json.message).toBe('nodes "n2" is forbidden: node "n1" is not allowed to modify node "n2"');
    await ok('POST', '/api/v1/nodes', { token: n2, body: { apiVersion: 'v1', kind: 'Node', metadata: { name: 'n2' } } });
    const patchOther = await call('PATCH', '/api/v1/nodes/n2/status', { token: n1, contentType: 'application/merge-patch+json', body: { status: { conditions: [] } } });
    expect(patchOther.json.message).toBe('nodes "n2" is forbidden: node "n1" is not allowed to modify node "n2"');
    const deleteSelf = await call('DELETE', '/api/v1/nodes/n1', { token: n1 });
    expect(deleteSelf.json.message).toBe('nodes "n1" is forbidden: User "system:node:n1" cannot delete resource "nodes" in API group "" at the cluster scope');

    const getLease = await call('GET', '/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/n2', { token: n1 });
    expect(getLease.status).toBe(403);
    expect(getLease.json).toMatchObject({
      message:
        'leases.coordination.k8s.io "n2" is forbidden: User "system:node:n1" cannot get resource "leases" in API group "coordination.k8s.io" in the namespace "kube-node-lease": can only access node lease with the same name as the requesting node',
      details: { name: 'n2', group: 'coordination.k8s.io', kind: 'leases' },
    });
    const lease = { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: 'n2', namespace: 'kube-node-lease' }, spec: { holderIdentity: 'n2' } };
    const createLease = await call('POST', '/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases', { token: n1, body: lease });
    expect(createLease.json.message).toBe('leases.coordination.k8s.io "n2" is forbidden: can only access node lease with the same name as the requesting node');
    const yamlLease = await call('POST', '/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases', { token: n1, contentType: 'application/yaml', body: 'apiVersion: coordination.k8s.io/v1\nkind: Lease\nmetadata:\n  name: n2\n' });
    expect(yamlLease.status).toBe(403);
    const elsewhere = await call('GET', '/apis/coordination.k8s.io/v1/namespaces/default/leases/n1', { token: n1 });
    expect(elsewhere.json.message).toBe(
      'leases.coordination.k8s.io "n1" is forbidden: User "system:node:n1" cannot get resource "leases" in API group "coordination.k8s.io" in the namespace "default": can only access leases in the "kube-node-lease" system namespace',
    );
    const listLeases = await call('GET', '/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases', { token: n1 });
    expect(listLeases.json.message).toBe(
      'leases.coordination.k8s.io is forbidden: User "system:node:n1" cannot list resource "leases" in API group "coordination.k8s.io" in the namespace "kube-node-lease": can only get, create, update, patch, or delete a node lease',
    );
  });

  it('let a node read only the Secrets and ConfigMaps its pods refer to', async () => {
    await ok('POST', '/api/v1/namespaces/default/configmaps', { body: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'app-config' }, data: { a: 'b' } } });
    await ok('POST', '/api/v1/namespaces/default/secrets', { body: { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'app-secret' }, data: { p: 'cA==' } } });
    await ok('POST', '/api/v1/namespaces/default/pods', {
      body: pod('uses-config', 'n1', { env: [{ name: 'P', valueFrom: { secretKeyRef: { name: 'app-secret', key: 'p' } } }], envFrom: [{ configMapRef: { name: 'app-config' } }] }),
    });
    await ok('GET', '/api/v1/namespaces/default/configmaps/app-config', { token: n1 });
    await ok('GET', '/api/v1/namespaces/default/secrets/app-secret', { token: n1 });
    await ok('GET', '/api/v1/namespaces/default/configmaps?fieldSelector=metadata.name%3Dapp-config', { token: n1 });

    const other = await call('GET', '/api/v1/namespaces/default/secrets/app-secret', { token: n2 });
    expect(other.status).toBe(403);
    expect(other.json.message).toBe(
      'secrets "app-secret" is forbidden: User "system:node:n2" cannot get resource "secrets" in API group "" in the namespace "default": no relationship found between node \'n2\' and this object',
    );
    const all = await call('GET', '/api/v1/secrets', { token: n1 });
    expect(all.json.message).toBe('secrets is forbidden: User "system:node:n1" cannot list resource "secrets" in API group "" at the cluster scope: can only read namespaced object of this type');
    const write = await call('PUT', '/api/v1/namespaces/default/configmaps/app-config', { token: n1, body: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'app-config' } } });
    expect(write.json.message).toBe('configmaps "app-config" is forbidden: User "system:node:n1" cannot update resource "configmaps" in API group "" in the namespace "default": can only read resources of this type');
  });

  it('refuse everything else', async () => {
    const deploy = await call('POST', '/apis/apps/v1/namespaces/default/deployments', { token: n1, body: {} });
    expect(deploy.json.message).toBe('deployments.apps is forbidden: User "system:node:n1" cannot create resource "deployments" in API group "apps" in the namespace "default"');
    const ns = await call('GET', '/api/v1/namespaces/default', { token: n1 });
    expect(ns.json.message).toBe('namespaces "default" is forbidden: User "system:node:n1" cannot get resource "namespaces" in API group "" in the namespace "default"');
    const watchLegacy = await call('GET', '/api/v1/watch/namespaces/default/serviceaccounts', { token: n1 });
    expect(watchLegacy.json.message).toBe('serviceaccounts is forbidden: User "system:node:n1" cannot watch resource "serviceaccounts" in API group "" in the namespace "default": can only create tokens for individual service accounts');
    const bind = await call('POST', '/api/v1/namespaces/default/pods/on-n2/binding', { token: n1, body: {} });
    expect(bind.json.message).toBe('pods "on-n2" is forbidden: User "system:node:n1" cannot create resource "pods/binding" in API group "" in the namespace "default"');
    const removeAll = await call('DELETE', '/api/v1/namespaces/default/pods', { token: n1 });
    expect(removeAll.json.message).toBe('pods is forbidden: User "system:node:n1" cannot deletecollection resource "pods" in API group "" in the namespace "default"');
  });

  it('leave admins their full access', async () => {
    expect((await call('GET', '/api/v1/namespaces/kube-system/secrets')).status).toBe(200);
    expect((await call('DELETE', '/api/v1/nodes/n2')).status).toBe(200);
  });
});

describe('cluster-info', () => {
  beforeAll(async () => {
    await publishClusterInfo(server.rest, caPem, 'https://127.0.0.1:6443');
  });

  it('is readable without credentials and nothing else is', async () => {
    const r = await call('GET', '/api/v1/namespaces/kube-public/configmaps/cluster-info', { token: null });
    expect(r.status).toBe(200);
    expect(r.json.data.kubeconfig).toContain('server: https://127.0.0.1:6443');
    expect((await call('GET', '/api/v1/namespaces/kube-public/configmaps', { token: null })).status).toBe(401);
    expect((await call('GET', '/api/v1/namespaces/kube-public/configmaps/cluster-info?watch=true', { token: null })).status).toBe(401);
    expect((await call('PUT', '/api/v1/namespaces/kube-public/configmaps/cluster-info', { token: null, body: {} })).status).toBe(401);
    expect((await call('GET', '/api/v1/namespaces/kube-public/configmaps/cluster-info', { token: 'wrong' })).status).toBe(401);
  });

  it('carries a detached HS256 JWS per signing token, checkable with the token alone', async () => {
    const { data } = (await call('GET', '/api/v1/namespaces/kube-public/configmaps/cluster-info', { token: null })).json;
    const sig = data['jws-kubeconfig-abcdef'] as string;
    const [header, payload, mac] = sig.split('.');
    expect(payload).toBe('');
    expect(JSON.parse(Buffer.from(header, 'base64url').toString())).toEqual({ alg: 'HS256', kid: 'abcdef' });
    const key = Buffer.alloc(32);
    key.write('0123456789abcdef');
    expect(mac).toBe(createHmac('sha256', key).update(`${header}.${Buffer.from(data.kubeconfig).toString('base64url')}`).digest('base64url'));
    expect(jwsMatches(sig, data.kubeconfig, 'abcdef', '0123456789abcdef')).toBe(true);
    expect(jwsMatches(sig, data.kubeconfig, 'abcdef', '0123456789abcdee')).toBe(false);
    // Tokens not marked for signing, and expired ones, are not signed for.
    expect(data['jws-kubeconfig-noauth']).toBeDefined();
    expect(data['jws-kubeconfig-expird']).toBeUndefined();
    expect(detachedJws(data.kubeconfig, 'abcdef', '0123456789abcdef')).toBe(sig);
  });

  it("pins the CA by the SHA-256 of its SubjectPublicKeyInfo", async () => {
    const spki = Buffer.from(new x509.X509Certificate(caPem).publicKey.rawData);
    expect(caCertHash(caPem)).toBe(`sha256:${createHash('sha256').update(spki).digest('hex')}`);
    const other = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ type: 'spki', format: 'der' });
    expect(caCertHash(caPem)).not.toBe(`sha256:${createHash('sha256').update(other).digest('hex')}`);
  });
});
