// The API server on AWS Lambda: the same Hono app as the local server, behind a function URL with
// RESPONSE_STREAM so watches stream. A thin adapter over hono/aws-lambda's streamHandle that adds
// what Lambda needs beyond it:
//   - watches end cleanly before the invocation's deadline (clients resume from their last RV);
//   - a client that goes away aborts the request, so its watch stops instead of outliving it;
//   - the status and headers go out at once: the runtime sends them with the first body write, so
//     a watch with no events yet would otherwise keep its client waiting for headers.
import { AsyncLocalStorage } from 'node:async_hooks';
import { createHash, timingSafeEqual } from 'node:crypto';
import type { Context as LambdaContext, LambdaFunctionURLEvent, StreamifyHandler } from 'aws-lambda';
import type { Hono } from 'hono';
import { streamHandle } from 'hono/aws-lambda';
import { builtinRegistry } from '../../shared/api/registry.js';
import { bootstrapCluster } from '../../shared/apiserver/bootstrap.js';
import { createLogger } from '../../shared/apiserver/logger.js';
import { openStore, type Store, type StoreConfig } from '../../shared/store/index.js';
import { awsClientConfig, initOnce, requiredEnv, type Env } from '../lambda-env.js';
import { createApiServer } from './app.js';
import type { Authenticator, UserInfo } from './auth.js';

export interface ApiHandlerConfig {
  store: StoreConfig;
  /** SHA-256 digests (hex) of the admin bearer tokens: the token itself never sits in the configuration. */
  adminTokenSha256: string[];
  /** Reported in legacy discovery's serverAddressByClientCIDRs. */
  serverAddress: string;
  logLevel?: string;
  /** A watch ends this long before the invocation's deadline (default 10 s). */
  watchDeadlineMarginMs?: number;
}

export type ApiHandler = StreamifyHandler<LambdaFunctionURLEvent, void>;

/**
 * TABLE_NAME (+ AWS_ENDPOINT_URL_DYNAMODB for a local DynamoDB), ADMIN_TOKEN_SHA256 (comma-separated
 * hex digests) or ADMIN_TOKEN (the token itself, for local runs), SERVER_ADDRESS, STRATUS_LOG_LEVEL;
 * `secretToken` is the admin token read from ADMIN_TOKEN_SECRET_ARN by apiConfigFromAws.
 */
export function apiConfigFromEnv(env: Env, secretToken?: string): ApiHandlerConfig {
  const digests = (env.ADMIN_TOKEN_SHA256 ?? '').split(',').map((s) => s.trim().toLowerCase()).filter(Boolean);
  if (env.ADMIN_TOKEN) digests.push(sha256Hex(env.ADMIN_TOKEN));
  if (secretToken) digests.push(sha256Hex(secretToken));
  if (!digests.length) throw new Error('environment variable ADMIN_TOKEN_SECRET_ARN, ADMIN_TOKEN_SHA256 or ADMIN_TOKEN is required');
  if (digests.some((d) => !/^[0-9a-f]{64}$/.test(d))) throw new Error('ADMIN_TOKEN_SHA256 must hold hex SHA-256 digests');
  return {
    store: { backend: 'dynamodb', tableName: requiredEnv(env, 'TABLE_NAME'), client: awsClientConfig(env, 'DYNAMODB') },
    adminTokenSha256: digests,
    serverAddress: env.SERVER_ADDRESS ?? '0.0.0.0:443',
    logLevel: env.STRATUS_LOG_LEVEL,
  };
}

/** On AWS the admin token lives in Secrets Manager (ADMIN_TOKEN_SECRET_ARN); read it once per cold start. */
export async function apiConfigFromAws(env: Env): Promise<ApiHandlerConfig> {
  const arn = env.ADMIN_TOKEN_SECRET_ARN;
  if (!arn) return apiConfigFromEnv(env);
  const { SecretsManagerClient, GetSecretValueCommand } = await import('@aws-sdk/client-secrets-manager');
  const secret = await new SecretsManagerClient({}).send(new GetSecretValueCommand({ SecretId: arn }));
  if (!secret.SecretString) throw new Error(`secret ${arn} has no string value: store the admin token as a string`);
  return apiConfigFromEnv(env, secret.SecretString.trim());
}

export const sha256Hex = (s: string) => createHash('sha256').update(s).digest('hex');

const ADMIN: UserInfo = { username: 'admin', uid: 'admin', groups: ['system:masters', 'system:authenticated'] };

/** Accepts a bearer token whose SHA-256 digest is one of `digests`. */
export function tokenDigestAuthenticator(digests: string[], user: UserInfo = ADMIN): Authenticator {
  const known = digests.map((d) => Buffer.from(d, 'hex'));
  return {
    authenticateToken(token) {
      const h = createHash('sha256').update(token).digest();
      return known.some((k) => timingSafeEqual(k, h)) ? user : undefined;
    },
  };
}

