// The API server's semantics, exercised in-process through the Hono app over a real SQLite store:
// metadata rules, subresources, finalizers, watches (selectors, bookmarks, 410), pagination,
// Tables, dry-run, field validation and protobuf bodies.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { builtinRegistry } from '../../shared/api/registry.js';
import { openSqliteStore } from '../../shared/store/sqlite.js';
import type { Store } from '../../shared/store/contract.js';
import { createLogger } from '../../shared/apiserver/logger.js';
import { createApiServer, type ApiServer } from '../../functions/apiserver/app.js';
import { staticTokenAuthenticator } from '../../functions/apiserver/auth.js';

const TOKEN = 'test-token';
let dir: string;
let store: Store;
let server: ApiServer;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'stratus-api-'));
  store = openSqliteStore({ path: join(dir, 'db'), historyRetention: false });
  server = createApiServer({
    store,
    registry: builtinRegistry(),
    log: createLogger('silent'),
    serverAddress: '127.0.0.1:0',
    authenticator: staticTokenAuthenticator({ [TOKEN]: { username: 'admin', uid: 'a', groups: ['system:masters'] } }),
  });
  await server.namespaces.start();
  for (const name of ['default', 'other']) await call('POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
});
afterAll(async () => {
  server.namespaces.stop();
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

async function call(method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
  const init: RequestInit = { method, headers: { Authorization: `Bearer ${TOKEN}`, ...headers } };
  if (body !== undefined) {
    init.body = typeof body === 'string' || body instanceof Uint8Array ? (body as BodyInit) : JSON.stringify(body);
    (init.headers as Record<string, string>)['Content-Type'] ??= 'application/json';
  }
  const res = await server.app.request(path, init);
  const text = await res.text();
  let json: any;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, json, text, headers: res.headers };
}

/** Open a watch and collect its events until `stop()`. */
async function watch(path: string, headers: Record<string, string> = {}) {
  const controller = new AbortController();
  const res = await server.app.request(path, { headers: { Authorization: `Bearer ${TOKEN}`, ...headers }, signal: controller.signal });
  const events: any[] = [];
  const reader = res.body!.getReader();
  let buf = '';
  let ended = false;
  const pump = (async () => {
    const decoder = new TextDecoder();
    for (;;) {
      const { done, value } = await reader.read().catch(() => ({ done: true, value: undefined }));
      if (done) break;
      buf += decoder.decode(value);
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        events.push(JSON.parse(buf.slice(0, nl)));
        buf = buf.slice(nl + 1);
      }
    }
    ended = true;
  })();
  return {
    status: res.status,
    events,
    get ended() {
      return ended;
    },
    async until(n: number, ms = 5000) {
      const deadline = Date.now() + ms;
      while (events.length < n && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
      return events;
    },
    async stop() {
      await reader.cancel().catch(() => {});
      controller.abort();
      await pump;
    },
  };
}

const cm = (name: string, data: Record<string, string> = { a: '1' }, labels?: Record<string, string>) => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name, ...(labels ? { labels } : {}) },
  data,
});

const deployment = (name: string, replicas = 1) => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name },
  spec: { replicas, selector: { matchLabels: { app: name } }, template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'app', image: 'nginx' }] } } },
});

