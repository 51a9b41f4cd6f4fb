// The API server as one Hono app: the same app serves the local HTTPS server and, behind a
// Lambda function URL, the managed service. Middleware: errors -> Status, authentication, body
// limit; routes: version, health, discovery, OpenAPI, and the generic resource handler.
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { Hono, type Context } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import type { Registry } from '../../shared/api/registry.js';
import type { Store } from '../../shared/store/contract.js';
import { ApiError, errors, type Status } from '../../shared/apiserver/errors.js';
import type { Logger } from '../../shared/apiserver/logger.js';
import { RestStorage, hooksKey, type StorageHooks } from '../../shared/apiserver/rest.js';
import { ServiceAllocator } from '../../shared/apiserver/service-allocator.js';
import { NamespaceLifecycle } from '../../shared/apiserver/namespace-lifecycle.js';
import {
  aggregatedContentType,
  aggregatedDiscovery,
  legacyCoreVersions,
  legacyGroup,
  legacyGroupList,
  legacyResourceList,
  type AggregatedVersion,
} from '../../shared/apiserver/discovery.js';
import { authenticate, authorize, withClusterTokens, type Authenticator } from './auth.js';
import { clusterAuthorizer, NODE_CREDENTIAL_PATH } from './node-authorizer.js';
import { nodeCredentialHandler } from './node-credential-route.js';
import { handleResource } from './resources.js';
import { openApiRoutes } from './openapi.js';
import { versionInfo } from './version.js';
import type { NodeTunnels } from './tunnel-registry.js';
import { tunnelEndpoint } from './tunnel-endpoint.js';
import { podStreamUpgrade, kubeletStreamPath } from './node-proxy-upgrade.js';
import { podLogs } from './node-proxy-logs.js';
import { streamingUnavailable } from './node-proxy.js';
import { metricsApi, METRICS_DISCOVERY } from './metrics-api.js';
import { writeRawStatus } from './raw-response.js';

export const MAX_BODY_BYTES = 3 * 1024 * 1024;
const DRAIN_LIMIT_BYTES = 64 * 1024 * 1024;

async function drain(body: ReadableStream<Uint8Array> | null, limit: number): Promise<void> {
  if (!body) return;
  const reader = body.getReader();
  let seen = 0;
  try {
    while (seen <= limit) {
      const { done, value } = await reader.read();
      if (done) return;
      seen += value.byteLength;
    }
  } finally {
    await reader.cancel().catch(() => {});
  }
}

export interface ApiServerDeps {
  store: Store;
  registry: Registry;
  authenticator: Authenticator;
  log: Logger;
  /** The externally visible address for legacy discovery's serverAddressByClientCIDRs. */
  serverAddress: string;
  /** Readiness beyond "the process is up" (e.g. store reachable). */
  ready?: () => Promise<boolean>;
  /** Node agents' tunnels; without them (Lambda) logs, exec, attach, port-forward and metrics answer 503. */
  tunnels?: NodeTunnels;
}

export interface ApiServer {
  app: Hono;
  rest: RestStorage;
  namespaces: NamespaceLifecycle;
  /** For node:http's 'upgrade' event: node tunnels and pod exec/attach/portforward (only with `tunnels`). */
  upgrade?: (req: IncomingMessage, socket: Duplex, head: Buffer) => void;
}

export function statusResponse(c: Context, status: Status, headers: Record<string, string> = {}): Response {
  return c.body(JSON.stringify(status), status.code as 400, { 'Content-Type': 'application/json', ...headers });
}