/** Cap a watch's timeoutSeconds so it finishes before the invocation has to. */
export function boundWatch(event: LambdaFunctionURLEvent, context: Pick<LambdaContext, 'getRemainingTimeInMillis'> | undefined, marginMs: number): LambdaFunctionURLEvent {
  const remaining = context?.getRemainingTimeInMillis?.();
  if (remaining === undefined) return event;
  const params = new URLSearchParams(event.rawQueryString ?? '');
  const watch = params.get('watch');
  if (!(watch === 'true' || watch === '1' || event.rawPath.includes('/watch/'))) return event;
  const cap = Math.max(1, Math.floor((remaining - marginMs) / 1000));
  const requested = params.has('timeoutSeconds') ? Number(params.get('timeoutSeconds')) : Infinity;
  if (Number.isFinite(requested) && requested <= cap) return event;
  if (params.has('timeoutSeconds') && !Number.isFinite(requested)) return event; // let the API server reject it
  const kept = (event.rawQueryString ?? '').split('&').filter((p) => p && !p.startsWith('timeoutSeconds='));
  kept.push(`timeoutSeconds=${cap}`);
  return { ...event, rawQueryString: kept.join('&'), queryStringParameters: { ...(event.queryStringParameters ?? {}), timeoutSeconds: String(cap) } };
}

/** The same response with an empty first chunk, which makes the runtime send the headers. */
export function headersFirst(res: Response): Response {
  if (!res.body) return res;
  const reader = res.body.getReader();
  const body = new ReadableStream<Uint8Array>(
    {
      start(controller) {
        controller.enqueue(new Uint8Array(0));
      },
      async pull(controller) {
        const { done, value } = await reader.read();
        if (done) controller.close();
        else controller.enqueue(value);
      },
      cancel(reason) {
        return reader.cancel(reason);
      },
    },
    { highWaterMark: 0 },
  );
  return new Response(body, { status: res.status, statusText: res.statusText, headers: res.headers });
}

/** A handler plus dispose(), which closes its store (Lambda never calls it; local runs do). */
export type DisposableApiHandler = ApiHandler & { dispose(): Promise<void> };

export function createApiHandler(config: ApiHandlerConfig | (() => ApiHandlerConfig | Promise<ApiHandlerConfig>)): DisposableApiHandler {
  let store: Store | undefined;
  const app = initOnce(async () => {
    const cfg = typeof config === 'function' ? await config() : config;
    const log = createLogger(cfg.logLevel ?? 'info');
    store = await openStore(cfg.store);
    // No namespace informer here: an idle function should not poll, and admission falls back to
    // reading the namespace. Namespace finalization is finished by the worker's controller.
    const registry = builtinRegistry();
    const server = createApiServer({ store, registry, log, serverAddress: cfg.serverAddress, authenticator: tokenDigestAuthenticator(cfg.adminTokenSha256) });
    // A new tenant has no namespaces yet: every cold start makes sure they (and the `kubernetes` Service) exist.
    await bootstrapCluster(server.rest, registry, 443);
    return { app: server.app, marginMs: cfg.watchDeadlineMarginMs ?? 10_000 };
  });
  const invocation = new AsyncLocalStorage<AbortSignal>();
  const withAbort = {
    async fetch(req: Request, env: unknown, ctx: unknown) {
      const signal = invocation.getStore();
      const res = await (await app()).app.fetch(signal ? new Request(req, { signal }) : req, env as never, ctx as never);
      return headersFirst(res);
    },
  };
  const streaming = streamHandle(withAbort as unknown as Hono) as unknown as ApiHandler;
  const handler = awslambda.streamifyResponse<LambdaFunctionURLEvent, void>(async (event, responseStream, context) => {
    const { marginMs } = await app();
    const aborted = new AbortController();
    const abort = () => aborted.abort();
    responseStream.once('close', abort);
    responseStream.once('error', abort);
    await invocation.run(aborted.signal, () => streaming(boundWatch(event, context, marginMs), responseStream, context));
  });
  return Object.assign(handler, { dispose: async () => store?.close() });
}

// The AWS SDK creates an empty `awslambda` object anywhere; only the runtime's has streamifyResponse.
const runningInLambda = typeof (globalThis as { awslambda?: { streamifyResponse?: unknown } }).awslambda?.streamifyResponse === 'function';

/** The Lambda entry point (function URL, invoke mode RESPONSE_STREAM). */
export const handler: ApiHandler = runningInLambda
  ? createApiHandler(() => apiConfigFromAws(process.env))
  : () => {
      throw new Error('the streaming API handler needs the Lambda runtime (the awslambda global)');
    };