describe('metadata rules', () => {
  it('sets uid, creationTimestamp, resourceVersion and generation; generateName makes a name', async () => {
    const r = await call('POST', '/apis/apps/v1/namespaces/default/deployments', { ...deployment('x'), metadata: { generateName: 'web-' } });
    expect(r.status).toBe(201);
    expect(r.json.metadata.name).toMatch(/^web-[a-z0-9]{5}$/);
    expect(r.json.metadata.uid).toMatch(/^[0-9a-f-]{36}$/);
    expect(r.json.metadata.creationTimestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect(r.json.metadata.generation).toBe(1);
    expect(Number(r.json.metadata.resourceVersion)).toBeGreaterThan(0);
  });

  it('bumps generation on spec changes only, and keeps ownerReferences', async () => {
    const owner = { apiVersion: 'v1', kind: 'ConfigMap', name: 'owner', uid: '6f1c1b52-0000-4000-8000-000000000001' };
    const created = await call('POST', '/apis/apps/v1/namespaces/default/deployments', { ...deployment('gen'), metadata: { name: 'gen', ownerReferences: [owner] } });
    expect(created.json.metadata.ownerReferences).toEqual([owner]);
    const labelled = await call('PATCH', '/apis/apps/v1/namespaces/default/deployments/gen', { metadata: { labels: { x: 'y' } } }, { 'Content-Type': 'application/merge-patch+json' });
    expect(labelled.json.metadata.generation).toBe(1);
    const scaled = await call('PATCH', '/apis/apps/v1/namespaces/default/deployments/gen', { spec: { replicas: 5 } }, { 'Content-Type': 'application/merge-patch+json' });
    expect(scaled.json.metadata.generation).toBe(2);
    const status = await call('PATCH', '/apis/apps/v1/namespaces/default/deployments/gen/status', { status: { replicas: 5, observedGeneration: 2 } }, { 'Content-Type': 'application/merge-patch+json' });
    expect(status.json.metadata.generation).toBe(2);
    expect(status.json.status.observedGeneration).toBe(2);
    expect(status.json.metadata.ownerReferences).toEqual([owner]);
  });

  it('refuses to change immutable metadata', async () => {
    const created = await call('POST', '/api/v1/namespaces/default/configmaps', cm('imm'));
    const r = await call('PUT', '/api/v1/namespaces/default/configmaps/imm', { ...created.json, metadata: { ...created.json.metadata, name: 'other' } });
    expect(r.status).toBe(400);
    expect(r.json.message).toBe('the name of the object (other) does not match the name on the URL (imm)');
  });
});

describe('status and scale subresources', () => {
  it('the main resource ignores status; /status ignores spec', async () => {
    await call('POST', '/apis/apps/v1/namespaces/default/deployments', deployment('sub', 2));
    const withStatus = await call('PATCH', '/apis/apps/v1/namespaces/default/deployments/sub', { status: { replicas: 9 } }, { 'Content-Type': 'application/merge-patch+json' });
    expect(withStatus.json.status?.replicas).toBeUndefined();
    const viaStatus = await call('PATCH', '/apis/apps/v1/namespaces/default/deployments/sub/status', { spec: { replicas: 7 }, status: { replicas: 2 } }, { 'Content-Type': 'application/merge-patch+json' });
    expect(viaStatus.json.spec.replicas).toBe(2);
    expect(viaStatus.json.status.replicas).toBe(2);
  });

  it('/scale reads and writes replicas as an autoscaling/v1 Scale', async () => {
    const get = await call('GET', '/apis/apps/v1/namespaces/default/deployments/sub/scale');
    expect(get.json).toMatchObject({ kind: 'Scale', apiVersion: 'autoscaling/v1', spec: { replicas: 2 }, status: { replicas: 2, selector: 'app=sub' } });
    const patched = await call('PATCH', '/apis/apps/v1/namespaces/default/deployments/sub/scale', { spec: { replicas: 4 } }, { 'Content-Type': 'application/merge-patch+json' });
    expect(patched.json.spec.replicas).toBe(4);
    expect((await call('GET', '/apis/apps/v1/namespaces/default/deployments/sub')).json.spec.replicas).toBe(4);
    const bad = await call('PUT', '/apis/apps/v1/namespaces/default/deployments/sub/scale', { apiVersion: 'autoscaling/v1', kind: 'Scale', metadata: { name: 'sub' }, spec: { replicas: -1 } });
    expect(bad.status).toBe(422);
  });
});

describe('deletion', () => {
  it('finalizers hold an object with a deletionTimestamp until they are removed', async () => {
    await call('POST', '/api/v1/namespaces/default/configmaps', { ...cm('fin'), metadata: { name: 'fin', finalizers: ['example.com/hold'] } });
    const del = await call('DELETE', '/api/v1/namespaces/default/configmaps/fin');
    expect(del.status).toBe(200);
    expect(del.json.metadata.deletionTimestamp).toBeTruthy();
    expect((await call('GET', '/api/v1/namespaces/default/configmaps/fin')).status).toBe(200);
    const released = await call('PATCH', '/api/v1/namespaces/default/configmaps/fin', { metadata: { finalizers: null } }, { 'Content-Type': 'application/merge-patch+json' });
    expect(released.status).toBe(200);
    expect((await call('GET', '/api/v1/namespaces/default/configmaps/fin')).status).toBe(404);
  });

  it('deletes immediately otherwise and reports Success; preconditions are checked', async () => {
    const created = await call('POST', '/api/v1/namespaces/default/configmaps', cm('gone'));
    const stale = await call('DELETE', '/api/v1/namespaces/default/configmaps/gone', { preconditions: { resourceVersion: '1' } });
    expect(stale.status).toBe(409);
    const del = await call('DELETE', '/api/v1/namespaces/default/configmaps/gone');
    expect(del.json).toMatchObject({ kind: 'Status', status: 'Success', details: { name: 'gone', kind: 'configmaps', uid: created.json.metadata.uid } });
  });

  it('deletecollection honours label selectors', async () => {
    for (const n of ['dc-a', 'dc-b', 'dc-c']) await call('POST', '/api/v1/namespaces/other/configmaps', cm(n, {}, { batch: n === 'dc-c' ? 'keep' : 'drop' }));
    const r = await call('DELETE', '/api/v1/namespaces/other/configmaps?labelSelector=batch%3Ddrop');
    expect(r.status).toBe(200);
    const left = await call('GET', '/api/v1/namespaces/other/configmaps');
    expect(left.json.items.map((i: any) => i.metadata.name)).toEqual(['dc-c']);
  });
});

describe('dry run and field validation', () => {
  it('dryRun=All returns the would-be object and stores nothing', async () => {
    const r = await call('POST', '/api/v1/namespaces/default/configmaps?dryRun=All', cm('dry'));
    expect(r.status).toBe(201);
    expect(r.json.metadata.uid).toBeTruthy();
    expect((await call('GET', '/api/v1/namespaces/default/configmaps/dry')).status).toBe(404);
    expect((await call('POST', '/api/v1/namespaces/default/configmaps?dryRun=Some', cm('dry'))).status).toBe(400);
  });

  it('strict mode reports duplicate fields', async () => {
    const r = await call('POST', '/api/v1/namespaces/default/configmaps?fieldValidation=Strict', '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"dup","name":"dup2"}}');
    expect(r.status).toBe(400);
    expect(r.json.message).toContain('duplicate field "metadata.name"');
  });
});

describe('lists', () => {
  it('paginate with limit/continue over a consistent snapshot', async () => {
    for (let i = 0; i < 7; i++) await call('POST', '/api/v1/namespaces/other/configmaps', cm(`page-${i}`, {}, { paged: 'yes' }));
    const names: string[] = [];
    let cont = '';
    let first = true;
    let rv = '';
    do {
      const r = await call('GET', `/api/v1/namespaces/other/configmaps?labelSelector=paged%3Dyes&limit=3${cont ? `&continue=${encodeURIComponent(cont)}` : ''}`);
      names.push(...r.json.items.map((i: any) => i.metadata.name));
      if (first) {
        rv = r.json.metadata.resourceVersion;
        // A write after the first page is not part of this snapshot.
        await call('POST', '/api/v1/namespaces/other/configmaps', cm('page-late', {}, { paged: 'yes' }));
        first = false;
      } else expect(r.json.metadata.resourceVersion).toBe(rv);
      cont = r.json.metadata.continue ?? '';
    } while (cont);
    expect(names).toEqual(Array.from({ length: 7 }, (_, i) => `page-${i}`));
  });

  it('serve Tables with the kind columns and the requested row objects', async () => {
    const accept = 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json';
    const t = await call('GET', '/apis/apps/v1/namespaces/default/deployments', undefined, { Accept: accept });
    expect(t.json.kind).toBe('Table');
    expect(t.json.columnDefinitions.map((c: any) => c.name)).toEqual(['Name', 'Ready', 'Up-to-date', 'Available', 'Age', 'Containers', 'Images', 'Selector']);
    expect(t.json.rows[0].object.kind).toBe('PartialObjectMetadata');
    const full = await call('GET', '/apis/apps/v1/namespaces/default/deployments?includeObject=Object', undefined, { Accept: accept });
    expect(full.json.rows[0].object.kind).toBe('Deployment');
    expect(full.json.rows[0].object.spec).toBeDefined();
  });

  it('support the field selectors of each kind', async () => {
    await call('POST', '/api/v1/namespaces/default/secrets', { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'tls-one' }, type: 'kubernetes.io/tls', data: { 'tls.crt': '', 'tls.key': '' } });
    await call('POST', '/api/v1/namespaces/default/secrets', { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'plain' }, stringData: { a: 'b' } });
    const r = await call('GET', '/api/v1/namespaces/default/secrets?fieldSelector=type%3Dkubernetes.io%2Ftls');
    expect(r.json.items.map((i: any) => i.metadata.name)).toEqual(['tls-one']);
    const plain = await call('GET', '/api/v1/namespaces/default/secrets/plain');
    expect(plain.json.data).toEqual({ a: Buffer.from('b').toString('base64') });
    expect(plain.json.stringData).toBeUndefined();
    expect(plain.json.type).toBe('Opaque');
  });
});

