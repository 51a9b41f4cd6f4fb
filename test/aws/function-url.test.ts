// The local function URL: real HTTPS requests become Lambda function URL events (payload 2.0),
// the API handler runs as Lambda runs it (streamified, context, timeout) and its streamed response
// comes back chunk by chunk. The handler runs on the SQLite store here; the DynamoDB path is the
// smoke test's job.
import { mkdtempSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LambdaFunctionURLEvent } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { installLambdaGlobals, type LocalResponseStream } from '../../cli/aws-local/lambda-runtime.js';
import { MAX_EVENT_BYTES, startFunctionUrlServer, type FunctionUrlServer } from '../../cli/aws-local/function-url.js';
import { ensurePki, type ServingPki } from '../../cli/pki.js';
import { createLogger } from '../../shared/apiserver/logger.js';
import { createApiHandler, sha256Hex, type DisposableApiHandler } from '../../functions/apiserver/lambda.js';
import { removeDir } from '../e2e/harness.js';

installLambdaGlobals();
const log = createLogger('silent');
const TOKEN = 'local-test-token';

let dir: string;
let pki: ServingPki;
const servers: FunctionUrlServer[] = [];
const handlers: DisposableApiHandler[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'stratus-fnurl-'));
  pki = await ensurePki(dir);
});
afterAll(async () => {
  for (const s of servers) await s.close();
  for (const h of handlers) await h.dispose();
  removeDir(dir);
});

async function serve(handler: Parameters<typeof startFunctionUrlServer>[0]['handler'], timeoutMs = 900_000): Promise<FunctionUrlServer> {
  const s = await startFunctionUrlServer({ handler, fn: { functionName: 'api', timeoutMs, region: 'eu-west-1' }, host: '127.0.0.1', port: 0, tls: pki, log });
  servers.push(s);
  return s;
}

function apiServer(dataDir: string, timeoutMs?: number, watchDeadlineMarginMs?: number) {
  const h = createApiHandler({ store: { backend: 'sqlite', dataDir }, adminTokenSha256: [sha256Hex(TOKEN)], serverAddress: '127.0.0.1:443', watchDeadlineMarginMs });
  handlers.push(h);
  return serve(h, timeoutMs);
}

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

function send(url: string, method: string, path: string, opts: { body?: Buffer | string; headers?: Record<string, string> } = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { authorization: `Bearer ${TOKEN}`, ...opts.headers };
    if (opts.body !== undefined) headers['content-length'] = String(Buffer.byteLength(opts.body));
    const req = httpsRequest(new URL(path, url), { method, headers, ca: pki.caCert }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    if (opts.body !== undefined) req.write(opts.body);
    req.end();
  });
}

/** Start a request and return as soon as the response headers are in, with a line reader. */
function openStream(url: string, path: string) {
  return new Promise<{ status: number; headers: Record<string, unknown>; next(): Promise<string>; ended: Promise<void>; close(): void }>((resolve, reject) => {
    const req = httpsRequest(new URL(path, url), { headers: { authorization: `Bearer ${TOKEN}` }, ca: pki.caCert }, (res) => {
      let buffer = '';
      const waiters: ((line: string) => void)[] = [];
      const lines: string[] = [];
      const ended = new Promise<void>((r) => res.on('end', () => r()));
      res.on('data', (c: Buffer) => {
        buffer += c.toString();
        let at: number;
        while ((at = buffer.indexOf('\n')) >= 0) {
          const line = buffer.slice(0, at);
          buffer = buffer.slice(at + 1);
          const w = waiters.shift();
          if (w) w(line);
          else lines.push(line);
        }
      });
      resolve({
        status: res.statusCode!,
        headers: res.headers,
        next: () => (lines.length ? Promise.resolve(lines.shift()!) : new Promise((r) => waiters.push(r))),
        ended,
        close: () => req.destroy(),
      });
    });
    req.on('error', reject);
    req.end();
  });
}