export function createApiServer(deps: ApiServerDeps): ApiServer {
  const { registry, log } = deps;
  const hooks = storageHooks(deps.store);
  const namespaces = new NamespaceLifecycle(deps.store, registry, log, hooks);
  const rest = new RestStorage(deps.store, namespaces, hooks);
  const app = new Hono();

  app.onError((err, c) => {
    if (err instanceof ApiError) return statusResponse(c, err.status, err.headers);
    log.error({ err: err instanceof Error ? { message: err.message, stack: err.stack } : String(err), path: c.req.path, method: c.req.method }, 'request failed');
    return statusResponse(c, errors.internal(err instanceof Error ? err.message : String(err)).status);
  });
  app.notFound((c) => statusResponse(c, errors.pathNotFound().status));

  // One structured line per request at debug level: method, path, status, duration. Bodies are
  // never logged, so Secret data cannot reach the log.
  app.use('*', async (c, next) => {
    if (!log.isLevelEnabled('debug')) return next();
    const started = performance.now();
    await next();
    log.debug({ method: c.req.method, path: c.req.path, status: c.res.status, ms: +(performance.now() - started).toFixed(2), userAgent: c.req.header('user-agent') }, 'request');
  });

  // Health and version are public, as kube-apiserver's system:public-info-viewer makes them.
  const ok = (c: Context) => c.text('ok');
  app.get('/healthz', ok);
  app.get('/livez', ok);
  app.get('/readyz', async (c) => ((await (deps.ready?.() ?? Promise.resolve(true))) ? c.text('ok') : c.text('not ready', 503)));
  app.get('/version', (c) => c.json(versionInfo()));

  const authenticator = withClusterTokens(deps.authenticator, rest, registry);
  const authorizer = clusterAuthorizer({ rest, registry });
  const extraGroups = deps.tunnels ? [METRICS_DISCOVERY] : [];
  app.use('*', authenticate(authenticator));
  const streamingLimit = bodyLimit({
    maxSize: MAX_BODY_BYTES,
    onError: (c) => statusResponse(c, errors.entityTooLarge(MAX_BODY_BYTES).status, { Connection: 'close' }),
  });
  app.use('*', async (c, next) => {
    const declared = Number(c.req.header('content-length') ?? 0);
    if (declared > MAX_BODY_BYTES) {
      // Read (and drop) what the client is sending so it can read our answer instead of a reset.
      await drain(c.req.raw.body, DRAIN_LIMIT_BYTES);
      return statusResponse(c, errors.entityTooLarge(MAX_BODY_BYTES).status, { Connection: 'close' });
    }
    return streamingLimit(c, next);
  });
  app.use('*', authorize(authorizer, registry));
  app.post(NODE_CREDENTIAL_PATH, nodeCredentialHandler(rest, registry));

  const aggregated = (c: Context): AggregatedVersion | undefined => {
    const accept = c.req.header('accept') ?? '';
    if (accept.includes('g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList')) return 'v2';
    if (accept.includes('g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList')) return 'v2beta1';
    return undefined;
  };
  const discoveryCache = new Map<string, string>();
  const cached = (key: string, build: () => string) => {
    let v = discoveryCache.get(key);
    if (v === undefined) discoveryCache.set(key, (v = build()));
    return v;
  };
  const json = (c: Context, body: string, contentType = 'application/json') => c.body(body, 200, { 'Content-Type': contentType });

  app.get('/api', (c) => {
    const v = aggregated(c);
    if (v) return json(c, cached(`core/${v}`, () => aggregatedDiscovery(registry, 'core', v)), aggregatedContentType(v));
    return json(c, legacyCoreVersions(deps.serverAddress));
  });
  app.get('/apis', (c) => {
    const v = aggregated(c);
    if (v) return json(c, cached(`groups/${v}`, () => aggregatedDiscovery(registry, 'groups', v, extraGroups)), aggregatedContentType(v));
    return json(c, cached('apis', () => legacyGroupList(registry, extraGroups)));
  });
  app.get('/api/v1', (c) => json(c, cached('/api/v1', () => legacyResourceList(registry, '', 'v1')!)));
  app.get('/apis/:group', (c) => {
    const body = legacyGroup(registry, c.req.param('group'), extraGroups);
    if (!body) throw errors.pathNotFound();
    return json(c, body);
  });
  app.get('/apis/:group/:version', (c) => {
    const { group, version } = c.req.param();
    const body = legacyResourceList(registry, group, version, extraGroups);
    if (!body) throw errors.pathNotFound();
    return json(c, body);
  });
  for (const method of ['PUT', 'POST', 'DELETE', 'PATCH'] as const) {
    app.on(method, ['/api', '/apis', '/api/v1', '/apis/:group', '/apis/:group/:version'], () => {
      throw errors.methodNotAllowed();
    });
  }

  app.route('/openapi', openApiRoutes(registry));

  // Streams to nodes go through their agents' tunnels.
  const tunnels = deps.tunnels;
  app.get('/api/v1/namespaces/:namespace/pods/:name/log', (c) => (tunnels ? podLogs(c, { rest, registry, nodes: tunnels }) : Promise.reject(streamingUnavailable())));
  app.all('/api/v1/namespaces/:namespace/pods/:name/:subresource{exec|attach|portforward}', async (c) => {
    if (!tunnels) throw streamingUnavailable();
    const { namespace, name, subresource } = c.req.param();
    const url = new URL(c.req.url);
    await kubeletStreamPath({ rest, registry }, namespace, name, subresource, url.searchParams, url.search.slice(1));
    throw errors.badRequest('Upgrade request required');
  });
  if (tunnels) app.route('/apis/metrics.k8s.io/v1beta1', metricsApi({ rest, registry, nodes: tunnels, log }));

  app.all('/api/v1/*', (c) => handleResource(c, { store: deps.store, registry, rest, log }));
  app.all('/apis/:group/:version/*', (c) => handleResource(c, { store: deps.store, registry, rest, log }));

  let upgrade: ApiServer['upgrade'];
  if (tunnels) {
    const endpoint = tunnelEndpoint({ authenticator, tunnels, log });
    const podStreams = podStreamUpgrade({ authenticator, authorizer, rest, registry, nodes: tunnels, log });
    upgrade = (req, socket, head) => {
      if (endpoint.handle(req, socket, head) || podStreams(req, socket, head)) return;
      writeRawStatus(socket, errors.badRequest(`upgrade is not supported for ${(req.url ?? '').split('?')[0]}`).status);
    };
  }
  return { app, rest, namespaces, upgrade };
}

/** Per-kind storage extensions: Services get cluster IPs and node ports allocated. */
function storageHooks(store: Store): Map<string, StorageHooks> {
  const services = new ServiceAllocator(store);
  return new Map<string, StorageHooks>([
    [
      hooksKey({ group: '', plural: 'services' }),
      { beforeWrite: (obj, old, dryRun) => services.allocate(obj, old, dryRun), afterWrite: (old, obj) => services.releaseUnused(old, obj) },
    ],
  ]);
}