describe('watch', () => {
  it('delivers changes after a resourceVersion in order, with selector transitions', async () => {
    const start = await call('GET', '/api/v1/namespaces/default/configmaps');
    const w = await watch(`/api/v1/namespaces/default/configmaps?watch=true&resourceVersion=${start.json.metadata.resourceVersion}&labelSelector=color%3Dblue`);
    expect(w.status).toBe(200);
    await call('POST', '/api/v1/namespaces/default/configmaps', cm('w1', {}, { color: 'blue' }));
    await call('POST', '/api/v1/namespaces/default/configmaps', cm('w2', {}, { color: 'red' }));
    await call('PATCH', '/api/v1/namespaces/default/configmaps/w1', { data: { b: '2' } }, { 'Content-Type': 'application/merge-patch+json' });
    await call('PATCH', '/api/v1/namespaces/default/configmaps/w1', { metadata: { labels: { color: 'red' } } }, { 'Content-Type': 'application/merge-patch+json' });
    await call('PATCH', '/api/v1/namespaces/default/configmaps/w2', { metadata: { labels: { color: 'blue' } } }, { 'Content-Type': 'application/merge-patch+json' });
    await call('DELETE', '/api/v1/namespaces/default/configmaps/w2');
    const events = await w.until(5);
    await w.stop();
    expect(events.map((e) => `${e.type}:${e.object.metadata.name}`)).toEqual(['ADDED:w1', 'MODIFIED:w1', 'DELETED:w1', 'ADDED:w2', 'DELETED:w2']);
    const rvs = events.map((e) => Number(e.object.metadata.resourceVersion));
    expect([...rvs].sort((a, b) => a - b)).toEqual(rvs);
  });

  it('without a resourceVersion starts with the current objects as ADDED', async () => {
    const w = await watch('/api/v1/namespaces/other/configmaps?watch=true&fieldSelector=metadata.name%3Ddc-c');
    const events = await w.until(1);
    await w.stop();
    expect(events[0]).toMatchObject({ type: 'ADDED', object: { metadata: { name: 'dc-c' } } });
  });

  it('sends BOOKMARKs when asked and Table rows for table watches', async () => {
    const start = await call('GET', '/api/v1/namespaces/default/configmaps');
    const w = await watch(`/api/v1/namespaces/default/configmaps?watch=true&allowWatchBookmarks=true&resourceVersion=${start.json.metadata.resourceVersion}`, {
      Accept: 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json',
    });
    await call('POST', '/api/v1/namespaces/default/configmaps', cm('tbl'));
    await call('POST', '/api/v1/namespaces/other/configmaps', cm('elsewhere'));
    const events = await w.until(2, 8000);
    await w.stop();
    expect(events[0].type).toBe('ADDED');
    expect(events[0].object.kind).toBe('Table');
    expect(events[0].object.rows[0].cells[0]).toBe('tbl');
    const bookmark = events.find((e) => e.type === 'BOOKMARK');
    expect(bookmark?.object).toMatchObject({ kind: 'ConfigMap', apiVersion: 'v1' });
    expect(Number(bookmark.object.metadata.resourceVersion)).toBeGreaterThan(Number(events[0].object.metadata.resourceVersion));
  });

  it('answers a watch from compacted history with an ERROR 410 Expired event', async () => {
    const old = await call('GET', '/api/v1/namespaces/default/configmaps');
    for (let i = 0; i < 3; i++) await call('POST', '/api/v1/namespaces/default/configmaps', cm(`churn-${i}`));
    await store.compact(await store.currentRev());
    const w = await watch(`/api/v1/namespaces/default/configmaps?watch=true&resourceVersion=${old.json.metadata.resourceVersion}`);
    const events = await w.until(1);
    await w.stop();
    expect(events[0]).toMatchObject({ type: 'ERROR', object: { kind: 'Status', code: 410, reason: 'Expired' } });
    expect(events[0].object.message).toMatch(/^too old resource version: \d+ \(\d+\)$/);
  });
});

