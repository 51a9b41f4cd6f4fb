// A local Lambda function URL: an HTTPS server that turns each request into a function URL event
// (payload format 2.0) and invokes a response-streaming handler with it, copying the status,
// headers and body chunks back as the handler writes them (headers flushed at once, so watches
// start streaming immediately).
import { randomUUID, randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { LambdaFunctionURLEvent } from 'aws-lambda';
import type { Logger } from '../../shared/apiserver/logger.js';
import { HTTP_INTEGRATION_CONTENT_TYPE, invokeStreaming, LocalResponseStream, type FunctionSettings, type StreamingHandler } from './lambda-runtime.js';

/** Lambda's limit on a synchronous invocation's request payload. */
export const MAX_EVENT_BYTES = 6 * 1024 * 1024;
const DRAIN_LIMIT_BYTES = 64 * 1024 * 1024;
const DELIMITER = Buffer.alloc(8);

export interface EventSource {
  /** The function URL's id (its host name's first label on AWS). */
  urlId: string;
  region: string;
}

// Content types a function URL passes as text; everything else arrives base64-encoded.
const TEXT_TYPES = /^(text\/|application\/(json|xml|javascript|x-www-form-urlencoded)\b|application\/[^;]*\+(json|xml)\b)/i;

const clfTime = (d: Date) => {
  const month = d.toLocaleString('en-US', { month: 'short', timeZone: 'UTC' });
  const p = (n: number) => String(n).padStart(2, '0');
  return `${p(d.getUTCDate())}/${month}/${d.getUTCFullYear()}:${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())} +0000`;
};

/** The event Lambda builds for a function URL request. */
export function toFunctionUrlEvent(req: IncomingMessage, body: Buffer, source: EventSource): LambdaFunctionURLEvent {
  const rawUrl = req.url ?? '/';
  const q = rawUrl.indexOf('?');
  const rawPath = q < 0 ? rawUrl : rawUrl.slice(0, q);
  const rawQueryString = q < 0 ? '' : rawUrl.slice(q + 1);

  const headers: Record<string, string> = {};
  let cookies: string[] | undefined;
  for (const [name, values] of Object.entries(req.headersDistinct)) {
    if (!values) continue;
    if (name === 'cookie') cookies = values.flatMap((v) => v.split(/;\s*/)).filter(Boolean);
    else headers[name] = values.join(',');
  }
  const sourceIp = req.socket.remoteAddress?.replace(/^::ffff:/, '') ?? '127.0.0.1';
  const localPort = String(req.socket.localPort ?? 443);
  headers['x-forwarded-for'] = headers['x-forwarded-for'] ? `${headers['x-forwarded-for']}, ${sourceIp}` : sourceIp;
  headers['x-forwarded-proto'] = 'https';
  headers['x-forwarded-port'] = localPort;
  headers['x-amzn-trace-id'] = `Root=1-${Math.floor(Date.now() / 1000).toString(16)}-${randomBytes(12).toString('hex')}`;

  let queryStringParameters: Record<string, string> | undefined;
  if (rawQueryString) {
    queryStringParameters = {};
    for (const [k, v] of new URLSearchParams(rawQueryString)) queryStringParameters[k] = k in queryStringParameters ? `${queryStringParameters[k]},${v}` : v;
  }

  const now = new Date();
  const domainName = headers.host ?? `${source.urlId}.lambda-url.${source.region}.on.aws`;
  const event: LambdaFunctionURLEvent = {
    version: '2.0',
    routeKey: '$default',
    rawPath,
    rawQueryString,
    headers,
    ...(cookies ? { cookies } : {}),
    ...(queryStringParameters ? { queryStringParameters } : {}),
    requestContext: {
      accountId: 'anonymous',
      apiId: source.urlId,
      domainName,
      domainPrefix: domainName.split('.')[0],
      http: { method: req.method ?? 'GET', path: rawPath, protocol: `HTTP/${req.httpVersion}`, sourceIp, userAgent: headers['user-agent'] ?? '' },
      requestId: randomUUID(),
      routeKey: '$default',
      stage: '$default',
      time: clfTime(now),
      timeEpoch: now.getTime(),
    },
    isBase64Encoded: false,
  };
  if (body.length > 0) {
    const text = TEXT_TYPES.test(headers['content-type'] ?? '');
    event.body = text ? body.toString('utf8') : body.toString('base64');
    event.isBase64Encoded = !text;
  }
  return event;
}

// Hop-by-hop and framing headers are the front end's business, not the function's.
const DROPPED_RESPONSE_HEADERS = new Set(['connection', 'keep-alive', 'transfer-encoding', 'content-length', 'upgrade']);

interface Prelude {
  statusCode?: number;
  headers?: Record<string, string>;
  cookies?: string[];
}

/** A sink that writes a streamed function response to a Node HTTP response. */
function responseSink(res: ServerResponse) {
  let integration = false;
  let headersSent = false;
  let pending: Buffer = Buffer.alloc(0);

  const sendHeaders = (prelude: Prelude) => {
    const headers: Record<string, string | string[]> = {};
    for (const [k, v] of Object.entries(prelude.headers ?? {})) if (!DROPPED_RESPONSE_HEADERS.has(k.toLowerCase())) headers[k] = v;
    if (prelude.cookies?.length) headers['set-cookie'] = prelude.cookies;
    res.writeHead(prelude.statusCode ?? 200, headers);
    res.flushHeaders();
    headersSent = true;
  };
  const writeBody = (chunk: Buffer, done: (err?: Error | null) => void) => {
    if (chunk.length === 0 || res.destroyed) return done(res.destroyed ? new Error('client went away') : null);
    if (res.write(chunk)) done();
    else res.once('drain', () => done());
  };

  return {
    get headersSent() {
      return headersSent;
    },
    start(contentType: string) {
      integration = contentType === HTTP_INTEGRATION_CONTENT_TYPE;
      if (!integration) sendHeaders({ statusCode: 200, headers: { 'content-type': contentType } });
    },
    write(chunk: Buffer, done: (err?: Error | null) => void) {
      if (headersSent) return writeBody(chunk, done);
      pending = Buffer.concat([pending, chunk]);
      const at = pending.indexOf(DELIMITER);
      if (at < 0) return done();
      let prelude: Prelude;
      try {
        prelude = JSON.parse(pending.subarray(0, at).toString('utf8')) as Prelude;
      } catch (err) {
        return done(new Error(`bad response prelude: ${String(err)}`));
      }
      const rest = pending.subarray(at + DELIMITER.length);
      pending = Buffer.alloc(0);
      sendHeaders(prelude);
      writeBody(rest, done);
    },
    end() {
      if (!headersSent) sendHeaders({ statusCode: 200 });
      res.end();
    },
  };
}

export interface FunctionUrlServerOptions {
  handler: StreamingHandler<LambdaFunctionURLEvent>;
  fn: FunctionSettings;
  host: string;
  port: number;
  tls: { key: string; cert: string };
  log: Logger;
  urlId?: string;
}

export interface FunctionUrlServer {
  server: Server;
  url: string;
  close(): Promise<void>;
}

function readBody(req: IncomingMessage): Promise<Buffer | 'too-large'> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size <= MAX_EVENT_BYTES) chunks.push(c);
      else if (size > DRAIN_LIMIT_BYTES) req.destroy();
    });
    req.on('end', () => resolve(size > MAX_EVENT_BYTES ? 'too-large' : Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

export async function startFunctionUrlServer(opts: FunctionUrlServerOptions): Promise<FunctionUrlServer> {
  const source: EventSource = { urlId: opts.urlId ?? 'stratuslocal', region: opts.fn.region };

  const serve = async (req: IncomingMessage, res: ServerResponse) => {
    const body = await readBody(req);
    if (body === 'too-large') {
      res.writeHead(413, { 'content-type': 'application/json', connection: 'close' });
      res.end(JSON.stringify({ Message: `Request must be smaller than ${MAX_EVENT_BYTES} bytes for the InvokeFunction operation` }));
      return;
    }
    const event = toFunctionUrlEvent(req, body, source);
    const sink = responseSink(res);
    const stream = new LocalResponseStream(sink);
    // A client that goes away ends the response stream under the function, as on Lambda.
    res.once('close', () => {
      if (!res.writableFinished) stream.destroy(new Error('client disconnected'));
    });
    try {
      await invokeStreaming(opts.fn, opts.handler, event, stream);
      if (!stream.writableEnded && !stream.destroyed) stream.end();
    } catch (err) {
      opts.log.error({ err: err instanceof Error ? err.message : String(err), path: event.rawPath }, 'function invocation failed');
      if (!sink.headersSent && !res.destroyed) {
        res.writeHead(502, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ Message: 'Internal Server Error' }));
      } else res.destroy();
      stream.destroy();
    }
  };

  const server = createServer({ key: opts.tls.key, cert: opts.tls.cert, keepAliveTimeout: 120_000 }, (req, res) => {
    serve(req, res).catch((err: unknown) => {
      opts.log.error({ err: String(err) }, 'function URL request failed');
      if (!res.headersSent) res.writeHead(500).end();
      else res.destroy();
    });
  });
  server.requestTimeout = 0; // bounded by the function's timeout instead
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : opts.port;
  return {
    server,
    url: `https://${opts.host.includes(':') ? `[${opts.host}]` : opts.host}:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
