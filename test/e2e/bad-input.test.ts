// Bad input gets a clean Kubernetes Status, the server keeps serving, nothing partial is stored.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BACKENDS, api, removeDir, startServer, type RunningServer } from './harness.js';

describe.each(BACKENDS)('%s backend', (backend) => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await startServer({ backend, logLevel: 'debug' });
  });
  afterAll(async () => {
    await server?.stop();
    if (server) removeDir(server.dataDir);
  });

  const cms = '/api/v1/namespaces/default/configmaps';
  const expectStatus = (r: { status: number; json: any }, code: number, reason: string) => {
    expect(r.status).toBe(code);
    expect(r.json).toMatchObject({ kind: 'Status', apiVersion: 'v1', status: 'Failure', reason, code });
    expect(typeof r.json.message).toBe('string');
  };
  const notStored = async (name: string) => {
    const r = await api(server, 'GET', `${cms}/${name}`);
    expect(r.status).toBe(404);
  };

  describe('bad input', () => {
    it('rejects requests without a valid token with 401, but serves health and version', async () => {
      expectStatus(await api(server, 'GET', '/api/v1/namespaces', { token: null }), 401, 'Unauthorized');
      const wrong = await api(server, 'GET', '/api/v1/namespaces', { token: 'not-the-token' });
      expect(wrong.json).toEqual({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'Unauthorized', reason: 'Unauthorized', code: 401 });
      expect((await api(server, 'GET', '/readyz', { token: null })).status).toBe(200);
      expect((await api(server, 'GET', '/healthz', { token: null })).text).toBe('ok');
      expect((await api(server, 'GET', '/version', { token: null })).json.major).toBe('1');
    });

    it('malformed JSON and YAML are 400', async () => {
      const r = await api(server, 'POST', cms, { body: '{"apiVersion":"v1","kind":"ConfigMap",' });
      expectStatus(r, 400, 'BadRequest');
      expect(r.json.message).toContain('the object provided is unrecognized (must be of type ConfigMap)');
      const empty = await api(server, 'POST', cms, { body: '' });
      expect(empty.json.message).toBe('the object provided is unrecognized (must be of type ConfigMap): couldn\'t get version/kind; json parse error: unexpected end of JSON input (<empty>)');
      expectStatus(await api(server, 'POST', cms, { body: 'a: [1, 2', contentType: 'application/yaml' }), 400, 'BadRequest');
    });

    it('wrong content types are 415', async () => {
      const r = await api(server, 'POST', cms, { body: 'hello', contentType: 'text/plain' });
      expectStatus(r, 415, 'UnsupportedMediaType');
      const p = await api(server, 'PATCH', `${cms}/x`, { body: '{}', contentType: 'application/json' });
      expectStatus(p, 415, 'UnsupportedMediaType');
    });

    it('unknown fields: Strict refuses (400), Warn stores without them and warns, Ignore drops them', async () => {
      const body = (name: string) => JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name }, data: { a: 'b' }, bogus: 1, spec: { x: 1 } });
      const strict = await api(server, 'POST', `${cms}?fieldValidation=Strict`, { body: body('strict') });
      expectStatus(strict, 400, 'BadRequest');
      expect(strict.json.message).toBe('ConfigMap in version "v1" cannot be handled as a ConfigMap: strict decoding error: unknown field "bogus", unknown field "spec"');
      await notStored('strict');
      const warn = await api(server, 'POST', `${cms}?fieldValidation=Warn`, { body: body('warn') });
      expect(warn.status).toBe(201);
      expect(String(warn.headers.warning)).toContain('unknown field \\"bogus\\"');
      expect(warn.json.bogus).toBeUndefined();
      const ignore = await api(server, 'POST', `${cms}?fieldValidation=Ignore`, { body: body('ignore') });
      expect(ignore.status).toBe(201);
      expect(ignore.headers.warning).toBeUndefined();
      expect((await api(server, 'GET', `${cms}/ignore`)).json.bogus).toBeUndefined();
    });

    it('wrong value types are 400', async () => {
      const r = await api(server, 'POST', '/apis/apps/v1/namespaces/default/deployments', {
        body: JSON.stringify({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'typed' }, spec: { replicas: 'three' } }),
      });
      expectStatus(r, 400, 'BadRequest');
      expect(r.json.message).toContain('cannot unmarshal string');
    });

    it('invalid names and values are 422 with field causes', async () => {
      const r = await api(server, 'POST', '/api/v1/namespaces/default/pods', {
        body: JSON.stringify({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'Invalid_Name' }, spec: { containers: [{ name: 'c', image: 'busybox' }] } }),
      });
      expectStatus(r, 422, 'Invalid');
      expect(r.json.message).toBe(
        'Pod "Invalid_Name" is invalid: metadata.name: Invalid value: "Invalid_Name": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, \'-\' or \'.\', and must start and end with an alphanumeric character (e.g. \'example.com\', regex used for validation is \'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\')',
      );
      expect(r.json.details).toMatchObject({ name: 'Invalid_Name', kind: 'Pod', causes: [{ reason: 'FieldValueInvalid', field: 'metadata.name' }] });
      const noImage = await api(server, 'POST', '/api/v1/namespaces/default/pods', {
        body: JSON.stringify({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'noimage' }, spec: { containers: [{ name: 'c' }] } }),
      });
      expectStatus(noImage, 422, 'Invalid');
      expect(noImage.json.details.causes).toContainEqual({ reason: 'FieldValueRequired', message: 'Required value', field: 'spec.containers[0].image' });
      const notFound = await api(server, 'GET', '/api/v1/namespaces/default/pods/noimage');
      expect(notFound.status).toBe(404);
    });

    it('bad label and field selectors are 400', async () => {
      expectStatus(await api(server, 'GET', `${cms}?labelSelector=${encodeURIComponent('a in (b')}`), 400, 'BadRequest');
      expectStatus(await api(server, 'GET', `${cms}?fieldSelector=${encodeURIComponent('spec.nope=x')}`), 400, 'BadRequest');
    });

    it('stale resourceVersions are 409 Conflict', async () => {
      const created = await api(server, 'POST', cms, { body: JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'rv' }, data: { v: '1' } }) });
      const rv = created.json.metadata.resourceVersion;
      const first = await api(server, 'PUT', `${cms}/rv`, { body: JSON.stringify({ ...created.json, data: { v: '2' } }) });
      expect(first.status).toBe(200);
      const stale = await api(server, 'PUT', `${cms}/rv`, { body: JSON.stringify({ ...created.json, metadata: { ...created.json.metadata, resourceVersion: rv }, data: { v: '3' } }) });
      expectStatus(stale, 409, 'Conflict');
      expect(stale.json.message).toBe('Operation cannot be fulfilled on configmaps "rv": the object has been modified; please apply your changes to the latest version and try again');
      expect((await api(server, 'GET', `${cms}/rv`)).json.data).toEqual({ v: '2' });
    });

    it('bodies over 3 MiB are 413', async () => {
      const big = JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'big' }, data: { a: 'x'.repeat(3 * 1024 * 1024 + 10) } });
      const r = await api(server, 'POST', cms, { body: big });
      expectStatus(r, 413, 'RequestEntityTooLarge');
      await notStored('big');
    });

    it('objects in a missing namespace are 404 and in a terminating one 403', async () => {
      const r = await api(server, 'POST', '/api/v1/namespaces/nowhere/configmaps', { body: JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x' } }) });
      expectStatus(r, 404, 'NotFound');
      expect(r.json.message).toBe('namespaces "nowhere" not found');

      const ns = { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'closing', finalizers: ['example.com/hold'] } };
      expect((await api(server, 'POST', '/api/v1/namespaces', { body: JSON.stringify(ns) })).status).toBe(201);
      const del = await api(server, 'DELETE', '/api/v1/namespaces/closing');
      expect(del.status).toBe(200);
      expect(del.json.status.phase).toBe('Terminating');
      const refused = await api(server, 'POST', '/api/v1/namespaces/closing/configmaps', { body: JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'late' } }) });
      expectStatus(refused, 403, 'Forbidden');
      expect(refused.json.message).toBe('configmaps "late" is forbidden: unable to create new content in namespace closing because it is being terminated');
      expect(refused.json.details.causes).toEqual([
        { reason: 'NamespaceTerminating', message: 'unable to create new content in namespace closing because it is being terminated', field: 'metadata.namespace' },
      ]);
      const release = await api(server, 'PATCH', '/api/v1/namespaces/closing', { body: JSON.stringify({ metadata: { finalizers: null } }), contentType: 'application/merge-patch+json' });
      expect(release.status).toBe(200);
      for (let i = 0; i < 50 && (await api(server, 'GET', '/api/v1/namespaces/closing')).status !== 404; i++) await new Promise((r) => setTimeout(r, 100));
      expect((await api(server, 'GET', '/api/v1/namespaces/closing')).status).toBe(404);
    });

    it('unknown paths and methods get 404 and 405', async () => {
      expectStatus(await api(server, 'GET', '/api/v1/widgets'), 404, 'NotFound');
      const r = await api(server, 'PUT', '/api', { body: '{}' });
      expect(r.json).toEqual({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'the server does not allow this method on the requested resource', reason: 'MethodNotAllowed', details: {}, code: 405 });
    });

    it('never writes Secret data to the log', async () => {
      const value = 'sup3r-s3cret-value';
      const secret = { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'hush' }, stringData: { password: value }, data: { token: Buffer.from(value).toString('base64') } };
      expect((await api(server, 'POST', '/api/v1/namespaces/default/secrets', { body: JSON.stringify(secret) })).status).toBe(201);
      const invalid = { ...secret, metadata: { name: 'Bad_Name' } };
      expect((await api(server, 'POST', '/api/v1/namespaces/default/secrets', { body: JSON.stringify(invalid) })).status).toBe(422);
      expect((await api(server, 'GET', '/api/v1/namespaces/default/secrets/hush')).status).toBe(200);
      await new Promise((r) => setTimeout(r, 200));
      expect(server.logs()).toContain('"path":"/api/v1/namespaces/default/secrets"');
      expect(server.logs()).not.toContain(value);
      expect(server.logs()).not.toContain(Buffer.from(value).toString('base64'));
    });

    it('is still serving after all of that', async () => {
      expect((await api(server, 'GET', '/api/v1/namespaces/default')).status).toBe(200);
    });
  });
});