describe('protobuf request bodies', () => {
  it('decodes a Namespace sent as application/vnd.kubernetes.protobuf', async () => {
    // k8s\0 + runtime.Unknown{typeMeta{apiVersion:"v1",kind:"Namespace"}, raw: Namespace{metadata{name:"from-proto"}}}
    const name = Buffer.from('from-proto');
    const meta = Buffer.concat([Buffer.from([0x0a, name.length]), name]);
    const raw = Buffer.concat([Buffer.from([0x0a, meta.length]), meta]);
    const typeMeta = Buffer.concat([Buffer.from([0x0a, 2]), Buffer.from('v1'), Buffer.from([0x12, 9]), Buffer.from('Namespace')]);
    const unknown = Buffer.concat([Buffer.from([0x0a, typeMeta.length]), typeMeta, Buffer.from([0x12, raw.length]), raw]);
    const body = new Uint8Array(Buffer.concat([Buffer.from([0x6b, 0x38, 0x73, 0x00]), unknown]));
    const r = await call('POST', '/api/v1/namespaces', body, { 'Content-Type': 'application/vnd.kubernetes.protobuf' });
    expect(r.status).toBe(201);
    expect(r.json.metadata.name).toBe('from-proto');
    expect(r.json.status.phase).toBe('Active');
    const garbage = await call('POST', '/api/v1/namespaces', new Uint8Array([1, 2, 3]), { 'Content-Type': 'application/vnd.kubernetes.protobuf' });
    expect(garbage.status).toBe(400);
  });
});