describe('function URL events', () => {
  let seen: LambdaFunctionURLEvent[] = [];
  let url: string;
  beforeAll(async () => {
    // A streaming handler that answers with the event it received.
    const echo = awslambda.streamifyResponse<LambdaFunctionURLEvent, void>(async (event, stream) => {
      seen.push(event);
      const out = awslambda.HttpResponseStream.from(stream, { statusCode: 201, headers: { 'content-type': 'application/json', 'x-echo': 'yes' }, cookies: ['a=1', 'b=2'] });
      out.write(JSON.stringify({ ok: true }));
      out.end();
    });
    url = (await serve(echo as unknown as Parameters<typeof startFunctionUrlServer>[0]['handler'])).url;
  });

  it('carry method, raw path and query, lower-case headers, cookies and a text body', async () => {
    seen = [];
    const res = await send(url, 'POST', '/api/v1/namespaces/a%20b/configmaps?labelSelector=app%3Dweb&x=1&x=2', {
      body: '{"kind":"ConfigMap"}',
      headers: { 'Content-Type': 'application/json', Cookie: 'c1=v1; c2=v2', 'X-Custom': 'hello', 'user-agent': 'kubectl/v1.33.0' },
    });
    expect(res.status).toBe(201);
    expect(res.headers['x-echo']).toBe('yes');
    expect(res.headers['set-cookie']).toEqual(['a=1', 'b=2']);
    expect(res.body.toString()).toBe('{"ok":true}');
    const e = seen[0];
    expect(e).toMatchObject({
      version: '2.0',
      routeKey: '$default',
      rawPath: '/api/v1/namespaces/a%20b/configmaps',
      rawQueryString: 'labelSelector=app%3Dweb&x=1&x=2',
      queryStringParameters: { labelSelector: 'app=web', x: '1,2' },
      cookies: ['c1=v1', 'c2=v2'],
      body: '{"kind":"ConfigMap"}',
      isBase64Encoded: false,
      requestContext: { routeKey: '$default', stage: '$default', accountId: 'anonymous', http: { method: 'POST', path: '/api/v1/namespaces/a%20b/configmaps', protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'kubectl/v1.33.0' } },
    });
    expect(e.headers).toMatchObject({ 'content-type': 'application/json', 'x-custom': 'hello', 'x-forwarded-proto': 'https', authorization: `Bearer ${TOKEN}` });
    expect(e.headers.cookie).toBeUndefined();
    expect(e.requestContext.timeEpoch).toBeGreaterThan(Date.now() - 60_000);
    expect(e.requestContext.time).toMatch(/^\d{2}\/[A-Z][a-z]{2}\/\d{4}:\d{2}:\d{2}:\d{2} \+0000$/);
  });

  it('base64-encode binary bodies such as protobuf and leave bodiless requests without one', async () => {
    seen = [];
    const bytes = Buffer.from([0x6b, 0x38, 0x73, 0x00, 0xff, 0x10, 0x80]);
    await send(url, 'POST', '/api/v1/namespaces', { body: bytes, headers: { 'content-type': 'application/vnd.kubernetes.protobuf' } });
    expect(seen[0].isBase64Encoded).toBe(true);
    expect(Buffer.from(seen[0].body!, 'base64')).toEqual(bytes);
    await send(url, 'GET', '/version');
    expect(seen[1].body).toBeUndefined();
    expect(seen[1].isBase64Encoded).toBe(false);
    expect(seen[1].rawQueryString).toBe('');
    expect(seen[1].queryStringParameters).toBeUndefined();
  });

  it('refuse requests over the 6 MB invocation payload limit without invoking', async () => {
    seen = [];
    const res = await send(url, 'POST', '/api/v1/namespaces', { body: Buffer.alloc(MAX_EVENT_BYTES + 1, 'x'), headers: { 'content-type': 'application/json' } });
    expect(res.status).toBe(413);
    expect(seen).toEqual([]);
  });

  it('answer 502 when the function fails before it responds', async () => {
    const failing = awslambda.streamifyResponse(async () => {
      throw new Error('boom');
    });
    const s = await serve(failing as unknown as (e: LambdaFunctionURLEvent, s: LocalResponseStream) => Promise<void>);
    const res = await send(s.url, 'GET', '/');
    expect(res.status).toBe(502);
  });
});