describe('service allocation', () => {
  const svc = (name: string, spec: Record<string, unknown>) => ({ apiVersion: 'v1', kind: 'Service', metadata: { name }, spec: { ports: [{ port: 80 }], selector: { app: name }, ...spec } });
  const inServiceRange = (ip: string) => {
    const [a, b] = ip.split('.').map(Number);
    return a === 10 && b >= 96 && b < 112;
  };

  it('gives ClusterIP Services a cluster IP and NodePort Services node ports', async () => {
    const a = await call('POST', '/api/v1/namespaces/default/services', svc('alloc-a', {}));
    expect(a.status).toBe(201);
    expect(inServiceRange(a.json.spec.clusterIP)).toBe(true);
    expect(a.json.spec.clusterIPs).toEqual([a.json.spec.clusterIP]);
    const b = await call('POST', '/api/v1/namespaces/default/services', svc('alloc-b', { type: 'NodePort' }));
    expect(b.json.spec.clusterIP).not.toBe(a.json.spec.clusterIP);
    expect(b.json.spec.ports[0].nodePort).toBeGreaterThanOrEqual(30000);
    expect(b.json.spec.ports[0].nodePort).toBeLessThanOrEqual(32767);
    const headless = await call('POST', '/api/v1/namespaces/default/services', svc('alloc-h', { clusterIP: 'None' }));
    expect(headless.json.spec.clusterIP).toBe('None');
  });

  it('refuses an IP or node port already taken, and frees them when the Service goes', async () => {
    const first = await call('POST', '/api/v1/namespaces/default/services', svc('fixed-1', { type: 'NodePort', clusterIP: '10.96.7.7', ports: [{ port: 80, nodePort: 31777 }] }));
    expect(first.status).toBe(201);
    const ipTaken = await call('POST', '/api/v1/namespaces/default/services', svc('fixed-2', { clusterIP: '10.96.7.7' }));
    expect(ipTaken.status).toBe(422);
    expect(ipTaken.json.details.causes[0]).toMatchObject({ field: 'spec.clusterIPs', message: expect.stringContaining('provided IP is already allocated') });
    const portTaken = await call('POST', '/api/v1/namespaces/default/services', svc('fixed-3', { type: 'NodePort', ports: [{ port: 80, nodePort: 31777 }] }));
    expect(portTaken.status).toBe(422);
    expect(portTaken.json.details.causes[0].field).toBe('spec.ports[0].nodePort');
    expect((await call('GET', '/api/v1/namespaces/default/services/fixed-3')).status).toBe(404);
    await call('DELETE', '/api/v1/namespaces/default/services/fixed-1');
    const again = await call('POST', '/api/v1/namespaces/default/services', svc('fixed-2', { type: 'NodePort', clusterIP: '10.96.7.7', ports: [{ port: 80, nodePort: 31777 }] }));
    expect(again.status).toBe(201);
  });

  it('answers a second create of the same Service with AlreadyExists', async () => {
    const dup = await call('POST', '/api/v1/namespaces/default/services', svc('fixed-2', { clusterIP: '10.96.7.7' }));
    expect(dup.status).toBe(409);
    expect(dup.json.reason).toBe('AlreadyExists');
  });

  it('releases node ports when a Service stops being NodePort', async () => {
    await call('PATCH', '/api/v1/namespaces/default/services/fixed-2', { spec: { type: 'ClusterIP', ports: [{ port: 80, nodePort: null }] } }, { 'Content-Type': 'application/merge-patch+json' });
    const reuse = await call('POST', '/api/v1/namespaces/default/services', svc('fixed-4', { type: 'NodePort', ports: [{ port: 80, nodePort: 31777 }] }));
    expect(reuse.status).toBe(201);
  });
});