describe('the API handler behind the function URL', () => {
  let url: string;
  beforeAll(async () => {
    url = (await apiServer(join(dir, 'api'))).url;
  });
  const json = (body: unknown) => ({ body: JSON.stringify(body), headers: { 'content-type': 'application/json' } });

  it('serves health without a token and refuses the API without one', async () => {
    expect((await send(url, 'GET', '/readyz', { headers: { authorization: '' } })).body.toString()).toBe('ok');
    const denied = await send(url, 'GET', '/api/v1/namespaces', { headers: { authorization: 'Bearer wrong' } });
    expect(denied.status).toBe(401);
    expect(JSON.parse(denied.body.toString())).toMatchObject({ kind: 'Status', reason: 'Unauthorized', code: 401 });
  });

  it('creates and reads objects, and turns oversized bodies into a 413 Status', async () => {
    // The handler's cold start created the system namespaces and the `kubernetes` Service.
    expect((await send(url, 'GET', '/api/v1/namespaces/kube-system')).status).toBe(200);
    expect((await send(url, 'GET', '/api/v1/namespaces/default/services/kubernetes')).status).toBe(200);
    const created = await send(url, 'POST', '/api/v1/namespaces/default/configmaps', json({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'one' }, data: { a: 'b' } }));
    expect(created.status).toBe(201);
    const got = await send(url, 'GET', '/api/v1/namespaces/default/configmaps/one');
    expect(JSON.parse(got.body.toString())).toMatchObject({ kind: 'ConfigMap', metadata: { name: 'one', namespace: 'default' }, data: { a: 'b' } });
    const big = await send(url, 'POST', '/api/v1/namespaces/default/configmaps', json({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'big' }, data: { a: 'x'.repeat(3 * 1024 * 1024 + 10) } }));
    expect(big.status).toBe(413);
    expect(JSON.parse(big.body.toString())).toMatchObject({ reason: 'RequestEntityTooLarge' });
  });

  it('streams a watch: headers at once, then an event that happens after the handler started streaming', async () => {
    const list = JSON.parse((await send(url, 'GET', '/api/v1/namespaces/default/configmaps')).body.toString());
    const started = Date.now();
    const watch = await openStream(url, `/api/v1/namespaces/default/configmaps?watch=true&resourceVersion=${list.metadata.resourceVersion}`);
    expect(watch.status).toBe(200);
    expect(watch.headers['content-type']).toBe('application/json');
    expect(Date.now() - started).toBeLessThan(2000);
    // Nothing has happened yet: the stream is open with no event in it.
    const first = watch.next();
    const race = await Promise.race([first.then(() => 'event'), new Promise((r) => setTimeout(() => r('quiet'), 300))]);
    expect(race).toBe('quiet');
    expect((await send(url, 'POST', '/api/v1/namespaces/default/configmaps', json({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'late' } }))).status).toBe(201);
    const event = JSON.parse(await first);
    expect(event).toMatchObject({ type: 'ADDED', object: { kind: 'ConfigMap', metadata: { name: 'late' } } });
    await send(url, 'DELETE', '/api/v1/namespaces/default/configmaps/late');
    expect(JSON.parse(await watch.next())).toMatchObject({ type: 'DELETED', object: { metadata: { name: 'late' } } });
    watch.close();
  });

  it('ends a watch cleanly before the invocation deadline', async () => {
    // A 13 s function with a 10 s margin leaves the watch 3 s.
    const short = await apiServer(join(dir, 'short'), 13_000, 10_000);
    await send(short.url, 'POST', '/api/v1/namespaces', json({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'default' } }));
    const started = Date.now();
    const watch = await openStream(short.url, '/api/v1/namespaces/default/configmaps?watch=true');
    await watch.ended;
    const took = Date.now() - started;
    expect(took).toBeGreaterThan(1500);
    expect(took).toBeLessThan(6000);
  });
});
